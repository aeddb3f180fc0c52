//! `latchkey-bench workspaces [--seed N] [--keep]`: what reading a large workspace costs.
//! The issue's figures: a workspace of 10,000 members, 5,000 folders (a third of them
//! role-restricted) and 1,000,000 documents; the first page of documents a Viewer sees
//! must take at most 20 ms at p99 on SQLite, and the visibility check of one folder at
//! most 100 ns in process.
//!
//! The data set comes from a seed, over the real services and a real SQLite store in a
//! temporary folder (removed at the end unless `--keep`), each part by the fastest path
//! that still writes what the server writes:
//! - the organisation by `bootstrap`, its 9,999 other users through the bulk NDJSON
//!   service (`Services::bulk_load`, in process), the workspace (Business plan) by
//!   `Services::create_workspace`, whose creator is its first Owner;
//! - 9,999 more members at seeded roles, `put_member` in one store transaction;
//! - 5,000 folders in a tree of five levels, each role-restricted with a chance of one in
//!   three (Viewer, Editor, Admin or Owner), in one store transaction, with the effective
//!   minimum roles of `latchkey_engine::workspace::FolderTree`, as the service stores them;
//! - 1,000,000 documents spread evenly over the folders, ids UUIDv7 in creation order like
//!   the service's, through `insert_documents` in transactions of 100,000.
//!
//! Then, timed one call at a time after a warm-up: `Services::list_documents` (principals
//! from API tokens through `authenticate`, as a request has them) for a Viewer, an Owner,
//! an Agent-only member, a Viewer's search, a Viewer's visible folder, and a folder hidden
//! from the Viewer (which must answer 404); and `FolderTree::build` and
//! `FolderTree::visible` in process. Every page is checked against the documents the
//! generator wrote: exactly the first ones, in id order, whose folder the reader sees.

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_api::{CreateToken, CreateWorkspace, ListResponse};
use latchkey_engine::workspace::{FolderNode, FolderTree};
use latchkey_model::{
    Document, DocumentId, Folder, FolderId, MemberRole, OrgId, SystemClock, UserId,
    UuidV7Generator, Visibility, WorkspaceId, WorkspaceMember,
};
use latchkey_service::{DocumentFilter, Principal, ServiceError, ServiceResult, Services};
use latchkey_store::Store as _;
use latchkey_store_sqlite::SqliteStore;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::org::Rng;
use crate::{fmt_dur, fmt_ns, percentile};

/// Members in all: the administrator (the workspace's creator) and the users loaded.
const MEMBERS: usize = 10_000;
/// Folders per level of the tree, 5,000 in all; each folder's parent is on the level above.
const FOLDER_LEVELS: [usize; 5] = [40, 260, 900, 1_600, 2_200];
const DOCUMENTS: usize = 1_000_000;
const DOCUMENTS_PER_TX: usize = 100_000;
const PAGE: u32 = 50;
const WARM_UP: usize = 200;
const LISTS: usize = 2_000;
const BUILDS: usize = 200;
const CHECKS: usize = 2_000_000;
const BATCH: usize = 32;
/// 2025-01-01T00:00:00Z in milliseconds: the first document's time; one more each.
const FIRST_DOCUMENT_MS: i64 = 1_735_689_600_000;

/// Title topics; one in twenty titles has each, and the search looks for [`SEARCH`].
const TOPICS: [&str; 20] = [
    "Budget",
    "Roadmap",
    "Hiring",
    "Launch",
    "Retrospective",
    "Incident",
    "Contract",
    "Design",
    "Forecast",
    "Onboarding",
    "Pricing",
    "Security",
    "Migration",
    "Offsite",
    "Partnership",
    "Compliance",
    "Support",
    "Benchmark",
    "Inventory",
    "Quarterly",
];
const KINDS: [&str; 8] = [
    "notes",
    "plan",
    "review",
    "draft",
    "summary",
    "checklist",
    "brief",
    "report",
];
/// Found in titles only: no other topic, kind or body word contains it.
const SEARCH: &str = "roadmap";
const VERBS: [&str; 6] = ["Check", "Update", "Share", "Close", "Draft", "Sign"];
const NOUNS: [&str; 6] = ["figures", "timeline", "owners", "risks", "scope", "terms"];
const TEAMS: [&str; 6] = ["sales", "finance", "people", "ops", "legal", "product"];
const DAYS: [&str; 5] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];

