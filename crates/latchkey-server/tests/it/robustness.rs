//! No request can make the server fail: every documented operation is called with hostile
//! input (ids that do not exist or are not ids, bodies of every JSON type, fields of the
//! wrong type, huge and odd strings), and every answer must be a 2xx or a 4xx problem.
//! The list of operations comes from the OpenAPI document, so a new route is covered the
//! day it is added.

use axum::http::{Method, StatusCode};
use latchkey_testkit::Backend;
use serde_json::{Value, json};

use crate::harness::TestApp;

fn hostile_bodies(schema_fields: &[String]) -> Vec<Value> {
    let mut bodies = vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1.5e308),
        json!("x"),
        json!([]),
        json!([{}]),
        json!({}),
    ];
    let odd: Vec<Value> = vec![
        Value::Null,
        json!(""),
        json!(" "),
        json!("\u{0000}\u{202e}ü🙂"),
        json!("x".repeat(10_000)),
        json!(i64::MAX),
        json!(-1),
        json!(1.0e300),
        json!(true),
        json!([]),
        json!(["a", 1, null]),
        json!({ "a": { "b": [] } }),
        json!("00000000-0000-0000-0000-000000000000"),
        json!("2026-13-45T99:99:99Z"),
        json!("root"),
    ];
    for value in &odd {
        let mut body = serde_json::Map::new();
        for f in schema_fields {
            body.insert(f.clone(), value.clone());
        }
        bodies.push(Value::Object(body));
    }
    bodies
}

fn fields_of(doc: &Value, op: &Value) -> Vec<String> {
    let Some(reference) =
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
    else {
        return Vec::new();
    };
    let name = reference.rsplit('/').next().unwrap_or_default();
    doc["components"]["schemas"][name]["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_never_fails_the_server() {
    let t = TestApp::new(Backend::Sqlite).await;
    let a = &t.admin;
    // Some real objects so that ids can also be valid ones of the wrong kind.
    let g = t.group(a, "Real", None).await;
    let u = t.user(a, "real", &g).await;
    let doc = t
        .call(None, Method::GET, "/api/v1/openapi.json", None, &[])
        .await
        .body;
    let ids = [
        u.as_str(),
        g.as_str(),
        "00000000-0000-0000-0000-000000000000",
        "not-an-id",
        "%00",
        "root",
    ];
    let mut calls = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            if method == Method::DELETE && path.contains("/users/{id}") {
                // Deleting the real user is allowed and would only shrink the rest.
                continue;
            }
            let fields = fields_of(&doc, op);
            for id in ids {
                let concrete = format!(
                    "/api/v1{}",
                    path.replace("{id}", id)
                        .replace("{edge_id}", id)
                        .replace("{kind}", "users")
                );
                let query_variants = [
                    "",
                    "?limit=abc&cursor=%ZZ&order=sideways&at=yesterday&enabled=2&format=csv&dry_run=maybe",
                ];
                for q in query_variants {
                    let uri = format!("{concrete}{q}");
                    let bodies = if method == Method::GET || method == Method::DELETE {
                        vec![Value::Null]
                    } else {
                        hostile_bodies(&fields)
                    };
                    for body in bodies {
                        let body = if method == Method::GET || method == Method::DELETE {
                            None
                        } else {
                            Some(body)
                        };
                        let answer = t
                            .call(Some(a), method.clone(), &uri, body.clone(), &[])
                            .await;
                        calls += 1;
                        assert!(
                            !answer.status.is_server_error(),
                            "{method} {uri} with {body:?} answered {}: {}",
                            answer.status,
                            answer.text
                        );
                        if answer.status.is_client_error() {
                            assert_eq!(
                                answer
                                    .headers
                                    .get("content-type")
                                    .and_then(|v| v.to_str().ok()),
                                Some("application/problem+json"),
                                "{method} {uri}: {}",
                                answer.text
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(calls > 1000, "only {calls} calls were made");
    // The server still works and its audit chain is intact.
    t.get(a, &format!("/api/v1/users/{u}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(t.get(a, "/api/v1/audit/verify").await.body["ok"], true);
}
