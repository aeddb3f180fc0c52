//! Password sign-in, lockout, sessions, password policies and the Security Center's events,
//! through the REST API.

use std::sync::Arc;

use axum::http::StatusCode;
use latchkey_model::FixedClock;
use latchkey_testkit::Backend;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::both;
use crate::harness::TestApp;

/// The admin's root group id.
pub(crate) async fn root_group(t: &TestApp) -> String {
    let groups = t
        .get(&t.admin, "/api/v1/groups?parent_id=root")
        .await
        .expect(StatusCode::OK);
    groups.body["items"][0]["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn user_with(t: &TestApp, body: Value) -> String {
    t.post(&t.admin, "/api/v1/users", body)
        .await
        .expect(StatusCode::CREATED)
        .id()
}

pub(crate) async fn set_password(t: &TestApp, user: &str, password: &str) {
    t.put(
        &t.admin,
        &format!("/api/v1/users/{user}/password"),
        json!({ "password": password }),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
}

pub(crate) async fn sign_in(
    t: &TestApp,
    user_name: &str,
    password: &str,
) -> crate::harness::Answer {
    t.post_public(
        "/api/v1/auth/password",
        json!({ "user_name": user_name, "password": password }),
    )
    .await
}

/// The kinds of the organisation's security events, oldest first.
pub(crate) async fn event_kinds(t: &TestApp, query: &str) -> Vec<(String, Value)> {
    let page = t
        .get(
            &t.admin,
            &format!("/api/v1/security/events?order=asc&{query}"),
        )
        .await
        .expect(StatusCode::OK);
    page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_owned(), e["detail"].clone()))
        .collect()
}

