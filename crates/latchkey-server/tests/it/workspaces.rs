//! Workspaces end to end: members and their roles, teams, invitations under plan limits
//! (also under 50 concurrent requests), folder visibility, documents, workspace API keys
//! and the public read API, and app access kept apart from workspace access.

use axum::http::StatusCode;
use latchkey_testkit::Backend;
use serde_json::{Value, json};

use crate::both;
use crate::harness::TestApp;
use crate::sign_in::{mails, root_group, user_with};

pub(crate) async fn person(t: &TestApp, group: &str, name: &str) -> String {
    user_with(
        t,
        json!({
            "user_name": name,
            "first_name": name,
            "last_name": "Test",
            "email": format!("{name}@example.com"),
            "primary_group_id": group,
        }),
    )
    .await
}

pub(crate) async fn workspace(t: &TestApp, token: &str, name: &str, plan: &str) -> String {
    t.post(
        token,
        "/api/v1/workspaces",
        json!({ "name": name, "plan": plan }),
    )
    .await
    .expect(StatusCode::CREATED)
    .id()
}

pub(crate) async fn add(t: &TestApp, token: &str, ws: &str, user: &str, role: &str) {
    t.post(
        token,
        &format!("/api/v1/workspaces/{ws}/members"),
        json!({ "user_id": user, "role": role }),
    )
    .await
    .expect(StatusCode::CREATED);
}

pub(crate) async fn folder(t: &TestApp, token: &str, ws: &str, body: Value) -> String {
    t.post(token, &format!("/api/v1/workspaces/{ws}/folders"), body)
        .await
        .expect(StatusCode::CREATED)
        .id()
}

pub(crate) async fn document(
    t: &TestApp,
    token: &str,
    ws: &str,
    folder: &str,
    title: &str,
) -> String {
    t.post(
        token,
        &format!("/api/v1/workspaces/{ws}/documents"),
        json!({ "folder_id": folder, "title": title, "body": format!("body of {title}") }),
    )
    .await
    .expect(StatusCode::CREATED)
    .id()
}

