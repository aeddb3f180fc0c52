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

/// Posts `records` to `/bulk` and returns the answer lines.
async fn load(t: &TestApp, records: &[Value]) -> Vec<Value> {
    let answer = t
        .raw(
            &t.admin,
            Method::POST,
            "/api/v1/bulk",
            "application/x-ndjson",
            lines(records),
        )
        .await
        .expect(StatusCode::OK);
    answer
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `(line, field, rule)` of every error line.
fn errors_of(out: &[Value]) -> Vec<(u64, String, String)> {
    out.iter()
        .filter(|v| v["error"].is_object())
        .map(|v| {
            let e = &v["error"];
            let first = &e["errors"][0];
            (
                v["line"].as_u64().unwrap(),
                first["field"].as_str().unwrap_or("").to_owned(),
                first["rule"]
                    .as_str()
                    .or(e["code"].as_str())
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
}

fn id_of(out: &[Value], reference: &str) -> String {
    out.iter()
        .find(|v| v["ref"] == reference && v["id"].is_string())
        .unwrap_or_else(|| panic!("`{reference}` was not created: {out:?}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Users and grants take the set-based lane: the same rules as single writes (names and
/// emails unique within the batch and against the store, scopes by name, duplicates in the
/// batch and against grants made outside the load, non-mandatory children granted), every
/// record audited, and the engine sees the result.
async fn bulk_lane_validates_like_single_writes(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    // Outside the load: a user holding a role, to be granted again by the load.
    let root = t.group(a, "Outside", None).await;
    let old = t.user(a, "olga", &root).await;
    let sys = t.system(a, "Ledger").await;
    let kept = t.role(a, &sys, "keeper").await;
    t.grant_user(a, &kept, &old, None).await;
    let grant_entries = |body: Value| body["items"].as_array().unwrap().len();
    let before = grant_entries(
        t.get(a, "/api/v1/audit?action=grant.create&limit=100")
            .await
            .body,
    );

    let out = load(
        &t,
        &[
            json!({ "kind": "group", "ref": "g0", "name": "Company" }),
            json!({ "kind": "group", "ref": "g1", "name": "Sales", "parent": "g0" }),
            json!({ "kind": "user", "ref": "u1", "user_name": "Ana", "first_name": "Ana", "last_name": "Diaz", "email": "Ana@Example.org", "primary_group": "g1", "groups": ["g0", "g0"] }),
            json!({ "kind": "user", "ref": "u2", "user_name": "ana", "first_name": "A", "last_name": "B", "primary_group": "g1" }),
            json!({ "kind": "user", "ref": "u3", "user_name": "bea", "first_name": "B", "last_name": "C", "email": "ana@example.ORG", "primary_group": "g1" }),
            json!({ "kind": "user", "ref": "u4", "user_name": "olga", "first_name": "O", "last_name": "P", "primary_group": "g1" }),
            json!({ "kind": "user", "ref": "u5", "user_name": "cid", "first_name": "C", "last_name": "D", "primary_group": "g1", "groups": [root] }),
            json!({ "kind": "user", "ref": "u6", "user_name": "dora", "first_name": "D", "last_name": "E", "primary_group": "g1", "attributes": { "badge": "7" } }),
            json!({ "kind": "system", "ref": "s1", "name": "Payments" }),
            json!({ "kind": "role", "ref": "r1", "system": "s1", "name": "approver" }),
            json!({ "kind": "role", "ref": "r2", "system": "s1", "name": "auditor" }),
            json!({ "kind": "role", "ref": "r3", "system": "s1", "name": "region", "domain_type": "groups" }),
            json!({ "kind": "inherit", "parent": "r1", "child": "r2", "mandatory": false }),
            json!({ "kind": "grant", "role": "r1", "user": "u1" }),
            json!({ "kind": "grant", "role": "r1", "user": "u1" }),
            json!({ "kind": "grant", "role": "r3", "user": "u1", "scope": "Sales" }),
            json!({ "kind": "grant", "role": "r3", "user": "u1", "scope": "Atlantis" }),
            json!({ "kind": "grant", "role": "r2", "user": "u1", "scope": "Sales" }),
            json!({ "kind": "grant", "role": kept, "user": old }),
            json!({ "kind": "grant", "role": "r3", "group": "g1", "scope": "Company" }),
            json!({ "kind": "user", "ref": "u7", "user_name": "eve", "first_name": "E", "last_name": "F", "primary_group": "g1" }),
            json!({ "kind": "grant", "role": "r1", "user": "u7", "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2019-01-01T00:00:00Z" }),
        ],
    )
    .await;
    assert_eq!(
        errors_of(&out),
        vec![
            (4, "user_name".to_owned(), "unique".to_owned()),
            (5, "email".to_owned(), "unique".to_owned()),
            (6, "user_name".to_owned(), "unique".to_owned()),
            (
                8,
                "attributes.badge".to_owned(),
                "unknown_attribute".to_owned()
            ),
            (15, "role_id".to_owned(), "already_exists".to_owned()),
            (17, "scope".to_owned(), "domain".to_owned()),
            (18, "scope".to_owned(), "unscoped_role".to_owned()),
            (19, "role_id".to_owned(), "already_exists".to_owned()),
            (22, "ends_at".to_owned(), "after".to_owned()),
        ],
        "{out:?}"
    );
    let summary = &out.last().unwrap()["summary"];
    assert_eq!(summary["created"]["user"], 3, "{summary}");
    assert_eq!(summary["created"]["grant"], 3, "{summary}");
    let ana = id_of(&out, "u1");
    let cid = id_of(&out, "u5");
    let sales = id_of(&out, "g1");
    let revision = summary["revision"].as_i64().unwrap().to_string();

    // The user as a single write makes it: name folded, email kept, one membership for a
    // group listed twice; another user's secondary group given by id.
    let user = t.get(a, &format!("/api/v1/users/{ana}")).await.body;
    assert_eq!(user["user_name"], "ana");
    assert_eq!(
        user["email"], "Ana@example.org",
        "the domain folded, as single writes do"
    );
    let memberships = t
        .get(a, &format!("/api/v1/memberships?user_id={ana}"))
        .await
        .body;
    assert_eq!(memberships["items"].as_array().unwrap().len(), 1);
    let cid_m = t
        .get(a, &format!("/api/v1/memberships?user_id={cid}"))
        .await
        .body;
    assert_eq!(cid_m["items"][0]["group_id"], root.as_str());

    // Grants: the scope by name stored as the group's id; the non-mandatory child granted
    // separately, with origin `inheritance`.
    let grants = t
        .get(a, &format!("/api/v1/grants?user_id={ana}"))
        .await
        .body;
    let mut made: Vec<(String, String)> = grants["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["origin"].as_str().unwrap().to_owned(),
                g["scope"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    made.sort();
    assert_eq!(
        made,
        vec![
            ("inheritance".to_owned(), "-".to_owned()),
            ("manual".to_owned(), "-".to_owned()),
            ("manual".to_owned(), sales.clone()),
        ],
        "{grants}"
    );

    // The engine caught up: effective roles at the summary's revision.
    let roles = t
        .call(
            Some(a),
            Method::GET,
            &format!("/api/v1/users/{ana}/effective-roles"),
            None,
            &[("latchkey-min-revision", &revision)],
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let mut held: Vec<&str> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_name"].as_str().unwrap())
        .collect();
    held.sort_unstable();
    assert_eq!(
        held,
        vec!["approver", "auditor", "region", "region"],
        "{roles}"
    );

    // Every record audited, and the chain verifies.
    let after = grant_entries(
        t.get(a, "/api/v1/audit?action=grant.create&limit=100")
            .await
            .body,
    );
    assert_eq!(after, before + 4, "three grants and one inherited child");
    let verified = t.get(a, "/api/v1/audit/verify").await.body;
    assert_eq!(verified["ok"], true, "{verified}");

    // A second load knows what the first one made.
    let again = load(
        &t,
        &[
            json!({ "kind": "user", "user_name": "ana", "first_name": "A", "last_name": "B", "primary_group": sales }),
            json!({ "kind": "grant", "role": id_of(&out, "r1"), "user": ana }),
        ],
    )
    .await;
    assert_eq!(
        errors_of(&again),
        vec![
            (1, "user_name".to_owned(), "unique".to_owned()),
            (2, "role_id".to_owned(), "already_exists".to_owned()),
        ],
        "{again:?}"
    );
}
both!(bulk_lane_validates_like_single_writes);
