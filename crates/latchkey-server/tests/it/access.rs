//! Effective roles with provenance, holders, inheritance, dated grants, single-role
//! systems, and delegated administration with its forbidden paths.

use axum::http::StatusCode;
use latchkey_testkit::Backend;
use serde_json::{Value, json};

use crate::both;
use crate::harness::TestApp;

fn role_entry<'a>(roles: &'a Value, name: &str) -> &'a Value {
    roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role_name"] == name)
        .unwrap_or_else(|| panic!("{name} not held: {roles}"))
}

async fn effective_roles_name_every_path(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let sales = t.group(a, "Sales", None).await;
    let east = t.group(a, "Sales East", Some(&sales)).await;
    let payments = t.system(a, "Payments").await;
    let approver = t.role(a, &payments, "approver").await;
    let viewer = t.role(a, &payments, "viewer").await;
    let auditor = t.role(a, &payments, "auditor").await;
    t.post(
        a,
        &format!("/api/v1/roles/{approver}/granted-roles"),
        json!({ "role_id": viewer, "mandatory": true }),
    )
    .await
    .expect(StatusCode::CREATED);
    // Non-mandatory: becomes a separate grant when approver is granted, not an effective path.
    t.post(
        a,
        &format!("/api/v1/roles/{approver}/granted-roles"),
        json!({ "role_id": auditor, "mandatory": false }),
    )
    .await
    .expect(StatusCode::CREATED);
    let ana = t.user(a, "ana", &east).await;
    let group_grant = t
        .post(
            a,
            "/api/v1/grants",
            json!({ "role_id": approver, "group_id": sales }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let direct = t
        .grant_user(a, &viewer, &ana, None)
        .await
        .expect(StatusCode::CREATED)
        .id();

    let roles = t
        .get(a, &format!("/api/v1/users/{ana}/effective-roles"))
        .await
        .expect(StatusCode::OK)
        .body;
    let approver_entry = role_entry(&roles, "approver");
    assert_eq!(approver_entry["system_name"], "Payments");
    let paths = approver_entry["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 1, "{roles}");
    assert_eq!(paths[0]["kind"], "group");
    assert_eq!(paths[0]["grant_id"], group_grant.as_str());
    assert_eq!(paths[0]["member_group"]["name"], "Sales East");
    assert_eq!(paths[0]["ancestor_group"]["name"], "Sales");
    assert_eq!(paths[0]["membership"], "primary");

    // viewer: directly, and through approver (the chain names it).
    let viewer_paths = role_entry(&roles, "viewer")["paths"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(viewer_paths.len(), 2, "{roles}");
    assert!(viewer_paths.iter().any(|p| p["kind"] == "direct"
        && p["grant_id"] == direct.as_str()
        && p["chain"] == json!([])));
    assert!(viewer_paths.iter().any(|p| {
        p["kind"] == "group"
            && p["chain"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].clone())
                .collect::<Vec<_>>()
                == vec![json!("approver")]
    }));

    // The optional child was granted to the group as its own grant.
    let grants = t
        .get(
            a,
            &format!("/api/v1/grants?group_id={sales}&origin=inheritance"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(grants["items"].as_array().unwrap().len(), 1, "{grants}");
    assert_eq!(grants["items"][0]["role_id"], auditor.as_str());
    assert_eq!(grants["items"][0]["parent_grant_id"], group_grant.as_str());
    assert!(role_entry(&roles, "auditor")["paths"][0]["chain"] == json!([]));

    // Holders of approver: ana, through the group.
    let holders = t
        .get(a, &format!("/api/v1/roles/{approver}/holders"))
        .await
        .expect(StatusCode::OK)
        .body;
    let names: Vec<&str> = holders["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["user_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["ana"]);

    // Direct holders only: ana holds viewer directly, approver only through her group.
    let direct_viewers = t
        .get(
            a,
            &format!("/api/v1/roles/{viewer}/holders?effective=false"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(
        direct_viewers["holders"].as_array().unwrap().len(),
        1,
        "{direct_viewers}"
    );
    assert_eq!(
        direct_viewers["holders"][0]["paths"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "only the direct path: {direct_viewers}"
    );
    let direct_approvers = t
        .get(
            a,
            &format!("/api/v1/roles/{approver}/holders?effective=false"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(direct_approvers["holders"], json!([]), "{direct_approvers}");

    // Revoking the group grant takes the inherited optional grant with it.
    t.delete(a, &format!("/api/v1/grants/{group_grant}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    let roles = t
        .get(a, &format!("/api/v1/users/{ana}/effective-roles"))
        .await
        .expect(StatusCode::OK)
        .body;
    let held: Vec<&str> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_name"].as_str().unwrap())
        .collect();
    assert_eq!(held, vec!["viewer"], "{roles}");
}
both!(effective_roles_name_every_path);

async fn disabled_groups_and_dates_are_honoured(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let top = t.group(a, "Top", None).await;
    let mid = t.group(a, "Mid", Some(&top)).await;
    let leaf = t.group(a, "Leaf", Some(&mid)).await;
    let sys = t.system(a, "CRM").await;
    let role = t.role(a, &sys, "reader").await;
    let later = t.role(a, &sys, "later").await;
    let bea = t.user(a, "bea", &leaf).await;
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": role, "group_id": top }),
    )
    .await
    .expect(StatusCode::CREATED);
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": later, "user_id": bea, "starts_at": "2099-01-01T00:00:00Z" }),
    )
    .await
    .expect(StatusCode::CREATED);
    let held = |v: &Value| {
        v["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["role_name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    let now = t
        .get(a, &format!("/api/v1/users/{bea}/effective-roles"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(held(&now), vec!["reader"]);
    let future = t
        .get(
            a,
            &format!("/api/v1/users/{bea}/effective-roles?at=2099-06-01T00:00:00Z"),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(held(&future), vec!["later", "reader"]);

    // Disabling the middle group cuts the grant of its ancestor for everyone below.
    t.patch(
        a,
        &format!("/api/v1/groups/{mid}"),
        json!({ "disabled": true }),
    )
    .await
    .expect(StatusCode::OK);
    let cut = t
        .get(a, &format!("/api/v1/users/{bea}/effective-roles"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(held(&cut).is_empty(), "{cut}");
    t.patch(
        a,
        &format!("/api/v1/groups/{mid}"),
        json!({ "disabled": false, "active_until": "2000-01-01T00:00:00Z" }),
    )
    .await
    .expect(StatusCode::OK);
    let inactive = t
        .get(a, &format!("/api/v1/users/{bea}/effective-roles"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(
        held(&inactive).is_empty(),
        "an inactive group contributes nothing: {inactive}"
    );
}
both!(disabled_groups_and_dates_are_honoured);

async fn scoped_roles_need_a_scope_and_single_role_systems_replace(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let g = t.group(a, "Ops", None).await;
    let u = t.user(a, "carl", &g).await;
    let sys = t.system(a, "Warehouse").await;
    let scoped = t
        .post(
            a,
            "/api/v1/roles",
            json!({ "name": "picker", "system_id": sys, "domain_type": "groups" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let missing = t.grant_user(a, &scoped, &u, None).await;
    assert_eq!(
        missing.fields(),
        vec![("scope".to_owned(), "required".to_owned())]
    );
    missing.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let plain = t.role(a, &sys, "plain").await;
    let extra = t.grant_user(a, &plain, &u, Some("Ops")).await;
    assert_eq!(
        extra.fields(),
        vec![("scope".to_owned(), "unscoped_role".to_owned())]
    );
    // Scope by group name resolves to the group id.
    let ok = t
        .grant_user(a, &scoped, &u, Some("Ops"))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(ok.body["scope"], g.as_str());
    let bad = t.grant_user(a, &scoped, &u, Some("Nowhere")).await;
    assert_eq!(
        bad.fields(),
        vec![("scope".to_owned(), "domain".to_owned())]
    );

    // A single-role system: a new role replaces the user's previous one there.
    let single = t
        .post(
            a,
            "/api/v1/systems",
            json!({ "name": "Tiers", "single_role": true }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let gold = t.role(a, &single, "gold").await;
    let silver = t.role(a, &single, "silver").await;
    t.grant_user(a, &gold, &u, None)
        .await
        .expect(StatusCode::CREATED);
    t.grant_user(a, &silver, &u, None)
        .await
        .expect(StatusCode::CREATED);
    let grants = t
        .get(a, &format!("/api/v1/grants?user_id={u}"))
        .await
        .expect(StatusCode::OK)
        .body;
    let roles: Vec<&str> = grants["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["role_id"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&silver.as_str()) && !roles.contains(&gold.as_str()),
        "{grants}"
    );
}
both!(scoped_roles_need_a_scope_and_single_role_systems_replace);

async fn inheritance_cycles_are_refused_naming_the_path(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let sys = t.system(a, "Ledger").await;
    let x = t.role(a, &sys, "x").await;
    let y = t.role(a, &sys, "y").await;
    let z = t.role(a, &sys, "z").await;
    t.post(
        a,
        &format!("/api/v1/roles/{x}/granted-roles"),
        json!({ "role_id": y, "mandatory": true }),
    )
    .await
    .expect(StatusCode::CREATED);
    t.post(
        a,
        &format!("/api/v1/roles/{y}/granted-roles"),
        json!({ "role_id": z, "mandatory": false }),
    )
    .await
    .expect(StatusCode::CREATED);
    let cycle = t
        .post(
            a,
            &format!("/api/v1/roles/{z}/granted-roles"),
            json!({ "role_id": x, "mandatory": true }),
        )
        .await;
    let problem = cycle.problem(StatusCode::CONFLICT, "cycle");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("z -> x -> y -> z"),
        "{problem}"
    );
    let own = t
        .post(
            a,
            &format!("/api/v1/roles/{x}/granted-roles"),
            json!({ "role_id": x, "mandatory": true }),
        )
        .await;
    own.problem(StatusCode::CONFLICT, "cycle");

    // Groups too: moving a group under its own descendant.
    let top = t.group(a, "A", None).await;
    let below = t.group(a, "B", Some(&top)).await;
    let moved = t
        .patch(
            a,
            &format!("/api/v1/groups/{top}"),
            json!({ "parent_id": below }),
        )
        .await;
    let problem = moved.problem(StatusCode::CONFLICT, "cycle");
    assert!(
        problem["detail"].as_str().unwrap().contains("A -> B -> A"),
        "{problem}"
    );
}
both!(inheritance_cycles_are_refused_naming_the_path);

async fn system_roles_refuse_rename_delete_and_permission_changes(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let admin_role = t.system_role("Administrator").await;
    t.patch(
        a,
        &format!("/api/v1/roles/{admin_role}"),
        json!({ "name": "Boss" }),
    )
    .await
    .problem(StatusCode::CONFLICT, "system_role");
    t.patch(
        a,
        &format!("/api/v1/roles/{admin_role}"),
        json!({ "permissions": ["users.view"] }),
    )
    .await
    .problem(StatusCode::CONFLICT, "system_role");
    t.delete(a, &format!("/api/v1/roles/{admin_role}"))
        .await
        .problem(StatusCode::CONFLICT, "system_role");
    // Its description may change.
    t.patch(
        a,
        &format!("/api/v1/roles/{admin_role}"),
        json!({ "description": "everything" }),
    )
    .await
    .expect(StatusCode::OK);
    let role = t
        .get(a, &format!("/api/v1/roles/{admin_role}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(role["privileged"], true);
    assert_eq!(role["name"], "Administrator");
}
both!(system_roles_refuse_rename_delete_and_permission_changes);

async fn a_scoped_user_manager_sees_and_touches_only_its_subtree(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let sales = t.group(a, "Sales", None).await;
    let east = t.group(a, "East", Some(&sales)).await;
    let hr = t.group(a, "HR", None).await;
    let manager = t.user(a, "mona", &sales).await;
    let inside = t.user(a, "ian", &east).await;
    let outside = t.user(a, "olga", &hr).await;
    let um = t.system_role("User manager").await;
    t.grant_user(a, &um, &manager, Some(&sales))
        .await
        .expect(StatusCode::CREATED);
    let m = t.token_for(&manager).await;

    t.get(&m, &format!("/api/v1/users/{inside}"))
        .await
        .expect(StatusCode::OK);
    // Outside the subtree: not found, exactly like a user that does not exist.
    t.get(&m, &format!("/api/v1/users/{outside}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.patch(
        &m,
        &format!("/api/v1/users/{outside}"),
        json!({ "first_name": "X" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    t.delete(&m, &format!("/api/v1/users/{outside}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.get(&m, &format!("/api/v1/users/{outside}/effective-roles"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let listed = t.get(&m, "/api/v1/users").await.expect(StatusCode::OK).body;
    let mut names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, vec!["ian", "mona"]);
    // Creating a user elsewhere, or moving one out of the subtree, is refused.
    let created = t.post(&m, "/api/v1/users", json!({ "user_name": "x", "first_name": "X", "last_name": "Y", "primary_group_id": hr })).await;
    assert_eq!(
        created.fields(),
        vec![("primary_group_id".to_owned(), "exists".to_owned())]
    );
    let moved = t
        .patch(
            &m,
            &format!("/api/v1/users/{inside}"),
            json!({ "primary_group_id": hr }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::UNPROCESSABLE_ENTITY);
    t.post(&m, "/api/v1/users", json!({ "user_name": "new", "first_name": "N", "last_name": "W", "primary_group_id": east })).await.expect(StatusCode::CREATED);
    // Permissions it does not hold at all: 403.
    t.get(&m, "/api/v1/audit")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.post(&m, "/api/v1/systems", json!({ "name": "S" }))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.post(
        &m,
        "/api/v1/organisations",
        json!({ "name": "O", "slug": "o" }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    // It may not hand out the Administrator role, even inside its subtree.
    let admin_role = t.system_role("Administrator").await;
    let escalate = t.grant_user(&m, &admin_role, &inside, None).await;
    assert_eq!(
        escalate.fields().first().map(|f| f.1.as_str()),
        Some("not_held"),
        "{}",
        escalate.text
    );
    // Nor act as the administrator through a token.
    let me = t.get(a, "/api/v1/me").await.body;
    let admin_id = me["user_id"].as_str().unwrap();
    t.post(
        &m,
        &format!("/api/v1/users/{admin_id}/tokens"),
        json!({ "name": "x" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    // A scoped manager without unscoped permissions cannot even see the admin user.
    let who = t.get(&m, "/api/v1/me").await.expect(StatusCode::OK).body;
    assert_eq!(who["permissions"], json!([]));
    assert_eq!(who["scoped_permissions"]["users.manage"], json!([sales]));
}
both!(a_scoped_user_manager_sees_and_touches_only_its_subtree);

async fn checks_answer_allowed_and_explain(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let sales = t.group(a, "Sales", None).await;
    let east = t.group(a, "East", Some(&sales)).await;
    let hr = t.group(a, "HR", None).await;
    let sys = t.system(a, "Payments").await;
    let approver = t.role(a, &sys, "approver").await;
    let viewer = t.role(a, &sys, "viewer").await;
    let region = t
        .post(
            a,
            "/api/v1/roles",
            json!({ "name": "region", "system_id": sys, "domain_type": "groups" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    t.post(
        a,
        &format!("/api/v1/roles/{approver}/granted-roles"),
        json!({ "role_id": viewer, "mandatory": true }),
    )
    .await
    .expect(StatusCode::CREATED);
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": approver, "group_id": sales }),
    )
    .await
    .expect(StatusCode::CREATED);
    let ana = t.user(a, "ana", &east).await;
    let bob = t.user(a, "bob", &hr).await;
    t.grant_user(a, &region, &ana, Some(&east))
        .await
        .expect(StatusCode::CREATED);
    let um = t.system_role("User manager").await;
    t.grant_user(a, &um, &ana, Some(&sales))
        .await
        .expect(StatusCode::CREATED);

    let check = |body: serde_json::Value| async { t.post(a, "/api/v1/check", body).await };
    let yes = check(json!({ "user": ana, "role": viewer, "explain": true }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(yes.body["allowed"], true);
    let path = &yes.body["paths"][0];
    assert_eq!(path["kind"], "group");
    assert_eq!(path["ancestor_group"]["name"], "Sales");
    assert_eq!(path["chain"][0]["name"], "approver");
    assert!(yes.headers.get("latchkey-revision").is_some());
    assert_eq!(
        yes.body["revision"].as_i64().map(|r| r.to_string()),
        yes.headers
            .get("latchkey-revision")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    );
    assert_eq!(
        check(json!({ "user": bob, "role": viewer })).await.body["allowed"],
        false
    );
    assert_eq!(
        check(json!({ "user": ana, "role": region, "scope": east }))
            .await
            .body["allowed"],
        true
    );
    assert_eq!(
        check(json!({ "user": ana, "role": region, "scope": sales }))
            .await
            .body["allowed"],
        false,
        "role scopes match exactly"
    );
    // A permission scoped to Sales covers East, not HR.
    assert_eq!(
        check(json!({ "user": ana, "permission": "users.manage", "scope": east }))
            .await
            .body["allowed"],
        true
    );
    assert_eq!(
        check(json!({ "user": ana, "permission": "users.manage", "scope": hr }))
            .await
            .body["allowed"],
        false
    );
    assert_eq!(
        check(json!({ "user": ana, "permission": "users.manage" }))
            .await
            .body["allowed"],
        false
    );
    // Bad questions.
    let unknown =
        check(json!({ "user": "00000000-0000-0000-0000-000000000000", "role": viewer })).await;
    assert_eq!(
        unknown.fields(),
        vec![("user".to_owned(), "exists".to_owned())]
    );
    let unscoped = check(json!({ "user": ana, "role": viewer, "scope": "x" })).await;
    assert_eq!(
        unscoped.fields(),
        vec![("scope".to_owned(), "unscoped_role".to_owned())]
    );
    let neither = check(json!({ "user": ana })).await;
    assert_eq!(
        neither.fields(),
        vec![("role".to_owned(), "one_of".to_owned())]
    );
    let perm = check(json!({ "user": ana, "permission": "users.fly" })).await;
    assert_eq!(
        perm.fields(),
        vec![("permission".to_owned(), "one_of".to_owned())]
    );
    // Batches.
    let batch = t
        .post(a, "/api/v1/check/batch", json!({ "checks": [ { "user": ana, "role": viewer }, { "user": bob, "role": viewer }, { "user": ana, "role": approver } ] }))
        .await
        .expect(StatusCode::OK);
    let answers: Vec<bool> = batch.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["allowed"].as_bool().unwrap())
        .collect();
    assert_eq!(answers, vec![true, false, true]);
    let too_many: Vec<_> = (0..1001)
        .map(|_| json!({ "user": ana, "role": viewer }))
        .collect();
    let over = t
        .post(a, "/api/v1/check/batch", json!({ "checks": too_many }))
        .await;
    assert_eq!(
        over.fields(),
        vec![("checks".to_owned(), "max_items".to_owned())]
    );
    let bad_item = t.post(a, "/api/v1/check/batch", json!({ "checks": [ { "user": ana, "role": viewer }, { "user": ana, "role": viewer, "scope": "x" } ] })).await;
    assert_eq!(
        bad_item.fields(),
        vec![("checks[1].scope".to_owned(), "unscoped_role".to_owned())]
    );
    // Without access.check one may ask only about oneself.
    let bob_token = t.token_for(&bob).await;
    t.post(
        &bob_token,
        "/api/v1/check",
        json!({ "user": ana, "role": viewer }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        t.post(
            &bob_token,
            "/api/v1/check",
            json!({ "user": bob, "role": viewer })
        )
        .await
        .expect(StatusCode::OK)
        .body["allowed"],
        false
    );
    // A disabled user is never allowed.
    t.patch(
        a,
        &format!("/api/v1/users/{ana}"),
        json!({ "enabled": false }),
    )
    .await
    .expect(StatusCode::OK);
    let disabled = check(json!({ "user": ana, "role": viewer }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(disabled.body["allowed"], false);
    assert_eq!(disabled.body["reason"], "the user is disabled");
}
both!(checks_answer_allowed_and_explain);

#[tokio::test]
async fn responses_carry_the_revision_and_reads_can_wait_for_one() {
    let t = TestApp::new(Backend::Sqlite).await;
    let a = &t.admin;
    let revision = |answer: &crate::harness::Answer| -> i64 {
        answer
            .headers
            .get("latchkey-revision")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Latchkey-Revision header")
    };
    let before = revision(&t.get(a, "/api/v1/me").await.expect(StatusCode::OK));
    let created = t
        .post(a, "/api/v1/groups", json!({ "name": "Rev" }))
        .await
        .expect(StatusCode::CREATED);
    let written = revision(&created);
    assert!(
        written > before,
        "a write answers the revision it committed ({written} > {before})"
    );
    let read = t
        .call(
            Some(a),
            axum::http::Method::GET,
            "/api/v1/groups?q=Rev",
            None,
            &[("latchkey-min-revision", &written.to_string())],
        )
        .await
        .expect(StatusCode::OK);
    assert!(revision(&read) >= written);
    assert_eq!(read.body["items"][0]["name"], "Rev");
    let future = (written + 1000).to_string();
    let started = std::time::Instant::now();
    let waited = t
        .call(
            Some(a),
            axum::http::Method::GET,
            "/api/v1/me",
            None,
            &[("latchkey-min-revision", &future)],
        )
        .await;
    waited.problem(StatusCode::SERVICE_UNAVAILABLE, "revision_not_reached");
    assert!(
        started.elapsed() >= latchkey_service::MAX_REVISION_WAIT,
        "the wait is bounded, not skipped"
    );
    let bad = t
        .call(
            Some(a),
            axum::http::Method::GET,
            "/api/v1/me",
            None,
            &[("latchkey-min-revision", "soon")],
        )
        .await;
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}