/// What one `list_documents` call answers.
type Listed = ServiceResult<ListResponse<Document>>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

pub fn run(seed: u64, keep: bool) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no runtime: {e}"))?;
    let dir =
        std::env::temp_dir().join(format!("latchkey-bench-workspaces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = rt.block_on(measure(&dir, seed));
    if keep {
        eprintln!("kept the store: {}", dir.join("latchkey.db").display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// The generated workspace as the benchmark checks it.
struct DataSet {
    ws: WorkspaceId,
    folders: Vec<FolderNode>,
    /// Each folder's effective minimum role, by generator index.
    effective: Vec<MemberRole>,
    /// Documents in id order (the order they were generated in), with their folder's index
    /// and whether their title has [`SEARCH`].
    docs: Vec<(DocumentId, u16, bool)>,
    /// Members by role, without the administrator.
    roles: Vec<(UserId, MemberRole)>,
    /// Generator index of each folder.
    index: HashMap<FolderId, usize>,
}

impl DataSet {
    /// The first page a reader should get: the first documents whose folder it sees.
    fn expected(&self, reader: MemberRole, folder: Option<u16>, search: bool) -> Vec<DocumentId> {
        self.docs
            .iter()
            .filter(|(_, f, term)| {
                self.effective[usize::from(*f)] <= reader
                    && folder.is_none_or(|x| x == *f)
                    && (!search || *term)
            })
            .take(PAGE as usize)
            .map(|(id, _, _)| *id)
            .collect()
    }

    fn folder_index(&self, id: FolderId) -> Option<usize> {
        self.index.get(&id).copied()
    }
}

struct LoadTimes {
    users: Duration,
    members: Duration,
    folders: Duration,
    documents: Duration,
}

async fn measure(dir: &Path, seed: u64) -> Result<(), String> {
    let store = Arc::new(
        SqliteStore::open(&dir.join("latchkey.db"))
            .await
            .map_err(|e| format!("cannot open the store: {e}"))?,
    );
    let services = Services::new(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(UuidV7Generator),
    );
    let boot = services
        .bootstrap()
        .await
        .map_err(err)?
        .ok_or("the store was not empty")?;
    let admin = services.authenticate(&boot.token).await.map_err(err)?;
    let mut rng = Rng::new(seed);
    let total = Instant::now();
    let (data, times) = load(&services, &store, &admin, &mut rng).await?;
    let loaded = total.elapsed();

    // A Viewer and an Agent-only member, authenticated by API tokens as requests are; the
    // administrator is the workspace's first Owner.
    let viewer = member_principal(&services, &admin, &data, MemberRole::Viewer).await?;
    let agent = member_principal(&services, &admin, &data, MemberRole::AgentOnly).await?;

    // The stored effective roles are the engine's: the service lists the Owner every
    // folder with its role, and the Viewer exactly those the tree lets it see.
    let all = services.list_folders(&admin, data.ws).await.map_err(err)?;
    check_folders(&data, &all, MemberRole::Owner)?;
    let seen = services.list_folders(&viewer, data.ws).await.map_err(err)?;
    check_folders(&data, &seen, MemberRole::Viewer)?;

    let hidden = pick_folder(&data, &mut rng, |e| e > MemberRole::Viewer)?;
    let visible = pick_folder(&data, &mut rng, |e| e <= MemberRole::Viewer)?;
    let first_page = DocumentFilter {
        limit: Some(PAGE),
        ..DocumentFilter::default()
    };
    let search = DocumentFilter {
        q: Some(SEARCH.to_owned()),
        ..first_page.clone()
    };
    let in_folder = |i: usize| DocumentFilter {
        folder_id: Some(data.folders[i].id),
        ..first_page.clone()
    };
    let expected_viewer = data.expected(MemberRole::Viewer, None, false);
    let expected_owner = data.expected(MemberRole::Owner, None, false);
    let expected_agent = data.expected(MemberRole::AgentOnly, None, false);
    let expected_search = data.expected(MemberRole::Viewer, None, true);
    let expected_folder = data.expected(
        MemberRole::Viewer,
        Some(u16::try_from(visible).map_err(err)?),
        false,
    );
    let viewer_page = time_lists(&services, &viewer, &data, &first_page, &|r| {
        page_is(r, &data, MemberRole::Viewer, &expected_viewer)
    })
    .await?;
    let owner_page = time_lists(&services, &admin, &data, &first_page, &|r| {
        page_is(r, &data, MemberRole::Owner, &expected_owner)
    })
    .await?;
    let agent_page = time_lists(&services, &agent, &data, &first_page, &|r| {
        page_is(r, &data, MemberRole::AgentOnly, &expected_agent)
    })
    .await?;
    let search_page = time_lists(&services, &viewer, &data, &search, &|r| {
        page_is(r, &data, MemberRole::Viewer, &expected_search)
    })
    .await?;
    let visible_page = time_lists(&services, &viewer, &data, &in_folder(visible), &|r| {
        page_is(r, &data, MemberRole::Viewer, &expected_folder)
    })
    .await?;
    let hidden_page = time_lists(
        &services,
        &viewer,
        &data,
        &in_folder(hidden),
        &|r| match r {
            Err(ServiceError::NotFound { what: "folder", .. }) => Ok(()),
            Err(e) => Err(format!("a hidden folder's list failed otherwise: {e}")),
            Ok(page) => Err(format!(
                "a Viewer listed {} documents of a folder it cannot see",
                page.items.len()
            )),
        },
    )
    .await?;

    let checks = visibility_checks(&data, &mut rng)?;

    let doc_share = |reader: MemberRole| {
        data.docs
            .iter()
            .filter(|(_, f, _)| data.effective[usize::from(*f)] <= reader)
            .count() as f64
            / data.docs.len() as f64
            * 100.0
    };
    let restricted = data
        .folders
        .iter()
        .filter(|f| f.own > MemberRole::AgentOnly)
        .count();
    let hidden_from_viewer = data
        .effective
        .iter()
        .filter(|&&e| e > MemberRole::Viewer)
        .count();
    let file_mib = |name: &str| {
        std::fs::metadata(dir.join(name)).map_or(0.0, |m| m.len() as f64 / (1024.0 * 1024.0))
    };
    println!(
        "workspaces, seed {seed}: {} members, {} folders (levels {:?}; {} role-restricted, {} hidden from a Viewer), {} documents (a Viewer sees {:.1}%, an Agent-only member {:.1}%), SQLite in process",
        thousands(data.roles.len() + 1),
        thousands(data.folders.len()),
        FOLDER_LEVELS,
        thousands(restricted),
        thousands(hidden_from_viewer),
        thousands(data.docs.len()),
        doc_share(MemberRole::Viewer),
        doc_share(MemberRole::AgentOnly),
    );
    println!(
        "loaded in {}: {} users by bulk_load {}, members {}, folders {}, documents {} ({:.0}/s); database {:.0} MiB (+ WAL {:.0} MiB)",
        fmt_dur(loaded),
        thousands(data.roles.len()),
        fmt_dur(times.users),
        fmt_dur(times.members),
        fmt_dur(times.folders),
        fmt_dur(times.documents),
        DOCUMENTS as f64 / times.documents.as_secs_f64(),
        file_mib("latchkey.db"),
        file_mib("latchkey.db-wal"),
    );
    println!();
    println!(
        "| {:<66} | {:>32} | {:<12} |",
        "figure (one at a time, in process)", "measured", "target"
    );
    println!("|{:-<68}|{:->34}|{:-<14}|", "", "", "");
    let lists = |name: &str, v: &[u64], target: &str| {
        row(
            &format!("{name}, p50 / p99 / max"),
            format!(
                "{} / {} / {}",
                fmt_ns(percentile(v, 0.5) as f64),
                fmt_ns(percentile(v, 0.99) as f64),
                fmt_ns(v.last().copied().unwrap_or_default() as f64)
            ),
            target,
        );
    };
    lists(
        &format!(
            "Viewer: first page of {PAGE} documents ({} lists)",
            thousands(LISTS)
        ),
        &viewer_page,
        "p99 ≤ 20 ms",
    );
    lists("Owner: first page", &owner_page, "");
    lists("Agent-only member: first page", &agent_page, "");
    lists(
        &format!("Viewer: first page of q={SEARCH}"),
        &search_page,
        "",
    );
    lists("Viewer: first page of a folder it sees", &visible_page, "");
    lists(
        "Viewer: a folder it cannot see (404, checked)",
        &hidden_page,
        "",
    );
    row(
        &format!(
            "FolderTree::build of {} folders, median / max of {BUILDS}",
            thousands(data.folders.len())
        ),
        format!("{} / {}", fmt_dur(checks.build), fmt_dur(checks.build_max)),
        "",
    );
    row(
        &format!("visibility check p50 / p99 (batches of {BATCH}, per check)"),
        format!(
            "{} / {}",
            fmt_ns(percentile(&checks.batches, 0.5) as f64),
            fmt_ns(percentile(&checks.batches, 0.99) as f64)
        ),
        "≤ 100 ns",
    );
    row(
        &format!(
            "visibility check mean over {} (role, folder) pairs",
            thousands(CHECKS)
        ),
        fmt_ns(checks.mean_ns),
        "≤ 100 ns",
    );
    row(
        "pairs visible (checked against the generator)",
        format!("{:.1}%", checks.visible_share * 100.0),
        "",
    );
    let p99 = percentile(&viewer_page, 0.99);
    if p99 > 20_000_000 {
        eprintln!(
            "note: the Viewer's first page misses its target: p99 {}",
            fmt_ns(p99 as f64)
        );
    }
    Ok(())
}

/// `1234567` as `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn row(what: &str, value: String, target: &str) {
    println!("| {what:<66} | {value:>32} | {target:<12} |");
}

/// The organisation's users, the workspace, its members, folders and documents.
async fn load(
    services: &Services,
    store: &SqliteStore,
    admin: &Principal,
    rng: &mut Rng,
) -> Result<(DataSet, LoadTimes), String> {
    let group = services
        .get_user(admin, admin.user_id)
        .await
        .map_err(err)?
        .primary_group_id;
    let t = Instant::now();
    let users = load_users(services, admin, &group.to_string(), MEMBERS - 1).await?;
    let users_time = t.elapsed();

    let view = services
        .create_workspace(
            admin,
            &CreateWorkspace {
                name: "Benchmark workspace".to_owned(),
                plan: Some("business".to_owned()),
            },
        )
        .await
        .map_err(err)?;
    let ws = view.workspace.id;
    let org = admin.org_id;
    let now = view.workspace.created_at;

    let t = Instant::now();
    let roles: Vec<(UserId, MemberRole)> = users.iter().map(|&u| (u, member_role(rng))).collect();
    let mut tx = store.begin().await.map_err(err)?;
    tx.bump_revision(org, time::OffsetDateTime::now_utc())
        .await
        .map_err(err)?;
    for &(user, role) in &roles {
        tx.put_member(&WorkspaceMember {
            workspace_id: ws,
            org_id: org,
            user_id: user,
            role,
            joined_at: now,
            added_by: admin.user_id,
        })
        .await
        .map_err(err)?;
    }
    tx.commit().await.map_err(err)?;
    let members_time = t.elapsed();

    let t = Instant::now();
    let (folders, effective) = load_folders(store, org, ws, admin.user_id, now, rng).await?;
    let folders_time = t.elapsed();

    let t = Instant::now();
    let writers: Vec<UserId> = std::iter::once(admin.user_id)
        .chain(
            roles
                .iter()
                .filter(|(_, r)| *r >= MemberRole::Editor)
                .map(|(u, _)| *u),
        )
        .collect();
    let docs = load_documents(store, org, ws, &folders, &writers, rng).await?;
    let documents_time = t.elapsed();
    Ok((
        DataSet {
            ws,
            index: folders.iter().enumerate().map(|(i, f)| (f.id, i)).collect(),
            folders,
            effective,
            docs,
            roles,
        },
        LoadTimes {
            users: users_time,
            members: members_time,
            folders: folders_time,
            documents: documents_time,
        },
    ))
}

/// 85% of members read: 60% Viewers, 15% Agent-only; 20% Editors, 4% Admins, 1% Owners.
fn member_role(rng: &mut Rng) -> MemberRole {
    match rng.below(100) {
        0 => MemberRole::Owner,
        1..=4 => MemberRole::Admin,
        5..=24 => MemberRole::Editor,
        25..=84 => MemberRole::Viewer,
        _ => MemberRole::AgentOnly,
    }
}

/// `n` users through the bulk NDJSON service, as `POST /api/v1/bulk` loads them; their
/// ids in line order.
async fn load_users(
    services: &Services,
    admin: &Principal,
    group: &str,
    n: usize,
) -> Result<Vec<UserId>, String> {
    let (lines, input) = tokio::sync::mpsc::channel(n + 1);
    // Room for every answer line (one per user, a progress line per batch, the summary),
    // so that the load never waits for a reader.
    let (output, mut answers) = tokio::sync::mpsc::channel(2 * n + 64);
    for i in 0..n {
        let record = json!({
            "kind": "user",
            "user_name": format!("member{i:05}"),
            "first_name": "Member",
            "last_name": format!("N{i:05}"),
            "primary_group": group,
        });
        lines.try_send(Ok(record.to_string())).map_err(err)?;
    }
    drop(lines);
    services
        .bulk_load(admin, input, output)
        .await
        .map_err(err)?;
    let mut ids = vec![None; n];
    while let Some(answer) = answers.recv().await {
        if let Some(e) = answer.get("error") {
            return Err(format!("the bulk load refused a user: {e}"));
        }
        if answer.get("kind").and_then(Value::as_str) != Some("user") {
            continue;
        }
        let line = answer.get("line").and_then(Value::as_u64).unwrap_or(0) as usize;
        let id = answer
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<UserId>().ok());
        if let (Some(slot), Some(id)) = (line.checked_sub(1).and_then(|i| ids.get_mut(i)), id) {
            *slot = Some(id);
        }
    }
    ids.into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| "the bulk load did not create every user".to_owned())
}

/// A random UUIDv7 at `ms`, like the service's ids.
fn uuid_v7(ms: i64, rng: &mut Rng) -> Uuid {
    let random = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
    let raw = (u128::from(ms as u64 & 0xffff_ffff_ffff) << 80)
        | (0x7 << 76)
        | (random & (0xfff << 64))
        | (0x2 << 62)
        | (random & 0x3fff_ffff_ffff_ffff);
    Uuid::from_u128(raw)
}

fn at_ms(ms: i64) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(err)
}

