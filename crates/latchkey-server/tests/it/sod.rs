//! Segregation of duties: rules (CRUD, validation, audit, scoping), every write path that
//! can give a user roles refused with 409 `sod_forbidden` when it would make a forbidden
//! combination (direct grant, group grant, mandatory inheritance, non-mandatory children,
//! membership and its dates, primary group, group move, a group enabled again) and
//! changing nothing, low and high risks allowed
//! and shown on effective roles, `some` and `matrix` semantics, previews, and rules
//! created over combinations that already exist.

use axum::http::{Method, StatusCode};
use latchkey_testkit::Backend;
use serde_json::{Value, json};

use crate::both;
use crate::harness::TestApp;

/// A system with the roles `clerk`, `approver`, `payer`, `auditor`.
struct Books {
    system: String,
    clerk: String,
    approver: String,
    payer: String,
    auditor: String,
}

async fn books(t: &TestApp) -> Books {
    let a = &t.admin;
    let system = t.system(a, "Books").await;
    Books {
        clerk: t.role(a, &system, "clerk").await,
        approver: t.role(a, &system, "approver").await,
        payer: t.role(a, &system, "payer").await,
        auditor: t.role(a, &system, "auditor").await,
        system,
    }
}

async fn rule(t: &TestApp, body: Value) -> Value {
    t.post(&t.admin, "/api/v1/sod-rules", body)
        .await
        .expect(StatusCode::CREATED)
        .body
}

