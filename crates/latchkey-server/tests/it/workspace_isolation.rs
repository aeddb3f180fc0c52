//! The isolation property: random organisations, workspaces, members, teams, folders,
//! documents and API keys; then every read endpoint called as every principal (each
//! user, each organisation's administrator, each workspace API key), and every answer
//! compared with a model of who may see what. Nothing outside a principal's rights is
//! returned, counted or hinted at: not in lists, pages, search results or error bodies.
//!
//! Each run draws fresh seeds (print on failure; `LATCHKEY_ISOLATION_SEED=N` replays one).

use std::collections::{BTreeSet, HashMap};

use axum::http::StatusCode;
use latchkey_testkit::Backend;
use serde_json::{Value, json};

use crate::harness::{Answer, TestApp};
use crate::sign_in::root_group;

/// xorshift64*: small, deterministic, enough for drawing worlds.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const ROLES: [&str; 5] = ["agent_only", "viewer", "editor", "admin", "owner"];

fn rank(role: &str) -> usize {
    ROLES.iter().position(|r| *r == role).unwrap()
}

struct Folder {
    id: String,
    ws: usize,
    name: String,
    /// Effective minimum rank: the highest along the ancestry.
    effective: usize,
}

struct Doc {
    id: String,
    ws: usize,
    folder: usize,
    title: String,
}

struct Ws {
    id: String,
    name: String,
    /// user index -> rank.
    members: HashMap<usize, usize>,
}

struct Key {
    secret: String,
    ws: usize,
}

struct User {
    id: String,
    org: usize,
    token: String,
}

#[derive(Default)]
struct World {
    users: Vec<User>,
    workspaces: Vec<Ws>,
    folders: Vec<Folder>,
    docs: Vec<Doc>,
    keys: Vec<Key>,
    /// Every name and title: none may appear in an answer that should not show it.
    secrets: Vec<String>,
}

impl World {
    fn sees_folder(&self, user: usize, f: &Folder) -> bool {
        self.workspaces[f.ws]
            .members
            .get(&user)
            .is_some_and(|&r| r >= f.effective)
    }

    fn sees_doc(&self, user: usize, d: &Doc) -> bool {
        self.sees_folder(user, &self.folders[d.folder])
    }

    /// Whatever a key's role, the public API shows only what every member sees.
    fn key_sees_doc(&self, key: &Key, d: &Doc) -> bool {
        d.ws == key.ws && self.folders[d.folder].effective == 0
    }
}

fn unique(seed: u64, n: &mut usize, what: &str) -> String {
    *n += 1;
    format!("{what}q{seed}n{n:04}z")
}

