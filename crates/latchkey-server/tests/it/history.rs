//! Access as of any past instant: effective roles, role holders and group members answer
//! `?at=` from the stored history (a deleted user included), an instant before the history
//! is refused naming `at`; an earlier state of a group's memberships or of a user's grants
//! is restored (or previewed with `dry_run`) and audited as one change; access snapshots
//! pin "who held what" and download the same CSV whatever happened since.

use std::sync::Arc;

use axum::http::StatusCode;
use latchkey_model::FixedClock;
use latchkey_testkit::Backend;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::both;
use crate::harness::TestApp;
use crate::sign_in::root_group;

fn role_names(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_name"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

/// `key` of every item of a list, in order.
fn field(items: &Value, key: &str) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

async fn roles_at(t: &TestApp, user: &str, at: Option<&str>) -> Vec<String> {
    let path = match at {
        Some(at) => format!("/api/v1/users/{user}/effective-roles?at={at}"),
        None => format!("/api/v1/users/{user}/effective-roles"),
    };
    role_names(&t.get(&t.admin, &path).await.expect(StatusCode::OK).body)
}

async fn members_at(t: &TestApp, group: &str, at: Option<&str>) -> Vec<(String, String)> {
    let path = match at {
        Some(at) => format!("/api/v1/groups/{group}/members?at={at}"),
        None => format!("/api/v1/groups/{group}/members"),
    };
    let body = t.get(&t.admin, &path).await.expect(StatusCode::OK).body;
    body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_name"].as_str().unwrap().to_owned(),
                m["membership"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

both!(effective_roles_holders_and_members_as_of_a_past_instant);
async fn effective_roles_holders_and_members_as_of_a_past_instant(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-01-05 09:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let sales = t.group(a, "Sales", Some(&root)).await;
    let sys = t.system(a, "Docs").await;
    let reader = t.role(a, &sys, "Reader").await;
    let writer = t.role(a, &sys, "Writer").await;
    let approver = t.role(a, &sys, "Approver").await;
    t.post(
        a,
        &format!("/api/v1/roles/{writer}/granted-roles"),
        json!({ "role_id": reader, "mandatory": true }),
    )
    .await
    .expect(StatusCode::CREATED);
    let ana = t.user(a, "ana", &root).await;
    let bob = t.user(a, "bob", &root).await;

    // 10:00: Ana writes (and so reads), and joins Sales; Bob approves.
    clock.set(datetime!(2026-01-05 10:00 UTC));
    let ana_writer = t
        .grant_user(a, &writer, &ana, None)
        .await
        .expect(StatusCode::CREATED)
        .id();
    let membership = t
        .post(
            a,
            "/api/v1/memberships",
            json!({ "user_id": ana, "group_id": sales }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    t.grant_user(a, &approver, &bob, None)
        .await
        .expect(StatusCode::CREATED);

    // 11:00: Sales is granted Approver.
    clock.set(datetime!(2026-01-05 11:00 UTC));
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": approver, "group_id": sales }),
    )
    .await
    .expect(StatusCode::CREATED);

    // 12:00: Ana loses Writer and leaves Sales; Bob is deleted.
    clock.set(datetime!(2026-01-05 12:00 UTC));
    t.delete(a, &format!("/api/v1/grants/{ana_writer}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.delete(a, &format!("/api/v1/memberships/{membership}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.delete(a, &format!("/api/v1/users/{bob}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    clock.set(datetime!(2026-01-05 13:00 UTC));

    // Effective roles: each past instant as it was, now as it is.
    assert_eq!(
        roles_at(&t, &ana, Some("2026-01-05T09:30:00Z")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        roles_at(&t, &ana, Some("2026-01-05T10:30:00Z")).await,
        vec!["Reader", "Writer"]
    );
    assert_eq!(
        roles_at(&t, &ana, Some("2026-01-05T11:30:00Z")).await,
        vec!["Approver", "Reader", "Writer"]
    );
    assert_eq!(
        roles_at(&t, &ana, Some("2026-01-05T12:30:00Z")).await,
        Vec::<String>::new()
    );
    assert_eq!(roles_at(&t, &ana, None).await, Vec::<String>::new());

    // The paths of then, and the revision they come from.
    let then = t
        .get(
            a,
            &format!("/api/v1/users/{ana}/effective-roles?at=2026-01-05T11:30:00Z"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(then["as_of_revision"].as_i64().unwrap() > 0);
    let approver_paths = then["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role_name"] == "Approver")
        .unwrap()["paths"]
        .clone();
    assert_eq!(approver_paths[0]["kind"], "group");
    assert_eq!(approver_paths[0]["member_group"]["name"], "Sales");
    let now = t
        .get(a, &format!("/api/v1/users/{ana}/effective-roles"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(now.get("as_of_revision").is_none(), "{now}");

    // A deleted user is answered from the history, and is gone now.
    assert_eq!(
        roles_at(&t, &bob, Some("2026-01-05T10:30:00Z")).await,
        vec!["Approver"]
    );
    t.get(a, &format!("/api/v1/users/{bob}/effective-roles"))
        .await
        .expect(StatusCode::NOT_FOUND);

    // Holders of Approver at 11:30 (Bob directly, Ana through Sales), and none now.
    let holders = t
        .get(
            a,
            &format!("/api/v1/roles/{approver}/holders?at=2026-01-05T11:30:00Z"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let mut names: Vec<&str> = holders["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["user_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["ana", "bob"]);
    let holders = t
        .get(a, &format!("/api/v1/roles/{approver}/holders"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(holders["holders"], json!([]));

    // Members of Sales: Ana at 10:30, no one now.
    assert_eq!(
        members_at(&t, &sales, Some("2026-01-05T10:30:00Z")).await,
        vec![("ana".to_owned(), "secondary".to_owned())]
    );
    assert_eq!(
        members_at(&t, &sales, None).await,
        Vec::<(String, String)>::new()
    );
    let roots = members_at(&t, &root, Some("2026-01-05T10:30:00Z")).await;
    assert!(
        roots.contains(&("bob".to_owned(), "primary".to_owned())),
        "{roots:?}"
    );

    // Before the history: refused naming `at`; a malformed instant too.
    let early = t
        .get(
            a,
            &format!("/api/v1/users/{ana}/effective-roles?at=2020-01-01T00:00:00Z"),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(early["errors"][0]["field"], "at", "{early}");
    assert_eq!(early["errors"][0]["rule"], "in_history", "{early}");
    let malformed = t
        .get(a, &format!("/api/v1/groups/{sales}/members?at=yesterday"))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(malformed["errors"][0]["field"], "at");
    let limit = t
        .get(a, &format!("/api/v1/groups/{sales}/members?limit=0"))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(limit["errors"][0]["field"], "limit");

    // Without users.view: refused.
    let member_role = t.system_role("Member").await;
    let eve = t.user(a, "eve", &root).await;
    t.grant_user(a, &member_role, &eve, None)
        .await
        .expect(StatusCode::CREATED);
    let eve_token = t.token_for(&eve).await;
    t.get(
        &eve_token,
        &format!("/api/v1/users/{ana}/effective-roles?at=2026-01-05T10:30:00Z"),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    t.get(&eve_token, &format!("/api/v1/groups/{sales}/members"))
        .await
        .expect(StatusCode::FORBIDDEN);
}

both!(earlier_memberships_and_grants_are_restored);
async fn earlier_memberships_and_grants_are_restored(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-02-01 09:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let team = t.group(a, "Team", Some(&root)).await;
    let sys = t.system(a, "Ledger").await;
    let viewer = t.role(a, &sys, "Viewer").await;
    let poster = t.role(a, &sys, "Poster").await;
    let closer = t.role(a, &sys, "Closer").await;
    let u1 = t.user(a, "uno", &root).await;
    let u2 = t.user(a, "dos", &root).await;
    let u3 = t.user(a, "tres", &root).await;

    // 10:00: uno and dos in Team (dos until March); uno views and posts (posts until June).
    clock.set(datetime!(2026-02-01 10:00 UTC));
    let m1 = t
        .post(
            a,
            "/api/v1/memberships",
            json!({ "user_id": u1, "group_id": team, "comments": "founder" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let m2 = t
        .post(
            a,
            "/api/v1/memberships",
            json!({ "user_id": u2, "group_id": team, "ends_at": "2026-03-01T00:00:00Z" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let g_viewer = t
        .grant_user(a, &viewer, &u1, None)
        .await
        .expect(StatusCode::CREATED)
        .id();
    let g_poster = t
        .post(
            a,
            "/api/v1/grants",
            json!({ "role_id": poster, "user_id": u1, "ends_at": "2026-06-01T00:00:00Z" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();

    // 11:00: uno leaves, tres joins, dos stays longer; uno stops viewing, closes, posts
    // until December.
    clock.set(datetime!(2026-02-01 11:00 UTC));
    t.delete(a, &format!("/api/v1/memberships/{m1}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.post(
        a,
        "/api/v1/memberships",
        json!({ "user_id": u3, "group_id": team }),
    )
    .await
    .expect(StatusCode::CREATED);
    t.patch(
        a,
        &format!("/api/v1/memberships/{m2}"),
        json!({ "ends_at": "2026-12-01T00:00:00Z" }),
    )
    .await
    .expect(StatusCode::OK);
    t.delete(a, &format!("/api/v1/grants/{g_viewer}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.grant_user(a, &closer, &u1, None)
        .await
        .expect(StatusCode::CREATED);
    t.patch(
        a,
        &format!("/api/v1/grants/{g_poster}"),
        json!({ "ends_at": "2026-12-01T00:00:00Z" }),
    )
    .await
    .expect(StatusCode::OK);
    clock.set(datetime!(2026-02-01 12:00 UTC));
    let before = roles_at(&t, &u1, Some("2026-02-01T10:30:00Z")).await;
    assert_eq!(before, vec!["Poster", "Viewer"]);

    // A dry run answers the changes and makes none.
    let preview = t
        .post(
            a,
            &format!("/api/v1/groups/{team}/members/restore"),
            json!({ "at": "2026-02-01T10:30:00Z", "dry_run": true }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let names = |items: &Value| field(items, "user_name");
    assert_eq!(names(&preview["added"]), vec!["uno"]);
    assert_eq!(names(&preview["removed"]), vec!["tres"]);
    assert_eq!(names(&preview["changed"]), vec!["dos"]);
    assert_eq!(preview["changed"][0]["ends_at"], "2026-03-01T00:00:00Z");
    assert_eq!(preview["dry_run"], true);
    let mut now = members_at(&t, &team, None).await;
    now.sort();
    assert_eq!(now.len(), 2, "nothing changed: {now:?}");
    assert!(now.contains(&("tres".to_owned(), "secondary".to_owned())));

    // The restore itself.
    let done = t
        .post(
            a,
            &format!("/api/v1/groups/{team}/members/restore"),
            json!({ "at": "2026-02-01T10:30:00Z" }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(done["dry_run"], false);
    let mut now = members_at(&t, &team, None).await;
    now.sort();
    assert_eq!(
        now,
        vec![
            ("dos".to_owned(), "secondary".to_owned()),
            ("uno".to_owned(), "secondary".to_owned())
        ]
    );
    let uno_membership = t
        .get(a, &format!("/api/v1/memberships?user_id={u1}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(uno_membership["items"][0]["comments"], "founder");
    let dos = t
        .get(a, &format!("/api/v1/memberships/{m2}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(dos["ends_at"], "2026-03-01T00:00:00Z");
    let audit = t
        .get(a, &format!("/api/v1/audit?object_id={team}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "group.members.restore"),
        "{audit}"
    );

    // The user's grants: Viewer back, Closer gone, Poster until June again.
    let done = t
        .post(
            a,
            &format!("/api/v1/users/{u1}/grants/restore"),
            json!({ "at": "2026-02-01T10:30:00Z" }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let roles = |items: &Value| field(items, "role_name");
    assert_eq!(roles(&done["added"]), vec!["Viewer"]);
    assert_eq!(roles(&done["removed"]), vec!["Closer"]);
    assert_eq!(roles(&done["changed"]), vec!["Poster"]);
    assert_eq!(roles_at(&t, &u1, None).await, before);
    let poster_now = t
        .get(a, &format!("/api/v1/grants/{g_poster}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(poster_now["ends_at"], "2026-06-01T00:00:00Z");

    // Restoring to now or later is refused naming `at`; an unknown field too.
    let future = t
        .post(
            a,
            &format!("/api/v1/users/{u1}/grants/restore"),
            json!({ "at": "2026-03-01T00:00:00Z" }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(future["errors"][0]["field"], "at");
    assert_eq!(future["errors"][0]["rule"], "past");
    t.post(
        a,
        &format!("/api/v1/users/{u1}/grants/restore"),
        json!({ "at": "2026-02-01T10:30:00Z", "everything": true }),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);

    // An auditor may read the past but not restore it.
    let auditor_role = t.system_role("Auditor").await;
    let aud = t.user(a, "aud", &root).await;
    t.grant_user(a, &auditor_role, &aud, None)
        .await
        .expect(StatusCode::CREATED);
    let aud_token = t.token_for(&aud).await;
    t.post(
        &aud_token,
        &format!("/api/v1/groups/{team}/members/restore"),
        json!({ "at": "2026-02-01T10:30:00Z" }),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    t.post(
        &aud_token,
        &format!("/api/v1/users/{u1}/grants/restore"),
        json!({ "at": "2026-02-01T10:30:00Z" }),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
}

both!(access_snapshots_pin_who_held_what);
async fn access_snapshots_pin_who_held_what(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-03-02 09:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let sys = t.system(a, "Payroll").await;
    let clerk = t.role(a, &sys, "Clerk").await;
    let ana = t.user(a, "ana", &root).await;
    let grant = t
        .grant_user(a, &clerk, &ana, None)
        .await
        .expect(StatusCode::CREATED)
        .id();
    clock.set(datetime!(2026-03-02 10:00 UTC));

    let snap = t
        .post(
            a,
            "/api/v1/security/access-snapshots",
            json!({ "name": "Before the audit" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(snap["name"], "Before the audit");
    assert!(
        snap["entries"].as_i64().unwrap() >= 2,
        "ana's clerk and the admin's roles: {snap}"
    );
    let id = snap["id"].as_str().unwrap().to_owned();
    let csv_path = format!("/api/v1/security/access-snapshots/{id}/csv");
    let first = t.get(a, &csv_path).await.expect(StatusCode::OK);
    let text = first.text;
    assert!(
        text.starts_with("user_id,user_name,role_id,role_name,system_name,scope,paths\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{ana},ana,{clerk},Clerk,Payroll,,direct")),
        "{text}"
    );

    // Ana loses the role: the snapshot still says she held it, byte for byte.
    clock.set(datetime!(2026-03-02 11:00 UTC));
    t.delete(a, &format!("/api/v1/grants/{grant}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    let again = t.get(a, &csv_path).await.expect(StatusCode::OK);
    assert_eq!(again.text, text);

    // A snapshot of a past instant, and the list newest first.
    let past = t
        .post(
            a,
            "/api/v1/security/access-snapshots",
            json!({ "at": "2026-03-02T09:30:00Z" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    assert_eq!(past["name"], "Access on 2026-03-02T09:30:00Z");
    let list = t
        .get(a, "/api/v1/security/access-snapshots")
        .await
        .expect(StatusCode::OK)
        .body;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![past["id"].as_str().unwrap(), id.as_str()]);
    let now = t
        .post(a, "/api/v1/security/access-snapshots", json!({}))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let now_csv = t
        .get(
            a,
            &format!(
                "/api/v1/security/access-snapshots/{}/csv",
                now["id"].as_str().unwrap()
            ),
        )
        .await
        .expect(StatusCode::OK)
        .text;
    assert!(!now_csv.contains(",Clerk,"), "{now_csv}");

    // Bad input names the field; the future is refused.
    let bad = t
        .post(
            a,
            "/api/v1/security/access-snapshots",
            json!({ "name": " ", "at": "2030-01-01T00:00:00Z" }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let mut fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, vec!["at", "name"]);
    t.get(
        a,
        "/api/v1/security/access-snapshots/0190aaaa-0000-7000-8000-000000000001",
    )
    .await
    .expect(StatusCode::NOT_FOUND);

    // Only `security.view` over the whole organisation.
    let member_role = t.system_role("Member").await;
    let eve = t.user(a, "eve", &root).await;
    t.grant_user(a, &member_role, &eve, None)
        .await
        .expect(StatusCode::CREATED);
    let eve_token = t.token_for(&eve).await;
    t.get(&eve_token, "/api/v1/security/access-snapshots")
        .await
        .expect(StatusCode::FORBIDDEN);
    t.get(&eve_token, &csv_path)
        .await
        .expect(StatusCode::FORBIDDEN);
    t.post(&eve_token, "/api/v1/security/access-snapshots", json!({}))
        .await
        .expect(StatusCode::FORBIDDEN);
}