/// "Approvers do not pay": approver + payer forbidden.
async fn forbid_pay_and_approve(t: &TestApp, b: &Books) -> String {
    rule(
        t,
        json!({ "name": "Approvers do not pay", "system_id": b.system, "kind": "all",
                "risk": "forbidden", "role_ids": [b.approver, b.payer] }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Asserts a 409 `sod_forbidden` naming the rule, the roles and the user.
#[track_caller]
fn refused(answer: crate::harness::Answer, rule: &str, roles: &[&str], user: &str) {
    let body = answer.problem(StatusCode::CONFLICT, "sod_forbidden");
    let detail = body["detail"].as_str().unwrap_or_default().to_owned();
    assert!(
        detail.contains(&format!("`{rule}`")),
        "names the rule: {detail}"
    );
    for r in roles {
        assert!(detail.contains(&format!("`{r}`")), "names `{r}`: {detail}");
    }
    assert!(
        detail.contains(&format!("`{user}`")),
        "names `{user}`: {detail}"
    );
}

async fn grants_of(t: &TestApp, user: &str) -> usize {
    t.get(&t.admin, &format!("/api/v1/grants?user_id={user}"))
        .await
        .expect(StatusCode::OK)
        .body["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn effective(t: &TestApp, user: &str) -> Value {
    t.get(&t.admin, &format!("/api/v1/users/{user}/effective-roles"))
        .await
        .expect(StatusCode::OK)
        .body
}

fn role_named<'a>(roles: &'a Value, name: &str) -> &'a Value {
    roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role_name"] == name)
        .unwrap_or_else(|| panic!("{name} not held: {roles}"))
}

async fn rules_crud_and_validation(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let b = books(&t).await;
    let bank = t.system(a, "Bank").await;

    let created = t
        .post(
            a,
            "/api/v1/sod-rules",
            json!({ "name": "Approvers do not pay", "system_id": b.system, "kind": "all",
                    "risk": "forbidden", "role_ids": [b.approver, b.payer],
                    "description": "four eyes" }),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created.headers.get("etag").unwrap(), "\"1\"");
    let id = created.id();
    let body = &created.body;
    assert_eq!(body["kind"], "all");
    assert_eq!(body["risk"], "forbidden");
    assert_eq!(body["role_ids"], json!([b.approver, b.payer]));
    assert_eq!(body["threshold"], Value::Null);
    assert_eq!(body["violating_users"], 0);
    assert_eq!(body["version"], 1);

    let read = t
        .get(a, &format!("/api/v1/sod-rules/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(read.body["description"], "four eyes");
    let matrix = rule(
        &t,
        json!({ "name": "Bank matrix", "system_id": bank, "kind": "matrix",
                "role_ids": [b.clerk, b.approver, b.auditor],
                "matrix": [ { "a": b.clerk, "b": b.approver, "risk": "low" },
                            { "a": b.approver, "b": b.auditor, "risk": "high" } ] }),
    )
    .await;
    assert_eq!(
        matrix["risk"], "high",
        "a matrix rule's risk is its worst pair"
    );
    let list = t
        .get(a, "/api/v1/sod-rules")
        .await
        .expect(StatusCode::OK)
        .body;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Approvers do not pay", "Bank matrix"]);
    let by_system = t
        .get(a, &format!("/api/v1/sod-rules?system_id={bank}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(by_system["items"].as_array().unwrap().len(), 1);
    let paged = t
        .get(a, "/api/v1/sod-rules?limit=1")
        .await
        .expect(StatusCode::OK)
        .body;
    let cursor = paged["next_cursor"].as_str().unwrap();
    let second = t
        .get(a, &format!("/api/v1/sod-rules?limit=1&cursor={cursor}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(second["items"][0]["name"], "Bank matrix");

    // Update with If-Match; a stale version is refused.
    let updated = t
        .call(
            Some(a),
            Method::PATCH,
            &format!("/api/v1/sod-rules/{id}"),
            Some(json!({ "name": "Pay or approve", "role_ids": [b.approver, b.payer, b.clerk] })),
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(updated.body["name"], "Pay or approve");
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.headers.get("etag").unwrap(), "\"2\"");
    t.call(
        Some(a),
        Method::PATCH,
        &format!("/api/v1/sod-rules/{id}"),
        Some(json!({ "risk": "low" })),
        &[("if-match", "\"1\"")],
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    // Changing the kind to `some` needs a threshold, and takes it.
    let some = t
        .patch(
            a,
            &format!("/api/v1/sod-rules/{id}"),
            json!({ "kind": "some", "threshold": 2 }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(some.body["threshold"], 2);
    assert_eq!(some.body["risk"], "forbidden", "the risk carries over");

    // Validation: every field at fault, named with its rule.
    let cases = [
        (
            json!({ "name": "x", "system_id": b.system, "kind": "all", "risk": "high",
                    "role_ids": [b.approver, "01900000-0000-7000-8000-00000000dead"] }),
            ("role_ids", "exists"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "all", "risk": "high",
                    "role_ids": [b.approver] }),
            ("role_ids", "min_items"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "all", "risk": "high",
                    "role_ids": [b.approver, b.approver] }),
            ("role_ids", "unique"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "some", "risk": "high",
                    "role_ids": [b.approver, b.payer], "threshold": 2 }),
            ("threshold", "range"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "some", "risk": "high",
                    "role_ids": [b.approver, b.payer], "threshold": 0 }),
            ("threshold", "range"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "some", "risk": "high",
                    "role_ids": [b.approver, b.payer] }),
            ("threshold", "required"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "all", "risk": "high",
                    "role_ids": [b.approver, b.payer], "threshold": 1 }),
            ("threshold", "not_allowed"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "matrix",
                    "role_ids": [b.approver, b.payer],
                    "matrix": [ { "a": b.approver, "b": b.clerk, "risk": "high" } ] }),
            ("matrix[0]", "in_roles"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "matrix",
                    "role_ids": [b.approver, b.payer],
                    "matrix": [ { "a": b.approver, "b": b.payer, "risk": "high" },
                                { "a": b.payer, "b": b.approver, "risk": "low" } ] }),
            ("matrix[1]", "unique"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "matrix", "risk": "low",
                    "role_ids": [b.approver, b.payer],
                    "matrix": [ { "a": b.approver, "b": b.payer, "risk": "high" } ] }),
            ("risk", "matrix_derived"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "matrix",
                    "role_ids": [b.approver, b.payer] }),
            ("matrix", "required"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "pairs", "risk": "high",
                    "role_ids": [b.approver, b.payer] }),
            ("kind", "one_of"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "all", "risk": "medium",
                    "role_ids": [b.approver, b.payer] }),
            ("risk", "one_of"),
        ),
        (
            json!({ "name": "x", "system_id": b.system, "kind": "all",
                    "role_ids": [b.approver, b.payer] }),
            ("risk", "required"),
        ),
        (
            json!({ "name": " ", "system_id": b.system, "kind": "all", "risk": "low",
                    "role_ids": [b.approver, b.payer] }),
            ("name", "required"),
        ),
        (
            json!({ "name": "x", "system_id": "01900000-0000-7000-8000-00000000beef",
                    "kind": "all", "risk": "low", "role_ids": [b.approver, b.payer] }),
            ("system_id", "exists"),
        ),
    ];
    for (body, (field, rule)) in cases {
        let answer = t.post(a, "/api/v1/sod-rules", body.clone()).await;
        let fields = answer.fields();
        answer.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(
            fields.contains(&(field.to_owned(), rule.to_owned())),
            "{body} should fail on ({field}, {rule}), got {fields:?}"
        );
    }
    // Names are unique per system.
    t.post(
        a,
        "/api/v1/sod-rules",
        json!({ "name": "Bank matrix", "system_id": bank, "kind": "all", "risk": "low",
                "role_ids": [b.approver, b.payer] }),
    )
    .await
    .problem(StatusCode::CONFLICT, "already_exists");
    rule(
        &t,
        json!({ "name": "Bank matrix", "system_id": b.system, "kind": "all", "risk": "low",
                "role_ids": [b.approver, b.payer] }),
    )
    .await;
    // A role named by a rule cannot be deleted.
    let refusal = t
        .delete(a, &format!("/api/v1/roles/{}", b.auditor))
        .await
        .problem(StatusCode::CONFLICT, "in_use");
    assert!(refusal["detail"].as_str().unwrap().contains("Bank matrix"));

    // Delete, audited.
    t.delete(a, &format!("/api/v1/sod-rules/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.get(a, &format!("/api/v1/sod-rules/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let audit = t
        .get(a, "/api/v1/audit?limit=1000")
        .await
        .expect(StatusCode::OK)
        .body
        .to_string();
    for action in ["sod_rule.create", "sod_rule.update", "sod_rule.delete"] {
        assert!(audit.contains(action), "{action} is audited");
    }
}

async fn direct_grants_refused_or_shown(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let b = books(&t).await;
    let g = t.group(a, "Finance", None).await;
    let ana = t.user(a, "ana", &g).await;
    forbid_pay_and_approve(&t, &b).await;
    rule(
        &t,
        json!({ "name": "Clerks approve carefully", "system_id": b.system, "kind": "all",
                "risk": "low", "role_ids": [b.clerk, b.approver] }),
    )
    .await;
    rule(
        &t,
        json!({ "name": "Audit apart", "system_id": b.system, "kind": "all",
                "risk": "high", "role_ids": [b.approver, b.auditor] }),
    )
    .await;

    t.grant_user(a, &b.approver, &ana, None)
        .await
        .expect(StatusCode::CREATED);
    refused(
        t.grant_user(a, &b.payer, &ana, None).await,
        "Approvers do not pay",
        &["approver", "payer"],
        "ana",
    );
    assert_eq!(grants_of(&t, &ana).await, 1, "nothing granted");

    // Low and high: allowed, and shown on the roles that make them.
    t.grant_user(a, &b.clerk, &ana, None)
        .await
        .expect(StatusCode::CREATED);
    t.grant_user(a, &b.auditor, &ana, None)
        .await
        .expect(StatusCode::CREATED);
    let roles = effective(&t, &ana).await;
    assert_eq!(role_named(&roles, "clerk")["sod"]["risk"], "low");
    assert_eq!(
        role_named(&roles, "clerk")["sod"]["rules"][0]["name"],
        "Clerks approve carefully"
    );
    assert_eq!(role_named(&roles, "auditor")["sod"]["risk"], "high");
    let approver = &role_named(&roles, "approver")["sod"];
    assert_eq!(approver["risk"], "high", "the worst of its combinations");
    assert_eq!(approver["rules"].as_array().unwrap().len(), 2);
    // A role in no risky combination has no `sod` field at all.
    let bob = t.user(a, "bob", &g).await;
    t.grant_user(a, &b.payer, &bob, None)
        .await
        .expect(StatusCode::CREATED);
    let roles = effective(&t, &bob).await;
    assert!(role_named(&roles, "payer").get("sod").is_none());
}

async fn group_paths_refused(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let b = books(&t).await;
    let root = t.group(a, "Company", None).await;
    let finance = t.group(a, "Finance", Some(&root)).await;
    let payables = t.group(a, "Payables", Some(&finance)).await;
    let ops = t.group(a, "Operations", Some(&root)).await;
    let team = t.group(a, "Team", Some(&root)).await;
    let bea = t.user(a, "bea", &payables).await;
    let cal = t.user(a, "cal", &root).await;
    let eve = t.user(a, "eve", &team).await;
    // cal is a secondary member of Finance.
    t.post(
        a,
        "/api/v1/memberships",
        json!({ "user_id": cal, "group_id": finance }),
    )
    .await
    .expect(StatusCode::CREATED);
    forbid_pay_and_approve(&t, &b).await;
    t.grant_user(a, &b.approver, &cal, None)
        .await
        .expect(StatusCode::CREATED);
    t.grant_user(a, &b.approver, &eve, None)
        .await
        .expect(StatusCode::CREATED);

    // A grant to Finance reaches cal (secondary member): refused, nothing granted.
    refused(
        t.post(
            a,
            "/api/v1/grants",
            json!({ "role_id": b.payer, "group_id": finance }),
        )
        .await,
        "Approvers do not pay",
        &["approver", "payer"],
        "cal",
    );
    let finance_grants = t
        .get(a, &format!("/api/v1/grants?group_id={finance}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(finance_grants["items"].as_array().unwrap().is_empty());
    // Payables (bea only) may have it; Operations too (nobody yet).
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": b.payer, "group_id": payables }),
    )
    .await
    .expect(StatusCode::CREATED);
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": b.payer, "group_id": ops }),
    )
    .await
    .expect(StatusCode::CREATED);
    // bea is below Payables: she cannot be made an approver.
    refused(
        t.grant_user(a, &b.approver, &bea, None).await,
        "Approvers do not pay",
        &["approver", "payer"],
        "bea",
    );

    // eve (approver) joining Operations: refused, no membership.
    refused(
        t.post(
            a,
            "/api/v1/memberships",
            json!({ "user_id": eve, "group_id": ops }),
        )
        .await,
        "Approvers do not pay",
        &["approver", "payer"],
        "eve",
    );
    let memberships = t
        .get(a, &format!("/api/v1/memberships?user_id={eve}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(memberships["items"].as_array().unwrap().is_empty());
    // A membership of eve's in Operations that ended long ago: new dates would revive it.
    let old = t
        .post(
            a,
            "/api/v1/memberships",
            json!({ "user_id": eve, "group_id": ops, "starts_at": "2020-01-01T00:00:00Z",
                    "ends_at": "2020-02-01T00:00:00Z" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    refused(
        t.patch(
            a,
            &format!("/api/v1/memberships/{old}"),
            json!({ "ends_at": null }),
        )
        .await,
        "Approvers do not pay",
        &["approver", "payer"],
        "eve",
    );
    t.delete(a, &format!("/api/v1/memberships/{old}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    // A disabled group passes nothing on, so eve may join it; enabling it again is refused.
    let vault = t.group(a, "Vault", Some(&root)).await;
    t.post(
        a,
        "/api/v1/grants",
        json!({ "role_id": b.payer, "group_id": vault }),
    )
    .await
    .expect(StatusCode::CREATED);
    t.patch(
        a,
        &format!("/api/v1/groups/{vault}"),
        json!({ "disabled": true }),
    )
    .await
    .expect(StatusCode::OK);
    t.post(
        a,
        "/api/v1/memberships",
        json!({ "user_id": eve, "group_id": vault }),
    )
    .await
    .expect(StatusCode::CREATED);
    refused(
        t.patch(
            a,
            &format!("/api/v1/groups/{vault}"),
            json!({ "disabled": false }),
        )
        .await,
        "Approvers do not pay",
        &["approver", "payer"],
        "eve",
    );
    // eve's primary group becoming Operations: refused.
    refused(
        t.patch(
            a,
            &format!("/api/v1/users/{eve}"),
            json!({ "primary_group_id": ops }),
        )
        .await,
        "Approvers do not pay",
        &["approver", "payer"],
        "eve",
    );
    let eve_now = t
        .get(a, &format!("/api/v1/users/{eve}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(eve_now["primary_group_id"], team.as_str());
    // Team moving under Operations: refused, Team stays.
    refused(
        t.patch(
            a,
            &format!("/api/v1/groups/{team}"),
            json!({ "parent_id": ops }),
        )
        .await,
        "Approvers do not pay",
        &["approver", "payer"],
        "eve",
    );
    let team_now = t
        .get(a, &format!("/api/v1/groups/{team}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(team_now["parent_id"], root.as_str());
    // Moving Payables (bea: payer through it) out from under Finance is fine, and a
    // primary-group change that drops the payer role is too.
    t.patch(
        a,
        &format!("/api/v1/users/{bea}"),
        json!({ "primary_group_id": team }),
    )
    .await
    .expect(StatusCode::OK);
    t.grant_user(a, &b.approver, &bea, None)
        .await
        .expect(StatusCode::CREATED);
}

async fn inheritance_paths_refused(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let b = books(&t).await;
    let g = t.group(a, "Finance", None).await;
    let dan = t.user(a, "dan", &g).await;
    let treasurer = t.role(a, &b.system, "treasurer").await;
    let boss = t.role(a, &b.system, "boss").await;
    forbid_pay_and_approve(&t, &b).await;
    t.grant_user(a, &b.approver, &dan, None)
        .await
        .expect(StatusCode::CREATED);
    t.grant_user(a, &treasurer, &dan, None)
        .await
        .expect(StatusCode::CREATED);

    // A mandatory edge treasurer -> payer would give every treasurer payer: dan approves.
    refused(
        t.post(
            a,
            &format!("/api/v1/roles/{treasurer}/granted-roles"),
            json!({ "role_id": b.payer, "mandatory": true }),
        )
        .await,
        "Approvers do not pay",
        &["approver", "payer"],
        "dan",
    );
    let edges = t
        .get(a, &format!("/api/v1/roles/{treasurer}/granted-roles"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(edges, json!([]), "no edge was added");
    // Not mandatory: nobody gains anything now, so it is allowed...
    t.post(
        a,
        &format!("/api/v1/roles/{treasurer}/granted-roles"),
        json!({ "role_id": b.payer, "mandatory": false }),
    )
    .await
    .expect(StatusCode::CREATED);
    // ...but granting treasurer to an approver would materialise payer.
    let eli = t.user(a, "eli", &g).await;
    t.grant_user(a, &b.approver, &eli, None)
        .await
        .expect(StatusCode::CREATED);
    refused(
        t.grant_user(a, &treasurer, &eli, None).await,
        "Approvers do not pay",
        &["approver", "payer"],
        "eli",
    );
    assert_eq!(grants_of(&t, &eli).await, 1);
    // A role that mandatorily brings payer cannot be granted to an approver either.
    t.post(
        a,
        &format!("/api/v1/roles/{boss}/granted-roles"),
        json!({ "role_id": b.payer, "mandatory": true }),
    )
    .await
    .expect(StatusCode::CREATED);
    refused(
        t.grant_user(a, &boss, &eli, None).await,
        "Approvers do not pay",
        &["approver", "payer"],
        "eli",
    );
}

async fn some_and_matrix(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let b = books(&t).await;
    let g = t.group(a, "Finance", None).await;
    let fay = t.user(a, "fay", &g).await;
    let gus = t.user(a, "gus", &g).await;
    // No more than two of clerk, approver, payer.
    rule(
        &t,
        json!({ "name": "Two hats at most", "system_id": b.system, "kind": "some",
                "risk": "forbidden", "threshold": 2,
                "role_ids": [b.clerk, b.approver, b.payer] }),
    )
    .await;
    t.grant_user(a, &b.clerk, &fay, None)
        .await
        .expect(StatusCode::CREATED);
    t.grant_user(a, &b.payer, &fay, None)
        .await
        .expect(StatusCode::CREATED);
    refused(
        t.grant_user(a, &b.approver, &fay, None).await,
        "Two hats at most",
        &["clerk", "approver", "payer"],
        "fay",
    );
    // A matrix: clerk+auditor low, payer+auditor forbidden.
    let matrix = rule(
        &t,
        json!({ "name": "Audit matrix", "system_id": b.system, "kind": "matrix",
                "role_ids": [b.clerk, b.payer, b.auditor],
                "matrix": [ { "a": b.clerk, "b": b.auditor, "risk": "low" },
                            { "a": b.payer, "b": b.auditor, "risk": "forbidden" } ] }),
    )
    .await;
    assert_eq!(matrix["risk"], "forbidden");
    t.grant_user(a, &b.clerk, &gus, None)
        .await
        .expect(StatusCode::CREATED);
    t.grant_user(a, &b.auditor, &gus, None)
        .await
        .expect(StatusCode::CREATED);
    let roles = effective(&t, &gus).await;
    assert_eq!(role_named(&roles, "auditor")["sod"]["risk"], "low");
    refused(
        t.grant_user(a, &b.payer, &gus, None).await,
        "Audit matrix",
        &["payer", "auditor"],
        "gus",
    );
    // fay (clerk, payer) may not audit either: the payer/auditor cell.
    refused(
        t.grant_user(a, &b.auditor, &fay, None).await,
        "Audit matrix",
        &["payer", "auditor"],
        "fay",
    );
}

async fn previews_and_older_combinations(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let b = books(&t).await;
    let g = t.group(a, "Finance", None).await;
    let hal = t.user(a, "hal", &g).await;
    let ivy = t.user(a, "ivy", &g).await;
    let jon = t.user(a, "jon", &g).await;
    for u in [&hal, &ivy] {
        t.grant_user(a, &b.approver, u, None)
            .await
            .expect(StatusCode::CREATED);
        t.grant_user(a, &b.payer, u, None)
            .await
            .expect(StatusCode::CREATED);
    }
    t.grant_user(a, &b.approver, &jon, None)
        .await
        .expect(StatusCode::CREATED);
    let body = json!({ "name": "Approvers do not pay", "system_id": b.system, "kind": "all",
                       "risk": "forbidden", "role_ids": [b.approver, b.payer] });
    let preview = t
        .post(a, "/api/v1/sod-rules/preview", body.clone())
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(preview["total"], 2);
    let users: Vec<&str> = preview["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_name"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["hal", "ivy"]);
    assert_eq!(preview["users"][0]["risk"], "forbidden");
    let roles: Vec<&str> = preview["users"][0]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["approver", "payer"]);
    // A preview saves nothing; a bad body is refused like a create.
    let list = t
        .get(a, "/api/v1/sod-rules")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(list["items"].as_array().unwrap().is_empty());
    t.post(
        a,
        "/api/v1/sod-rules/preview",
        json!({ "name": "x", "system_id": b.system, "kind": "all", "risk": "low", "role_ids": [b.payer] }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // Created anyway: allowed, the count reported, one alert raised; nobody loses a role.
    let created = rule(&t, body).await;
    assert_eq!(created["violating_users"], 2);
    let id = created["id"].as_str().unwrap().to_owned();
    let alerts = t
        .get(a, "/api/v1/security/alerts")
        .await
        .expect(StatusCode::OK)
        .body;
    let sod_alerts: Vec<&Value> = alerts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["rule"] == "sod.violation")
        .collect();
    assert_eq!(sod_alerts.len(), 1, "one alert: {alerts}");
    assert!(
        sod_alerts[0]["summary"]
            .as_str()
            .unwrap()
            .contains("2 users")
    );
    assert_eq!(grants_of(&t, &hal).await, 2);
    // The older combination shows as forbidden on hal's roles...
    let roles = effective(&t, &hal).await;
    assert_eq!(role_named(&roles, "payer")["sod"]["risk"], "forbidden");
    // ...and does not block an unrelated grant to hal.
    t.grant_user(a, &b.clerk, &hal, None)
        .await
        .expect(StatusCode::CREATED);
    // jon may still not pay.
    refused(
        t.grant_user(a, &b.payer, &jon, None).await,
        "Approvers do not pay",
        &["approver", "payer"],
        "jon",
    );

    // The saved rule's preview, as saved and with a change not saved.
    let saved = t
        .post(a, &format!("/api/v1/sod-rules/{id}/preview"), json!({}))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(saved["total"], 2);
    let wider = t
        .post(
            a,
            &format!("/api/v1/sod-rules/{id}/preview"),
            json!({ "kind": "some", "threshold": 1, "role_ids": [b.approver, b.payer, b.clerk], "risk": "high" }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    // hal now holds all three, ivy two; jon's one role is within the threshold.
    assert_eq!(wider["total"], 2, "{wider}");
    assert_eq!(wider["users"][0]["roles"].as_array().unwrap().len(), 3);
    assert_eq!(wider["users"][0]["risk"], "high");
    assert_eq!(wider["rule"]["risk"], "high");
    let still = t
        .get(a, &format!("/api/v1/sod-rules/{id}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(still["kind"], "all", "a preview changes nothing");
}

async fn rules_are_scoped(backend: Backend) {
    let t = TestApp::new(backend).await;
    let a = &t.admin;
    let b = books(&t).await;
    let id = forbid_pay_and_approve(&t, &b).await;
    let other = t
        .post(
            a,
            "/api/v1/organisations",
            json!({ "name": "Other Corp", "slug": "other" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body;
    let o = other["admin_token"].as_str().unwrap().to_owned();
    t.get(&o, &format!("/api/v1/sod-rules/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.patch(
        &o,
        &format!("/api/v1/sod-rules/{id}"),
        json!({ "risk": "low" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    t.delete(&o, &format!("/api/v1/sod-rules/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.post(&o, &format!("/api/v1/sod-rules/{id}/preview"), json!({}))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let theirs = t
        .get(&o, "/api/v1/sod-rules")
        .await
        .expect(StatusCode::OK)
        .body;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    // Their own system cannot borrow our roles.
    let their_system = t.system(&o, "Theirs").await;
    let answer = t
        .post(
            &o,
            "/api/v1/sod-rules",
            json!({ "name": "Borrowed", "system_id": their_system, "kind": "all",
                    "risk": "forbidden", "role_ids": [b.approver, b.payer] }),
        )
        .await;
    assert!(
        answer
            .fields()
            .contains(&("role_ids".to_owned(), "exists".to_owned()))
    );
    answer.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // A user without sod.manage (nor systems.view) may neither manage nor read rules.
    let g = t.group(a, "Staff", None).await;
    let kim = t.user(a, "kim", &g).await;
    let token = t.token_for(&kim).await;
    t.post(
        &token,
        "/api/v1/sod-rules",
        json!({ "name": "Mine", "system_id": b.system, "kind": "all", "risk": "low",
                "role_ids": [b.approver, b.payer] }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    t.get(&token, "/api/v1/sod-rules")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.delete(&token, &format!("/api/v1/sod-rules/{id}"))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.post(&token, "/api/v1/sod-rules/preview", json!({}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
}

both!(rules_crud_and_validation);
both!(direct_grants_refused_or_shown);
both!(group_paths_refused);
both!(inheritance_paths_refused);
both!(some_and_matrix);
both!(previews_and_older_combinations);
both!(rules_are_scoped);