async fn build(t: &TestApp, seed: u64) -> World {
    let mut rng = Rng(seed | 1);
    let mut n = 0;
    let mut w = World::default();
    let other = t
        .post(
            &t.admin,
            "/api/v1/organisations",
            json!({ "name": "Other", "slug": format!("other{seed}") }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let other_admin = other["admin_token"].as_str().unwrap().to_owned();
    let admins = [t.admin.clone(), other_admin];
    for (org, admin) in admins.iter().enumerate() {
        // The administrator is user 0 of its organisation (and owner of its workspaces).
        let me = t.get(admin, "/api/v1/me").await.expect(StatusCode::OK).body;
        w.users.push(User {
            id: me["user_id"].as_str().unwrap().to_owned(),
            org,
            token: admin.clone(),
        });
        let root = if org == 0 {
            root_group(t).await
        } else {
            t.get(admin, "/api/v1/groups?parent_id=root")
                .await
                .expect(StatusCode::OK)
                .body["items"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        for _ in 0..3 {
            let name = unique(seed, &mut n, "user");
            let id = t
                .post(
                    admin,
                    "/api/v1/users",
                    json!({ "user_name": name, "first_name": "P", "last_name": "Q", "primary_group_id": root }),
                )
                .await
                .expect(StatusCode::CREATED)
                .id();
            let token = t
                .post(
                    admin,
                    &format!("/api/v1/users/{id}/tokens"),
                    json!({ "name": "t" }),
                )
                .await
                .expect(StatusCode::CREATED)
                .body["token"]
                .as_str()
                .unwrap()
                .to_owned();
            w.users.push(User { id, org, token });
        }
    }
    for (org, admin) in admins.iter().enumerate() {
        let admin_index = w.users.iter().position(|u| u.org == org).unwrap();
        for _ in 0..2 {
            let plan = ["free", "basic", "business", "enterprise"][rng.below(4)];
            let name = unique(seed, &mut n, "space");
            let id = t
                .post(
                    admin,
                    "/api/v1/workspaces",
                    json!({ "name": name, "plan": plan }),
                )
                .await
                .expect(StatusCode::CREATED)
                .id();
            w.secrets.push(name.clone());
            let ws = w.workspaces.len();
            let mut members = HashMap::from([(admin_index, 4)]);
            for (ui, u) in w.users.iter().enumerate() {
                if u.org != org || ui == admin_index || !rng.chance(70) {
                    continue;
                }
                let role = ROLES[rng.below(5)];
                let a = t
                    .post(
                        admin,
                        &format!("/api/v1/workspaces/{id}/members"),
                        json!({ "user_id": u.id, "role": role }),
                    )
                    .await;
                match a.status {
                    StatusCode::CREATED => {
                        members.insert(ui, rank(role));
                    }
                    StatusCode::CONFLICT => assert_eq!(plan, "free", "{}", a.text),
                    s => panic!("adding a member: {s} {}", a.text),
                }
            }
            let team = unique(seed, &mut n, "team");
            w.secrets.push(team.clone());
            t.post(
                admin,
                &format!("/api/v1/workspaces/{id}/teams"),
                json!({ "name": team }),
            )
            .await
            .expect(StatusCode::CREATED);
            // Folders: each below an earlier one or at the top, half of them restricted.
            let first = w.folders.len();
            for _ in 0..5 {
                let name = unique(seed, &mut n, "folder");
                let parent = (w.folders.len() > first && rng.chance(50))
                    .then(|| first + rng.below(w.folders.len() - first));
                let own = if rng.chance(50) { 1 + rng.below(4) } else { 0 };
                let mut body = json!({ "name": name });
                if own > 0 {
                    body["visibility"] = json!("role");
                    body["min_role"] = json!(ROLES[own]);
                }
                if let Some(p) = parent {
                    body["parent_id"] = json!(w.folders[p].id);
                }
                let created = t
                    .post(admin, &format!("/api/v1/workspaces/{id}/folders"), body)
                    .await
                    .expect(StatusCode::CREATED);
                let effective = parent.map_or(own, |p| w.folders[p].effective.max(own));
                assert_eq!(
                    created.body["effective_min_role"], ROLES[effective],
                    "seed {seed}"
                );
                w.secrets.push(name.clone());
                w.folders.push(Folder {
                    id: created.id(),
                    ws,
                    name,
                    effective,
                });
            }
            for fi in first..w.folders.len() {
                for _ in 0..1 + rng.below(2) {
                    let title = unique(seed, &mut n, "title");
                    let doc = t
                        .post(
                            admin,
                            &format!("/api/v1/workspaces/{id}/documents"),
                            json!({ "folder_id": w.folders[fi].id, "title": title, "body": format!("text {title}") }),
                        )
                        .await
                        .expect(StatusCode::CREATED)
                        .id();
                    w.secrets.push(title.clone());
                    w.docs.push(Doc {
                        id: doc,
                        ws,
                        folder: fi,
                        title,
                    });
                }
            }
            if plan == "business" || plan == "enterprise" {
                let secret = t
                    .post(
                        admin,
                        &format!("/api/v1/workspaces/{id}/api-keys"),
                        json!({ "name": "k", "role": ROLES[rng.below(5)] }),
                    )
                    .await
                    .expect(StatusCode::CREATED)
                    .body["secret"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                w.keys.push(Key { secret, ws });
            }
            w.workspaces.push(Ws { id, name, members });
        }
    }
    w
}

/// An answer that must not be there: 404, and nothing of the world in its body.
fn hidden(w: &World, a: &Answer, seed: u64, what: &str) {
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "seed {seed}: {what}: {}",
        a.text
    );
    for s in &w.secrets {
        assert!(
            !a.text.contains(s.as_str()),
            "seed {seed}: {what}: the 404 names `{s}`: {}",
            a.text
        );
    }
}

/// Only the named secrets may appear in `a`.
fn shows_only(w: &World, a: &Answer, allowed: &BTreeSet<&str>, seed: u64, what: &str) {
    for s in &w.secrets {
        if !allowed.contains(s.as_str()) {
            assert!(
                !a.text.contains(s.as_str()),
                "seed {seed}: {what} shows `{s}`: {}",
                a.text
            );
        }
    }
}

fn id_set(v: &Value) -> BTreeSet<String> {
    v["items"]
        .as_array()
        .or_else(|| v.as_array())
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page of a document list, following cursors; pages carry no totals.
async fn all_pages(t: &TestApp, token: &str, path: &str, seed: u64) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut next = format!("{path}{sep}limit=2");
    loop {
        let page = t.get(token, &next).await.expect(StatusCode::OK).body;
        let keys: BTreeSet<&str> = page
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["items", "next_cursor"]),
            "seed {seed}: {path}"
        );
        out.extend(id_set(&page));
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("{path}{sep}limit=2&cursor={c}"),
            None => return out,
        }
    }
}

async fn check_user(t: &TestApp, w: &World, ui: usize, seed: u64) {
    let u = &w.users[ui];
    let tok = u.token.as_str();
    // The caller's workspaces, exactly.
    let listed = t
        .get(tok, "/api/v1/workspaces")
        .await
        .expect(StatusCode::OK);
    let expected: BTreeSet<String> = w
        .workspaces
        .iter()
        .filter(|ws| ws.members.contains_key(&ui))
        .map(|ws| ws.id.clone())
        .collect();
    assert_eq!(
        id_set(&listed.body),
        expected,
        "seed {seed}: workspaces of user {ui}"
    );
    let allowed_names: BTreeSet<&str> = w
        .workspaces
        .iter()
        .filter(|ws| ws.members.contains_key(&ui))
        .map(|ws| ws.name.as_str())
        .collect();
    shows_only(w, &listed, &allowed_names, seed, "the workspace list");

    for (wi, ws) in w.workspaces.iter().enumerate() {
        let base = format!("/api/v1/workspaces/{}", ws.id);
        let Some(&role) = ws.members.get(&ui) else {
            for path in [
                "",
                "/members",
                "/teams",
                "/folders",
                "/documents",
                "/documents?q=title",
            ] {
                hidden(
                    w,
                    &t.get(tok, &format!("{base}{path}")).await,
                    seed,
                    &format!("user {ui} reads {path} of workspace {wi}"),
                );
            }
            continue;
        };
        let folders: Vec<&Folder> = w.folders.iter().filter(|f| f.ws == wi).collect();
        let docs: Vec<&Doc> = w.docs.iter().filter(|d| d.ws == wi).collect();
        let visible_folders: BTreeSet<String> = folders
            .iter()
            .filter(|f| role >= f.effective)
            .map(|f| f.id.clone())
            .collect();
        let visible_docs: BTreeSet<String> = docs
            .iter()
            .filter(|d| w.sees_doc(ui, d))
            .map(|d| d.id.clone())
            .collect();
        let mut allowed: BTreeSet<&str> = folders
            .iter()
            .filter(|f| role >= f.effective)
            .map(|f| f.name.as_str())
            .collect();
        allowed.extend(
            docs.iter()
                .filter(|d| w.sees_doc(ui, d))
                .map(|d| d.title.as_str()),
        );

        let got = t
            .get(tok, &format!("{base}/folders"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            id_set(&got.body),
            visible_folders,
            "seed {seed}: folders of workspace {wi} for user {ui}"
        );
        shows_only(w, &got, &allowed, seed, "a folder list");
        assert_eq!(
            all_pages(t, tok, &format!("{base}/documents"), seed).await,
            visible_docs,
            "seed {seed}: documents of workspace {wi} for user {ui}"
        );

        for f in &folders {
            let one = t.get(tok, &format!("{base}/folders/{}", f.id)).await;
            let in_folder = t
                .get(tok, &format!("{base}/documents?folder_id={}", f.id))
                .await;
            if role >= f.effective {
                assert_eq!(one.status, StatusCode::OK, "seed {seed}");
                let expected: BTreeSet<String> = docs
                    .iter()
                    .filter(|d| std::ptr::eq(&w.folders[d.folder], *f))
                    .map(|d| d.id.clone())
                    .collect();
                assert_eq!(
                    id_set(&in_folder.expect(StatusCode::OK).body),
                    expected,
                    "seed {seed}"
                );
            } else {
                hidden(w, &one, seed, "a hidden folder");
                hidden(w, &in_folder, seed, "the documents of a hidden folder");
            }
        }
        // Every document of the world, asked through this workspace, and searched for.
        for d in &w.docs {
            let one = t.get(tok, &format!("{base}/documents/{}", d.id)).await;
            let found = t
                .get(tok, &format!("{base}/documents?q={}", d.title))
                .await
                .expect(StatusCode::OK);
            if d.ws == wi && w.sees_doc(ui, d) {
                assert_eq!(one.status, StatusCode::OK, "seed {seed}: {}", one.text);
                assert_eq!(
                    id_set(&found.body),
                    BTreeSet::from([d.id.clone()]),
                    "seed {seed}"
                );
            } else {
                hidden(w, &one, seed, "a document out of sight");
                assert!(
                    id_set(&found.body).is_empty(),
                    "seed {seed}: search for a hidden title: {}",
                    found.text
                );
                shows_only(w, &found, &allowed, seed, "a search");
            }
        }
        // Members and teams are for members; they name no content.
        let members = t
            .get(tok, &format!("{base}/members"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            members.body.as_array().unwrap().len(),
            ws.members.len(),
            "seed {seed}"
        );
        t.get(tok, &format!("{base}/teams"))
            .await
            .expect(StatusCode::OK);
    }
}

async fn check_key(t: &TestApp, w: &World, key: &Key, seed: u64) {
    for (wi, ws) in w.workspaces.iter().enumerate() {
        let base = format!("/public/v1/workspaces/{}", ws.id);
        if wi != key.ws {
            for path in ["/folders", "/documents"] {
                hidden(
                    w,
                    &t.get(&key.secret, &format!("{base}{path}")).await,
                    seed,
                    "another workspace through a key",
                );
            }
            continue;
        }
        let open_folders: BTreeSet<String> = w
            .folders
            .iter()
            .filter(|f| f.ws == wi && f.effective == 0)
            .map(|f| f.id.clone())
            .collect();
        let open_docs: BTreeSet<String> = w
            .docs
            .iter()
            .filter(|d| w.key_sees_doc(key, d))
            .map(|d| d.id.clone())
            .collect();
        let mut allowed: BTreeSet<&str> = w
            .folders
            .iter()
            .filter(|f| f.ws == wi && f.effective == 0)
            .map(|f| f.name.as_str())
            .collect();
        allowed.extend(
            w.docs
                .iter()
                .filter(|d| w.key_sees_doc(key, d))
                .map(|d| d.title.as_str()),
        );
        let folders = t
            .get(&key.secret, &format!("{base}/folders"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(
            id_set(&folders.body),
            open_folders,
            "seed {seed}: public folders"
        );
        shows_only(w, &folders, &allowed, seed, "public folders");
        assert_eq!(
            all_pages(t, &key.secret, &format!("{base}/documents"), seed).await,
            open_docs,
            "seed {seed}: public documents"
        );
        for d in &w.docs {
            let one = t
                .get(&key.secret, &format!("{base}/documents/{}", d.id))
                .await;
            let found = t
                .get(&key.secret, &format!("{base}/documents?q={}", d.title))
                .await
                .expect(StatusCode::OK);
            if w.key_sees_doc(key, d) {
                assert_eq!(one.status, StatusCode::OK, "seed {seed}");
                assert_eq!(
                    id_set(&found.body),
                    BTreeSet::from([d.id.clone()]),
                    "seed {seed}"
                );
            } else {
                hidden(w, &one, seed, "a document out of a key's sight");
                assert!(
                    id_set(&found.body).is_empty(),
                    "seed {seed}: public search for a hidden title"
                );
                shows_only(w, &found, &allowed, seed, "a public search");
            }
        }
    }
}

async fn no_principal_sees_outside_its_rights(backend: Backend) {
    let seeds: Vec<u64> = match std::env::var("LATCHKEY_ISOLATION_SEED") {
        Ok(s) => vec![s.parse().expect("LATCHKEY_ISOLATION_SEED is a number")],
        Err(_) => {
            use latchkey_model::Clock as _;
            let base = latchkey_model::SystemClock.now().unix_timestamp_nanos() as u64;
            vec![base, base.rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15]
        }
    };
    for seed in seeds {
        eprintln!("isolation: seed {seed} (replay with LATCHKEY_ISOLATION_SEED={seed})");
        let t = TestApp::new(backend).await;
        let w = build(&t, seed).await;
        assert!(w.docs.len() >= 20 && w.workspaces.len() == 4, "seed {seed}");
        for ui in 0..w.users.len() {
            check_user(&t, &w, ui, seed).await;
        }
        for key in &w.keys {
            check_key(&t, &w, key, seed).await;
        }
    }
}
crate::both!(no_principal_sees_outside_its_rights);