/// The folder tree level by level, each role-restricted with a chance of one in three;
/// effective roles from the engine's `FolderTree`, cross-checked with the rule the
/// service applies to a new folder (its own tier or its parent's, the higher).
async fn load_folders(
    store: &SqliteStore,
    org: OrgId,
    ws: WorkspaceId,
    owner: UserId,
    now: OffsetDateTime,
    rng: &mut Rng,
) -> Result<(Vec<FolderNode>, Vec<MemberRole>), String> {
    let mut folders: Vec<Folder> = Vec::new();
    let mut level_start = 0;
    for (level, &count) in FOLDER_LEVELS.iter().enumerate() {
        let above = level_start..folders.len();
        level_start = folders.len();
        for i in 0..count {
            let parent = (!above.is_empty()).then(|| above.start + rng.below(above.len()));
            let min_role = rng.chance(1.0 / 3.0).then(|| match rng.below(20) {
                0..=4 => MemberRole::Viewer,
                5..=11 => MemberRole::Editor,
                12..=16 => MemberRole::Admin,
                _ => MemberRole::Owner,
            });
            let ms = now.unix_timestamp_nanos() / 1_000_000 + folders.len() as i128;
            folders.push(Folder {
                id: FolderId::from_uuid(uuid_v7(i64::try_from(ms).map_err(err)?, rng)),
                org_id: org,
                workspace_id: ws,
                parent_id: parent.map(|p| folders[p].id),
                name: format!(
                    "{} {} {}",
                    TOPICS[rng.below(TOPICS.len())],
                    KINDS[rng.below(KINDS.len())],
                    level * 10_000 + i
                ),
                visibility: if min_role.is_some() {
                    Visibility::Role
                } else {
                    Visibility::Workspace
                },
                min_role,
                effective_min_role: MemberRole::AgentOnly,
                owner_id: owner,
                created_at: now,
                updated_at: now,
            });
        }
    }
    let nodes: Vec<FolderNode> = folders
        .iter()
        .map(|f| FolderNode {
            id: f.id,
            parent: f.parent_id,
            own: f.own_min_role(),
        })
        .collect();
    let tree = FolderTree::build(&nodes);
    let mut effective: Vec<MemberRole> = Vec::with_capacity(folders.len());
    let mut index = HashMap::new();
    for (i, f) in folders.iter_mut().enumerate() {
        let e = tree
            .effective(f.id)
            .ok_or_else(|| format!("folder {i} is not in its tree"))?;
        let by_parent = f
            .parent_id
            .and_then(|p| index.get(&p))
            .map_or(f.own_min_role(), |&p: &usize| {
                effective[p].max(f.own_min_role())
            });
        if e != by_parent {
            return Err(format!(
                "folder {i}: the tree says {e:?}, the parent's rule {by_parent:?}"
            ));
        }
        f.effective_min_role = e;
        effective.push(e);
        index.insert(f.id, i);
    }
    let mut tx = store.begin().await.map_err(err)?;
    tx.bump_revision(org, time::OffsetDateTime::now_utc())
        .await
        .map_err(err)?;
    for f in &folders {
        tx.insert_folder(f).await.map_err(err)?;
    }
    tx.commit().await.map_err(err)?;
    Ok((nodes, effective))
}