async fn a_password_opens_a_session_and_every_attempt_is_an_event(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let ana = user_with(
        &t,
        json!({ "user_name": "ana", "first_name": "Ana", "last_name": "Diaz", "primary_group_id": g }),
    )
    .await;
    // No password yet: like a wrong one.
    sign_in(&t, "ana", "correct horse battery")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    set_password(&t, &ana, "correct horse battery").await;

    let signed = sign_in(&t, "ana", "correct horse battery")
        .await
        .expect(StatusCode::OK)
        .body;
    let token = signed["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("lks_"), "{signed}");
    assert_eq!(signed["user_id"], ana.as_str());
    let me = t
        .get(&token, "/api/v1/me")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(me["user_name"], "ana");

    // A wrong password and an unknown user read exactly the same.
    let wrong = sign_in(&t, "ana", "wrong horse battery")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let unknown = sign_in(&t, "nobody", "correct horse battery")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(wrong["detail"], unknown["detail"]);

    // Bad input changes nothing and names the field.
    let missing = t
        .post_public("/api/v1/auth/password", json!({ "user_name": "ana" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(missing["errors"][0]["field"], "password");
    let huge = "x".repeat(5000);
    let too_long = sign_in(&t, "ana", &huge).await;
    assert_eq!(
        too_long.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_long.text
    );
    assert_eq!(
        too_long.fields(),
        vec![("password".to_owned(), "max_length".to_owned())]
    );

    // Listing shows the session, marked current, without its secret.
    let sessions = t
        .get(&token, "/api/v1/sessions")
        .await
        .expect(StatusCode::OK);
    let list = sessions.body.as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", sessions.text);
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[0]["method"], "password");
    assert!(!sessions.text.contains(&token) && !sessions.text.contains("token_hash"));

    let kinds = event_kinds(&t, "").await;
    let names: Vec<&str> = kinds.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "sign_in.failed",
            "recovery.password_reset",
            "sign_in.succeeded",
            "sign_in.failed",
            "sign_in.failed",
        ],
        "{kinds:?}"
    );
    assert_eq!(kinds[0].1["reason"], "wrong_password");
    assert_eq!(kinds[3].1["reason"], "wrong_password");
    assert_eq!(kinds[4].1["reason"], "unknown_user");
    let failed = event_kinds(&t, "kind=sign_in.failed").await;
    assert_eq!(failed.len(), 3);
    assert_eq!(event_kinds(&t, "kind=sign_in.").await.len(), 4);
    let ana_only = event_kinds(&t, &format!("user_id={ana}")).await;
    assert_eq!(ana_only.len(), 4, "the unknown user's failure is nobody's");
    let csv = t
        .get(&t.admin, "/api/v1/security/events?format=csv")
        .await
        .expect(StatusCode::OK);
    assert!(csv.text.lines().count() == 6, "{}", csv.text);
    assert!(
        !csv.text.contains("correct horse"),
        "no password reaches events"
    );

    // Signing out ends the session everywhere.
    t.post(&token, "/api/v1/auth/sign-out", json!({}))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.get(&token, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // An API token has no session to end.
    t.post(&t.admin, "/api/v1/auth/sign-out", json!({}))
        .await
        .problem(StatusCode::CONFLICT, "not_a_session");
}
both!(a_password_opens_a_session_and_every_attempt_is_an_event);

async fn five_failures_lock_the_account_for_five_minutes(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let g = root_group(&t).await;
    let bo = user_with(
        &t,
        json!({ "user_name": "bo", "first_name": "Bo", "last_name": "Li", "primary_group_id": g }),
    )
    .await;
    set_password(&t, &bo, "a long enough secret").await;
    for _ in 0..4 {
        sign_in(&t, "bo", "not the secret")
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    let locked = sign_in(&t, "bo", "not the secret")
        .await
        .problem(StatusCode::LOCKED, "locked");
    assert!(
        locked["detail"]
            .as_str()
            .unwrap()
            .contains("2026-11-23T10:05:00Z"),
        "{locked}"
    );
    // Even the right password waits.
    sign_in(&t, "bo", "a long enough secret")
        .await
        .problem(StatusCode::LOCKED, "locked");
    clock.advance(time::Duration::minutes(4));
    sign_in(&t, "bo", "a long enough secret")
        .await
        .problem(StatusCode::LOCKED, "locked");
    clock.advance(time::Duration::minutes(1));
    sign_in(&t, "bo", "a long enough secret")
        .await
        .expect(StatusCode::OK);
    // A success starts the count again.
    for _ in 0..4 {
        sign_in(&t, "bo", "not the secret")
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    sign_in(&t, "bo", "a long enough secret")
        .await
        .expect(StatusCode::OK);

    let locks = event_kinds(&t, "kind=sign_in.locked").await;
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert_eq!(locks[0].1["failures"], 5);
    let refused = event_kinds(&t, "kind=sign_in.failed").await;
    let while_locked = refused
        .iter()
        .filter(|(_, d)| d["reason"] == "locked")
        .count();
    assert_eq!(while_locked, 2, "{refused:?}");
}
both!(five_failures_lock_the_account_for_five_minutes);

async fn one_session_without_multi_session_and_administrators_end_others(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let single = user_with(
        &t,
        json!({ "user_name": "sol", "first_name": "Sol", "last_name": "A", "primary_group_id": g, "multi_session": false }),
    )
    .await;
    let multi = user_with(
        &t,
        json!({ "user_name": "mia", "first_name": "Mia", "last_name": "B", "primary_group_id": g, "multi_session": true }),
    )
    .await;
    set_password(&t, &single, "sol's long password").await;
    set_password(&t, &multi, "mia's long password").await;

    let first = sign_in(&t, "sol", "sol's long password")
        .await
        .expect(StatusCode::OK)
        .body;
    let second = sign_in(&t, "sol", "sol's long password")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(second["ended_sessions"], 1, "{second}");
    let first_token = first["token"].as_str().unwrap();
    let sol = second["token"].as_str().unwrap().to_owned();
    t.get(first_token, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    t.get(&sol, "/api/v1/me").await.expect(StatusCode::OK);

    let m1 = sign_in(&t, "mia", "mia's long password")
        .await
        .expect(StatusCode::OK)
        .body;
    let m2 = sign_in(&t, "mia", "mia's long password")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(m2["ended_sessions"], 0);
    let (m1_token, m2_token) = (m1["token"].as_str().unwrap(), m2["token"].as_str().unwrap());
    t.get(m1_token, "/api/v1/me").await.expect(StatusCode::OK);

    // Someone else's sessions are neither listed nor ended without users.manage.
    t.get(&sol, &format!("/api/v1/users/{multi}/sessions"))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let m1_id = m1["session_id"].as_str().unwrap();
    t.delete(&sol, &format!("/api/v1/sessions/{m1_id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.get(m1_token, "/api/v1/me").await.expect(StatusCode::OK);

    // The administrator sees both and ends one.
    let listed = t
        .get(&t.admin, &format!("/api/v1/users/{multi}/sessions"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed.body.as_array().unwrap().len(), 2, "{}", listed.text);
    t.delete(&t.admin, &format!("/api/v1/sessions/{m1_id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    t.get(m1_token, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    t.get(m2_token, "/api/v1/me").await.expect(StatusCode::OK);
    let revoked = event_kinds(&t, "kind=session.revoked").await;
    let reasons: Vec<&str> = revoked
        .iter()
        .map(|(_, d)| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["single_session", "administrator"]);

    // A reset ends every session of the user.
    set_password(&t, &multi, "mia's newer password").await;
    t.get(m2_token, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // Only the Security Center's readers read its events.
    t.get(&sol, "/api/v1/security/events")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}
both!(one_session_without_multi_session_and_administrators_end_others);

async fn password_policies_per_user_type_with_history_and_expiry(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let g = root_group(&t).await;
    let a = &t.admin;

    let built_in = t
        .get(a, "/api/v1/password-policy")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(built_in["source"], "built_in");
    assert_eq!(built_in["min_length"], 12);
    let out_of_range = t
        .put(
            a,
            "/api/v1/password-policy",
            json!({ "min_length": 7, "require_lowercase": false, "require_uppercase": false, "require_digit": false, "require_symbol": false, "history": 30, "expiry_days": 0 }),
        )
        .await;
    assert_eq!(out_of_range.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        out_of_range.fields(),
        vec![
            ("min_length".to_owned(), "range".to_owned()),
            ("history".to_owned(), "range".to_owned()),
            ("expiry_days".to_owned(), "range".to_owned()),
        ]
    );
    assert_eq!(
        t.get(a, "/api/v1/password-policy").await.body["source"],
        "built_in",
        "a refused policy changes nothing"
    );

    let contractor = t
        .post(
            a,
            "/api/v1/metadata/user-types",
            json!({ "code": "contractor" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let strict = json!({ "min_length": 16, "require_lowercase": true, "require_uppercase": false, "require_digit": true, "require_symbol": true, "history": 5, "expiry_days": 30 });
    let set = t
        .put(
            a,
            &format!("/api/v1/metadata/user-types/{contractor}/password-policy"),
            strict,
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(set["source"], "user_type");

    let cy = user_with(
        &t,
        json!({ "user_name": "cy", "first_name": "Cy", "last_name": "C", "primary_group_id": g, "user_type": "contractor" }),
    )
    .await;
    let weak = t
        .put(
            a,
            &format!("/api/v1/users/{cy}/password"),
            json!({ "password": "abcdefghijklmnop" }),
        )
        .await;
    assert_eq!(
        weak.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        weak.text
    );
    assert_eq!(
        weak.fields(),
        vec![
            ("password".to_owned(), "digit".to_owned()),
            ("password".to_owned(), "symbol".to_owned()),
        ]
    );
    set_password(&t, &cy, "abcdefghijklmno1!").await;
    let session = sign_in(&t, "cy", "abcdefghijklmno1!")
        .await
        .expect(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Reusing a recent password is refused; a wrong current password too.
    let reuse = t
        .put(
            &session,
            "/api/v1/me/password",
            json!({ "current_password": "abcdefghijklmno1!", "new_password": "abcdefghijklmno1!" }),
        )
        .await;
    assert_eq!(
        reuse.fields(),
        vec![("new_password".to_owned(), "history".to_owned())]
    );
    let wrong = t
        .put(
            &session,
            "/api/v1/me/password",
            json!({ "current_password": "nope", "new_password": "zyxwvutsrqponml2?" }),
        )
        .await;
    assert_eq!(
        wrong.fields(),
        vec![("current_password".to_owned(), "matches".to_owned())]
    );
    t.put(
        &session,
        "/api/v1/me/password",
        json!({ "current_password": "abcdefghijklmno1!", "new_password": "zyxwvutsrqponml2?" }),
    )
    .await
    .expect(StatusCode::NO_CONTENT);

    // Thirty days later the password has expired: sign-in refuses until it is changed.
    clock.advance(time::Duration::days(31));
    sign_in(&t, "cy", "zyxwvutsrqponml2?")
        .await
        .problem(StatusCode::FORBIDDEN, "password_expired");
    t.post_public(
        "/api/v1/auth/password/change",
        json!({ "user_name": "cy", "current_password": "zyxwvutsrqponml2?", "new_password": "abcdefghijklmno1!" }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    t.post_public(
        "/api/v1/auth/password/change",
        json!({ "user_name": "cy", "current_password": "zyxwvutsrqponml2?", "new_password": "a fresh one: 42 times!" }),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    // The old session ran out long ago (sessions last twelve hours).
    t.get(&session, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let session = sign_in(&t, "cy", "a fresh one: 42 times!")
        .await
        .expect(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Users of no type follow the organisation's policy; loosening it is flagged.
    t.put(
        a,
        "/api/v1/password-policy",
        json!({ "min_length": 10, "require_lowercase": false, "require_uppercase": false, "require_digit": false, "require_symbol": false, "history": 5, "expiry_days": null }),
    )
    .await
    .expect(StatusCode::OK);
    let changes = event_kinds(&t, "kind=policy.password_changed").await;
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].1["weakened"], false, "{changes:?}");
    assert_eq!(
        changes[1].1["weakened"], true,
        "12 to 10 characters: {changes:?}"
    );
    let dee = user_with(
        &t,
        json!({ "user_name": "dee", "first_name": "Dee", "last_name": "D", "primary_group_id": g }),
    )
    .await;
    set_password(&t, &dee, "ten chars!").await;

    // Only org.settings sets policies.
    t.put(
        &session,
        "/api/v1/password-policy",
        json!({ "min_length": 8, "require_lowercase": false, "require_uppercase": false, "require_digit": false, "require_symbol": false, "history": 0, "expiry_days": null }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
}
both!(password_policies_per_user_type_with_history_and_expiry);

async fn resetting_a_password_needs_every_permission_of_its_owner(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let sales = t.group(&t.admin, "Sales", Some(&g)).await;
    let manager = t.user(&t.admin, "manager", &sales).await;
    let clerk = t.user(&t.admin, "clerk", &sales).await;
    let role = t.system_role("User manager").await;
    t.grant_user(&t.admin, &role, &manager, Some(&sales))
        .await
        .expect(StatusCode::CREATED);
    set_password(&t, &manager, "manager's password").await;
    let m = sign_in(&t, "manager", "manager's password")
        .await
        .expect(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Within scope and holding more than the clerk: allowed.
    t.put(
        &m,
        &format!("/api/v1/users/{clerk}/password"),
        json!({ "password": "clerk's new password" }),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    // The administrator is outside the manager's scope: not found.
    let me = t.get(&t.admin, "/api/v1/me").await.body;
    let admin_id = me["user_id"].as_str().unwrap();
    t.put(
        &m,
        &format!("/api/v1/users/{admin_id}/password"),
        json!({ "password": "taken over at last" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    // A second manager in Sales holds what this one holds only within Sales.
    let peer = t.user(&t.admin, "peer", &sales).await;
    t.grant_user(&t.admin, &role, &peer, Some(&sales))
        .await
        .expect(StatusCode::CREATED);
    t.put(
        &m,
        &format!("/api/v1/users/{peer}/password"),
        json!({ "password": "peer's new password" }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    sign_in(&t, "clerk", "clerk's new password")
        .await
        .expect(StatusCode::OK);
}
both!(resetting_a_password_needs_every_permission_of_its_owner);

/// The organisation's alerts as (rule, status, user id), newest first.
async fn alerts(t: &TestApp, query: &str) -> Vec<(String, String, Value)> {
    let page = t
        .get(&t.admin, &format!("/api/v1/security/alerts?{query}"))
        .await
        .expect(StatusCode::OK);
    page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["rule"].as_str().unwrap().to_owned(),
                a["status"].as_str().unwrap().to_owned(),
                a["user_id"].clone(),
            )
        })
        .collect()
}

async fn rules_raise_alerts_that_are_acknowledged_then_resolved(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let a = &t.admin;
    let bo = t.user(a, "bo", &g).await;
    set_password(&t, &bo, "bo's long password").await;
    for _ in 0..5 {
        sign_in(&t, "bo", "guess").await;
    }
    // A privileged role (the Auditor reads the Security Center) raises an alert, through a
    // single grant and through a bulk load; a role without permissions does not.
    let auditor = t.system_role("Auditor").await;
    t.grant_user(a, &auditor, &bo, None)
        .await
        .expect(StatusCode::CREATED);
    let cy = t.user(a, "cy", &g).await;
    let bulk = format!(
        "{}\n",
        json!({ "kind": "grant", "role": auditor, "user": cy })
    );
    let loaded = t
        .raw(
            a,
            axum::http::Method::POST,
            "/api/v1/bulk",
            "application/x-ndjson",
            bulk,
        )
        .await
        .expect(StatusCode::OK);
    assert!(!loaded.text.contains("\"error\""), "{}", loaded.text);
    let system = t.system(a, "Payroll").await;
    let plain = t.role(a, &system, "viewer").await;
    t.grant_user(a, &plain, &bo, None)
        .await
        .expect(StatusCode::CREATED);
    t.put(
        a,
        "/api/v1/password-policy",
        json!({ "min_length": 8, "require_lowercase": false, "require_uppercase": false, "require_digit": false, "require_symbol": false, "history": 5, "expiry_days": null }),
    )
    .await
    .expect(StatusCode::OK);

    let raised = alerts(&t, "").await;
    let rules: Vec<&str> = raised.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(
        rules,
        [
            "policy_weakened",
            "privileged_grant",
            "privileged_grant",
            "repeated_failures"
        ],
        "{raised:?}"
    );
    assert!(raised.iter().all(|(_, s, _)| s == "open"));
    assert_eq!(raised[3].2, bo.as_str());
    assert_eq!(raised[1].2, cy.as_str());
    assert_eq!(alerts(&t, "rule=privileged_grant").await.len(), 2);
    assert_eq!(
        event_kinds(&t, "kind=role.privileged_granted").await.len(),
        2
    );
    let page = t
        .get(a, "/api/v1/security/alerts?rule=repeated_failures")
        .await
        .body;
    let lock = page["items"][0].clone();
    assert_eq!(lock["severity"], "high");
    assert!(lock["summary"].as_str().unwrap().contains("`bo`"), "{lock}");
    let id = lock["id"].as_str().unwrap();

    let acked = t
        .post(
            a,
            &format!("/api/v1/security/alerts/{id}/acknowledge"),
            json!({ "note": "called bo" }),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(acked["status"], "acknowledged");
    assert_eq!(acked["note"], "called bo");
    t.post(
        a,
        &format!("/api/v1/security/alerts/{id}/acknowledge"),
        json!({}),
    )
    .await
    .problem(StatusCode::CONFLICT, "alert_status");
    let resolved = t
        .post(
            a,
            &format!("/api/v1/security/alerts/{id}/resolve"),
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(
        resolved["note"], "called bo",
        "an empty note keeps the last one"
    );
    assert!(resolved["resolved_by"].is_string() && resolved["acknowledged_at"].is_string());
    t.post(
        a,
        &format!("/api/v1/security/alerts/{id}/resolve"),
        json!({}),
    )
    .await
    .problem(StatusCode::CONFLICT, "alert_status");
    assert_eq!(alerts(&t, "status=open").await.len(), 3);
    assert_eq!(alerts(&t, "status=resolved").await.len(), 1);
    let bad = t.get(a, "/api/v1/security/alerts?status=closed").await;
    assert_eq!(
        bad.fields(),
        vec![("status".to_owned(), "one_of".to_owned())]
    );
    let handled = event_kinds(&t, "kind=alert.").await;
    let kinds: Vec<&str> = handled.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["alert.acknowledged", "alert.resolved"]);

    // Without security.view: no list, no acknowledging; another organisation's alert is
    // not found.
    let dee = t.user(a, "dee", &g).await;
    set_password(&t, &dee, "dee's long password").await;
    let d = sign_in(&t, "dee", "dee's long password")
        .await
        .expect(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    t.get(&d, "/api/v1/security/alerts")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let open = t.get(a, "/api/v1/security/alerts?status=open").await.body;
    let other = open["items"][0]["id"].as_str().unwrap();
    t.post(
        &d,
        &format!("/api/v1/security/alerts/{other}/resolve"),
        json!({}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(alerts(&t, "status=open").await.len(), 3, "nothing changed");
}
both!(rules_raise_alerts_that_are_acknowledged_then_resolved);

async fn role_security_policies_combine_and_end_idle_sessions(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let g = root_group(&t).await;
    let a = &t.admin;
    let system = t.system(a, "Payroll").await;
    let clerk = t.role(a, &system, "clerk").await;
    let approver = t.role(a, &system, "approver").await;
    let policy = |passkey: bool, idle: Value| json!({ "require_passkey": passkey, "passkey_after_magic_link": false, "idle_timeout_minutes": idle });
    for bad in [json!(10), json!(1441), json!(0)] {
        let refused = t
            .put(
                a,
                &format!("/api/v1/roles/{clerk}/security-policy"),
                policy(false, bad),
            )
            .await;
        assert_eq!(
            refused.fields(),
            vec![("idle_timeout_minutes".to_owned(), "range".to_owned())],
            "{}",
            refused.text
        );
        assert!(refused.text.contains("between 15"), "{}", refused.text);
    }
    t.put(
        a,
        &format!("/api/v1/roles/{clerk}/security-policy"),
        policy(false, json!(60)),
    )
    .await
    .expect(StatusCode::OK);
    t.put(
        a,
        &format!("/api/v1/roles/{approver}/security-policy"),
        policy(true, json!(30)),
    )
    .await
    .expect(StatusCode::OK);
    // System roles take a policy too.
    let auditor = t.system_role("Auditor").await;
    t.put(
        a,
        &format!("/api/v1/roles/{auditor}/security-policy"),
        policy(false, json!(240)),
    )
    .await
    .expect(StatusCode::OK);
    let read = t
        .get(a, &format!("/api/v1/roles/{approver}/security-policy"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(read, policy(true, json!(30)));

    let eve = t.user(a, "eve", &g).await;
    for role in [&clerk, &approver] {
        t.grant_user(a, role, &eve, None)
            .await
            .expect(StatusCode::CREATED);
    }
    set_password(&t, &eve, "eve's long password").await;
    let session = sign_in(&t, "eve", "eve's long password")
        .await
        .expect(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = t
        .get(&session, "/api/v1/me/security-policy")
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(mine["require_passkey"], true, "{mine}");
    assert_eq!(mine["idle_timeout_minutes"], 30, "the strictest: {mine}");
    assert_eq!(mine["roles"].as_array().unwrap().len(), 2);

    // Used within the timeout, the session lives on; idle longer, it ends.
    clock.advance(time::Duration::minutes(20));
    t.get(&session, "/api/v1/me").await.expect(StatusCode::OK);
    clock.advance(time::Duration::minutes(25));
    t.get(&session, "/api/v1/me").await.expect(StatusCode::OK);
    clock.advance(time::Duration::minutes(31));
    let ended = t
        .get(&session, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(
        ended["detail"].as_str().unwrap().contains("idle"),
        "{ended}"
    );
    let revoked = event_kinds(&t, "kind=session.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].1["reason"], "idle_timeout");
    assert_eq!(revoked[0].1["idle_timeout_minutes"], 30);

    // A change reaches live sessions at their next request.
    let session = sign_in(&t, "eve", "eve's long password")
        .await
        .expect(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    t.put(
        a,
        &format!("/api/v1/roles/{clerk}/security-policy"),
        policy(false, json!(15)),
    )
    .await
    .expect(StatusCode::OK);
    clock.advance(time::Duration::minutes(16));
    t.get(&session, "/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    // Switching a policy off is loosening it: an alert. Only roles.manage sets policies.
    t.put(
        a,
        &format!("/api/v1/roles/{approver}/security-policy"),
        policy(false, Value::Null),
    )
    .await
    .expect(StatusCode::OK);
    let weakened = alerts(&t, "rule=policy_weakened").await;
    assert_eq!(weakened.len(), 1, "{weakened:?}");
    let session = sign_in(&t, "eve", "eve's long password")
        .await
        .expect(StatusCode::OK)
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    t.put(
        &session,
        &format!("/api/v1/roles/{clerk}/security-policy"),
        policy(false, Value::Null),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        t.get(a, &format!("/api/v1/roles/{clerk}/security-policy"))
            .await
            .body,
        policy(false, json!(15)),
        "a refused change changes nothing"
    );
}
both!(role_security_policies_combine_and_end_idle_sessions);

async fn one_address_gets_thirty_attempts_a_minute(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00:05 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let attempt = |ip: &'static str, user: &'static str| {
        let t = &t;
        async move {
            t.call(
                None,
                axum::http::Method::POST,
                "/api/v1/auth/password",
                Some(json!({ "user_name": user, "password": "guess" })),
                &[(crate::harness::PEER, ip)],
            )
            .await
        }
    };
    for i in 0..30 {
        // Many user names, so that no account lockout gets in the way.
        let user: &'static str = ["x1", "x2", "x3", "x4", "x5", "x6"][i % 6];
        attempt("10.0.0.1", user)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    for _ in 0..3 {
        let limited = attempt("10.0.0.1", "admin").await;
        assert_eq!(
            limited
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("55"),
            "{}",
            limited.text
        );
        limited.problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    }
    // Another address is not held back; the next minute, neither is the first.
    attempt("10.0.0.2", "x1")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    clock.advance(time::Duration::minutes(1));
    attempt("10.0.0.1", "x1")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let limited = event_kinds(&t, "kind=sign_in.rate_limited").await;
    assert_eq!(
        limited.len(),
        1,
        "one event per address and minute: {limited:?}"
    );
    let page = t
        .get(
            &t.admin,
            "/api/v1/security/events?kind=sign_in.failed&limit=1",
        )
        .await
        .body;
    assert_eq!(page["items"][0]["ip"], "10.0.0.1");
}
both!(one_address_gets_thirty_attempts_a_minute);

/// The `Set-Cookie` headers of an answer, by cookie name.
pub(crate) fn set_cookies(answer: &crate::harness::Answer) -> Vec<String> {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn cookie_value(cookies: &[String], name: &str) -> String {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no {name} in {cookies:?}"))
        .to_owned()
}

async fn browsers_hold_the_session_in_a_cookie_and_changes_need_the_csrf_token(backend: Backend) {
    let t = TestApp::new(backend).await;
    let me = t.get(&t.admin, "/api/v1/me").await.body;
    let admin = me["user_id"].as_str().unwrap().to_owned();
    set_password(&t, &admin, "the admin's password").await;
    let body = json!({ "user_name": "admin", "password": "the admin's password" });
    let local = t
        .call(
            None,
            axum::http::Method::POST,
            "/api/v1/auth/password",
            Some(body.clone()),
            &[("host", "localhost:8080")],
        )
        .await
        .expect(StatusCode::OK);
    let cookies = set_cookies(&local);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("latchkey_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    assert!(
        !session_cookie.contains("Secure"),
        "plain HTTP on localhost: {session_cookie}"
    );
    let remote = t
        .call(
            None,
            axum::http::Method::POST,
            "/api/v1/auth/password",
            Some(body),
            &[("host", "iam.example.com")],
        )
        .await
        .expect(StatusCode::OK);
    assert!(set_cookies(&remote).iter().all(|c| c.contains("; Secure")));

    let session = cookie_value(&cookies, "latchkey_session");
    let csrf = cookie_value(&cookies, "latchkey_csrf");
    let jar = format!("latchkey_session={session}; latchkey_csrf={csrf}");
    // Reads need only the cookie.
    let me = t
        .call(
            None,
            axum::http::Method::GET,
            "/api/v1/me",
            None,
            &[("cookie", &jar)],
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.body["user_name"], "admin");
    // Changes need the CSRF token as well: missing or wrong, nothing happens.
    let create = json!({ "name": "Forged" });
    t.call(
        None,
        axum::http::Method::POST,
        "/api/v1/groups",
        Some(create.clone()),
        &[("cookie", &jar)],
    )
    .await
    .problem(StatusCode::FORBIDDEN, "csrf_failed");
    t.call(
        None,
        axum::http::Method::POST,
        "/api/v1/groups",
        Some(create.clone()),
        &[("cookie", &jar), ("x-csrf-token", "guessed")],
    )
    .await
    .problem(StatusCode::FORBIDDEN, "csrf_failed");
    let groups = t.get(&t.admin, "/api/v1/groups?q=Forged").await.body;
    assert_eq!(groups["items"].as_array().unwrap().len(), 0);
    t.call(
        None,
        axum::http::Method::POST,
        "/api/v1/groups",
        Some(create),
        &[("cookie", &jar), ("x-csrf-token", &csrf)],
    )
    .await
    .expect(StatusCode::CREATED);

    // Signing out ends the session and clears both cookies.
    let out = t
        .call(
            None,
            axum::http::Method::POST,
            "/api/v1/auth/sign-out",
            Some(json!({})),
            &[("cookie", &jar), ("x-csrf-token", &csrf)],
        )
        .await
        .expect(StatusCode::NO_CONTENT);
    let cleared = set_cookies(&out);
    assert!(
        cleared.len() == 2 && cleared.iter().all(|c| c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    t.call(
        None,
        axum::http::Method::GET,
        "/api/v1/me",
        None,
        &[("cookie", &jar)],
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}
both!(browsers_hold_the_session_in_a_cookie_and_changes_need_the_csrf_token);

/// The stored PHC string of `user`'s password, its age and its history length.
async fn stored_password(t: &TestApp, user: &str) -> (String, time::OffsetDateTime, usize) {
    let me = t.get(&t.admin, "/api/v1/me").await.body;
    let org = latchkey_model::OrgId::from_uuid(me["org_id"].as_str().unwrap().parse().unwrap());
    let user = latchkey_model::UserId::from_uuid(user.parse().unwrap());
    let mut tx = t.services.store().read().await.unwrap();
    let record = tx.password(org, user).await.unwrap().unwrap();
    let history = tx.password_history(org, user, 24).await.unwrap().len();
    (record.hash, record.set_at, history)
}

async fn new_hashing_parameters_apply_at_the_next_sign_in(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let fay = t.user(&t.admin, "fay", &g).await;
    set_password(&t, &fay, "fay's long password").await;
    let (before, set_at, history) = stored_password(&t, &fay).await;
    assert!(
        before.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{before}"
    );

    let t = t.restarted_with(latchkey_service::SignInSettings {
        argon2_memory_kib: 8192,
        argon2_iterations: 3,
        ..latchkey_service::SignInSettings::default()
    });
    // A wrong password changes nothing; the right one rehashes, keeping age and history.
    sign_in(&t, "fay", "not fay's password")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(stored_password(&t, &fay).await.0, before);
    sign_in(&t, "fay", "fay's long password")
        .await
        .expect(StatusCode::OK);
    let (after, set_at_after, history_after) = stored_password(&t, &fay).await;
    assert!(
        after.starts_with("$argon2id$v=19$m=8192,t=3,p=1$"),
        "{after}"
    );
    assert_eq!((set_at_after, history_after), (set_at, history));
    sign_in(&t, "fay", "fay's long password")
        .await
        .expect(StatusCode::OK);
    assert_eq!(stored_password(&t, &fay).await.0, after, "rehashed once");
}
both!(new_hashing_parameters_apply_at_the_next_sign_in);

/// The mails in the outbox, oldest first.
pub(crate) fn mails(t: &TestApp) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(t.outbox.path())
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/// The sign-in link of a mail.
fn link_in(mail: &str) -> String {
    mail.split_whitespace()
        .find(|w| w.starts_with("http://localhost:8080/auth/magic-link?token="))
        .unwrap_or_else(|| panic!("no link in {mail}"))
        .to_owned()
}

async fn a_mailed_link_signs_in_once_within_fifteen_minutes(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let g = root_group(&t).await;
    user_with(
        &t,
        json!({ "user_name": "gus", "first_name": "Gus", "last_name": "G", "primary_group_id": g, "email": "gus@example.com" }),
    )
    .await;
    // Known and unknown addresses get the same answer; only the known one gets mail.
    for email in ["GUS@example.com", "nobody@example.com"] {
        let answer = t
            .post_public("/api/v1/auth/magic-link", json!({ "email": email }))
            .await
            .expect(StatusCode::ACCEPTED);
        assert!(answer.text.contains("if the address belongs to a user"));
    }
    t.post_public(
        "/api/v1/auth/magic-link",
        json!({ "email": "not an address" }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let sent = mails(&t);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("To: gus@example.com") && sent[0].contains("Subject: Sign in to"),
        "sent to the address on record: {}",
        sent[0]
    );
    let link = link_in(&sent[0]);

    // Following the link shows a page whose button posts the token; it signs nobody in.
    let path = link.trim_start_matches("http://localhost:8080");
    let page = t
        .call(None, axum::http::Method::GET, path, None, &[])
        .await
        .expect(StatusCode::OK);
    assert!(
        page.text
            .contains("<form method=\"post\" action=\"/auth/magic-link\">")
    );
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert!(page.text.contains(&token));
    assert!(event_kinds(&t, "kind=magic_link.used").await.is_empty());

    // The form's post signs in: cookies, then home.
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/auth/magic-link")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "localhost:8080")
        .body(axum::body::Body::from(format!("token={token}")))
        .unwrap();
    let res = tower::ServiceExt::oneshot(t.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookie_value(&cookies, "latchkey_session");
    let me = t
        .call(
            None,
            axum::http::Method::GET,
            "/api/v1/me",
            None,
            &[("cookie", &format!("latchkey_session={session}"))],
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.body["user_name"], "gus");

    // Once only.
    t.post_public("/api/v1/auth/magic-link/consume", json!({ "token": token }))
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // A new link through the JSON API, too late after fifteen minutes.
    t.post_public(
        "/api/v1/auth/magic-link",
        json!({ "email": "gus@example.com" }),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    let late = link_in(&mails(&t)[1]);
    let late = late.split("token=").nth(1).unwrap().to_owned();
    clock.advance(time::Duration::minutes(15));
    t.post_public("/api/v1/auth/magic-link/consume", json!({ "token": late }))
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // A fresh one through the JSON API works and says how the session was opened.
    t.post_public(
        "/api/v1/auth/magic-link",
        json!({ "email": "gus@example.com" }),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    let fresh = link_in(&mails(&t)[2]);
    let fresh = fresh.split("token=").nth(1).unwrap().to_owned();
    let signed = t
        .post_public("/api/v1/auth/magic-link/consume", json!({ "token": fresh }))
        .await
        .expect(StatusCode::OK)
        .body;
    let token = signed["token"].as_str().unwrap();
    let listed = t.get(token, "/api/v1/sessions").await.body;
    let methods: Vec<&str> = listed["items"]
        .as_array()
        .or(listed.as_array())
        .unwrap()
        .iter()
        .map(|s| s["method"].as_str().unwrap())
        .collect();
    assert!(methods.contains(&"magic_link"), "{listed}");

    let kinds = event_kinds(&t, "kind=magic_link.").await;
    let names: Vec<&str> = kinds.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "magic_link.sent",
            "magic_link.used",
            "magic_link.sent",
            "magic_link.sent",
            "magic_link.used"
        ]
    );
    let failed = event_kinds(&t, "kind=sign_in.failed").await;
    let reasons: Vec<&str> = failed
        .iter()
        .map(|(_, d)| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["magic_link_used", "magic_link_expired"]);
    // No event holds a link's secret.
    let all = t.get(&t.admin, "/api/v1/security/events?limit=1000").await;
    assert!(!all.text.contains("lkm_"), "{}", all.text);
}
both!(a_mailed_link_signs_in_once_within_fifteen_minutes);

/// A folder to put on `PYTHONPATH` for aiosmtpd, when the machine's Python lacks it: the
/// suite installs it there itself (once per run), so that `cargo test` needs nothing set
/// up beforehand.
fn aiosmtpd_path() -> Option<std::path::PathBuf> {
    static PATH: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let present = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if present {
            return None;
        }
        let dir = std::env::temp_dir().join("latchkey-test-python");
        let installed = std::process::Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(&dir)
            .arg("aiosmtpd")
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "cannot install aiosmtpd from PyPI into {}",
            dir.display()
        );
        Some(dir)
    })
    .clone()
}

/// aiosmtpd (PyPI) on a free port, storing what it receives in a Maildir; stopped on drop.
struct SmtpSink {
    child: std::process::Child,
    port: u16,
    maildir: std::path::PathBuf,
    _dir: latchkey_testkit::TempDir,
}

impl SmtpSink {
    fn start() -> Self {
        Self::start_with(|_| Vec::new())
    }

    /// A sink given more arguments, made from its own folder.
    fn start_with(extra: impl FnOnce(&std::path::Path) -> Vec<String>) -> Self {
        let dir = latchkey_testkit::TempDir::new("latchkey-smtp").unwrap();
        let extra = extra(dir.path());
        // aiosmtpd makes the Maildir itself; it must not exist yet.
        let maildir = dir.path().join("maildir");
        let port = latchkey_testkit::free_port().unwrap();
        let mut command = std::process::Command::new("python3");
        if let Some(path) = aiosmtpd_path() {
            command.env("PYTHONPATH", path);
        }
        let child = command
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(&extra)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (`pip install aiosmtpd`; .ci/run installs it)");
        let mut sink = Self {
            child,
            port,
            maildir,
            _dir: dir,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = sink.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = sink.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("aiosmtpd exited ({status}): {err}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        sink
    }

    /// The mails received so far.
    fn received(&self) -> Vec<String> {
        std::fs::read_dir(self.maildir.join("new"))
            .map(|d| {
                d.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Decodes quoted-printable text: soft line breaks go, `=XX` becomes its byte.
fn quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn magic_links_go_out_over_smtp(backend: Backend) {
    let sink = SmtpSink::start();
    let t = TestApp::with_clock_and_mailer(
        backend,
        Arc::new(latchkey_model::SystemClock),
        Some(Arc::new(latchkey_service::mail::Smtp::new(
            "127.0.0.1",
            sink.port,
        ))),
    )
    .await;
    let g = root_group(&t).await;
    user_with(
        &t,
        json!({ "user_name": "hal", "first_name": "Hal", "last_name": "H", "primary_group_id": g, "email": "hal@example.com" }),
    )
    .await;
    t.post_public(
        "/api/v1/auth/magic-link",
        json!({ "email": "hal@example.com" }),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mail = loop {
        if let Some(m) = sink.received().pop() {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail reached the sink"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(mail.contains("hal@example.com"), "{mail}");
    // Read it as a mail client would: the long link line travels quoted-printable.
    let mail = quoted_printable(&mail);
    // The link in the mail signs in once.
    let token = link_in(&mail).split("token=").nth(1).unwrap().to_owned();
    t.post_public("/api/v1/auth/magic-link/consume", json!({ "token": token }))
        .await
        .expect(StatusCode::OK);
    t.post_public("/api/v1/auth/magic-link/consume", json!({ "token": token }))
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}
both!(magic_links_go_out_over_smtp);

/// STARTTLS to a sink that requires it, with a certificate made for the test: plain SMTP is
/// refused, an unknown certificate is refused, and the mail goes through once the
/// certificate's authority is trusted (`smtp_ca_file`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_out_over_starttls_to_a_verified_server() {
    use latchkey_service::mail::{Mail, Mailer as _, Smtp, SmtpSettings, SmtpTls};
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert_pem = made.cert.pem();
    let key_pem = made.signing_key.serialize_pem();
    let sink = SmtpSink::start_with(|dir| {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, &cert_pem).unwrap();
        std::fs::write(&key, &key_pem).unwrap();
        vec![
            "--tlscert".to_owned(),
            cert.display().to_string(),
            "--tlskey".to_owned(),
            key.display().to_string(),
        ]
    });
    let mail = Mail {
        to: "ida@example.com".to_owned(),
        subject: "over TLS".to_owned(),
        text: "hello".to_owned(),
    };
    let settings = |tls, roots: Option<Vec<u8>>| SmtpSettings {
        host: "127.0.0.1".to_owned(),
        port: sink.port,
        tls,
        extra_roots_pem: roots,
        credentials: None,
    };
    let send = |mailer: Smtp| {
        let mail = mail.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                mailer.send("latchkey@localhost", &mail, uuid::Uuid::now_v7())
            })
            .await
            .unwrap()
        }
    };
    let plain = send(Smtp::new("127.0.0.1", sink.port)).await;
    assert!(plain.is_err(), "the sink requires STARTTLS: {plain:?}");
    let unknown = send(Smtp::with(&settings(SmtpTls::StartTls, None)).unwrap()).await;
    assert!(
        unknown.as_ref().is_err_and(|e| e.contains("refused")),
        "a certificate nobody vouches for is refused: {unknown:?}"
    );
    let trusted = send(
        Smtp::with(&settings(
            SmtpTls::StartTls,
            Some(cert_pem.clone().into_bytes()),
        ))
        .unwrap(),
    )
    .await;
    assert!(trusted.is_ok(), "{trusted:?}");
    let received = sink.received();
    assert_eq!(received.len(), 1, "only the verified connection delivered");
    assert!(received[0].contains("Subject: over TLS"), "{}", received[0]);
    // A password never travels in clear.
    let clear = Smtp::with(&SmtpSettings {
        credentials: Some(("ida".to_owned(), "secret".to_owned())),
        ..settings(SmtpTls::None, None)
    });
    assert!(clear.is_err());
}
