//! Bad input gets a problem naming the field and the rule, with the right status, and
//! changes nothing.

use axum::http::{Method, StatusCode};
use latchkey_testkit::Backend;
use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn malformed_requests_are_problems_not_panics() {
    let t = TestApp::new(Backend::Sqlite).await;
    let a = &t.admin;
    let g = t.group(a, "G", None).await;
    let missing = t
        .post(
            a,
            "/api/v1/users",
            json!({ "first_name": "A", "last_name": "B", "primary_group_id": g }),
        )
        .await;
    assert_eq!(
        missing.fields(),
        vec![("user_name".to_owned(), "required".to_owned())]
    );
    missing.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let unknown = t.post(a, "/api/v1/users", json!({ "user_name": "a", "first_name": "A", "last_name": "B", "primary_group_id": g, "shoe": 1 })).await;
    assert_eq!(
        unknown.fields(),
        vec![("shoe".to_owned(), "unknown_field".to_owned())]
    );
    let wrong_type = t.post(a, "/api/v1/groups", json!({ "name": 5 })).await;
    wrong_type.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let syntax = t
        .raw(
            a,
            Method::POST,
            "/api/v1/groups",
            "application/json",
            "{\"name\": ".to_owned(),
        )
        .await;
    syntax.problem(StatusCode::BAD_REQUEST, "malformed_json");
    let media = t
        .raw(
            a,
            Method::POST,
            "/api/v1/groups",
            "text/plain",
            "{}".to_owned(),
        )
        .await;
    media.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let several = t.post(a, "/api/v1/users", json!({ "user_name": "a b", "first_name": " ", "last_name": "B", "primary_group_id": g, "email": "nope" })).await;
    let mut fields = several.fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("email".to_owned(), "email".to_owned()),
            ("first_name".to_owned(), "required".to_owned()),
            ("user_name".to_owned(), "pattern".to_owned())
        ]
    );
    t.get(a, "/api/v1/users/not-a-uuid")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.get(a, "/api/v1/users?limit=0")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    t.get(a, "/api/v1/users?limit=5000")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    t.get(a, "/api/v1/users?cursor=%%%garbage")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    t.get(a, "/api/v1/users?enabled=maybe")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    t.get(a, "/api/v1/users?sort=shoe")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    t.get(a, "/api/v1/users?format=xml")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    t.call(
        Some(a),
        Method::PATCH,
        &format!("/api/v1/groups/{g}"),
        Some(json!({ "name": "H" })),
        &[("if-match", "garbage")],
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    let window = t.post(a, "/api/v1/groups", json!({ "name": "W", "active_since": "2030-01-01T00:00:00Z", "active_until": "2020-01-01T00:00:00Z" })).await;
    assert_eq!(
        window.fields(),
        vec![("active_until".to_owned(), "after".to_owned())]
    );
    let role = t
        .post(
            a,
            "/api/v1/roles",
            json!({ "name": "r", "system_id": g, "domain_type": "planets" }),
        )
        .await;
    let mut fields = role.fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("domain_type".to_owned(), "one_of".to_owned()),
            ("system_id".to_owned(), "exists".to_owned())
        ]
    );
    t.raw(
        a,
        Method::POST,
        "/api/v1/import/planets",
        "text/csv",
        "a\n1\n".to_owned(),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // Nothing above wrote anything: only the one group exists besides the seeded one.
    let groups = t.get(a, "/api/v1/groups").await.body;
    assert_eq!(groups["items"].as_array().unwrap().len(), 2);
}
