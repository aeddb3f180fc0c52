//! Previews of a change to a role or a group answer who would gain and who would lose which
//! effective role — a grant to a group (its subtree and secondary members), a granted role
//! added or removed (the parent's holders), a grant revoked, a group moved — and write
//! nothing; bad changes are refused as their writes would be.

use axum::http::StatusCode;
use latchkey_testkit::Backend;
use serde_json::{Value, json};

use crate::both;
use crate::harness::TestApp;
use crate::sign_in::root_group;

fn pairs(list: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["user_name"].as_str().unwrap().to_owned(),
                e["role_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn p(user: &str, role: &str) -> (String, String) {
    (user.to_owned(), role.to_owned())
}

both!(changes_to_roles_and_groups_are_previewed);
async fn changes_to_roles_and_groups_are_previewed(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let sales = t.group(a, "Sales", Some(&root)).await;
    let eu = t.group(a, "EU", Some(&sales)).await;
    let marketing = t.group(a, "Marketing", Some(&root)).await;
    let sys = t.system(a, "Docs").await;
    let reader = t.role(a, &sys, "Reader").await;
    let writer = t.role(a, &sys, "Writer").await;
    let promoter = t.role(a, &sys, "Promoter").await;
    let ana = t.user(a, "ana", &eu).await;
    let bob = t.user(a, "bob", &root).await;
    t.post(
        a,
        "/api/v1/memberships",
        json!({ "user_id": bob, "group_id": sales }),
    )
    .await
    .expect(StatusCode::CREATED);
    let bob_writer = t
        .grant_user(a, &writer, &bob, None)
        .await
        .expect(StatusCode::CREATED)
        .id();
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": promoter, "group_id": marketing }),
    )
    .await
    .expect(StatusCode::CREATED);
    let grants_before = t.get(a, "/api/v1/grants").await.expect(StatusCode::OK).body;

    // A grant to Sales reaches EU below it and Bob, a secondary member.
    let preview = t
        .post(
            a,
            "/api/v1/access-preview",
            json!({ "kind": "grant_to_group", "role_id": reader, "group_id": sales }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        pairs(&preview["gains"]),
        vec![p("ana", "Reader"), p("bob", "Reader")]
    );
    assert_eq!(preview["losses"], json!([]));
    assert_eq!(preview["users_considered"], 2);

    // Writer granting Reader: Bob, who writes, would read.
    let preview = t
        .post(
            a,
            "/api/v1/access-preview",
            json!({ "kind": "add_granted_role", "role_id": writer, "child_role_id": reader }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(pairs(&preview["gains"]), vec![p("bob", "Reader")]);

    // Made for real, then its removal previewed: Bob would stop reading.
    t.post(
        a,
        &format!("/api/v1/roles/{writer}/granted-roles"),
        json!({ "role_id": reader, "mandatory": true }),
    )
    .await
    .expect(StatusCode::CREATED);
    let preview = t
        .post(
            a,
            "/api/v1/access-preview",
            json!({ "kind": "remove_granted_role", "role_id": writer, "child_role_id": reader }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(pairs(&preview["losses"]), vec![p("bob", "Reader")]);
    assert_eq!(preview["gains"], json!([]));

    // Revoking Bob's Writer takes Reader with it.
    let preview = t
        .post(
            a,
            "/api/v1/access-preview",
            json!({ "kind": "revoke_grant", "grant_id": bob_writer }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        pairs(&preview["losses"]),
        vec![p("bob", "Reader"), p("bob", "Writer")]
    );

    // Moving EU under Marketing: Ana would promote.
    let preview = t
        .post(
            a,
            "/api/v1/access-preview",
            json!({ "kind": "move_group", "group_id": eu, "parent_id": marketing }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(pairs(&preview["gains"]), vec![p("ana", "Promoter")]);
    assert_eq!(preview["gains"][0]["user_id"], ana.as_str());

    // Nothing was written by any preview.
    let grants_after = t.get(a, "/api/v1/grants").await.expect(StatusCode::OK).body;
    assert_eq!(
        grants_after["items"].as_array().unwrap().len(),
        grants_before["items"].as_array().unwrap().len()
    );
    let group = t
        .get(a, &format!("/api/v1/groups/{eu}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(group["parent_id"], sales.as_str());

    // Refused as the writes would be: a cycle, an unknown role, a bad limit, an unknown kind.
    let cycle = t
        .post(
            a,
            "/api/v1/access-preview",
            json!({ "kind": "move_group", "group_id": sales, "parent_id": eu }),
        )
        .await
        .problem(StatusCode::CONFLICT, "cycle");
    assert!(
        cycle["detail"].as_str().unwrap().contains("cycle"),
        "{cycle}"
    );
    t.post(
        a,
        "/api/v1/access-preview",
        json!({ "kind": "add_granted_role", "role_id": reader, "child_role_id": writer }),
    )
    .await
    .problem(StatusCode::CONFLICT, "cycle");
    let unknown = t
        .post(
            a,
            "/api/v1/access-preview",
            json!({ "kind": "grant_to_group", "role_id": "0190aaaa-0000-7000-8000-000000000001", "group_id": sales }),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(unknown["errors"][0]["field"], "role_id");
    t.post(
        a,
        "/api/v1/access-preview?limit=0",
        json!({ "kind": "revoke_grant", "grant_id": bob_writer }),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    t.post(
        a,
        "/api/v1/access-preview",
        json!({ "kind": "delete_everything" }),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);

    // Without the change's permission: refused.
    let member = t.system_role("Member").await;
    let eve = t.user(a, "eve", &root).await;
    t.grant_user(a, &member, &eve, None)
        .await
        .expect(StatusCode::CREATED);
    let eve_token = t.token_for(&eve).await;
    t.post(
        &eve_token,
        "/api/v1/access-preview",
        json!({ "kind": "grant_to_group", "role_id": reader, "group_id": sales }),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
}