async fn load_documents(
    store: &SqliteStore,
    org: OrgId,
    ws: WorkspaceId,
    folders: &[FolderNode],
    writers: &[UserId],
    rng: &mut Rng,
) -> Result<Vec<(DocumentId, u16, bool)>, String> {
    let mut out = Vec::with_capacity(DOCUMENTS);
    let metadata = Value::Object(serde_json::Map::new());
    let mut batch = Vec::with_capacity(DOCUMENTS_PER_TX);
    let mut i = 0;
    while i < DOCUMENTS {
        batch.clear();
        for _ in 0..DOCUMENTS_PER_TX.min(DOCUMENTS - i) {
            let ms = FIRST_DOCUMENT_MS + i as i64;
            let folder = rng.below(folders.len());
            let topic = rng.below(TOPICS.len());
            let at = at_ms(ms)?;
            let doc = Document {
                id: DocumentId::from_uuid(uuid_v7(ms, rng)),
                org_id: org,
                workspace_id: ws,
                folder_id: folders[folder].id,
                title: format!(
                    "{} {} {}",
                    TOPICS[topic],
                    KINDS[rng.below(KINDS.len())],
                    rng.between(1, 999)
                ),
                body: format!(
                    "{} the {} for {} by {}; {} items open.",
                    VERBS[rng.below(VERBS.len())],
                    NOUNS[rng.below(NOUNS.len())],
                    TEAMS[rng.below(TEAMS.len())],
                    DAYS[rng.below(DAYS.len())],
                    rng.below(40)
                ),
                metadata: metadata.clone(),
                external_id: None,
                owner_id: writers[rng.below(writers.len())],
                created_at: at,
                updated_at: at,
                version: 1,
            };
            out.push((
                doc.id,
                u16::try_from(folder).map_err(err)?,
                doc.title.to_lowercase().contains(SEARCH),
            ));
            batch.push(doc);
            i += 1;
        }
        let mut tx = store.begin().await.map_err(err)?;
        tx.bump_revision(org, time::OffsetDateTime::now_utc())
            .await
            .map_err(err)?;
        tx.insert_documents(&batch).await.map_err(err)?;
        tx.commit().await.map_err(err)?;
    }
    Ok(out)
}

