//! Role assignment rules end to end: expressions checked when saved (line and column),
//! preview answering the exact diff without writing, apply as a run with progress, grants
//! of origin `rule` that nobody revokes by hand, and rules re-run as users and their
//! memberships change.

use std::time::Duration;

use axum::http::StatusCode;
use latchkey_testkit::Backend;
use serde_json::{Value, json};

use crate::both;
use crate::harness::TestApp;
use crate::sign_in::root_group;

async fn rule(t: &TestApp, body: Value) -> String {
    t.post(&t.admin, "/api/v1/assignment-rules", body)
        .await
        .expect(StatusCode::CREATED)
        .id()
}

/// Applies a rule and waits for its run to end; answers the finished run.
async fn apply(t: &TestApp, rule: &str) -> Value {
    let started = t
        .post(
            &t.admin,
            &format!("/api/v1/assignment-rules/{rule}/apply"),
            json!({}),
        )
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(started.body["status"], "running", "{}", started.text);
    let run = started.id();
    for _ in 0..200 {
        let now = t
            .get(
                &t.admin,
                &format!("/api/v1/assignment-rules/{rule}/runs/{run}"),
            )
            .await
            .expect(StatusCode::OK);
        if now.body["status"] != "running" {
            assert_eq!(now.body["status"], "succeeded", "{}", now.text);
            assert_eq!(now.body["done"], now.body["total"], "{}", now.text);
            return now.body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the run of rule {rule} did not finish");
}

/// The (role name, path kinds) a user holds now.
async fn held(t: &TestApp, user: &str) -> Vec<(String, Vec<String>)> {
    let roles = t
        .get(&t.admin, &format!("/api/v1/users/{user}/effective-roles"))
        .await
        .expect(StatusCode::OK);
    let mut out: Vec<(String, Vec<String>)> = roles.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["role_name"].as_str().unwrap().to_owned(),
                r["paths"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["kind"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .filter(|(name, _)| name != "Administrator")
        .collect();
    out.sort();
    out
}

fn names(list: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["user_name"].as_str().unwrap().to_owned(),
                c["role_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

both!(rules_are_checked_when_saved);
async fn rules_are_checked_when_saved(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    t.post(
        a,
        "/api/v1/metadata/attributes",
        json!({ "object_type": "user", "name": "employee", "data_type": "string" }),
    )
    .await
    .expect(StatusCode::CREATED);
    let sys = t.system(a, "Docs").await;
    let reader = t.role(a, &sys, "Reader").await;
    let scoped = t
        .post(
            a,
            "/api/v1/roles",
            json!({ "name": "Scoped", "system_id": sys, "domain_type": "groups" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let auditor = t.system_role("Auditor").await;

    let problem = |expression: &str, role: &str| json!({ "name": "R", "expression": expression, "role_ids": [role] });
    // A syntax error, with where it is.
    let bad = t
        .post(
            a,
            "/api/v1/assignment-rules",
            problem("user.active &&", &reader),
        )
        .await;
    let body = bad.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let message = body["errors"][0]["message"].as_str().unwrap().to_owned();
    assert_eq!(body["errors"][0]["field"], "expression");
    assert!(message.contains("line 1, column"), "{message}");
    // An unknown attribute, on the second line.
    let bad = t
        .post(
            a,
            "/api/v1/assignment-rules",
            problem(
                "user.active &&\n  user.attributes.cost_centre == \"7\"",
                &reader,
            ),
        )
        .await;
    let body = bad.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("line 2, column 3"), "{message}");
    assert!(message.contains("cost_centre"), "{message}");
    assert!(message.contains("employee"), "{message}");
    // A type error, and a rule that is not a boolean.
    for expression in [
        r#"user.attributes.employee > 3"#,
        r#"user.active && user.primary_group"#,
        r#"user.primary_group"#,
        r#"unknown_function(user)"#,
    ] {
        let bad = t
            .post(a, "/api/v1/assignment-rules", problem(expression, &reader))
            .await;
        assert_eq!(
            bad.fields(),
            vec![("expression".to_owned(), "expression".to_owned())],
            "{expression}: {}",
            bad.text
        );
    }
    // Roles a rule cannot grant, and no role at all.
    for (role, rule_name) in [
        (scoped.as_str(), "unscoped"),
        (auditor.as_str(), "no_permissions"),
        ("0190a0a0-0000-7000-8000-000000000000", "exists"),
    ] {
        let bad = t
            .post(a, "/api/v1/assignment-rules", problem("user.active", role))
            .await;
        assert_eq!(
            bad.fields(),
            vec![("role_ids".to_owned(), rule_name.to_owned())],
            "{}",
            bad.text
        );
    }
    let bad = t
        .post(
            a,
            "/api/v1/assignment-rules",
            json!({ "name": "R", "expression": "user.active", "role_ids": [] }),
        )
        .await;
    assert_eq!(
        bad.fields(),
        vec![("role_ids".to_owned(), "required".to_owned())]
    );
    // A role-name expression must give a list.
    let bad = t
        .post(
            a,
            "/api/v1/assignment-rules",
            json!({ "name": "R", "expression": "true", "roles_expression": "user.user_name" }),
        )
        .await;
    assert_eq!(
        bad.fields(),
        vec![("roles_expression".to_owned(), "expression".to_owned())]
    );
    // Nothing was saved.
    let all = t
        .get(a, "/api/v1/assignment-rules")
        .await
        .expect(StatusCode::OK);
    assert_eq!(all.body, json!([]));

    // Checking without saving.
    t.post(
        a,
        "/api/v1/assignment-rules/check",
        json!({ "expression": r#"user.attributes.employee in ["1001", "1002"]"# }),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    t.post(
        a,
        "/api/v1/assignment-rules/check",
        json!({ "expression": "user.nope" }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let id = rule(&t, problem("user.active", &reader)).await;
    t.post(
        a,
        "/api/v1/assignment-rules",
        problem("user.active", &reader),
    )
    .await
    .problem(StatusCode::CONFLICT, "already_exists");
    // An edit is checked the same way and changes nothing when refused.
    let one = t
        .get(a, &format!("/api/v1/assignment-rules/{id}"))
        .await
        .expect(StatusCode::OK);
    t.patch(
        a,
        &format!("/api/v1/assignment-rules/{id}"),
        json!({ "expression": "user.active ||" }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let again = t
        .get(a, &format!("/api/v1/assignment-rules/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(one.body, again.body);

    // Who may: a user without rules.manage is refused; an unknown id is not found.
    let root = root_group(&t).await;
    let bob = t.user(a, "bob", &root).await;
    let bob_token = t.token_for(&bob).await;
    t.post(
        &bob_token,
        "/api/v1/assignment-rules",
        problem("user.active", &reader),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    t.post(
        &bob_token,
        &format!("/api/v1/assignment-rules/{id}/apply"),
        json!({}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    t.get(&bob_token, "/api/v1/assignment-rules")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.get(
        a,
        "/api/v1/assignment-rules/0190a0a0-0000-7000-8000-000000000000",
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
}

both!(preview_apply_and_changes_to_users);
async fn preview_apply_and_changes_to_users(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let writers = t.group(a, "Writers", Some(&root)).await;
    let others = t.group(a, "Others", Some(&root)).await;
    let editors = t.group(a, "Editors", Some(&root)).await;
    let sys = t.system(a, "Docs").await;
    let author = t.role(a, &sys, "Author").await;
    let ana = t.user(a, "ana", &writers).await;
    let bea = t.user(a, "bea", &writers).await;
    let cai = t.user(a, "cai", &others).await;

    let id = rule(
        &t,
        json!({
            "name": "Writers write",
            "description": "every active writer is an author",
            "expression": r#"user.active && (user.primary_group == "Writers" || "Editors" in user.groups)"#,
            "role_ids": [author],
        }),
    )
    .await;
    // Saving applies nothing.
    assert_eq!(held(&t, &ana).await, vec![]);

    let preview = t
        .post(
            a,
            &format!("/api/v1/assignment-rules/{id}/preview"),
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    let diff = preview.body;
    assert_eq!(
        names(&diff["gains"]),
        vec![
            ("ana".to_owned(), "Author".to_owned()),
            ("bea".to_owned(), "Author".to_owned())
        ]
    );
    assert_eq!(diff["losses"], json!([]));
    assert_eq!(diff["gains_total"], 2);
    assert_eq!(diff["matching"], 2);
    // Preview wrote nothing.
    assert_eq!(held(&t, &ana).await, vec![]);

    let run = apply(&t, &id).await;
    assert_eq!(run["granted"], 2, "{run}");
    assert_eq!(run["revoked"], 0, "{run}");
    assert_eq!(
        held(&t, &ana).await,
        vec![("Author".to_owned(), vec!["rule".to_owned()])]
    );
    let roles = t
        .get(a, &format!("/api/v1/users/{ana}/effective-roles"))
        .await
        .expect(StatusCode::OK);
    let path = roles.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role_name"] == "Author")
        .unwrap()["paths"][0]
        .clone();
    assert_eq!(path["rule"]["id"], id.as_str());
    assert_eq!(path["rule"]["name"], "Writers write");
    // The rule's grants carry origin and rule; nobody revokes or changes them by hand.
    let grants = t
        .get(a, &format!("/api/v1/grants?user_id={ana}&origin=rule"))
        .await
        .expect(StatusCode::OK);
    let grant = grants.body["items"][0].clone();
    assert_eq!(grant["rule_id"], id.as_str());
    let gid = grant["id"].as_str().unwrap();
    // The run is audited as one entry for its page, on the rule, listing every grant made.
    let audit = t
        .get(
            a,
            &format!("/api/v1/audit?action=rule.apply.page&object_id={id}"),
        )
        .await
        .expect(StatusCode::OK);
    let pages = audit.body["items"].as_array().unwrap();
    assert_eq!(pages.len(), 1, "{}", audit.text);
    let page = &pages[0]["after"];
    assert_eq!(page["run_id"], run["id"], "{}", audit.text);
    assert_eq!(page["revoked"], json!([]), "{}", audit.text);
    let mut listed: Vec<(&str, &str)> = page["granted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["user_id"].as_str().unwrap(),
                g["role_id"].as_str().unwrap(),
            )
        })
        .collect();
    listed.sort_unstable();
    let mut wanted = vec![
        (ana.as_str(), author.as_str()),
        (bea.as_str(), author.as_str()),
    ];
    wanted.sort_unstable();
    assert_eq!(listed, wanted, "{}", audit.text);
    assert!(
        page["granted"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["grant_id"] == gid),
        "{}",
        audit.text
    );
    let refused = t
        .delete(a, &format!("/api/v1/grants/{gid}"))
        .await
        .problem(StatusCode::CONFLICT, "rule_granted");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Writers write"),
        "{refused}"
    );
    t.patch(
        a,
        &format!("/api/v1/grants/{gid}"),
        json!({ "ends_at": "2099-01-01T00:00:00Z" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "rule_granted");
    // Applying again changes nothing.
    let run = apply(&t, &id).await;
    assert_eq!(
        (run["granted"].clone(), run["revoked"].clone()),
        (json!(0), json!(0))
    );

    // Changes to a user re-run the rules for them, in the same write.
    t.patch(
        a,
        &format!("/api/v1/users/{bea}"),
        json!({ "primary_group_id": others }),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(held(&t, &bea).await, vec![]);
    let membership = t
        .post(
            a,
            "/api/v1/memberships",
            json!({ "user_id": cai, "group_id": editors }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    assert_eq!(
        held(&t, &cai).await,
        vec![("Author".to_owned(), vec!["rule".to_owned()])]
    );
    t.delete(a, &format!("/api/v1/memberships/{membership}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(held(&t, &cai).await, vec![]);
    t.patch(
        a,
        &format!("/api/v1/users/{ana}"),
        json!({ "enabled": false }),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(held(&t, &ana).await, vec![]);
    t.patch(
        a,
        &format!("/api/v1/users/{ana}"),
        json!({ "enabled": true }),
    )
    .await
    .expect(StatusCode::OK);
    let dan = t.user(a, "dan", &writers).await;
    assert_eq!(
        held(&t, &dan).await,
        vec![("Author".to_owned(), vec!["rule".to_owned()])]
    );

    // An edited rule: preview shows who loses, apply takes it away.
    let current = t
        .get(a, &format!("/api/v1/assignment-rules/{id}"))
        .await
        .expect(StatusCode::OK);
    let etag = current.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(current.body["last_run"]["status"], "succeeded");
    let edited = t
        .call(
            Some(a),
            axum::http::Method::PATCH,
            &format!("/api/v1/assignment-rules/{id}"),
            Some(json!({ "expression": r#"user.user_name.startsWith("an")"# })),
            &[("if-match", etag.as_str())],
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(edited.body["version"], 2);
    let diff = t
        .post(
            a,
            &format!("/api/v1/assignment-rules/{id}/preview"),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        names(&diff["losses"]),
        vec![("dan".to_owned(), "Author".to_owned())]
    );
    assert_eq!(diff["gains"], json!([]), "ana holds it already");
    let run = apply(&t, &id).await;
    assert_eq!(run["revoked"], 1, "{run}");
    assert_eq!(held(&t, &dan).await, vec![]);
    assert_eq!(
        held(&t, &ana).await,
        vec![("Author".to_owned(), vec!["rule".to_owned()])]
    );
    let runs = t
        .get(a, &format!("/api/v1/assignment-rules/{id}/runs"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(runs.body.as_array().unwrap().len(), 3);

    // Every change was audited.
    let audit = t
        .get(a, &format!("/api/v1/audit?object_id={id}"))
        .await
        .expect(StatusCode::OK);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "rule.create",
        "rule.update",
        "rule.apply",
        "rule.apply.page",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    // The last run's page lists the grant it revoked, with its user and role.
    let revoked = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "rule.apply.page" && e["after"]["run_id"] == run["id"])
        .map(|e| e["after"].clone())
        .unwrap_or_else(|| panic!("the last run's page in {}", audit.text));
    assert_eq!(revoked["granted"], json!([]), "{revoked}");
    let lost = revoked["revoked"].as_array().unwrap();
    assert_eq!(lost.len(), 1, "{revoked}");
    assert_eq!(lost[0]["user_id"], dan.as_str(), "{revoked}");
    assert_eq!(lost[0]["role_id"], author.as_str(), "{revoked}");

    // Deleting the rule takes its grants away.
    t.delete(a, &format!("/api/v1/assignment-rules/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(held(&t, &ana).await, vec![]);
    let left = t
        .get(a, "/api/v1/grants?origin=rule")
        .await
        .expect(StatusCode::OK);
    assert_eq!(left.body["items"], json!([]));
}

both!(previews_follow_every_change_to_users);
/// Previews answer from the live engine's copy of every user: after the first preview has
/// loaded it, each later change to a user's name, attributes, memberships (in force or
/// not yet), existence and status must show in the next preview. A draft rule is used so
/// that the rules' own re-run on change does not hide a stale copy.
async fn previews_follow_every_change_to_users(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let writers = t.group(a, "Writers", Some(&root)).await;
    let editors = t.group(a, "Editors", Some(&root)).await;
    let sys = t.system(a, "Docs").await;
    let author = t.role(a, &sys, "Author").await;
    let ana = t.user(a, "ana", &writers).await;
    let bea = t.user(a, "bea", &writers).await;
    let draft = json!({
        "name": "Blue or editors",
        "expression": r#"user.active && (user.last_name == "Blue" || "Editors" in user.groups)"#,
        "role_ids": [author],
    });
    let preview = || async {
        let diff = t
            .post(a, "/api/v1/assignment-rules/preview", draft.clone())
            .await
            .expect(StatusCode::OK)
            .body;
        let gains: Vec<String> = names(&diff["gains"]).into_iter().map(|(u, _)| u).collect();
        (gains, diff["users"].as_u64().unwrap())
    };
    let (gains, users) = preview().await;
    assert_eq!(gains, Vec::<String>::new());
    // admin, ana, bea
    assert_eq!(users, 3);

    t.patch(
        a,
        &format!("/api/v1/users/{bea}"),
        json!({ "last_name": "Blue" }),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(preview().await.0, vec!["bea"]);
    t.patch(
        a,
        &format!("/api/v1/users/{bea}"),
        json!({ "user_name": "bee" }),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(preview().await.0, vec!["bee"]);

    t.post(
        a,
        "/api/v1/memberships",
        json!({ "user_id": ana, "group_id": editors }),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(preview().await.0, vec!["ana", "bee"]);

    // A membership that starts later does not count yet.
    let cai = t.user(a, "cai", &writers).await;
    t.post(
        a,
        "/api/v1/memberships",
        json!({ "user_id": cai, "group_id": editors, "starts_at": "2099-01-01T00:00:00Z" }),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(
        preview().await,
        (vec!["ana".to_owned(), "bee".to_owned()], 4)
    );

    t.patch(
        a,
        &format!("/api/v1/users/{ana}"),
        json!({ "enabled": false }),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(preview().await.0, vec!["bee"]);
    t.delete(a, &format!("/api/v1/users/{bea}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(preview().await, (Vec::<String>::new(), 3));
}

both!(role_names_attributes_and_evaluation_errors);
async fn role_names_attributes_and_evaluation_errors(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    for (name, data_type) in [("employee", "string"), ("level", "number")] {
        t.post(
            a,
            "/api/v1/metadata/attributes",
            json!({ "object_type": "user", "name": name, "data_type": data_type }),
        )
        .await
        .expect(StatusCode::CREATED);
    }
    let docs = t.system(a, "Docs").await;
    let wiki = t.system(a, "Wiki").await;
    let reader = t.role(a, &docs, "Reader").await;
    t.role(a, &docs, "Senior").await;
    t.role(a, &docs, "Editor").await;
    t.role(a, &wiki, "Editor").await;
    let user = |name: &str, attributes: Value| json!({ "user_name": name, "first_name": name, "last_name": "T", "primary_group_id": root, "attributes": attributes });
    for (name, attrs) in [
        ("ana", json!({ "employee": "1001", "level": 4 })),
        ("bea", json!({ "employee": "1002", "level": 2 })),
        ("cai", json!({ "employee": "2001" })),
    ] {
        t.post(a, "/api/v1/users", user(name, attrs))
            .await
            .expect(StatusCode::CREATED);
    }
    let draft = json!({
        "name": "Staff",
        "expression": r#"user.user_name != "admin" && (user.attributes.employee in ["1001", "1002"] || user.attributes.level > 1)"#,
        "role_ids": [reader],
        "roles_expression": r#"user.attributes.level >= 3 ? ["Senior", "Editor@Wiki"] : ["Editor", "Nobody"]"#,
    });
    // A draft is previewed before it is saved.
    let diff = t
        .post(a, "/api/v1/assignment-rules/preview", draft.clone())
        .await
        .expect(StatusCode::OK)
        .body;
    let mut gains = names(&diff["gains"]);
    gains.dedup();
    assert_eq!(
        gains,
        vec![
            ("ana".to_owned(), "Editor".to_owned()),
            ("ana".to_owned(), "Reader".to_owned()),
            ("ana".to_owned(), "Senior".to_owned()),
            ("bea".to_owned(), "Reader".to_owned()),
        ],
        "{diff}"
    );
    // bea's "Editor" names two roles and "Nobody" none; cai's unset level cannot be
    // compared: each is reported, none stops the others.
    let errors: Vec<(String, String)> = diff["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["user_name"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|(u, m)| u == "bea" && m.contains("Editor@system"))
    );
    assert!(
        errors
            .iter()
            .any(|(u, m)| u == "bea" && m.contains("Nobody"))
    );
    assert!(
        errors
            .iter()
            .any(|(u, m)| u == "cai" && m.contains("failed"))
    );
    let wiki_editor = diff["gains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["role_name"] == "Editor")
        .unwrap()["system_name"]
        .clone();
    assert_eq!(wiki_editor, "Wiki");

    let id = rule(&t, draft).await;
    // What a saved rule reads cannot go from under it: the attribute, the role.
    let attributes = t
        .get(a, "/api/v1/metadata/attributes")
        .await
        .expect(StatusCode::OK);
    let level = attributes
        .body
        .as_array()
        .or_else(|| attributes.body["items"].as_array())
        .unwrap()
        .iter()
        .find(|d| d["name"] == "level")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = t
        .delete(a, &format!("/api/v1/metadata/attributes/{level}"))
        .await
        .problem(StatusCode::CONFLICT, "in_use");
    assert!(
        refused["detail"].as_str().unwrap().contains("`Staff`"),
        "{refused}"
    );
    let refused = t
        .delete(a, &format!("/api/v1/roles/{reader}"))
        .await
        .problem(StatusCode::CONFLICT, "in_use");
    assert!(
        refused["detail"].as_str().unwrap().contains("`Staff`"),
        "{refused}"
    );
    let still = t
        .get(a, "/api/v1/metadata/attributes")
        .await
        .expect(StatusCode::OK);
    assert_eq!(still.body, attributes.body);
    let run = apply(&t, &id).await;
    assert_eq!(run["granted"], 4, "{run}");
    assert_eq!(run["errors"], 3, "{run}");
    // The limit cuts the lists, not the totals.
    let diff = t
        .post(
            a,
            &format!("/api/v1/assignment-rules/{id}/preview?limit=1"),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(diff["gains_total"], 0);
    assert_eq!(diff["errors_total"], 3);
    assert_eq!(diff["errors"].as_array().unwrap().len(), 1);
    assert_eq!(diff["truncated"], true);
}

both!(rules_never_grant_a_forbidden_combination);
async fn rules_never_grant_a_forbidden_combination(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let root = root_group(&t).await;
    let writers = t.group(a, "Writers", Some(&root)).await;
    let books = t.system(a, "Books").await;
    let approver = t.role(a, &books, "Approver").await;
    let payer = t.role(a, &books, "Payer").await;
    let ana = t.user(a, "ana", &writers).await;
    let bea = t.user(a, "bea", &writers).await;
    t.grant_user(a, &approver, &ana, None)
        .await
        .expect(StatusCode::CREATED);
    t.post(
        a,
        "/api/v1/sod-rules",
        json!({ "name": "Approvers do not pay", "system_id": books, "kind": "all",
                "risk": "forbidden", "role_ids": [approver, payer] }),
    )
    .await
    .expect(StatusCode::CREATED);
    let id = rule(
        &t,
        json!({ "name": "Writers pay", "expression": r#"user.primary_group == "Writers""#, "role_ids": [payer] }),
    )
    .await;

    // The preview shows ana's gain as refused, naming the SoD rule; bea gains.
    let diff = t
        .post(
            a,
            &format!("/api/v1/assignment-rules/{id}/preview"),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        names(&diff["gains"]),
        vec![("bea".to_owned(), "Payer".to_owned())]
    );
    assert_eq!(diff["refused_total"], 1, "{diff}");
    assert_eq!(diff["refused"][0]["user_name"], "ana");
    assert!(
        diff["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("Approvers do not pay"),
        "{diff}"
    );

    // Applying grants bea, withholds ana's and raises an alert instead.
    let run = apply(&t, &id).await;
    assert_eq!(
        (run["granted"].clone(), run["refused"].clone()),
        (json!(1), json!(1)),
        "{run}"
    );
    assert_eq!(
        held(&t, &ana).await,
        vec![("Approver".to_owned(), vec!["direct".to_owned()])]
    );
    assert_eq!(
        held(&t, &bea).await,
        vec![("Payer".to_owned(), vec!["rule".to_owned()])]
    );
    let alerts = t
        .get(a, "/api/v1/security/alerts")
        .await
        .expect(StatusCode::OK)
        .body;
    let sod: Vec<&Value> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "sod.violation")
        .collect();
    assert_eq!(sod.len(), 1, "{alerts}");
    let summary = sod[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("`Writers pay`") && summary.contains("`ana`"),
        "{summary}"
    );

    // A change to ana re-runs the rule: still withheld, never granted.
    t.patch(
        a,
        &format!("/api/v1/users/{ana}"),
        json!({ "first_name": "Ana" }),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        held(&t, &ana).await,
        vec![("Approver".to_owned(), vec!["direct".to_owned()])]
    );
    // A new writer holding nothing forbidden gains at once.
    let cai = t.user(a, "cai", &writers).await;
    assert_eq!(
        held(&t, &cai).await,
        vec![("Payer".to_owned(), vec!["rule".to_owned()])]
    );
}
