//! Bootstrap, organisations and their isolation, tokens, the audit trail, operations
//! endpoints and the OpenAPI document.

use axum::http::{Method, StatusCode};
use latchkey_testkit::Backend;
use serde_json::json;

use crate::both;
use crate::harness::TestApp;

async fn bootstrap_happens_once_and_its_token_is_the_administrator(backend: Backend) {
    let t = TestApp::new(backend).await;
    assert!(
        t.services.bootstrap().await.unwrap().is_none(),
        "a second start creates nothing"
    );
    let me = t
        .get(&t.admin, "/api/v1/me")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(me["user_name"], "admin");
    assert_eq!(me["installation_admin"], true);
    assert!(me["permissions"].as_array().unwrap().len() >= 20, "{me}");
    // No token, a wrong one, a revoked one.
    t.call(None, Method::GET, "/api/v1/me", None, &[])
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    t.get("lk_nonsense", "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let created = t
        .post(&t.admin, "/api/v1/tokens", json!({ "name": "ci" }))
        .await
        .expect(StatusCode::CREATED)
        .body;
    let token = created["token"].as_str().unwrap();
    t.get(token, "/api/v1/me").await.expect(StatusCode::OK);
    let listed = t
        .get(&t.admin, "/api/v1/tokens")
        .await
        .expect(StatusCode::OK);
    assert!(
        !listed.text.contains(token) && !listed.text.contains("token_hash"),
        "tokens are never shown again: {}",
        listed.text
    );
    t.delete(
        &t.admin,
        &format!("/api/v1/tokens/{}", created["id"].as_str().unwrap()),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    t.get(token, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}
both!(bootstrap_happens_once_and_its_token_is_the_administrator);

async fn nothing_crosses_organisations(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let g1 = t.group(a, "Finance", None).await;
    let u1 = t.user(a, "fay", &g1).await;
    let s1 = t.system(a, "Books").await;
    let r1 = t.role(a, &s1, "keeper").await;
    let grant1 = t
        .grant_user(a, &r1, &u1, None)
        .await
        .expect(StatusCode::CREATED)
        .id();

    let other = t
        .post(
            a,
            "/api/v1/organisations",
            json!({ "name": "Other Corp", "slug": "other" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let b = other["admin_token"].as_str().unwrap().to_owned();
    t.post(
        a,
        "/api/v1/organisations",
        json!({ "name": "Again", "slug": "other" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "already_exists");
    let me = t.get(&b, "/api/v1/me").await.expect(StatusCode::OK).body;
    assert_eq!(me["org_slug"], "other");
    assert_eq!(me["installation_admin"], false);
    t.get(&b, "/api/v1/organisations")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");

    for path in [
        format!("/api/v1/users/{u1}"),
        format!("/api/v1/groups/{g1}"),
        format!("/api/v1/systems/{s1}"),
        format!("/api/v1/roles/{r1}"),
        format!("/api/v1/grants/{grant1}"),
        format!("/api/v1/users/{u1}/effective-roles"),
        format!("/api/v1/roles/{r1}/holders"),
    ] {
        t.get(&b, &path)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
    }
    t.patch(
        &b,
        &format!("/api/v1/users/{u1}"),
        json!({ "first_name": "Eve" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    t.delete(&b, &format!("/api/v1/groups/{g1}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let users = t.get(&b, "/api/v1/users").await.expect(StatusCode::OK).body;
    let names: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["admin"]);
    // Using another organisation's ids in a write.
    let b_group = t.group(&b, "Mine", None).await;
    let b_user = t.user(&b, "bo", &b_group).await;
    let cross = t.grant_user(&b, &r1, &b_user, None).await;
    assert_eq!(
        cross.fields(),
        vec![("role_id".to_owned(), "exists".to_owned())]
    );
    let cross = t.post(&b, "/api/v1/users", json!({ "user_name": "z", "first_name": "Z", "last_name": "Z", "primary_group_id": g1 })).await;
    assert_eq!(
        cross.fields(),
        vec![("primary_group_id".to_owned(), "exists".to_owned())]
    );
    // The same names are free in each organisation.
    t.group(&b, "Finance", None).await;
    // And the first organisation is untouched.
    t.get(a, &format!("/api/v1/users/{u1}"))
        .await
        .expect(StatusCode::OK);
    let audit = t
        .get(&b, "/api/v1/audit?limit=1000")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(
        !audit.to_string().contains(&u1),
        "audit entries stay in their organisation"
    );
}
both!(nothing_crosses_organisations);

async fn the_audit_trail_records_and_verifies(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let g = t.group(a, "Audit", None).await;
    let u = t.user(a, "al", &g).await;
    t.patch(
        a,
        &format!("/api/v1/users/{u}"),
        json!({ "last_name": "Changed" }),
    )
    .await
    .expect(StatusCode::OK);
    let entries = t
        .get(a, &format!("/api/v1/audit?object_type=user&object_id={u}"))
        .await
        .expect(StatusCode::OK)
        .body;
    let items = entries["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["user.create", "user.update"]);
    assert_eq!(items[1]["before"]["last_name"], "Test");
    assert_eq!(items[1]["after"]["last_name"], "Changed");
    let me = t.get(a, "/api/v1/me").await.body;
    assert_eq!(items[1]["actor_id"], me["user_id"]);
    assert!(
        items[1]["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{}",
        items[1]
    );
    let verified = t
        .get(a, "/api/v1/audit/verify")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(verified["ok"], true, "{verified}");
    assert!(verified["entries"].as_i64().unwrap() > 10);
    let csv = t
        .call(Some(a), Method::GET, "/api/v1/audit?format=csv", None, &[])
        .await
        .expect(StatusCode::OK);
    assert!(
        csv.text.starts_with("seq,"),
        "{}",
        &csv.text[..80.min(csv.text.len())]
    );
}
both!(the_audit_trail_records_and_verifies);

#[tokio::test]
async fn operations_endpoints_and_openapi() {
    let t = TestApp::new(Backend::Sqlite).await;
    let health = t
        .call(None, Method::GET, "/healthz", None, &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(health.text, "ok\n");
    t.call(None, Method::GET, "/readyz", None, &[])
        .await
        .expect(StatusCode::OK);
    t.get(&t.admin, "/api/v1/users")
        .await
        .expect(StatusCode::OK);
    let metrics = t
        .call(None, Method::GET, "/metrics", None, &[])
        .await
        .expect(StatusCode::OK);
    assert!(
        metrics.text.contains(
            "latchkey_http_requests_total{route=\"/api/v1/users\",method=\"GET\",status=\"200\"} 1"
        ),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("latchkey_http_request_duration_seconds_bucket{route=\"/api/v1/users\"")
    );
    assert!(
        metrics
            .text
            .contains("latchkey_store_pool_connections{backend=\"sqlite\"")
    );
    let doc = t
        .call(None, Method::GET, "/api/v1/openapi.json", None, &[])
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/users",
        "/users/{id}/effective-roles",
        "/roles/{id}/granted-roles",
        "/grants",
        "/audit/verify",
        "/import/{kind}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["CreateUser"].is_object());
    assert!(doc["components"]["schemas"]["User"].is_object());
    let unknown = t.get(&t.admin, "/api/v1/nothing-here").await;
    unknown.problem(StatusCode::NOT_FOUND, "not_found");
    let wrong = t
        .call(Some(&t.admin), Method::PUT, "/api/v1/users", None, &[])
        .await;
    wrong.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    // Problems carry the request id, which is also a response header.
    let rid = t
        .call(
            Some("lk_x"),
            Method::GET,
            "/api/v1/me",
            None,
            &[("x-request-id", "abc-123")],
        )
        .await;
    assert_eq!(rid.headers.get("x-request-id").unwrap(), "abc-123");
    assert_eq!(rid.body["request_id"], "abc-123");
}

/// Tokens are remembered between requests, but never past a write that changes them:
/// disabling the user ends a token that has just been used, and enabling restores it.
async fn a_used_token_stops_at_once_when_its_user_is_disabled(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let g = t.group(a, "Cache", None).await;
    let u = t.user(a, "cached", &g).await;
    let token = t.token_for(&u).await;
    for _ in 0..3 {
        t.get(&token, "/api/v1/me").await.expect(StatusCode::OK);
    }
    t.patch(
        a,
        &format!("/api/v1/users/{u}"),
        json!({ "enabled": false }),
    )
    .await
    .expect(StatusCode::OK);
    t.get(&token, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    t.patch(a, &format!("/api/v1/users/{u}"), json!({ "enabled": true }))
        .await
        .expect(StatusCode::OK);
    t.get(&token, "/api/v1/me").await.expect(StatusCode::OK);
    // A grant changes what the cached caller may do at once too.
    t.get(&token, "/api/v1/audit")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let auditor = t.system_role("Auditor").await;
    t.grant_user(a, &auditor, &u, None)
        .await
        .expect(StatusCode::CREATED);
    t.get(&token, "/api/v1/audit").await.expect(StatusCode::OK);
}
both!(a_used_token_stops_at_once_when_its_user_is_disabled);
