//! Users, groups, memberships, metadata and mail domains through REST: CRUD, pagination,
//! ETags, custom attributes, CSV export and import.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use latchkey_testkit::Backend;
use serde_json::json;

use crate::both;
use crate::harness::TestApp;

async fn users_round_trip_with_etags_and_pages(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let g = t.group(a, "People", None).await;
    let created = t
        .post(
            a,
            "/api/v1/users",
            json!({ "user_name": "Ana.Diaz", "first_name": "Ana", "middle_name": "María", "last_name": "Díaz", "email": "Ana@Example.COM", "primary_group_id": g, "mail_aliases": ["a@example.com"] }),
        )
        .await
        .expect(StatusCode::CREATED);
    let id = created.id();
    assert_eq!(created.body["user_name"], "ana.diaz");
    assert_eq!(created.body["full_name"], "Ana María Díaz");
    assert_eq!(created.body["email"], "Ana@example.com");
    assert_eq!(created.body["enabled"], true);
    assert_eq!(created.headers.get("etag").unwrap(), "\"1\"");
    t.post(a, "/api/v1/users", json!({ "user_name": "ANA.DIAZ", "first_name": "A", "last_name": "B", "primary_group_id": g }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // Optimistic concurrency: a stale If-Match is refused and changes nothing.
    t.call(
        Some(a),
        Method::PATCH,
        &format!("/api/v1/users/{id}"),
        Some(json!({ "enabled": false })),
        &[("if-match", "\"1\"")],
    )
    .await
    .expect(StatusCode::OK);
    let stale = t
        .call(
            Some(a),
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(json!({ "enabled": true })),
            &[("if-match", "\"1\"")],
        )
        .await;
    stale.problem(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    let now = t
        .get(a, &format!("/api/v1/users/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(now.body["enabled"], false);
    assert_eq!(now.headers.get("etag").unwrap(), "\"2\"");
    // Clearing a field with null; leaving others alone.
    let cleared = t
        .patch(
            a,
            &format!("/api/v1/users/{id}"),
            json!({ "middle_name": null }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(cleared.body["full_name"], "Ana Díaz");
    assert_eq!(cleared.body["email"], "Ana@example.com");

    for n in 0..7 {
        t.user(a, &format!("u{n}"), &g).await;
    }
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=3&cursor={c}"),
            None => "/api/v1/users?limit=3".to_owned(),
        };
        let page = t.get(a, &path).await.expect(StatusCode::OK).body;
        for u in page["items"].as_array().unwrap() {
            assert!(
                seen.insert(u["user_name"].as_str().unwrap().to_owned()),
                "no repeats across pages"
            );
        }
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9, "admin, ana.diaz and seven more");
    assert_eq!(pages, 3);
    let filtered = t
        .get(a, "/api/v1/users?q=diaz&enabled=false")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let desc = t
        .get(a, "/api/v1/users?limit=1&order=desc")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(desc["items"][0]["user_name"], "u6");

    t.delete(a, &format!("/api/v1/users/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.get(a, &format!("/api/v1/users/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    // Deleting oneself is refused.
    let me = t.get(a, "/api/v1/me").await.body;
    t.delete(
        a,
        &format!("/api/v1/users/{}", me["user_id"].as_str().unwrap()),
    )
    .await
    .problem(StatusCode::CONFLICT, "self_delete");
}
both!(users_round_trip_with_etags_and_pages);

async fn groups_and_memberships(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = t.group(a, "Company", None).await;
    let dept = t.group(a, "Dept", Some(&root)).await;
    let proj = t.group(a, "Project", None).await;
    let u = t.user(a, "dan", &dept).await;
    let m = t
        .post(a, "/api/v1/memberships", json!({ "user_id": u, "group_id": proj, "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z", "comments": "pilot" }))
        .await
        .expect(StatusCode::CREATED)
        .id();
    t.post(
        a,
        "/api/v1/memberships",
        json!({ "user_id": u, "group_id": proj }),
    )
    .await
    .problem(StatusCode::CONFLICT, "already_exists");
    t.post(
        a,
        "/api/v1/memberships",
        json!({ "user_id": u, "group_id": dept }),
    )
    .await
    .problem(StatusCode::CONFLICT, "primary_group");
    let ms = t
        .get(a, &format!("/api/v1/memberships?user_id={u}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(ms["items"].as_array().unwrap().len(), 1);
    let members = t
        .get(a, &format!("/api/v1/users?member_of={proj}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(members["items"][0]["user_name"], "dan");
    let children = t
        .get(a, &format!("/api/v1/groups?parent_id={root}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(children["items"].as_array().unwrap().len(), 1);
    let roots = t
        .get(a, "/api/v1/groups?parent_id=root")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        roots["items"].as_array().unwrap().len(),
        3,
        "Administrators, Company, Project"
    );
    // A group with children or primary members cannot go.
    t.delete(a, &format!("/api/v1/groups/{root}"))
        .await
        .problem(StatusCode::CONFLICT, "not_empty");
    t.delete(a, &format!("/api/v1/groups/{dept}"))
        .await
        .problem(StatusCode::CONFLICT, "not_empty");
    // Moving is allowed when it makes no cycle.
    t.patch(
        a,
        &format!("/api/v1/groups/{proj}"),
        json!({ "parent_id": root }),
    )
    .await
    .expect(StatusCode::OK);
    t.delete(a, &format!("/api/v1/memberships/{m}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.delete(a, &format!("/api/v1/groups/{proj}"))
        .await
        .expect(StatusCode::NO_CONTENT);
}
both!(groups_and_memberships);

async fn custom_attributes_and_mail_domains_are_enforced(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let g = t.group(a, "Staff", None).await;
    t.post(a, "/api/v1/metadata/attributes", json!({ "object_type": "user", "name": "employee_id", "data_type": "string", "required": true, "unique": true }))
        .await
        .expect(StatusCode::CREATED);
    t.post(a, "/api/v1/metadata/attributes", json!({ "object_type": "user", "name": "site", "data_type": "string", "allowed_values": ["BCN", "MAD"] }))
        .await
        .expect(StatusCode::CREATED);
    t.post(
        a,
        "/api/v1/metadata/attributes",
        json!({ "object_type": "user", "name": "hired", "data_type": "date" }),
    )
    .await
    .expect(StatusCode::CREATED);
    t.post(
        a,
        "/api/v1/metadata/user-types",
        json!({ "code": "employee" }),
    )
    .await
    .expect(StatusCode::CREATED);

    let body = |name: &str, attrs: serde_json::Value| json!({ "user_name": name, "first_name": "F", "last_name": "L", "primary_group_id": g, "attributes": attrs, "user_type": "employee" });
    t.post(
        a,
        "/api/v1/users",
        body(
            "e1",
            json!({ "employee_id": "1001", "site": "BCN", "hired": "2024-02-29" }),
        ),
    )
    .await
    .expect(StatusCode::CREATED);
    let bad = t
        .post(
            a,
            "/api/v1/users",
            body(
                "e2",
                json!({ "employee_id": "1001", "site": "NYC", "hired": "29/02/2024", "shoe": 42 }),
            ),
        )
        .await;
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("attributes.employee_id".to_owned(), "unique".to_owned()),
            ("attributes.hired".to_owned(), "type".to_owned()),
            ("attributes.shoe".to_owned(), "unknown_attribute".to_owned()),
            ("attributes.site".to_owned(), "one_of".to_owned()),
        ],
        "{}",
        bad.text
    );
    let missing = t.post(a, "/api/v1/users", body("e3", json!({}))).await;
    assert_eq!(
        missing.fields(),
        vec![("attributes.employee_id".to_owned(), "required".to_owned())]
    );
    let bad_type = t.post(a, "/api/v1/users", json!({ "user_name": "e4", "first_name": "F", "last_name": "L", "primary_group_id": g, "user_type": "robot", "attributes": { "employee_id": "9" } })).await;
    assert_eq!(
        bad_type.fields(),
        vec![("user_type".to_owned(), "one_of".to_owned())]
    );
    let by_attr = t
        .get(a, "/api/v1/users?attribute=employee_id:1001")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(by_attr["items"][0]["user_name"], "e1");

    // Once mail domains exist, emails must use a registered, current one.
    let with_email = |name: &str, email: &str| json!({ "user_name": name, "first_name": "F", "last_name": "L", "primary_group_id": g, "email": email, "attributes": { "employee_id": name } });
    t.post(a, "/api/v1/users", with_email("m1", "m1@anything.org"))
        .await
        .expect(StatusCode::CREATED);
    t.post(a, "/api/v1/mail-domains", json!({ "code": "example.com" }))
        .await
        .expect(StatusCode::CREATED);
    let old = t
        .post(
            a,
            "/api/v1/mail-domains",
            json!({ "code": "old.example.com", "obsolete": true }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    t.post(a, "/api/v1/users", with_email("m2", "m2@example.com"))
        .await
        .expect(StatusCode::CREATED);
    let other = t
        .post(a, "/api/v1/users", with_email("m3", "m3@anything.org"))
        .await;
    assert_eq!(
        other.fields(),
        vec![("email".to_owned(), "mail_domain".to_owned())]
    );
    let obsolete = t
        .post(a, "/api/v1/users", with_email("m4", "m4@old.example.com"))
        .await;
    assert_eq!(
        obsolete.fields(),
        vec![("email".to_owned(), "mail_domain".to_owned())]
    );
    assert!(obsolete.text.contains("obsolete"));
    t.patch(
        a,
        &format!("/api/v1/mail-domains/{old}"),
        json!({ "obsolete": false }),
    )
    .await
    .expect(StatusCode::OK);
    t.post(a, "/api/v1/users", with_email("m4", "m4@old.example.com"))
        .await
        .expect(StatusCode::CREATED);
    let dup = t
        .post(a, "/api/v1/users", with_email("m5", "M2@EXAMPLE.com"))
        .await;
    assert_eq!(
        dup.fields(),
        vec![("email".to_owned(), "unique".to_owned())]
    );
}
both!(custom_attributes_and_mail_domains_are_enforced);

async fn csv_export_and_all_or_nothing_import(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let csv = "name,parent,description\nEngineering,,builds\nPlatform,Engineering,runs\n";
    let dry = t
        .raw(
            a,
            Method::POST,
            "/api/v1/import/groups?dry_run=true",
            "text/csv",
            csv.to_owned(),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(dry["ok"], true, "{dry}");
    assert_eq!(dry["created"], 2);
    let none = t.get(a, "/api/v1/groups?q=Platform").await.body;
    assert_eq!(
        none["items"].as_array().unwrap().len(),
        0,
        "a dry run writes nothing"
    );
    let done = t
        .raw(
            a,
            Method::POST,
            "/api/v1/import/groups",
            "text/csv",
            csv.to_owned(),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(done["ok"], true);
    let again = t
        .raw(
            a,
            Method::POST,
            "/api/v1/import/groups",
            "text/csv",
            csv.to_owned(),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(again["created"], 0);
    assert_eq!(again["actions"][0]["action"], "unchanged");

    let users = "user_name,first_name,last_name,primary_group,email\nzoe,Zoe,Z,Platform,zoe@example.com\nyan,Yan,Y,Nowhere,yan@example.com\nxia,,X,Platform,not-an-email\n";
    let report = t
        .raw(
            a,
            Method::POST,
            "/api/v1/import/users",
            "text/csv",
            users.to_owned(),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(report["ok"], false);
    let errors: Vec<(u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        errors.contains(&(2, "primary_group".to_owned())),
        "{report}"
    );
    assert!(errors.contains(&(3, "first_name".to_owned())), "{report}");
    assert!(errors.contains(&(3, "email".to_owned())), "{report}");
    let zoe = t.get(a, "/api/v1/users?user_name=zoe").await.body;
    assert_eq!(
        zoe["items"].as_array().unwrap().len(),
        0,
        "all or nothing: the good row was not kept"
    );
    let unknown = t
        .raw(
            a,
            Method::POST,
            "/api/v1/import/users",
            "text/csv",
            "user_name,shoe_size\nq,4\n".to_owned(),
        )
        .await
        .body;
    assert_eq!(unknown["errors"][0]["column"], "shoe_size");

    let fixed =
        "user_name,first_name,last_name,primary_group,email\nzoe,Zoe,Z,Platform,zoe@example.com\n";
    t.raw(
        a,
        Method::POST,
        "/api/v1/import/users",
        "text/csv",
        fixed.to_owned(),
    )
    .await
    .expect(StatusCode::OK);
    // An export imports back as unchanged.
    let export = t
        .call(Some(a), Method::GET, "/api/v1/users?format=csv", None, &[])
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        export.headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert!(export.text.lines().next().unwrap().contains("user_name"));
    assert_eq!(
        export.text.lines().count(),
        3,
        "header, admin, zoe: {}",
        export.text
    );
    let back = t
        .raw(
            a,
            Method::POST,
            "/api/v1/import/users?dry_run=true",
            "text/csv",
            export.text.clone(),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(back["ok"], true, "{back}");
    assert_eq!(back["updated"], 0, "{back}");
    let accept = t
        .call(
            Some(a),
            Method::GET,
            "/api/v1/groups",
            None,
            &[("accept", "text/csv")],
        )
        .await
        .expect(StatusCode::OK);
    assert!(accept.text.starts_with("id,"), "{}", accept.text);
}
both!(csv_export_and_all_or_nothing_import);