/// A principal of the first member at `role`, from an API token issued by the
/// administrator and authenticated as a request's.
async fn member_principal(
    services: &Services,
    admin: &Principal,
    data: &DataSet,
    role: MemberRole,
) -> Result<Principal, String> {
    let user = data
        .roles
        .iter()
        .find(|(_, r)| *r == role)
        .map(|(u, _)| *u)
        .ok_or_else(|| format!("no member is {}", role.as_str()))?;
    let token = services
        .issue_token_for(
            admin,
            user,
            CreateToken {
                name: "bench".to_owned(),
                expires_at: None,
            },
        )
        .await
        .map_err(err)?;
    services.authenticate(&token.token).await.map_err(err)
}

/// A random folder whose effective role passes `wanted`, that holds documents.
fn pick_folder(
    data: &DataSet,
    rng: &mut Rng,
    wanted: impl Fn(MemberRole) -> bool,
) -> Result<usize, String> {
    let candidates: Vec<usize> = (0..data.folders.len())
        .filter(|&i| wanted(data.effective[i]))
        .collect();
    if candidates.is_empty() {
        return Err("no folder of the kind wanted".to_owned());
    }
    Ok(candidates[rng.below(candidates.len())])
}

/// The folders a reader was listed are exactly those it sees, with the generator's roles.
fn check_folders(data: &DataSet, listed: &[Folder], reader: MemberRole) -> Result<(), String> {
    let expected = data.effective.iter().filter(|&&e| e <= reader).count();
    if listed.len() != expected {
        return Err(format!(
            "{} listed {} folders; it sees {expected}",
            reader.as_str(),
            listed.len()
        ));
    }
    for f in listed {
        let i = data
            .folder_index(f.id)
            .ok_or_else(|| format!("folder {} was not generated", f.id))?;
        if f.effective_min_role != data.effective[i] || f.effective_min_role > reader {
            return Err(format!(
                "folder {}: stored {:?}, the tree says {:?}, listed to {}",
                f.id,
                f.effective_min_role,
                data.effective[i],
                reader.as_str()
            ));
        }
    }
    Ok(())
}

