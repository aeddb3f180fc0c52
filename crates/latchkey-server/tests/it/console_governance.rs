//! The console's governance pages in process, as a browser uses them: role assignment
//! rules (an expression error shown next to its field with its line and column and nothing
//! saved; a preview that writes nothing; apply with its run followed), segregation-of-duties
//! rules (preview of the users affected, bad input next to the field, matrices), approvals
//! (decided only by an approver: anyone else is refused and nothing changes; a rejection
//! needs a comment), access reviews (a campaign created from the form, a revoke confirmed on
//! its own page removes the grant, a confirmation shows on the user's roles as the last
//! recertification, overdue items are listed), and the CSRF check on every new form.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use latchkey_model::FixedClock;
use latchkey_testkit::Backend;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::both;
use crate::console::{Browser, admin_browser, browse, signed_in};
use crate::harness::TestApp;
use crate::sign_in::set_password;

const PASSWORD: &str = "correct horse battery staple";

async fn list(t: &TestApp, path: &str) -> Vec<Value> {
    let answer = t.get(&t.admin, path).await.expect(StatusCode::OK);
    match &answer.body {
        Value::Array(items) => items.clone(),
        body => body["items"].as_array().cloned().unwrap_or_default(),
    }
}

/// A user of `group` with a password, signed in to the console.
async fn member(t: &TestApp, name: &str, group: &str) -> (String, Browser) {
    let id = t.user(&t.admin, name, group).await;
    set_password(t, &id, PASSWORD).await;
    let b = signed_in(t, name, PASSWORD).await;
    (id, b)
}

