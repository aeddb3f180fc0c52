//! Dated grants and memberships take effect and end on time without anyone acting: the
//! engine answers every instant from the dates (start inclusive, end exclusive), and the
//! scheduler moves a grant's status (`scheduled` → `active` → `expired`), records a
//! membership's start and end in the audit trail, and re-runs the assignment rules for
//! its user, so a rule over groups follows a dated membership.

use std::sync::Arc;

use axum::http::StatusCode;
use latchkey_model::FixedClock;
use latchkey_testkit::Backend;
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

use crate::both;
use crate::harness::TestApp;
use crate::sign_in::root_group;

async fn roles_of(t: &TestApp, user: &str) -> Vec<String> {
    let roles = t
        .get(&t.admin, &format!("/api/v1/users/{user}/effective-roles"))
        .await
        .expect(StatusCode::OK);
    let mut out: Vec<String> = roles.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_name"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

async fn audit_actions(t: &TestApp, object: &str) -> Vec<String> {
    let audit = t
        .get(&t.admin, &format!("/api/v1/audit?object_id={object}"))
        .await
        .expect(StatusCode::OK);
    audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn status(grant: &Value) -> &str {
    grant["status"].as_str().unwrap()
}

both!(dated_grants_and_memberships_follow_the_clock);
async fn dated_grants_and_memberships_follow_the_clock(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let editors = t.group(a, "Editors", Some(&root)).await;
    let sys = t.system(a, "Docs").await;
    let temp = t.role(a, &sys, "Temporary").await;
    let author = t.role(a, &sys, "Author").await;
    let ana = t.user(a, "ana", &root).await;
    t.post(
        a,
        "/api/v1/assignment-rules",
        json!({ "name": "Editors write", "expression": r#""Editors" in user.groups"#, "role_ids": [author] }),
    )
    .await
    .expect(StatusCode::CREATED);

    // A grant from 11:00 to 12:00, and a membership from 11:30 to 13:00.
    let grant = t
        .post(
            a,
            "/api/v1/grants",
            json!({ "role_id": temp, "user_id": ana, "starts_at": "2026-11-23T11:00:00Z", "ends_at": "2026-11-23T12:00:00Z" }),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(status(&grant.body), "scheduled");
    let grant = grant.id();
    let membership = t
        .post(
            a,
            "/api/v1/memberships",
            json!({ "user_id": ana, "group_id": editors, "starts_at": "2026-11-23T11:30:00Z", "ends_at": "2026-11-23T13:00:00Z" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    assert_eq!(roles_of(&t, &ana).await, Vec::<String>::new());
    assert_eq!(
        t.services.run_schedule().await.unwrap(),
        0,
        "nothing is due"
    );

    // 11:00 exactly: the grant starts (start inclusive).
    clock.set(datetime!(2026-11-23 11:00 UTC));
    assert_eq!(roles_of(&t, &ana).await, vec!["Temporary"]);
    assert_eq!(t.services.run_schedule().await.unwrap(), 1);
    let g = t.get(a, &format!("/api/v1/grants/{grant}")).await;
    assert_eq!(status(&g.body), "active");
    assert!(
        audit_actions(&t, &grant)
            .await
            .contains(&"grant.activate".to_owned())
    );
    assert_eq!(t.services.run_schedule().await.unwrap(), 0, "recorded once");

    // 11:30: the membership starts and the rule grants Author.
    clock.set(datetime!(2026-11-23 11:30 UTC));
    assert_eq!(t.services.run_schedule().await.unwrap(), 1);
    assert_eq!(roles_of(&t, &ana).await, vec!["Author", "Temporary"]);
    assert!(
        audit_actions(&t, &membership)
            .await
            .contains(&"membership.start".to_owned())
    );

    // A microsecond before 12:00 the grant still holds; at 12:00 it has ended.
    clock.set(datetime!(2026-11-23 12:00 UTC) - Duration::microseconds(1));
    assert_eq!(roles_of(&t, &ana).await, vec!["Author", "Temporary"]);
    clock.set(datetime!(2026-11-23 12:00 UTC));
    assert_eq!(roles_of(&t, &ana).await, vec!["Author"]);
    assert_eq!(t.services.run_schedule().await.unwrap(), 1);
    let g = t.get(a, &format!("/api/v1/grants/{grant}")).await;
    assert_eq!(status(&g.body), "expired");
    assert!(
        audit_actions(&t, &grant)
            .await
            .contains(&"grant.expire".to_owned())
    );

    // 13:00: the membership ends and the rule takes Author away.
    clock.set(datetime!(2026-11-23 13:00 UTC));
    assert_eq!(t.services.run_schedule().await.unwrap(), 1);
    assert_eq!(roles_of(&t, &ana).await, Vec::<String>::new());
    let rule_grants = t
        .get(a, &format!("/api/v1/grants?user_id={ana}&origin=rule"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(rule_grants.body["items"], json!([]));
    assert!(
        audit_actions(&t, &membership)
            .await
            .contains(&"membership.end".to_owned())
    );

    // Dates moved past a recorded edge make it due again: the ended membership, moved to
    // 14:00-15:00, starts and ends once more, and the rule follows it both times.
    t.patch(
        a,
        &format!("/api/v1/memberships/{membership}"),
        json!({ "starts_at": "2026-11-23T14:00:00Z", "ends_at": "2026-11-23T15:00:00Z" }),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(t.services.run_schedule().await.unwrap(), 0, "not yet");
    clock.set(datetime!(2026-11-23 14:00 UTC));
    assert_eq!(t.services.run_schedule().await.unwrap(), 1, "the new start");
    assert_eq!(roles_of(&t, &ana).await, vec!["Author"]);
    assert_eq!(t.services.run_schedule().await.unwrap(), 0, "recorded once");
    clock.set(datetime!(2026-11-23 15:00 UTC));
    assert_eq!(t.services.run_schedule().await.unwrap(), 1, "the new end");
    assert_eq!(roles_of(&t, &ana).await, Vec::<String>::new());
    let edges: Vec<String> = audit_actions(&t, &membership)
        .await
        .into_iter()
        .filter(|a| a == "membership.start" || a == "membership.end")
        .collect();
    assert_eq!(
        edges.len(),
        4,
        "each edge recorded once per date: {edges:?}"
    );

    // The past is still answered exactly.
    let at_1130 = t
        .get(
            a,
            &format!("/api/v1/users/{ana}/effective-roles?at=2026-11-23T11:45:00Z"),
        )
        .await
        .expect(StatusCode::OK);
    let held: Vec<&str> = at_1130.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_name"].as_str().unwrap())
        .collect();
    assert!(held.contains(&"Temporary"), "{held:?}");

    // Moving a grant's dates moves its status: back into the future, it is scheduled.
    let changed = t
        .patch(
            a,
            &format!("/api/v1/grants/{grant}"),
            json!({ "starts_at": "2026-11-24T09:00:00Z", "ends_at": "2026-11-24T17:00:00Z" }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(status(&changed.body), "scheduled");
}