/// The page is exactly `expected`, and every document on it is in a folder `reader` sees.
fn page_is(
    result: &Listed,
    data: &DataSet,
    reader: MemberRole,
    expected: &[DocumentId],
) -> Result<(), String> {
    let page = result.as_ref().map_err(|e| format!("a list failed: {e}"))?;
    for d in &page.items {
        let seen = data
            .folder_index(d.folder_id)
            .is_some_and(|i| data.effective[i] <= reader);
        if !seen {
            return Err(format!(
                "{} was listed document {} of folder {}, which it cannot see",
                reader.as_str(),
                d.id,
                d.folder_id
            ));
        }
    }
    let got: Vec<DocumentId> = page.items.iter().map(|d| d.id).collect();
    if got != expected {
        return Err(format!(
            "{} got a page of {} documents that is not the first {} it sees",
            reader.as_str(),
            got.len(),
            expected.len()
        ));
    }
    if expected.len() == PAGE as usize && page.next_cursor.is_none() {
        return Err("a full first page had no cursor".to_owned());
    }
    Ok(())
}

/// `LISTS` calls after `WARM_UP`, each timed and each answer checked (outside the
/// timing); the times in nanoseconds, sorted.
async fn time_lists(
    services: &Services,
    p: &Principal,
    data: &DataSet,
    filter: &DocumentFilter,
    check: &dyn Fn(&Listed) -> Result<(), String>,
) -> Result<Vec<u64>, String> {
    for _ in 0..WARM_UP {
        let r = services.list_documents(p, data.ws, filter).await;
        check(&r)?;
    }
    let mut times = Vec::with_capacity(LISTS);
    for _ in 0..LISTS {
        let t = Instant::now();
        let r = services.list_documents(p, data.ws, filter).await;
        times.push(t.elapsed().as_nanos() as u64);
        check(&r)?;
    }
    times.sort_unstable();
    Ok(times)
}

