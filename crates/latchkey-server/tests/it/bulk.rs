//! `POST /api/v1/bulk`: NDJSON records with refs, validated like single writes, reported
//! line by line, with progress and a summary carrying the final revision.

use axum::http::{Method, StatusCode};
use latchkey_testkit::Backend;
use serde_json::{Value, json};

use crate::both;
use crate::harness::TestApp;

fn lines(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

async fn bulk_loads_with_refs_and_reports_each_line(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let body = lines(&[
        json!({ "kind": "group", "ref": "g0", "name": "Company" }),
        json!({ "kind": "group", "ref": "g1", "name": "Sales", "parent": "g0" }),
        json!({ "kind": "group", "ref": "g7", "name": "Project" }),
        json!({ "kind": "user", "ref": "u1", "user_name": "ana", "first_name": "Ana", "last_name": "Diaz", "primary_group": "g1", "groups": ["g7"] }),
        json!({ "kind": "user", "ref": "u2", "user_name": "bad name", "first_name": "B", "last_name": "C", "primary_group": "g1" }),
        json!({ "kind": "user", "ref": "u3", "user_name": "carl", "first_name": "C", "last_name": "D", "primary_group": "nowhere" }),
        json!({ "kind": "system", "ref": "s1", "name": "Payments" }),
        json!({ "kind": "role", "ref": "r1", "system": "s1", "name": "approver" }),
        json!({ "kind": "role", "ref": "r2", "system": "s1", "name": "viewer" }),
        json!({ "kind": "inherit", "parent": "r1", "child": "r2", "mandatory": true }),
        json!({ "kind": "grant", "role": "r1", "group": "g0" }),
        json!({ "kind": "grant", "role": "r2", "user": "u1" }),
        json!({ "kind": "grant", "role": "r1", "user": "u2" }),
        json!({ "kind": "planet", "name": "x" }),
    ]) + "not json\n";
    let answer = t
        .raw(
            a,
            Method::POST,
            "/api/v1/bulk",
            "application/x-ndjson",
            body,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        answer.headers.get("content-type").unwrap(),
        "application/x-ndjson"
    );
    let out: Vec<Value> = answer
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let created: Vec<(u64, &str)> = out
        .iter()
        .filter(|v| v["id"].is_string())
        .map(|v| (v["line"].as_u64().unwrap(), v["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(created.len(), 10, "{}", answer.text);
    let errors: Vec<(u64, String)> = out
        .iter()
        .filter(|v| v["error"].is_object())
        .map(|v| {
            (
                v["line"].as_u64().unwrap(),
                v["error"]["errors"][0]["field"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (5, "user_name".to_owned()),
            (6, "primary_group".to_owned()),
            (13, "user".to_owned()),
            (14, "body".to_owned()),
            (15, "body".to_owned())
        ],
        "{}",
        answer.text
    );
    let ana = out
        .iter()
        .find(|v| v["ref"] == "u1" && v["id"].is_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let summary = &out.last().unwrap()["summary"];
    assert_eq!(summary["lines"], 15);
    assert_eq!(summary["errors"], 5);
    assert_eq!(summary["created"]["user"], 1);
    assert_eq!(summary["created"]["group"], 3);
    assert!(out.iter().any(|v| v["progress"].is_object()));
    let revision = summary["revision"].as_i64().unwrap();
    // The loaded organisation answers at the revision the summary names.
    let roles = t
        .call(
            Some(a),
            Method::GET,
            &format!("/api/v1/users/{ana}/effective-roles"),
            None,
            &[("latchkey-min-revision", &revision.to_string())],
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let held: Vec<&str> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_name"].as_str().unwrap())
        .collect();
    assert_eq!(held, vec!["approver", "viewer"], "{roles}");
    let viewer_paths = roles["roles"][1]["paths"].as_array().unwrap().len();
    assert_eq!(viewer_paths, 2, "direct and through approver: {roles}");
    let memberships = t
        .get(a, &format!("/api/v1/memberships?user_id={ana}"))
        .await
        .body;
    assert_eq!(
        memberships["items"].as_array().unwrap().len(),
        1,
        "the user's `groups` became memberships"
    );
    // Ids of earlier loads work as refs in later ones.
    let more = lines(&[
        json!({ "kind": "user", "user_name": "dan", "first_name": "D", "last_name": "E", "primary_group": roles["roles"][0]["paths"][0]["ancestor_group"]["id"] }),
    ]);
    let answer = t
        .raw(
            a,
            Method::POST,
            "/api/v1/bulk",
            "application/x-ndjson",
            more,
        )
        .await
        .expect(StatusCode::OK);
    assert!(
        answer.text.lines().next().unwrap().contains("\"id\""),
        "{}",
        answer.text
    );
    // The wrong content type is refused before anything is read.
    t.raw(
        a,
        Method::POST,
        "/api/v1/bulk",
        "application/json",
        "{}".to_owned(),
    )
    .await
    .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    // And bulk writes are authorised like single ones.
    let g = t.get(a, "/api/v1/groups?q=Company").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dan = t.user(a, "erin", &g).await;
    let erin = t.token_for(&dan).await;
    let denied = t
        .raw(
            &erin,
            Method::POST,
            "/api/v1/bulk",
            "application/x-ndjson",
            lines(&[json!({ "kind": "group", "name": "Nope" })]),
        )
        .await;
    assert!(denied.text.contains("\"forbidden\""), "{}", denied.text);
    assert_eq!(
        t.get(a, "/api/v1/groups?q=Nope").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}
both!(bulk_loads_with_refs_and_reports_each_line);