fn ids(v: &Value) -> Vec<String> {
    let items = v.get("items").unwrap_or(v);
    let mut out: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn members_roles_owners_and_teams(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let ana = person(&t, &root, "ana").await;
    let bob = person(&t, &root, "bob").await;
    let (ana_t, bob_t) = (t.token_for(&ana).await, t.token_for(&bob).await);

    // App access: creating a workspace needs `workspaces.create`; ana has no role.
    t.post(&ana_t, "/api/v1/workspaces", json!({ "name": "Mine" }))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let bad = t
        .post(
            a,
            "/api/v1/workspaces",
            json!({ "name": " ", "plan": "gold" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let fields = bad.fields();
    assert!(
        fields.contains(&("name".to_owned(), "required".to_owned())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("plan".to_owned(), "one_of".to_owned())),
        "{fields:?}"
    );
    assert!(
        bad.text.contains("free, basic, business, enterprise"),
        "{}",
        bad.text
    );

    let created = t
        .post(
            a,
            "/api/v1/workspaces",
            json!({ "name": "Ops", "plan": "basic" }),
        )
        .await
        .expect(StatusCode::CREATED);
    let ws = created.id();
    assert_eq!(created.body["my_role"], "owner");
    assert_eq!(created.body["plan"], "basic");
    assert_eq!(created.body["member_limit"], 25);
    assert_eq!(created.body["member_count"], 1);

    // Not a member: the workspace does not exist for ana, whatever she asks.
    for path in ["", "/members", "/folders", "/documents", "/teams"] {
        t.get(&ana_t, &format!("/api/v1/workspaces/{ws}{path}"))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(
        t.get(&ana_t, "/api/v1/workspaces")
            .await
            .expect(StatusCode::OK)
            .body,
        json!([])
    );

    add(&t, a, &ws, &ana, "editor").await;
    add(&t, a, &ws, &bob, "viewer").await;
    let mine = t
        .get(&ana_t, "/api/v1/workspaces")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(mine[0]["id"], ws.as_str());
    assert_eq!(mine[0]["my_role"], "editor");
    assert_eq!(mine[0]["member_count"], 3);
    let members = t
        .get(&bob_t, &format!("/api/v1/workspaces/{ws}/members"))
        .await
        .expect(StatusCode::OK)
        .body;
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_name"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        vec![("admin", "owner"), ("ana", "editor"), ("bob", "viewer")]
    );

    // An editor may not rename, manage members or make teams; the error names the role.
    let refused = t
        .patch(
            &ana_t,
            &format!("/api/v1/workspaces/{ws}"),
            json!({ "name": "Mine now" }),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        refused["detail"].as_str().unwrap().contains("`admin`"),
        "{refused}"
    );
    t.patch(
        &ana_t,
        &format!("/api/v1/workspaces/{ws}/members/{bob}"),
        json!({ "role": "editor" }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");

    // Admins manage members below owner; only owners make or remove owners.
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}/members/{ana}"),
        json!({ "role": "admin" }),
    )
    .await
    .expect(StatusCode::OK);
    t.patch(
        &ana_t,
        &format!("/api/v1/workspaces/{ws}/members/{bob}"),
        json!({ "role": "editor" }),
    )
    .await
    .expect(StatusCode::OK);
    let owner_refused = t
        .patch(
            &ana_t,
            &format!("/api/v1/workspaces/{ws}/members/{bob}"),
            json!({ "role": "owner" }),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        owner_refused["detail"].as_str().unwrap().contains("owner"),
        "{owner_refused}"
    );
    let bad_role = t
        .patch(
            &ana_t,
            &format!("/api/v1/workspaces/{ws}/members/{bob}"),
            json!({ "role": "boss" }),
        )
        .await;
    assert_eq!(
        bad_role.fields(),
        vec![("role".to_owned(), "one_of".to_owned())]
    );
    assert!(
        bad_role
            .text
            .contains("owner, admin, editor, viewer, agent_only"),
        "{}",
        bad_role.text
    );

    // The last owner can neither be demoted nor leave.
    let me = t.get(a, "/api/v1/me").await.body["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}/members/{me}"),
        json!({ "role": "admin" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "last_owner");
    t.delete(a, &format!("/api/v1/workspaces/{ws}/members/{me}"))
        .await
        .problem(StatusCode::CONFLICT, "last_owner");
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}/members/{ana}"),
        json!({ "role": "owner" }),
    )
    .await
    .expect(StatusCode::OK);
    t.delete(a, &format!("/api/v1/workspaces/{ws}/members/{me}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.get(a, &format!("/api/v1/workspaces/{ws}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    // Teams group members; someone outside the workspace cannot join one.
    let team = t
        .post(
            &ana_t,
            &format!("/api/v1/workspaces/{ws}/teams"),
            json!({ "name": "Night shift" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    t.post(
        &ana_t,
        &format!("/api/v1/workspaces/{ws}/teams"),
        json!({ "name": "night SHIFT" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "already_exists");
    let with_bob = t
        .post(
            &ana_t,
            &format!("/api/v1/workspaces/{ws}/teams/{team}/members"),
            json!({ "user_id": bob }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(with_bob.body["members"], json!([bob]));
    let outsider = t
        .post(
            &ana_t,
            &format!("/api/v1/workspaces/{ws}/teams/{team}/members"),
            json!({ "user_id": me }),
        )
        .await;
    assert_eq!(
        outsider.fields(),
        vec![("user_id".to_owned(), "member".to_owned())]
    );
    // Leaving the workspace leaves its teams.
    t.delete(&bob_t, &format!("/api/v1/workspaces/{ws}/members/{bob}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    let teams = t
        .get(&ana_t, &format!("/api/v1/workspaces/{ws}/teams"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(teams[0]["members"], json!([]));

    // Archived: read-only until an owner restores it.
    t.patch(
        &ana_t,
        &format!("/api/v1/workspaces/{ws}"),
        json!({ "archived": true }),
    )
    .await
    .expect(StatusCode::OK);
    t.post(
        &ana_t,
        &format!("/api/v1/workspaces/{ws}/folders"),
        json!({ "name": "F" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "workspace_archived");
    t.get(&ana_t, &format!("/api/v1/workspaces/{ws}/folders"))
        .await
        .expect(StatusCode::OK);
    t.patch(
        &ana_t,
        &format!("/api/v1/workspaces/{ws}"),
        json!({ "archived": false }),
    )
    .await
    .expect(StatusCode::OK);

    let audit = t
        .get(a, "/api/v1/audit?limit=200")
        .await
        .expect(StatusCode::OK)
        .text;
    for action in [
        "workspace.create",
        "workspace_member.add",
        "workspace_member.role",
        "workspace_member.leave",
        "team.create",
        "workspace.archive",
        "workspace.restore",
    ] {
        assert!(audit.contains(action), "no {action} in the audit");
    }
}
both!(members_roles_owners_and_teams);

fn invitation_token(mail: &str) -> String {
    mail.split_whitespace()
        .find(|w| w.contains("/workspace-invite?token="))
        .unwrap_or_else(|| panic!("no workspace invitation link in {mail}"))
        .split("token=")
        .nth(1)
        .unwrap()
        .to_owned()
}

async fn invitations_count_against_the_plan(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let ana = person(&t, &root, "ana").await;
    let bob = person(&t, &root, "bob").await;
    let ws = workspace(&t, a, "Small", "free").await;
    let path = format!("/api/v1/workspaces/{ws}/invitations");
    let invite =
        |email: &str, role: &str| t.post(a, &path, json!({ "email": email, "role": role }));

    let bad = invite("not-an-email", "chief").await;
    let fields = bad.fields();
    assert!(fields.iter().any(|f| f.0 == "email"), "{fields:?}");
    assert!(
        fields.contains(&("role".to_owned(), "one_of".to_owned())),
        "{fields:?}"
    );

    let first = invite("ana@example.com", "viewer")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first.body["status"], "pending");
    assert!(first.body.get("token_hash").is_none() && !first.text.contains("lkwi_"));
    invite("carol@example.com", "editor")
        .await
        .expect(StatusCode::CREATED);
    // Owner + two pending invitations = the Free plan's 3.
    let full = invite("dan@example.com", "viewer")
        .await
        .problem(StatusCode::CONFLICT, "plan_limit");
    let detail = full["detail"].as_str().unwrap();
    assert!(
        detail.contains("Free") && detail.contains("3 members"),
        "{detail}"
    );
    // Inviting the same address again replaces its invitation rather than taking a seat.
    invite("ANA@example.com", "editor")
        .await
        .expect(StatusCode::CREATED);

    // Ana accepts with her own account; bob cannot use her invitation.
    let sent = mails(&t);
    let token = invitation_token(sent.last().unwrap());
    assert!(token.starts_with("lkwi_"));
    let stale = invitation_token(&sent[0]);
    let (ana_t, bob_t) = (t.token_for(&ana).await, t.token_for(&bob).await);
    t.post(
        &bob_t,
        "/api/v1/workspace-invitations/accept",
        json!({ "token": token }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    t.post(
        &ana_t,
        "/api/v1/workspace-invitations/accept",
        json!({ "token": stale }),
    )
    .await
    .problem(StatusCode::CONFLICT, "invitation_closed");
    // The mailed link's page: for the signed-in invitee only; opening it uses nothing up.
    let link = format!("/workspace-invite?token={token}");
    let anonymous = t
        .call(None, axum::http::Method::GET, &link, None, &[])
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(anonymous.text.contains("Sign in first") && !anonymous.text.contains("Small"));
    let not_hers = t.get(&bob_t, &link).await;
    assert_eq!(not_hers.status, StatusCode::NOT_FOUND);
    assert!(!not_hers.text.contains("Small"), "{}", not_hers.text);
    let page = t.get(&ana_t, &link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Join Small") && page.text.contains("<b>editor</b>"),
        "{}",
        page.text
    );
    let joined = t
        .raw(
            &ana_t,
            axum::http::Method::POST,
            "/workspace-invite",
            "application/x-www-form-urlencoded",
            format!("token={token}&csrf="),
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.text);
    assert!(joined.text.contains("Welcome to Small"), "{}", joined.text);
    let joined = t
        .get(&ana_t, &format!("/api/v1/workspaces/{ws}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(joined.body["my_role"], "editor");
    t.post(
        &ana_t,
        "/api/v1/workspace-invitations/accept",
        json!({ "token": token }),
    )
    .await
    .problem(StatusCode::CONFLICT, "invitation_closed");

    // An address that is already a member: the role changes, nothing is sent.
    let before = mails(&t).len();
    let updated = invite("ana@example.com", "viewer")
        .await
        .expect(StatusCode::OK);
    assert_eq!(updated.body["updated_user_id"], ana.as_str());
    assert_eq!(updated.body["role"], "viewer");
    assert_eq!(mails(&t).len(), before);

    // Still full (2 members + carol's invitation); revoking carol's frees a seat.
    t.post(
        a,
        &format!("/api/v1/workspaces/{ws}/members"),
        json!({ "user_id": bob, "role": "viewer" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "plan_limit");
    let list = t
        .get(a, &format!("/api/v1/workspaces/{ws}/invitations"))
        .await
        .expect(StatusCode::OK)
        .body;
    let carol = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "carol@example.com")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.delete(a, &format!("/api/v1/workspaces/{ws}/invitations/{carol}"))
        .await
        .expect(StatusCode::OK);
    add(&t, a, &ws, &bob, "viewer").await;
    // A plan below the members it holds is refused; a bigger one lifts the limit.
    let down = t
        .patch(
            a,
            &format!("/api/v1/workspaces/{ws}"),
            json!({ "plan": "free" }),
        )
        .await;
    assert_eq!(down.status, StatusCode::OK, "same plan: {}", down.text);
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}"),
        json!({ "plan": "business" }),
    )
    .await
    .expect(StatusCode::OK);
    invite("dan@example.com", "viewer")
        .await
        .expect(StatusCode::CREATED);
    invite("erin@example.com", "viewer")
        .await
        .expect(StatusCode::CREATED);
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}"),
        json!({ "plan": "free" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "plan_limit");
}
both!(invitations_count_against_the_plan);

async fn concurrent_invitations_never_overfill_a_free_workspace(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = t.admin.clone();
    let ws = workspace(&t, &a, "Race", "free").await;
    let t = std::sync::Arc::new(t);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (t, a, ws) = (t.clone(), a.clone(), ws.clone());
        tasks.push(tokio::spawn(async move {
            t.post(
                &a,
                &format!("/api/v1/workspaces/{ws}/invitations"),
                json!({ "email": format!("person{i}@example.com"), "role": "viewer" }),
            )
            .await
        }));
    }
    let (mut invited, mut refused) = (0, 0);
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status {
            StatusCode::CREATED => invited += 1,
            StatusCode::CONFLICT => {
                let p = answer.problem(StatusCode::CONFLICT, "plan_limit");
                let detail = p["detail"].as_str().unwrap();
                assert!(
                    detail.contains("Free plan") && detail.contains("allows 3 members"),
                    "{detail}"
                );
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", answer.text),
        }
    }
    // The owner holds one of the three seats.
    assert_eq!((invited, refused), (2, 48));
    let view = t
        .get(&a, &format!("/api/v1/workspaces/{ws}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(view["member_count"], 1);
    let pending = t
        .get(&a, &format!("/api/v1/workspaces/{ws}/invitations"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(pending.as_array().unwrap().len(), 2);
}
both!(concurrent_invitations_never_overfill_a_free_workspace);

async fn folders_hide_what_a_role_may_not_see(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let ed = person(&t, &root, "ed").await;
    let vi = person(&t, &root, "vi").await;
    let ws = workspace(&t, a, "Runbooks", "business").await;
    add(&t, a, &ws, &ed, "editor").await;
    add(&t, a, &ws, &vi, "viewer").await;
    let (ed_t, vi_t) = (t.token_for(&ed).await, t.token_for(&vi).await);

    let general = folder(&t, a, &ws, json!({ "name": "General" })).await;
    let security = folder(
        &t,
        a,
        &ws,
        json!({ "name": "Security", "visibility": "role", "min_role": "admin" }),
    )
    .await;
    let inner = folder(
        &t,
        a,
        &ws,
        json!({ "name": "Incidents", "parent_id": security }),
    )
    .await;
    let eds = folder(
        &t,
        a,
        &ws,
        json!({ "name": "Editors", "visibility": "role", "min_role": "editor" }),
    )
    .await;
    let open_doc = document(&t, a, &ws, &general, "Onboarding").await;
    let secret_doc = document(&t, a, &ws, &security, "Breach playbook").await;
    let inner_doc = document(&t, a, &ws, &inner, "Breach 2026-03").await;
    let eds_doc = document(&t, a, &ws, &eds, "Release steps").await;

    // A folder inside a restricted folder is never more visible than its parent.
    let f = t
        .get(a, &format!("/api/v1/workspaces/{ws}/folders/{inner}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        (f["visibility"].as_str(), f["effective_min_role"].as_str()),
        (Some("workspace"), Some("admin"))
    );

    let seen = |token: String, path: String| {
        let t = &t;
        async move { ids(&t.get(&token, &path).await.expect(StatusCode::OK).body) }
    };
    assert_eq!(
        seen(vi_t.clone(), format!("/api/v1/workspaces/{ws}/folders")).await,
        vec![general.clone()]
    );
    assert_eq!(
        seen(vi_t.clone(), format!("/api/v1/workspaces/{ws}/documents")).await,
        vec![open_doc.clone()]
    );
    assert_eq!(
        seen(ed_t.clone(), format!("/api/v1/workspaces/{ws}/documents")).await,
        sorted(vec![open_doc.clone(), eds_doc.clone()])
    );
    assert_eq!(
        seen(a.clone(), format!("/api/v1/workspaces/{ws}/documents"))
            .await
            .len(),
        4
    );
    // Search never reveals a hidden title; hidden objects are missing ones.
    let found = t
        .get(
            &vi_t,
            &format!("/api/v1/workspaces/{ws}/documents?q=breach"),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.body["items"], json!([]));
    assert!(!found.text.contains("Breach"));
    assert_eq!(
        seen(
            a.clone(),
            format!("/api/v1/workspaces/{ws}/documents?q=BREACH")
        )
        .await,
        sorted(vec![secret_doc.clone(), inner_doc.clone()])
    );
    for path in [
        format!("/api/v1/workspaces/{ws}/documents/{secret_doc}"),
        format!("/api/v1/workspaces/{ws}/documents/{inner_doc}"),
        format!("/api/v1/workspaces/{ws}/folders/{security}"),
        format!("/api/v1/workspaces/{ws}/documents?folder_id={security}"),
    ] {
        let p = t
            .get(&vi_t, &path)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
        assert!(
            !p.to_string().contains("Breach") && !p.to_string().contains("Security"),
            "{p}"
        );
    }
    // Writing into a hidden folder is refused as if it did not exist.
    let hidden = t
        .post(
            &ed_t,
            &format!("/api/v1/workspaces/{ws}/documents"),
            json!({ "folder_id": security, "title": "x" }),
        )
        .await;
    assert_eq!(
        hidden.fields(),
        vec![("folder_id".to_owned(), "exists".to_owned())]
    );
    // Viewers do not write; editors cannot restrict a folder above their own role.
    t.post(
        &vi_t,
        &format!("/api/v1/workspaces/{ws}/folders"),
        json!({ "name": "Mine" }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    let above = t
        .post(
            &ed_t,
            &format!("/api/v1/workspaces/{ws}/folders"),
            json!({ "name": "Top", "visibility": "role", "min_role": "owner" }),
        )
        .await;
    assert_eq!(
        above.fields(),
        vec![("min_role".to_owned(), "at_most_your_role".to_owned())]
    );
    let missing = t
        .post(
            &ed_t,
            &format!("/api/v1/workspaces/{ws}/folders"),
            json!({ "name": "R", "visibility": "role" }),
        )
        .await;
    assert_eq!(
        missing.fields(),
        vec![("min_role".to_owned(), "required".to_owned())]
    );

    // Moving the inner folder to the top makes it as visible as its own tier.
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}/folders/{inner}"),
        json!({ "parent_id": null }),
    )
    .await
    .expect(StatusCode::OK);
    assert!(
        seen(vi_t.clone(), format!("/api/v1/workspaces/{ws}/documents"))
            .await
            .contains(&inner_doc)
    );
    // And back below; a folder cannot go below itself.
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}/folders/{inner}"),
        json!({ "parent_id": security }),
    )
    .await
    .expect(StatusCode::OK);
    let cycle = t
        .patch(
            a,
            &format!("/api/v1/workspaces/{ws}/folders/{security}"),
            json!({ "parent_id": inner }),
        )
        .await;
    assert_eq!(
        cycle.fields(),
        vec![("parent_id".to_owned(), "no_cycle".to_owned())]
    );
    // Opening the parent opens the children that do not restrict themselves.
    let opened = t
        .patch(
            a,
            &format!("/api/v1/workspaces/{ws}/folders/{security}"),
            json!({ "visibility": "workspace" }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(opened.body["min_role"], Value::Null);
    assert_eq!(
        seen(vi_t.clone(), format!("/api/v1/workspaces/{ws}/documents")).await,
        sorted(vec![
            open_doc.clone(),
            secret_doc.clone(),
            inner_doc.clone()
        ])
    );
    t.delete(a, &format!("/api/v1/workspaces/{ws}/folders/{security}"))
        .await
        .problem(StatusCode::CONFLICT, "folder_not_empty");

    // Documents: update with If-Match, external ids unique per workspace, pages by cursor.
    let doc = t
        .get(
            &ed_t,
            &format!("/api/v1/workspaces/{ws}/documents/{open_doc}"),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(doc.headers["etag"], "\"1\"");
    t.call(
        Some(&ed_t),
        axum::http::Method::PATCH,
        &format!("/api/v1/workspaces/{ws}/documents/{open_doc}"),
        Some(json!({ "title": "Old" })),
        &[("if-match", "\"7\"")],
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    let changed = t
        .call(
            Some(&ed_t),
            axum::http::Method::PATCH,
            &format!("/api/v1/workspaces/{ws}/documents/{open_doc}"),
            Some(json!({ "title": "Onboarding v2", "metadata": { "lang": "en" } })),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(changed.body["version"], 2);
    let app_item = json!({ "folder_id": general, "title": "Sheet 7", "external_id": "sheets:7" });
    t.post(
        &ed_t,
        &format!("/api/v1/workspaces/{ws}/documents"),
        app_item.clone(),
    )
    .await
    .expect(StatusCode::CREATED);
    let dup = t
        .post(
            &ed_t,
            &format!("/api/v1/workspaces/{ws}/documents"),
            app_item,
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.text);
    assert!(dup.text.contains("external_id"), "{}", dup.text);
    let by_ext = seen(
        vi_t.clone(),
        format!("/api/v1/workspaces/{ws}/documents?external_id=sheets:7"),
    )
    .await;
    assert_eq!(by_ext.len(), 1);
    for i in 0..5 {
        document(&t, &ed_t, &ws, &general, &format!("Page {i}")).await;
    }
    let mut all = Vec::new();
    let mut path = format!("/api/v1/workspaces/{ws}/documents?limit=2");
    loop {
        let page = t.get(&vi_t, &path).await.expect(StatusCode::OK).body;
        all.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/workspaces/{ws}/documents?limit=2&cursor={c}"),
            None => break,
        }
    }
    let everything = seen(
        vi_t.clone(),
        format!("/api/v1/workspaces/{ws}/documents?limit=100"),
    )
    .await;
    assert_eq!(sorted(all), everything);
    assert_eq!(everything.len(), 3 + 1 + 5);
    t.get(&vi_t, &format!("/api/v1/workspaces/{ws}/documents?limit=0"))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    t.get(
        &vi_t,
        &format!("/api/v1/workspaces/{ws}/documents?cursor=nope"),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}
both!(folders_hide_what_a_role_may_not_see);

async fn api_keys_read_only_what_every_member_sees(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let ad = person(&t, &root, "ad").await;
    let ed = person(&t, &root, "ed").await;
    let ws = workspace(&t, a, "Docs", "basic").await;
    let other = workspace(&t, a, "Elsewhere", "enterprise").await;
    add(&t, a, &ws, &ad, "admin").await;
    add(&t, a, &ws, &ed, "editor").await;
    let (ad_t, ed_t) = (t.token_for(&ad).await, t.token_for(&ed).await);
    let open = folder(&t, a, &ws, json!({ "name": "Open" })).await;
    let admins = folder(
        &t,
        a,
        &ws,
        json!({ "name": "Admins", "visibility": "role", "min_role": "admin" }),
    )
    .await;
    let viewers = folder(
        &t,
        a,
        &ws,
        json!({ "name": "Viewers", "visibility": "role", "min_role": "viewer" }),
    )
    .await;
    let open_doc = document(&t, a, &ws, &open, "Public guide").await;
    let _admin_doc = document(&t, a, &ws, &admins, "Admin secrets").await;
    let _viewer_doc = document(&t, a, &ws, &viewers, "For viewers").await;
    let keys = format!("/api/v1/workspaces/{ws}/api-keys");

    // Business plan and above; the refusal names the plan.
    let plan = t
        .post(&ad_t, &keys, json!({ "name": "ci", "role": "viewer" }))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        plan["detail"].as_str().unwrap().contains("Business")
            && plan["detail"].as_str().unwrap().contains("Basic"),
        "{plan}"
    );
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}"),
        json!({ "plan": "business" }),
    )
    .await
    .expect(StatusCode::OK);
    // Owners and admins only; never above the creator's role.
    t.post(&ed_t, &keys, json!({ "name": "ci", "role": "viewer" }))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let above = t
        .post(&ad_t, &keys, json!({ "name": "ci", "role": "owner" }))
        .await;
    assert_eq!(
        above.fields(),
        vec![("role".to_owned(), "at_most_your_role".to_owned())]
    );
    let created = t
        .post(&ad_t, &keys, json!({ "name": "ci", "role": "admin" }))
        .await
        .expect(StatusCode::CREATED);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let key_id = created.id();
    assert!(secret.starts_with("lkw_") && created.body.get("token_hash").is_none());
    let listed = t.get(&ad_t, &keys).await.expect(StatusCode::OK);
    assert!(!listed.text.contains(&secret) && !listed.text.contains("token_hash"));
    assert_eq!(listed.body[0]["prefix"], secret[..12]);

    // The public API: only workspace-visible folders, whatever the key's role.
    let public = |path: String, key: Option<String>| {
        let t = &t;
        async move {
            match key {
                Some(k) => t.get(&k, &path).await,
                None => {
                    t.call(None, axum::http::Method::GET, &path, None, &[])
                        .await
                }
            }
        }
    };
    let docs = public(
        format!("/public/v1/workspaces/{ws}/documents"),
        Some(secret.clone()),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(ids(&docs.body), vec![open_doc.clone()]);
    assert!(!docs.text.contains("Admin secrets") && !docs.text.contains("For viewers"));
    let folders = public(
        format!("/public/v1/workspaces/{ws}/folders"),
        Some(secret.clone()),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(ids(&folders.body), vec![open.clone()]);
    let searched = public(
        format!("/public/v1/workspaces/{ws}/documents?q=secrets"),
        Some(secret.clone()),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(searched.body["items"], json!([]));
    public(
        format!("/public/v1/workspaces/{ws}/documents/{open_doc}"),
        Some(secret.clone()),
    )
    .await
    .expect(StatusCode::OK);
    public(
        format!("/public/v1/workspaces/{ws}/documents?folder_id={admins}"),
        Some(secret.clone()),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    // Another workspace does not exist for this key; no key, a user token or a wrong key: 401.
    public(
        format!("/public/v1/workspaces/{other}/documents"),
        Some(secret.clone()),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    public(format!("/public/v1/workspaces/{ws}/documents"), None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    public(
        format!("/public/v1/workspaces/{ws}/documents"),
        Some(ad_t.clone()),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    public(
        format!("/public/v1/workspaces/{ws}/documents"),
        Some(format!("{secret}x")),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // A workspace key is no user token either.
    t.get(&secret, "/api/v1/workspaces")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let used = t.get(&ad_t, &keys).await.expect(StatusCode::OK).body;
    assert!(used[0]["last_used_at"].is_string(), "{used}");

    // A plan below Business stops the public API; revoking stops the key for good.
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}"),
        json!({ "plan": "basic" }),
    )
    .await
    .expect(StatusCode::OK);
    let stopped = public(
        format!("/public/v1/workspaces/{ws}/documents"),
        Some(secret.clone()),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        stopped["detail"].as_str().unwrap().contains("Business"),
        "{stopped}"
    );
    t.patch(
        a,
        &format!("/api/v1/workspaces/{ws}"),
        json!({ "plan": "business" }),
    )
    .await
    .expect(StatusCode::OK);
    t.delete(&ed_t, &format!("{keys}/{key_id}"))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let revoked = t
        .delete(&ad_t, &format!("{keys}/{key_id}"))
        .await
        .expect(StatusCode::OK);
    assert!(revoked.body["revoked_at"].is_string());
    public(
        format!("/public/v1/workspaces/{ws}/documents"),
        Some(secret.clone()),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let audit = t
        .get(a, "/api/v1/audit?limit=200")
        .await
        .expect(StatusCode::OK)
        .text;
    assert!(audit.contains("workspace_key.create") && audit.contains("workspace_key.revoke"));
    assert!(!audit.contains(&secret));
}
both!(api_keys_read_only_what_every_member_sees);

async fn app_access_and_workspace_access_are_separate(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let creator = person(&t, &root, "cre").await;
    let reader = person(&t, &root, "rea").await;
    // A role carrying `workspaces.create` and nothing else.
    let latchkey = t
        .get(a, "/api/v1/systems?q=latchkey")
        .await
        .expect(StatusCode::OK)
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let maker = t
        .post(a, "/api/v1/roles", json!({ "name": "Workspace maker", "system_id": latchkey, "permissions": ["workspaces.create"] }))
        .await
        .expect(StatusCode::CREATED)
        .id();
    t.grant_user(a, &maker, &creator, None)
        .await
        .expect(StatusCode::CREATED);
    let (cre_t, rea_t) = (t.token_for(&creator).await, t.token_for(&reader).await);

    // The admin's workspace: holding every permission is no membership.
    let admins_ws = workspace(&t, a, "Board", "free").await;
    t.get(&cre_t, &format!("/api/v1/workspaces/{admins_ws}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let own = workspace(&t, &cre_t, "Projects", "free").await;
    // Membership grants no product permission.
    add(&t, &cre_t, &own, &reader, "viewer").await;
    t.get(&rea_t, &format!("/api/v1/workspaces/{own}"))
        .await
        .expect(StatusCode::OK);
    t.post(&rea_t, "/api/v1/workspaces", json!({ "name": "No" }))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.get(&rea_t, "/api/v1/users")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");

    let hidden = folder(
        &t,
        &cre_t,
        &own,
        json!({ "name": "Plans", "visibility": "role", "min_role": "editor" }),
    )
    .await;
    let access = t
        .get(
            a,
            &format!("/api/v1/users/{reader}/access?workspace_id={own}&folder_id={hidden}"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(access["member_role"], "viewer");
    assert_eq!(access["app_permissions"], json!([]));
    assert_eq!(access["folder"]["visible"], false);
    assert_eq!(access["folder"]["effective_min_role"], "editor");
    // The admin is no member: the folder's name is content and stays hidden from them.
    assert_eq!(access["folder"]["name"], Value::Null);
    assert!(!access.to_string().contains("Plans"), "{access}");
    let creator_access = t
        .get(
            a,
            &format!("/api/v1/users/{creator}/access?workspace_id={admins_ws}"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(creator_access["member_role"], Value::Null);
    assert_eq!(
        creator_access["app_permissions"],
        json!(["workspaces.create"])
    );
    assert!(
        creator_access["explanation"][0]
            .as_str()
            .unwrap()
            .contains("not a member")
    );
    // Explaining access is user administration: `users.view`.
    t.get(
        &rea_t,
        &format!("/api/v1/users/{creator}/access?workspace_id={own}"),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
}
both!(app_access_and_workspace_access_are_separate);

async fn sharing_and_publishing_owned_items(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let own = person(&t, &root, "own").await;
    let col = person(&t, &root, "col").await;
    let other = person(&t, &root, "oth").await;
    let (own_t, col_t, oth_t) = (
        t.token_for(&own).await,
        t.token_for(&col).await,
        t.token_for(&other).await,
    );

    let bad = t
        .post(
            &own_t,
            "/api/v1/items",
            json!({ "kind": "widget", "name": "" }),
        )
        .await;
    let fields = bad.fields();
    assert!(
        fields.contains(&("kind".to_owned(), "one_of".to_owned())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("name".to_owned(), "required".to_owned())),
        "{fields:?}"
    );
    let orch = t
        .post(
            &own_t,
            "/api/v1/items",
            json!({ "kind": "orchestration", "name": "Nightly close" }),
        )
        .await
        .expect(StatusCode::CREATED);
    let id = orch.id();
    assert_eq!(orch.body["owner_id"], own.as_str());
    let sheet = t
        .post(
            &own_t,
            "/api/v1/items",
            json!({ "kind": "sheet", "name": "Budget" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    // Someone it is not shared with cannot see it at all.
    t.get(&col_t, &format!("/api/v1/items/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    // Unrestricted sharing (the default): the owner shares freely; no one else may.
    t.post(
        &own_t,
        &format!("/api/v1/items/{id}/collaborators"),
        json!({ "user_id": col }),
    )
    .await
    .expect(StatusCode::OK);
    t.get(&col_t, &format!("/api/v1/items/{id}"))
        .await
        .expect(StatusCode::OK);
    t.post(
        &col_t,
        &format!("/api/v1/items/{id}/collaborators"),
        json!({ "user_id": other }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");

    // Off: sharing an orchestration needs `orchestrations.share`; other items stay free.
    t.put(
        &own_t,
        "/api/v1/settings/sharing",
        json!({ "unrestricted_sharing": false }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    t.put(
        a,
        "/api/v1/settings/sharing",
        json!({ "unrestricted_sharing": false }),
    )
    .await
    .expect(StatusCode::OK);
    let refused = t
        .post(
            &own_t,
            &format!("/api/v1/items/{id}/collaborators"),
            json!({ "user_id": other }),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("orchestrations.share"),
        "{refused}"
    );
    t.post(
        &own_t,
        &format!("/api/v1/items/{sheet}/collaborators"),
        json!({ "user_id": other }),
    )
    .await
    .expect(StatusCode::OK);
    // Publishing needs `orchestrations.publish`; the seeded Publisher role has both.
    let denied = t
        .post(&own_t, &format!("/api/v1/items/{id}/publish"), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        denied["detail"]
            .as_str()
            .unwrap()
            .contains("orchestrations.publish"),
        "{denied}"
    );
    let publisher = t.system_role("Publisher").await;
    t.grant_user(a, &publisher, &own, None)
        .await
        .expect(StatusCode::CREATED);
    t.post(
        &own_t,
        &format!("/api/v1/items/{id}/collaborators"),
        json!({ "user_id": other }),
    )
    .await
    .expect(StatusCode::OK);
    t.delete(&own_t, &format!("/api/v1/items/{id}/collaborators/{other}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.get(&oth_t, &format!("/api/v1/items/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let published = t
        .post(&own_t, &format!("/api/v1/items/{id}/publish"), json!({}))
        .await
        .expect(StatusCode::OK);
    assert!(published.body["published_at"].is_string());
    // Published: the whole organisation sees it; only orchestrations are published.
    t.get(&oth_t, &format!("/api/v1/items/{id}"))
        .await
        .expect(StatusCode::OK);
    t.post(&own_t, &format!("/api/v1/items/{sheet}/publish"), json!({}))
        .await
        .problem(StatusCode::CONFLICT, "not_publishable");
    t.delete(&col_t, &format!("/api/v1/items/{id}/publish"))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let mine = t
        .get(&oth_t, "/api/v1/items")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(ids(&mine), sorted(vec![id.clone(), sheet.clone()]));
    let audit = t
        .get(a, "/api/v1/audit?limit=200")
        .await
        .expect(StatusCode::OK)
        .text;
    for action in [
        "item.create",
        "item.share",
        "item.unshare",
        "item.publish",
        "settings.sharing",
    ] {
        assert!(audit.contains(action), "no {action} in the audit");
    }
}
both!(sharing_and_publishing_owned_items);

async fn deleting_a_user_hands_over_what_they_own(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let leaver = person(&t, &root, "leaver").await;
    let heir = person(&t, &root, "heir").await;
    let maker = t.system_role("Administrator").await;
    t.grant_user(a, &maker, &leaver, None)
        .await
        .expect(StatusCode::CREATED);
    let lt = t.token_for(&leaver).await;
    let ws = workspace(&t, &lt, "Leaver's", "business").await;
    let f = folder(
        &t,
        &lt,
        &ws,
        json!({ "name": "Notes", "visibility": "role", "min_role": "owner" }),
    )
    .await;
    let d = document(&t, &lt, &ws, &f, "Handover").await;
    let item = t
        .post(
            &lt,
            "/api/v1/items",
            json!({ "kind": "template", "name": "Weekly" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let key = t
        .post(
            &lt,
            &format!("/api/v1/workspaces/{ws}/api-keys"),
            json!({ "name": "k", "role": "viewer" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    t.get(&key, &format!("/public/v1/workspaces/{ws}/documents"))
        .await
        .expect(StatusCode::OK);

    // First the list; then a refusal that names it.
    let owned = t
        .get(a, &format!("/api/v1/users/{leaver}/owned"))
        .await
        .expect(StatusCode::OK)
        .body;
    let kinds: Vec<&str> = owned["owned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["what"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["workspace", "folder", "document", "item"]);
    let refused = t
        .delete(a, &format!("/api/v1/users/{leaver}"))
        .await
        .problem(StatusCode::CONFLICT, "owns_content");
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("workspace `Leaver's`")
            && detail.contains("template `Weekly`")
            && detail.contains("reassign_to"),
        "{detail}"
    );
    t.get(&lt, "/api/v1/me").await.expect(StatusCode::OK);
    let bad = t
        .delete(a, &format!("/api/v1/users/{leaver}?reassign_to={leaver}"))
        .await;
    assert_eq!(
        bad.fields(),
        vec![("reassign_to".to_owned(), "enabled_other_user".to_owned())]
    );

    t.delete(a, &format!("/api/v1/users/{leaver}?reassign_to={heir}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    // Sessions, tokens and keys are gone; the heir owns and sees everything.
    t.get(&lt, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    t.get(&key, &format!("/public/v1/workspaces/{ws}/documents"))
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let ht = t.token_for(&heir).await;
    let view = t
        .get(&ht, &format!("/api/v1/workspaces/{ws}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        (view["my_role"].as_str(), view["owner_id"].as_str()),
        (Some("owner"), Some(heir.as_str()))
    );
    let doc = t
        .get(&ht, &format!("/api/v1/workspaces/{ws}/documents/{d}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(doc["owner_id"], heir.as_str());
    assert_eq!(
        t.get(&ht, &format!("/api/v1/items/{item}"))
            .await
            .expect(StatusCode::OK)
            .body["owner_id"],
        heir.as_str()
    );
    let members = t
        .get(&ht, &format!("/api/v1/workspaces/{ws}/members"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    // The tombstone names the person; the audit keeps the deletion and the hand-over.
    let gone = t
        .get(a, "/api/v1/deleted-users")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        (gone[0]["id"].as_str(), gone[0]["user_name"].as_str()),
        (Some(leaver.as_str()), Some("leaver"))
    );
    assert_eq!(gone[0]["reassigned_to"], heir.as_str());
    let audit = t
        .get(a, "/api/v1/audit?limit=200")
        .await
        .expect(StatusCode::OK)
        .text;
    assert!(audit.contains("user.reassign") && audit.contains("user.delete"));
    t.get(a, &format!("/api/v1/users/{leaver}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
}
both!(deleting_a_user_hands_over_what_they_own);

async fn adding_someone_answers_their_pending_invitation(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let ana = person(&t, &root, "ana").await;
    let ws = workspace(&t, a, "Tiny", "free").await;
    t.post(
        a,
        &format!("/api/v1/workspaces/{ws}/invitations"),
        json!({ "email": "ana@example.com", "role": "viewer" }),
    )
    .await
    .expect(StatusCode::CREATED);
    let token = invitation_token(mails(&t).last().unwrap());
    add(&t, a, &ws, &ana, "owner").await;
    // The invitation no longer holds a seat, and cannot demote the owner she now is.
    let invitations = t
        .get(a, &format!("/api/v1/workspaces/{ws}/invitations"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(invitations[0]["status"], "revoked");
    let me = t.get(a, "/api/v1/me").await.body["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.delete(a, &format!("/api/v1/workspaces/{ws}/members/{me}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    let ana_t = t.token_for(&ana).await;
    t.post(
        &ana_t,
        "/api/v1/workspace-invitations/accept",
        json!({ "token": token }),
    )
    .await
    .problem(StatusCode::CONFLICT, "invitation_closed");
    let view = t
        .get(&ana_t, &format!("/api/v1/workspaces/{ws}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(view["my_role"], "owner");
}
both!(adding_someone_answers_their_pending_invitation);

/// A browser joins through the mailed link with its session cookie: the page's form
/// carries the CSRF token (a form cannot send the header), and a forged form is refused.
async fn the_invitation_page_joins_with_the_session_cookie(backend: Backend) {
    use crate::sign_in::{cookie_value, set_cookies, set_password, sign_in};
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let ana = person(&t, &root, "ana").await;
    set_password(&t, &ana, "a long enough password 1").await;
    let ws = workspace(&t, a, "Small", "free").await;
    t.post(
        a,
        &format!("/api/v1/workspaces/{ws}/invitations"),
        json!({ "email": "ana@example.com", "role": "editor" }),
    )
    .await
    .expect(StatusCode::CREATED);
    let token = invitation_token(mails(&t).last().unwrap());
    let signed_in = sign_in(&t, "ana", "a long enough password 1")
        .await
        .expect(StatusCode::OK);
    let session = cookie_value(&set_cookies(&signed_in), "latchkey_session");
    let jar = format!("latchkey_session={session}");
    let page = t
        .call(
            None,
            axum::http::Method::GET,
            &format!("/workspace-invite?token={token}"),
            None,
            &[("cookie", &jar)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = page
        .text
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let post = |csrf: String| {
        let (t, jar, token) = (&t, jar.clone(), token.clone());
        async move {
            let req = axum::http::Request::builder()
                .method(axum::http::Method::POST)
                .uri("/workspace-invite")
                .header("cookie", jar)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!("token={token}&csrf={csrf}")))
                .unwrap();
            let res = tower::ServiceExt::oneshot(t.app.clone(), req)
                .await
                .unwrap();
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let (status, text) = post("forged".to_owned()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    let (status, text) = post(csrf).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("Welcome to Small"), "{text}");
}
both!(the_invitation_page_joins_with_the_session_cookie);