struct Checks {
    build: Duration,
    build_max: Duration,
    /// Per check, by batch, sorted (ns).
    batches: Vec<u64>,
    mean_ns: f64,
    visible_share: f64,
}

/// `FolderTree::build` over the workspace's folders, and `visible` over random pairs of a
/// role and a folder (read in sequence, ids in hand, as a caller holds them).
fn visibility_checks(data: &DataSet, rng: &mut Rng) -> Result<Checks, String> {
    let mut builds = Vec::with_capacity(BUILDS);
    let mut tree = FolderTree::default();
    for _ in 0..BUILDS {
        let t = Instant::now();
        tree = FolderTree::build(black_box(&data.folders));
        builds.push(t.elapsed());
    }
    builds.sort_unstable();
    let pairs: Vec<(MemberRole, FolderId, bool)> = (0..CHECKS)
        .map(|_| {
            let role = MemberRole::ALL[rng.below(MemberRole::ALL.len())];
            let f = rng.below(data.folders.len());
            (role, data.folders[f].id, data.effective[f] <= role)
        })
        .collect();
    // Warm-up, and every answer against the generator.
    let mut visible = 0_usize;
    for &(role, folder, expected) in &pairs {
        let v = tree.visible(role, folder);
        if v != expected {
            return Err(format!(
                "FolderTree::visible({}, {folder}) is {v}, expected {expected}",
                role.as_str()
            ));
        }
        visible += usize::from(v);
    }
    let mut batches = Vec::with_capacity(CHECKS / BATCH);
    let mut total = 0_u64;
    for chunk in pairs.chunks_exact(BATCH) {
        let t = Instant::now();
        for &(role, folder, _) in chunk {
            black_box(tree.visible(black_box(role), black_box(folder)));
        }
        let spent = t.elapsed().as_nanos() as u64;
        total += spent;
        batches.push(spent / BATCH as u64);
    }
    batches.sort_unstable();
    Ok(Checks {
        build: builds[builds.len() / 2],
        build_max: builds.last().copied().unwrap_or_default(),
        mean_ns: total as f64 / (batches.len() * BATCH) as f64,
        batches,
        visible_share: visible as f64 / CHECKS as f64,
    })
}