async fn a_rule_error_shows_its_line_and_column_and_a_preview_writes_nothing(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let staff = t.group(&t.admin, "Staff", None).await;
    let ana = t.user(&t.admin, "ana", &staff).await;
    t.user(&t.admin, "bob", &staff).await;
    let wiki = t.system(&t.admin, "Wiki").await;
    let editor = t.role(&t.admin, &wiki, "Editor").await;

    let page = browse(&t, Method::GET, "/rules/new", &b.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);

    // An unknown attribute on the second line: refused, shown next to the field with its
    // line and column, what was typed kept, nothing saved.
    let bad = "user.active &&\n  user.nope == \"x\"";
    let form = [
        ("csrf", b.csrf.as_str()),
        ("name", "Editors"),
        ("expression", bad),
        ("role_ids", editor.as_str()),
        ("enabled", "on"),
        ("action", "save"),
    ];
    let refused = browse(&t, Method::POST, "/rules", &b.cookies, Some(&form)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let error = refused
        .body
        .split("id=\"rule-expression-error\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no error next to the expression in {}", refused.body));
    let error = error.split("</p>").next().unwrap();
    assert!(error.contains("line 2, column 3"), "{error}");
    assert!(refused.body.contains("user.nope"), "the expression is kept");
    assert!(
        refused
            .body
            .contains(&format!("<option value=\"{editor}\" selected>")),
        "the roles chosen are kept"
    );
    // A syntax error, as a preview: the same message, and no diff.
    let form = [
        ("csrf", b.csrf.as_str()),
        ("name", "Editors"),
        ("expression", "user.active &&"),
        ("role_ids", editor.as_str()),
        ("action", "preview"),
    ];
    let refused = browse(&t, Method::POST, "/rules", &b.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"rule-expression-error\""));
    assert!(refused.body.contains("line 1, column"), "{}", refused.body);
    assert!(list(&t, "/api/v1/assignment-rules").await.is_empty());

    // Fixed and previewed before saving: the exact diff, and still nothing saved.
    let good = "user.user_name == \"ana\"";
    let form = [
        ("csrf", b.csrf.as_str()),
        ("name", "Editors"),
        ("expression", good),
        ("role_ids", editor.as_str()),
        ("enabled", "on"),
        ("action", "preview"),
    ];
    let preview = browse(&t, Method::POST, "/rules", &b.cookies, Some(&form)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("Nothing has been changed"));
    assert!(preview.body.contains(&format!("/users/{ana}\">ana</a>")));
    assert!(list(&t, "/api/v1/assignment-rules").await.is_empty());

    // Saved; the saved rule's preview writes nothing either.
    let form = [
        ("csrf", b.csrf.as_str()),
        ("name", "Editors"),
        ("expression", good),
        ("role_ids", editor.as_str()),
        ("enabled", "on"),
        ("action", "save"),
    ];
    let saved = browse(&t, Method::POST, "/rules", &b.cookies, Some(&form)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let rules = list(&t, "/api/v1/assignment-rules").await;
    assert_eq!(rules.len(), 1);
    let rule = rules[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(saved.location(), format!("/rules/{rule}?done=created"));
    let preview = browse(
        &t,
        Method::POST,
        &format!("/rules/{rule}/preview"),
        &b.cookies,
        Some(&[("csrf", b.csrf.as_str())]),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("Gains (1)"), "{}", preview.body);
    assert!(preview.body.contains("Apply now"));
    let grants = format!("/api/v1/grants?role_id={editor}");
    assert!(
        list(&t, &grants).await.is_empty(),
        "a preview writes nothing"
    );

    // Applied: the run's page follows it to the end.
    let applied = browse(
        &t,
        Method::POST,
        &format!("/rules/{rule}/apply"),
        &b.cookies,
        Some(&[("csrf", b.csrf.as_str())]),
    )
    .await;
    assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
    let run = applied.location().to_owned();
    assert!(run.starts_with(&format!("/rules/{rule}/runs/")), "{run}");
    let mut finished = false;
    for _ in 0..100 {
        let page = browse(&t, Method::GET, &run, &b.cookies, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if page.body.contains("run-status\">succeeded") {
            assert!(
                page.body.contains("<dt>Granted</dt><dd>1</dd>"),
                "{}",
                page.body
            );
            finished = true;
            break;
        }
        assert!(page.body.contains("hx-trigger=\"every 1s\""), "it polls");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(finished, "the run did not finish");
    // What htmx polls: the figures alone, without the page around them.
    let req = axum::http::Request::builder()
        .uri(&run)
        .header(axum::http::header::HOST, "localhost")
        .header(axum::http::header::COOKIE, &b.cookies)
        .header("hx-request", "true")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(t.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let fragment = String::from_utf8_lossy(&bytes);
    assert!(
        fragment.starts_with("<div id=\"run-progress\""),
        "{fragment}"
    );
    assert!(!fragment.contains("<html"), "{fragment}");
    assert!(
        !fragment.contains("hx-trigger"),
        "a finished run stops the polling"
    );
    let granted = list(&t, &grants).await;
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0]["grantee_id"], ana);

    // The forms need the session's token, and the rules need rules.manage.
    let form = [
        ("name", "Sneaky"),
        ("expression", "true"),
        ("role_ids", editor.as_str()),
    ];
    let refused = browse(&t, Method::POST, "/rules", &b.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = browse(
        &t,
        Method::POST,
        &format!("/rules/{rule}/apply"),
        &b.cookies,
        Some(&[("csrf", "wrong")]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(list(&t, "/api/v1/assignment-rules").await.len(), 1);
    let (_, mo) = member(&t, "mo", &staff).await;
    let page = browse(&t, Method::GET, "/rules", &mo.cookies, None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    let form = [
        ("csrf", mo.csrf.as_str()),
        ("name", "Mine"),
        ("expression", "true"),
        ("role_ids", editor.as_str()),
    ];
    let refused = browse(&t, Method::POST, "/rules", &mo.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(list(&t, "/api/v1/assignment-rules").await.len(), 1);
}
both!(a_rule_error_shows_its_line_and_column_and_a_preview_writes_nothing);

async fn sod_rules_are_previewed_and_saved_from_the_console(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let staff = t.group(&t.admin, "Staff", None).await;
    let ana = t.user(&t.admin, "ana", &staff).await;
    let pay = t.system(&t.admin, "Payments").await;
    let approver = t.role(&t.admin, &pay, "Approver").await;
    let auditor = t.role(&t.admin, &pay, "Auditor").await;
    let clerk = t.role(&t.admin, &pay, "Clerk").await;
    for role in [&approver, &auditor] {
        t.grant_user(&t.admin, role, &ana, None)
            .await
            .expect(StatusCode::CREATED);
    }

    // One role is not a combination: the problem is next to the roles.
    let form = [
        ("csrf", b.csrf.as_str()),
        ("name", "Approvers do not audit"),
        ("system_id", pay.as_str()),
        ("kind", "all"),
        ("risk", "forbidden"),
        ("role_ids", approver.as_str()),
        ("action", "save"),
    ];
    let refused = browse(&t, Method::POST, "/sod", &b.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"sod-role_ids-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"Approvers do not audit\""));
    assert!(list(&t, "/api/v1/sod-rules").await.is_empty());

    // The preview lists ana and saves nothing.
    let form = [
        ("csrf", b.csrf.as_str()),
        ("name", "Approvers do not audit"),
        ("system_id", pay.as_str()),
        ("kind", "all"),
        ("risk", "forbidden"),
        ("role_ids", approver.as_str()),
        ("role_ids", auditor.as_str()),
        ("action", "preview"),
    ];
    let preview = browse(&t, Method::POST, "/sod", &b.cookies, Some(&form)).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(
        preview
            .body
            .contains("<strong>1</strong> user holds a combination")
    );
    assert!(
        preview
            .body
            .contains(&format!("/users/{ana}?tab=roles\">ana</a>"))
    );
    assert!(list(&t, "/api/v1/sod-rules").await.is_empty());

    // Saved, then listed.
    let form = [
        ("csrf", b.csrf.as_str()),
        ("name", "Approvers do not audit"),
        ("system_id", pay.as_str()),
        ("kind", "all"),
        ("risk", "forbidden"),
        ("role_ids", approver.as_str()),
        ("role_ids", auditor.as_str()),
        ("action", "save"),
    ];
    let saved = browse(&t, Method::POST, "/sod", &b.cookies, Some(&form)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let rules = list(&t, "/api/v1/sod-rules").await;
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["risk"], "forbidden");
    let listed = browse(&t, Method::GET, "/sod", &b.cookies, None).await;
    assert!(listed.body.contains("Approvers do not audit"));
    assert!(listed.body.contains("risk-forbidden"));

    // A matrix, each pair with its risk; edited into a `some` rule with a threshold.
    let form = [
        ("csrf", b.csrf.as_str()),
        ("name", "Payments pairs"),
        ("system_id", pay.as_str()),
        ("kind", "matrix"),
        ("role_ids", approver.as_str()),
        ("role_ids", auditor.as_str()),
        ("role_ids", clerk.as_str()),
        ("pair_a_0", approver.as_str()),
        ("pair_b_0", clerk.as_str()),
        ("pair_risk_0", "low"),
        ("pair_a_1", auditor.as_str()),
        ("pair_b_1", clerk.as_str()),
        ("pair_risk_1", "high"),
        ("pair_a_2", ""),
        ("pair_b_2", ""),
        ("pair_risk_2", "high"),
        ("action", "save"),
    ];
    let saved = browse(&t, Method::POST, "/sod", &b.cookies, Some(&form)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let id = saved
        .location()
        .trim_start_matches("/sod/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let rule = t
        .get(&t.admin, &format!("/api/v1/sod-rules/{id}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(rule["kind"], "matrix");
    assert_eq!(rule["risk"], "high");
    assert_eq!(rule["matrix"].as_array().unwrap().len(), 2);
    let page = browse(&t, Method::GET, saved.location(), &b.cookies, None).await;
    assert!(page.body.contains("Segregation-of-duties rule created."));
    let version = rule["version"].to_string();
    let form = [
        ("csrf", b.csrf.as_str()),
        ("version", version.as_str()),
        ("name", "Payments pairs"),
        ("system_id", pay.as_str()),
        ("kind", "some"),
        ("risk", "low"),
        ("threshold", "2"),
        ("role_ids", approver.as_str()),
        ("role_ids", auditor.as_str()),
        ("role_ids", clerk.as_str()),
        ("action", "save"),
    ];
    let edited = browse(
        &t,
        Method::POST,
        &format!("/sod/{id}"),
        &b.cookies,
        Some(&form),
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let rule = t
        .get(&t.admin, &format!("/api/v1/sod-rules/{id}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(rule["kind"], "some");
    assert_eq!(rule["threshold"], 2);

    // CSRF, and sod.manage.
    let form = [
        ("name", "Sneaky"),
        ("system_id", pay.as_str()),
        ("kind", "all"),
        ("risk", "low"),
        ("role_ids", approver.as_str()),
        ("role_ids", clerk.as_str()),
    ];
    let refused = browse(&t, Method::POST, "/sod", &b.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (_, mo) = member(&t, "mo", &staff).await;
    let mut form = form.to_vec();
    form.push(("csrf", mo.csrf.as_str()));
    let refused = browse(&t, Method::POST, "/sod", &mo.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(list(&t, "/api/v1/sod-rules").await.len(), 2);
}
both!(sod_rules_are_previewed_and_saved_from_the_console);

async fn only_an_approver_decides_and_a_rejection_needs_a_comment(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = admin_browser(&t).await;
    let staff = t.group(&t.admin, "Staff", None).await;
    let (olga, owner) = member(&t, "olga", &staff).await;
    let (_, carl) = member(&t, "carl", &staff).await;
    let bob = t.user(&t.admin, "bob", &staff).await;
    let erp = t
        .post(
            &t.admin,
            "/api/v1/systems",
            json!({ "name": "ERP", "approval_process": true, "owner_id": olga }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let clerk = t.role(&t.admin, &erp, "Clerk").await;
    let payer = t.role(&t.admin, &erp, "Payer").await;

    // The administrator asks from bob's page: the grant waits.
    for role in [&clerk, &payer] {
        let form = [("csrf", admin.csrf.as_str()), ("role_id", role.as_str())];
        let asked = browse(
            &t,
            Method::POST,
            &format!("/users/{bob}/grants"),
            &admin.cookies,
            Some(&form),
        )
        .await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    }
    let roles = browse(
        &t,
        Method::GET,
        &format!("/users/{bob}?tab=roles"),
        &admin.cookies,
        None,
    )
    .await;
    assert!(roles.body.contains("pending_approval"), "{}", roles.body);
    let mine = browse(
        &t,
        Method::GET,
        "/approvals?queue=requested",
        &admin.cookies,
        None,
    )
    .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert!(
        mine.body.contains("grant ERP &#x2f; Clerk"),
        "{}",
        mine.body
    );
    let requests = list(&t, "/api/v1/approvals?queue=all").await;
    assert_eq!(requests.len(), 2);
    let request_for = |role: &str| {
        requests.iter().find(|r| r["role_id"] == role).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (clerk_req, payer_req) = (request_for(&clerk), request_for(&payer));
    let status = |id: String| {
        let t = &t;
        async move {
            t.get(&t.admin, &format!("/api/v1/approvals/{id}"))
                .await
                .expect(StatusCode::OK)
                .body["status"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };

    // carl is nobody here: his queue is empty and his decision is refused.
    let queue = browse(&t, Method::GET, "/approvals", &carl.cookies, None).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.body.contains("Nothing waits for your decision."));
    let decide = format!("/approvals/{clerk_req}/decide");
    let form = [("csrf", carl.csrf.as_str()), ("decision", "approve")];
    let refused = browse(&t, Method::POST, &decide, &carl.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    // The administrator sees every request but is no approver of ERP: 403.
    let form = [("csrf", admin.csrf.as_str()), ("decision", "approve")];
    let refused = browse(&t, Method::POST, &decide, &admin.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("not an approver"), "{}", refused.body);
    assert_eq!(status(clerk_req.clone()).await, "pending");

    // The owner's queue; without the session's token, nothing.
    let queue = browse(&t, Method::GET, "/approvals", &owner.cookies, None).await;
    assert!(
        queue.body.contains("grant ERP &#x2f; Clerk"),
        "{}",
        queue.body
    );
    assert!(queue.body.contains("user bob"));
    let page = browse(
        &t,
        Method::GET,
        &format!("/approvals/{clerk_req}"),
        &owner.cookies,
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("user bob holds ERP &#x2f; Clerk from now on"),
        "{}",
        page.body
    );
    let form = [("decision", "approve")];
    let refused = browse(&t, Method::POST, &decide, &owner.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(status(clerk_req.clone()).await, "pending");

    // A rejection without a comment: the message next to the comment.
    let reject = format!("/approvals/{payer_req}/decide");
    let form = [
        ("csrf", owner.csrf.as_str()),
        ("decision", "reject"),
        ("comment", " "),
    ];
    let refused = browse(&t, Method::POST, &reject, &owner.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"decide-comment-error\""),
        "{}",
        refused.body
    );
    assert_eq!(status(payer_req.clone()).await, "pending");
    let form = [
        ("csrf", owner.csrf.as_str()),
        ("decision", "reject"),
        ("comment", "not in this team"),
    ];
    let done = browse(&t, Method::POST, &reject, &owner.cookies, Some(&form)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(status(payer_req).await, "rejected");

    let form = [
        ("csrf", owner.csrf.as_str()),
        ("decision", "approve"),
        ("comment", "month end"),
    ];
    let done = browse(&t, Method::POST, &decide, &owner.cookies, Some(&form)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/approvals?done=approved");
    assert_eq!(status(clerk_req).await, "approved");
    let grants = list(&t, &format!("/api/v1/grants?user_id={bob}")).await;
    assert_eq!(grants.len(), 1, "the rejected grant is gone");
    assert_eq!(grants[0]["status"], "active");
    let history = browse(
        &t,
        Method::GET,
        "/approvals?queue=requested&status=approved",
        &admin.cookies,
        None,
    )
    .await;
    assert!(
        history.body.contains("approved</span> by olga"),
        "{}",
        history.body
    );
    assert!(history.body.contains("month end"));
}
both!(only_an_approver_decides_and_a_rejection_needs_a_comment);

async fn a_review_revokes_after_confirmation_and_lists_overdue_items(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let b = admin_browser(&t).await;
    let staff = t.group(&t.admin, "Staff", None).await;
    let ana = t.user(&t.admin, "ana", &staff).await;
    let bob = t.user(&t.admin, "bob", &staff).await;
    let books = t.system(&t.admin, "Books").await;
    let reader = t.role(&t.admin, &books, "Reader").await;
    for user in [&ana, &bob] {
        t.grant_user(&t.admin, &reader, user, None)
            .await
            .expect(StatusCode::CREATED);
    }

    // A date in the past is refused next to the field, what was typed kept.
    let mut form = vec![
        ("csrf", b.csrf.as_str()),
        ("name", "Readers Q4"),
        ("selection", "role"),
        ("role_id", reader.as_str()),
        ("reviewer", "role_owner"),
        ("due_at", "2026-11-01"),
    ];
    let refused = browse(&t, Method::POST, "/reviews", &b.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"review-due_at-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"Readers Q4\""));
    // Without the session's token: refused.
    let no_csrf: Vec<_> = form.iter().filter(|(k, _)| *k != "csrf").copied().collect();
    let refused = browse(&t, Method::POST, "/reviews", &b.cookies, Some(&no_csrf)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(list(&t, "/api/v1/access-reviews").await.is_empty());

    form[5] = ("due_at", "2026-11-24");
    let created = browse(&t, Method::POST, "/reviews", &b.cookies, Some(&form)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let campaign = created
        .location()
        .trim_start_matches("/reviews/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let items = list(&t, &format!("/api/v1/access-reviews/{campaign}/items")).await;
    assert_eq!(items.len(), 2);
    let item_of = |user: &str| {
        items.iter().find(|i| i["grantee_id"] == user).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (ana_item, bob_item) = (item_of(&ana), item_of(&bob));
    let page = browse(&t, Method::GET, created.location(), &b.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Campaign created"));
    assert!(page.body.contains("2: 2 pending"), "{}", page.body);

    // Revoking asks first, saying what happens; the decision without a token is refused.
    let confirm = browse(
        &t,
        Method::GET,
        &format!("/reviews/{campaign}/items/{ana_item}/revoke"),
        &b.cookies,
        None,
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm.body.contains("Revoke Reader from user ana?"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("no longer holds Reader"));
    let decide = format!("/reviews/{campaign}/items/{ana_item}/decide");
    let refused = browse(
        &t,
        Method::POST,
        &decide,
        &b.cookies,
        Some(&[("decision", "revoke")]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        list(&t, &format!("/api/v1/grants?user_id={ana}"))
            .await
            .len(),
        1
    );
    let form = [
        ("csrf", b.csrf.as_str()),
        ("decision", "revoke"),
        ("comment", "left the team"),
    ];
    let revoked = browse(&t, Method::POST, &decide, &b.cookies, Some(&form)).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    assert!(
        list(&t, &format!("/api/v1/grants?user_id={ana}"))
            .await
            .is_empty(),
        "the revoke removed the grant"
    );

    // A reviewer of nothing sees neither the campaign nor the item.
    let (_, mo) = member(&t, "mo", &staff).await;
    let hidden = browse(
        &t,
        Method::GET,
        &format!("/reviews/{campaign}/items/{bob_item}/revoke"),
        &mo.cookies,
        None,
    )
    .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
    let form = [("csrf", mo.csrf.as_str()), ("decision", "revoke")];
    let refused = browse(
        &t,
        Method::POST,
        &format!("/reviews/{campaign}/items/{bob_item}/decide"),
        &mo.cookies,
        Some(&form),
    )
    .await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    assert_eq!(
        list(&t, &format!("/api/v1/grants?user_id={bob}"))
            .await
            .len(),
        1
    );

    // Past the due date, bob's item is overdue on the campaigns page and the campaign's.
    clock.set(datetime!(2026-11-25 09:00 UTC));
    let b = signed_in(&t, "admin", PASSWORD).await;
    let reviews = browse(&t, Method::GET, "/reviews", &b.cookies, None).await;
    assert_eq!(reviews.status, StatusCode::OK, "{}", reviews.body);
    assert!(reviews.body.contains("1 overdue"), "{}", reviews.body);
    assert!(
        reviews.body.contains("Reader for user bob"),
        "{}",
        reviews.body
    );
    let overdue = browse(
        &t,
        Method::GET,
        &format!("/reviews/{campaign}?overdue=on"),
        &b.cookies,
        None,
    )
    .await;
    assert!(overdue.body.contains("bob</a>"), "{}", overdue.body);
    assert!(!overdue.body.contains("ana</a>"), "{}", overdue.body);

    // Confirmed: the user's roles show the recertification.
    let form = [("csrf", b.csrf.as_str()), ("decision", "confirm")];
    let confirmed = browse(
        &t,
        Method::POST,
        &format!("/reviews/{campaign}/items/{bob_item}/decide"),
        &b.cookies,
        Some(&form),
    )
    .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.body
    );
    let roles = browse(
        &t,
        Method::GET,
        &format!("/users/{bob}?tab=roles"),
        &b.cookies,
        None,
    )
    .await;
    assert!(roles.body.contains("<td>2026-11-25</td>"), "{}", roles.body);

    // Closing asks for a confirmation.
    let close = format!("/reviews/{campaign}/close");
    let asked = browse(
        &t,
        Method::POST,
        &close,
        &b.cookies,
        Some(&[("csrf", b.csrf.as_str())]),
    )
    .await;
    assert_eq!(asked.status, StatusCode::UNPROCESSABLE_ENTITY);
    let closed = browse(
        &t,
        Method::POST,
        &close,
        &b.cookies,
        Some(&[("csrf", b.csrf.as_str()), ("confirm", "on")]),
    )
    .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let view = t
        .get(&t.admin, &format!("/api/v1/access-reviews/{campaign}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(view["status"], "closed");
}
both!(a_review_revokes_after_confirmation_and_lists_overdue_items);

async fn a_rule_is_changed_against_the_version_it_was_read_at(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let wiki = t.system(&t.admin, "Wiki").await;
    let editor = t.role(&t.admin, &wiki, "Editor").await;
    let rule = t
        .post(
            &t.admin,
            "/api/v1/assignment-rules",
            json!({ "name": "Editors", "expression": "false", "role_ids": [editor] }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let page = browse(&t, Method::GET, &format!("/rules/{rule}"), &b.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("name=\"version\" value=\"1\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Never applied."));

    let change = |version: &'static str, expression: &'static str| {
        vec![
            ("csrf", b.csrf.clone()),
            ("version", version.to_owned()),
            ("name", "Editors".to_owned()),
            ("expression", expression.to_owned()),
            ("role_ids", editor.clone()),
            ("enabled", "on".to_owned()),
        ]
    };
    let form = change("1", "user.user_name == \"ana\"");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = browse(
        &t,
        Method::POST,
        &format!("/rules/{rule}"),
        &b.cookies,
        Some(&pairs),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), format!("/rules/{rule}?done=saved"));

    // A form read before that change is refused, and shows what was typed.
    let form = change("1", "user.user_name == \"bob\"");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stale = browse(
        &t,
        Method::POST,
        &format!("/rules/{rule}"),
        &b.cookies,
        Some(&pairs),
    )
    .await;
    assert!(stale.status.is_client_error(), "{}", stale.body);
    assert!(stale.body.contains("role=\"alert\""), "{}", stale.body);
    assert!(stale.body.contains("bob"), "{}", stale.body);
    let now = t
        .get(&t.admin, &format!("/api/v1/assignment-rules/{rule}"))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(now["expression"], "user.user_name == \"ana\"");

    // An unknown rule is not found; a malformed id on any governance page too.
    let run = format!("/rules/{rule}/runs/nope");
    for path in [
        "/rules/0190a4b2-0000-7000-8000-00000000dead",
        "/rules/nope",
        run.as_str(),
        "/sod/nope",
        "/approvals/nope",
        "/reviews/nope",
        "/reviews/nope/items/nope/revoke",
    ] {
        let page = browse(&t, Method::GET, path, &b.cookies, None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
}
both!(a_rule_is_changed_against_the_version_it_was_read_at);

async fn a_rule_form_keeps_roles_beyond_the_first_choices(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let bulk = t.system(&t.admin, "Bulk").await;
    for i in 0..500 {
        t.role(&t.admin, &bulk, &format!("r{i:03}")).await;
    }
    let last = t.role(&t.admin, &bulk, "zz-last").await;
    let rule = t
        .post(
            &t.admin,
            "/api/v1/assignment-rules",
            json!({ "name": "Last", "expression": "false", "role_ids": [last] }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let page = browse(&t, Method::GET, &format!("/rules/{rule}"), &b.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!(
            "<option value=\"{last}\" selected>Bulk &#x2f; zz-last</option>"
        )),
        "the rule's role is offered, chosen, though beyond the select's first choices"
    );
}
both!(a_rule_form_keeps_roles_beyond_the_first_choices);
