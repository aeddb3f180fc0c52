//! The console's sign-in security, in process as a browser would use it: my passkeys listed,
//! renamed (a bad name shown next to its field) and removed after a confirmation page;
//! another user's passkeys out of reach; an authenticator app enrolled with its QR code,
//! verified and disabled, a wrong code shown next to the field with the failed attempts;
//! the pending page that registers a passkey there and then; the idle deadline on the pages
//! of a session whose roles set one (and only then), the session refused once idle and the
//! sign-in page saying why; the Security Center's charts counting seeded events, open alerts
//! and privileged holders, for `security.view` only.

use std::sync::Arc;

use axum::http::{Method, StatusCode, header};
use latchkey_model::FixedClock;
use latchkey_testkit::Backend;
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::both;
use crate::console::{Browser, browse};
use crate::harness::TestApp;
use crate::passkeys::{Device, register};
use crate::sign_in::{root_group, set_password, sign_in, user_with};

const PASSWORD: &str = "correct horse battery staple";

/// `user_name`, whose password is `PASSWORD`, signed in.
async fn signed_in(t: &TestApp, user_name: &str) -> Browser {
    let signed = sign_in(t, user_name, PASSWORD)
        .await
        .expect(StatusCode::OK)
        .body;
    Browser::with_session(signed["token"].as_str().unwrap().to_owned())
}

/// A user in the root group with a password, and their id.
async fn person(t: &TestApp, user_name: &str) -> String {
    let g = root_group(t).await;
    let id = user_with(
        t,
        json!({ "user_name": user_name, "first_name": user_name, "last_name": "Tester", "primary_group_id": g }),
    )
    .await;
    set_password(t, &id, PASSWORD).await;
    id
}

async fn my_account_lists_renames_and_removes_passkeys(backend: Backend) {
    let t = TestApp::new(backend).await;
    person(&t, "ann").await;
    person(&t, "bob").await;
    let ann = signed_in(&t, "ann").await;
    let bob = signed_in(&t, "bob").await;
    let laptop = register(&t, &ann.session, &mut Device::new(), "work laptop").await;
    let phone = register(&t, &ann.session, &mut Device::new(), "phone").await;
    let bobs = register(&t, &bob.session, &mut Device::new(), "bob's key").await;
    let laptop = laptop["id"].as_str().unwrap().to_owned();
    let phone = phone["id"].as_str().unwrap().to_owned();
    let bobs = bobs["id"].as_str().unwrap().to_owned();

    let page = browse(&t, Method::GET, "/account", &ann.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("My passkeys"), "{}", page.body);
    assert!(page.body.contains("work laptop") && page.body.contains(">phone<"));
    assert!(!page.body.contains("bob&#x27;s key"), "only my own");
    assert!(page.body.contains("data-passkey-register"));
    assert!(page.body.contains("/static/console.js"));

    // A bad name: the message next to the field, what was typed kept, nothing changed.
    let long = "x".repeat(80);
    let rename = format!("/account/passkeys/{laptop}/rename");
    let refused = browse(
        &t,
        Method::POST,
        &rename,
        &ann.cookies,
        Some(&[("csrf", &ann.csrf), ("name", &long)]),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let error_id = format!("id=\"passkey-{laptop}-name-error\"");
    assert!(refused.body.contains(&error_id), "{}", refused.body);
    assert!(refused.body.contains(&long), "what was typed is kept");
    // Without the CSRF token: refused.
    let forged = browse(
        &t,
        Method::POST,
        &rename,
        &ann.cookies,
        Some(&[("name", "stolen")]),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let renamed = browse(
        &t,
        Method::POST,
        &rename,
        &ann.cookies,
        Some(&[("csrf", &ann.csrf), ("name", "desk laptop")]),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    assert_eq!(renamed.location(), "/account?done=passkey_renamed");
    let page = browse(&t, Method::GET, renamed.location(), &ann.cookies, None).await;
    assert!(page.body.contains("Passkey renamed."), "{}", page.body);
    assert!(page.body.contains(">desk laptop<") && !page.body.contains(">work laptop<"));

    // Removing asks first, and says what happens.
    let remove = format!("/account/passkeys/{phone}/remove");
    let confirm = browse(&t, Method::GET, &remove, &ann.cookies, None).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("Remove the passkey “phone”?"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("will no longer sign you in"));
    assert!(
        confirm
            .body
            .contains(&format!("action=\"{}\"", remove.replace('/', "&#x2f;")))
    );
    let removed = browse(
        &t,
        Method::POST,
        &remove,
        &ann.cookies,
        Some(&[("csrf", &ann.csrf)]),
    )
    .await;
    assert_eq!(removed.location(), "/account?done=passkey_removed");
    let listed = t
        .get(&ann.session, "/api/v1/me/passkeys")
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);

    // Another user's passkey is not reachable: not found, and it stays as it was.
    for (method, path) in [
        (Method::GET, format!("/account/passkeys/{bobs}/remove")),
        (Method::POST, format!("/account/passkeys/{bobs}/remove")),
        (Method::POST, format!("/account/passkeys/{bobs}/rename")),
        (Method::GET, "/account/passkeys/not-an-id/remove".to_owned()),
    ] {
        let form = [("csrf", ann.csrf.as_str()), ("name", "mine now")];
        let body = (method == Method::POST).then_some(&form[..]);
        let page = browse(&t, method.clone(), &path, &ann.cookies, body).await;
        assert_eq!(
            page.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            page.body
        );
    }
    let bobs_keys = t
        .get(&bob.session, "/api/v1/me/passkeys")
        .await
        .expect(StatusCode::OK);
    assert_eq!(bobs_keys.body[0]["name"], "bob's key");
}
both!(my_account_lists_renames_and_removes_passkeys);

/// The code an authenticator app with `secret` (base32) shows at `at`.
fn code(secret: &str, at: OffsetDateTime) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new().with_secret(bytes).build().unwrap();
    totp.generate(u64::try_from(at.unix_timestamp()).unwrap())
        .to_string()
}

/// A six-digit code none of the steps around `at` shows.
fn wrong_code(secret: &str, at: OffsetDateTime) -> String {
    let near: Vec<String> = (-12..=12)
        .map(|n| code(secret, at + time::Duration::seconds(30 * n)))
        .collect();
    (0..1000)
        .map(|n| format!("{:06}", n * 997))
        .find(|c| !near.contains(c))
        .unwrap()
}

async fn my_account_enrolls_verifies_and_disables_an_authenticator_app(backend: Backend) {
    let start = datetime!(2026-11-23 10:00:10 UTC);
    let clock = Arc::new(FixedClock::new(start));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    person(&t, "cy").await;
    let cy = signed_in(&t, "cy").await;

    // No name: the message next to the field.
    let refused = browse(
        &t,
        Method::POST,
        "/account/totp",
        &cy.cookies,
        Some(&[("csrf", &cy.csrf), ("name", "")]),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"totp-name-error\""),
        "{}",
        refused.body
    );

    let enrolled = browse(
        &t,
        Method::POST,
        "/account/totp",
        &cy.cookies,
        Some(&[("csrf", &cy.csrf), ("name", "phone")]),
    )
    .await;
    assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.body);
    assert!(
        enrolled.body.contains("src=\"data:image&#x2f;svg+xml,%3C"),
        "{}",
        enrolled.body
    );
    assert!(enrolled.body.contains("alt=\"QR code"));
    let secret = enrolled.between("<code id=\"totp-secret\">", "</code>");
    assert!(secret.len() >= 16, "{secret}");
    let verify = enrolled.between("action=\"/account/totp/", "\"");
    let id = verify.trim_end_matches("/verify").to_owned();

    // A wrong code: refused next to the field, and counted.
    let wrong = wrong_code(&secret, start);
    let path = format!("/account/totp/{id}/verify");
    let refused = browse(
        &t,
        Method::POST,
        &path,
        &cy.cookies,
        Some(&[("csrf", &cy.csrf), ("code", &wrong)]),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let field_error = refused.between(&format!("id=\"totp-{id}-code-error\">"), "</p>");
    assert!(!field_error.is_empty(), "{}", refused.body);
    assert!(refused.body.contains("not verified yet"));
    assert!(
        refused
            .body
            .contains("<td>1<span class=\"visually-hidden\"> wrong or replayed codes"),
        "{}",
        refused.body
    );

    let right = code(&secret, start);
    let verified = browse(
        &t,
        Method::POST,
        &path,
        &cy.cookies,
        Some(&[("csrf", &cy.csrf), ("code", &right)]),
    )
    .await;
    assert_eq!(
        verified.location(),
        "/account?done=totp_verified",
        "{}",
        verified.body
    );
    let page = browse(
        &t,
        Method::GET,
        "/account?done=totp_verified",
        &cy.cookies,
        None,
    )
    .await;
    assert!(
        page.body.contains("Authenticator app verified"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<td>verified</td>"), "{}", page.body);

    // Disabling asks first, for a current code.
    let disable = format!("/account/totp/{id}/disable");
    let confirm = browse(&t, Method::GET, &disable, &cy.cookies, None).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm
            .body
            .contains("Disable the authenticator app “phone”?"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("no longer ask for this app"));
    clock.advance(time::Duration::seconds(30));
    let now = start + time::Duration::seconds(30);
    let refused = browse(
        &t,
        Method::POST,
        &disable,
        &cy.cookies,
        Some(&[("csrf", &cy.csrf), ("code", &wrong_code(&secret, now))]),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"disable-code-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("Failed attempts so far: <strong>1</strong>"),
        "{}",
        refused.body
    );
    let devices = t
        .get(&cy.session, "/api/v1/me/totp")
        .await
        .expect(StatusCode::OK);
    assert_eq!(devices.body.as_array().unwrap().len(), 1, "nothing changed");
    let done = browse(
        &t,
        Method::POST,
        &disable,
        &cy.cookies,
        Some(&[("csrf", &cy.csrf), ("code", &code(&secret, now))]),
    )
    .await;
    assert_eq!(
        done.location(),
        "/account?done=totp_disabled",
        "{}",
        done.body
    );
    let devices = t
        .get(&cy.session, "/api/v1/me/totp")
        .await
        .expect(StatusCode::OK);
    assert_eq!(devices.body.as_array().unwrap().len(), 0);
}
both!(my_account_enrolls_verifies_and_disables_an_authenticator_app);

async fn the_pending_page_registers_a_passkey_there_and_then(backend: Backend) {
    let t = TestApp::new(backend).await;
    let fay = person(&t, "fay").await;
    let system = t.system(&t.admin, "Vault").await;
    let keeper = t.role(&t.admin, &system, "Keeper").await;
    t.grant_user(&t.admin, &keeper, &fay, None)
        .await
        .expect(StatusCode::CREATED);
    t.put(
        &t.admin,
        &format!("/api/v1/roles/{keeper}/security-policy"),
        json!({ "require_passkey": true, "passkey_after_magic_link": false, "idle_timeout_minutes": null }),
    )
    .await
    .expect(StatusCode::OK);
    let b = signed_in(&t, "fay").await;
    let page = browse(&t, Method::GET, "/account", &b.cookies, None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("Register a passkey first"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("data-passkey-register data-next=\"&#x2f;\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("name=\"csrf\" value=\"{}\"", b.csrf))
    );
    // What the page's script does: the REST ceremony with the session cookie and its token.
    let csrf = [
        ("x-csrf-token", b.csrf.as_str()),
        ("cookie", b.cookies.as_str()),
    ];
    let begin = t
        .call(
            None,
            Method::POST,
            "/api/v1/me/passkeys/register/begin",
            Some(json!({})),
            &csrf,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        begin.body["options"]["publicKey"]["authenticatorSelection"]["residentKey"], "preferred",
        "a passkey the device can offer without a user name"
    );
    let credential = Device::new().register(&begin.body["options"]);
    let body = json!({ "ceremony": begin.body["ceremony"], "name": "fay's laptop", "credential": credential });
    let without_token = [("cookie", b.cookies.as_str())];
    t.call(
        None,
        Method::POST,
        "/api/v1/me/passkeys/register/finish",
        Some(body.clone()),
        &without_token,
    )
    .await
    .problem(StatusCode::FORBIDDEN, "csrf_failed");
    t.call(
        None,
        Method::POST,
        "/api/v1/me/passkeys/register/finish",
        Some(body),
        &csrf,
    )
    .await
    .expect(StatusCode::CREATED);
    let home = browse(&t, Method::GET, "/", &b.cookies, None).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("Welcome, fay"), "{}", home.body);
    let page = browse(&t, Method::GET, "/account", &b.cookies, None).await;
    assert!(page.body.contains("fay&#x27;s laptop"), "{}", page.body);
    // The last passkey stays while the role requires one: the confirmation page says why.
    let id = t.get(&b.session, "/api/v1/me/passkeys").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let remove = format!("/account/passkeys/{id}/remove");
    let confirm = browse(&t, Method::GET, &remove, &b.cookies, None).await;
    assert!(
        confirm.body.contains("It is your last passkey"),
        "{}",
        confirm.body
    );
    let refused = browse(
        &t,
        Method::POST,
        &remove,
        &b.cookies,
        Some(&[("csrf", &b.csrf)]),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("your roles require a passkey"),
        "{}",
        refused.body
    );
}
both!(the_pending_page_registers_a_passkey_there_and_then);

async fn pages_carry_the_idle_deadline_only_when_the_roles_set_one(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let gus = person(&t, "gus").await;
    person(&t, "hal").await;
    let system = t.system(&t.admin, "Ledger").await;
    let clerk = t.role(&t.admin, &system, "Clerk").await;
    t.grant_user(&t.admin, &clerk, &gus, None)
        .await
        .expect(StatusCode::CREATED);
    t.put(
        &t.admin,
        &format!("/api/v1/roles/{clerk}/security-policy"),
        json!({ "require_passkey": false, "passkey_after_magic_link": false, "idle_timeout_minutes": 15 }),
    )
    .await
    .expect(StatusCode::OK);

    // Without a timeout: no deadline, no warning.
    let hal = signed_in(&t, "hal").await;
    let page = browse(&t, Method::GET, "/account", &hal.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("data-idle-seconds"), "{}", page.body);
    assert!(!page.body.contains("idle-warning"));

    // With one: the page signs out a minute before the server would, and warns a minute
    // before that.
    let gus = signed_in(&t, "gus").await;
    for path in ["/", "/account"] {
        let page = browse(&t, Method::GET, path, &gus.cookies, None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.body.contains("data-idle-seconds=\"840\""),
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains("You will be signed out in one minute"));
        assert!(page.body.contains("after 15 minutes without activity"));
        assert!(page.body.contains("action=\"/sign-out/idle\""));
    }
    // Staying signed in is a request: it answers the time left.
    clock.advance(time::Duration::minutes(13));
    let kept = browse(
        &t,
        Method::POST,
        "/session/keep-alive",
        &gus.cookies,
        Some(&[("csrf", &gus.csrf)]),
    )
    .await;
    assert_eq!(kept.status, StatusCode::NO_CONTENT, "{}", kept.body);
    assert_eq!(kept.headers.get("latchkey-idle-seconds").unwrap(), "840");
    let forged = browse(
        &t,
        Method::POST,
        "/session/keep-alive",
        &gus.cookies,
        Some(&[]),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    clock.advance(time::Duration::minutes(14));
    let page = browse(&t, Method::GET, "/account", &gus.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK, "kept alive: {}", page.body);

    // Idle longer than the timeout: the server refuses the session, and the page's sign-out
    // lands on the sign-in page saying why.
    clock.advance(time::Duration::minutes(16));
    let page = browse(&t, Method::GET, "/account", &gus.cookies, None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/");
    let out = browse(
        &t,
        Method::POST,
        "/sign-out/idle",
        &gus.cookies,
        Some(&[("csrf", &gus.csrf)]),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_eq!(out.location(), "/?signed_out=idle");
    let cleared = out
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("latchkey_session=;"));
    assert!(cleared, "the cookie is cleared");
    let sign_in_page = browse(&t, Method::GET, "/?signed_out=idle", "", None).await;
    assert!(
        sign_in_page
            .body
            .contains("You were signed out because your session was idle"),
        "{}",
        sign_in_page.body
    );
    assert!(sign_in_page.body.contains("Sign in with a passkey"));
    // Without a script, the passkey form says what it needs, next to its field.
    let pre = sign_in_page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("latchkey_pre="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let no_script = browse(
        &t,
        Method::POST,
        "/sign-in/passkey",
        &format!("latchkey_pre={pre}"),
        Some(&[("csrf", &pre), ("user_name", "gus")]),
    )
    .await;
    assert_eq!(no_script.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = no_script.between("id=\"passkey-user_name-error\">", "</p>");
    assert!(error.contains("needs JavaScript"), "{}", no_script.body);
    assert!(
        no_script.body.contains("value=\"gus\""),
        "what was typed is kept"
    );
    let forged = browse(
        &t,
        Method::POST,
        "/sign-in/passkey",
        "",
        Some(&[("user_name", "gus")]),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let revoked = t
        .get(&t.admin, "/api/v1/security/events?kind=session.revoked")
        .await
        .expect(StatusCode::OK);
    assert_eq!(revoked.body["items"][0]["detail"]["reason"], "idle_timeout");

    // A live session signing out at its deadline is signed out too.
    let hal_out = browse(
        &t,
        Method::POST,
        "/sign-out/idle",
        &hal.cookies,
        Some(&[("csrf", &hal.csrf)]),
    )
    .await;
    assert_eq!(hal_out.location(), "/?signed_out=idle");
    t.get(&hal.session, "/api/v1/me")
        .await
        .expect(StatusCode::UNAUTHORIZED);
}
both!(pages_carry_the_idle_deadline_only_when_the_roles_set_one);

async fn security_charts_count_sign_ins_alerts_and_privileged_holders(backend: Backend) {
    let day1 = datetime!(2026-11-20 09:00 UTC);
    let clock = Arc::new(FixedClock::new(day1 - time::Duration::days(40)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let ivy = person(&t, "ivy").await;
    person(&t, "jon").await;
    // Forty days ago: outside the chart.
    sign_in(&t, "ivy", PASSWORD).await.expect(StatusCode::OK);
    clock.set(day1);
    for _ in 0..2 {
        sign_in(&t, "ivy", PASSWORD).await.expect(StatusCode::OK);
    }
    sign_in(&t, "ivy", "wrong")
        .await
        .expect(StatusCode::UNAUTHORIZED);
    clock.set(day1 + time::Duration::days(3));
    sign_in(&t, "jon", PASSWORD).await.expect(StatusCode::OK);
    for _ in 0..3 {
        sign_in(&t, "jon", "wrong")
            .await
            .expect(StatusCode::UNAUTHORIZED);
    }
    // Privileged holders: the administrator, and ivy made an auditor too.
    let auditor = t.system_role("Auditor").await;
    t.grant_user(&t.admin, &auditor, &ivy, None)
        .await
        .expect(StatusCode::CREATED);
    let admin_role = t.system_role("Administrator").await;
    let admin_role_privileged = t
        .get(&t.admin, &format!("/api/v1/roles/{admin_role}"))
        .await
        .body["privileged"]
        == true;

    let open = t
        .get(&t.admin, "/api/v1/security/alerts?status=open&limit=1000")
        .await
        .expect(StatusCode::OK);
    let mut expected: std::collections::BTreeMap<String, i64> = Default::default();
    for a in open.body["items"].as_array().unwrap() {
        *expected
            .entry(a["rule"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert!(
        !expected.is_empty(),
        "granting a privileged role raises an alert"
    );

    // ivy (Auditor: security.view) sees the charts.
    let b = signed_in(&t, "ivy").await;
    let page = browse(&t, Method::GET, "/security/charts", &b.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("<title id=\"signins-title\">Sign-ins per day, last 30 days</title>")
    );
    assert!(page.body.contains("<desc id=\"signins-desc\">"));
    let table = page.between("<table id=\"signins-table\">", "</table>");
    let row = |day: &str| {
        table
            .split("<tr>")
            .find(|r| r.contains(&format!(">{day}<")))
            .unwrap_or_else(|| panic!("no {day} in {table}"))
            .to_owned()
    };
    assert!(
        row("2026-11-20").contains("<td>2</td><td>1</td>"),
        "{}",
        row("2026-11-20")
    );
    // The chart ends today, 23 November: jon's sign-ins and ivy's, to see this page.
    assert!(
        row("2026-11-23").contains("<td>2</td><td>3</td>"),
        "{}",
        row("2026-11-23")
    );
    assert!(row("2026-11-21").contains("<td>0</td><td>0</td>"));
    assert_eq!(table.matches("<th scope=\"row\">").count(), 30);
    assert!(!table.contains("2026-10-11"), "forty days ago is outside");
    assert!(
        page.body.contains("from 2026-10-25 to 2026-11-23"),
        "{}",
        page.body
    );

    let alerts = page.between("<table id=\"alerts-table\">", "</table>");
    for (rule, n) in &expected {
        assert!(
            alerts.contains(&format!(">{rule}</a></th><td>{n}</td>")),
            "{rule} {n}: {alerts}"
        );
    }
    let roles = page.between("<table id=\"roles-table\">", "</table>");
    assert!(
        roles.contains("<th scope=\"row\">Auditor</th><td>1</td>"),
        "{roles}"
    );
    if admin_role_privileged {
        assert!(
            roles.contains("<th scope=\"row\">Administrator</th><td>1</td>"),
            "{roles}"
        );
    }

    // Without security.view: forbidden, and no figure shown.
    let jon = signed_in(&t, "jon").await;
    let page = browse(&t, Method::GET, "/security/charts", &jon.cookies, None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(!page.body.contains("signins-table"));
}
both!(security_charts_count_sign_ins_alerts_and_privileged_holders);

async fn the_pending_page_proves_a_passkey_after_a_link(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let kim = user_with(
        &t,
        json!({ "user_name": "kim", "first_name": "Kim", "last_name": "Linked", "email": "kim@example.com", "primary_group_id": g }),
    )
    .await;
    let system = t.system(&t.admin, "Vault").await;
    let keeper = t.role(&t.admin, &system, "Keeper").await;
    t.grant_user(&t.admin, &keeper, &kim, None)
        .await
        .expect(StatusCode::CREATED);
    let kims_token = t.token_for(&kim).await;
    let mut device = Device::new();
    register(&t, &kims_token, &mut device, "kim's key").await;
    t.put(
        &t.admin,
        &format!("/api/v1/roles/{keeper}/security-policy"),
        json!({ "require_passkey": false, "passkey_after_magic_link": true, "idle_timeout_minutes": null }),
    )
    .await
    .expect(StatusCode::OK);
    t.post_public(
        "/api/v1/auth/magic-link",
        json!({ "email": "kim@example.com" }),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    let mail = crate::sign_in::mails(&t).pop().unwrap();
    let secret = mail
        .split_whitespace()
        .find_map(|w| w.split("token=").nth(1))
        .unwrap()
        .to_owned();
    let form = [("token", secret.as_str())];
    let signed = browse(&t, Method::POST, "/auth/magic-link", "", Some(&form)).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let session = signed
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("latchkey_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let cookies = format!("latchkey_session={session}");
    let csrf = latchkey_service::csrf_token(&session);

    let page = browse(&t, Method::GET, "/", &cookies, None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("Confirm with your passkey first"),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-passkey-verify"), "{}", page.body);
    assert!(page.body.contains("Use my passkey"));
    // What the page's script does.
    let headers = [
        ("x-csrf-token", csrf.as_str()),
        ("cookie", cookies.as_str()),
    ];
    let begin = t
        .call(
            None,
            Method::POST,
            "/api/v1/me/passkeys/verify/begin",
            Some(json!({})),
            &headers,
        )
        .await
        .expect(StatusCode::OK);
    let assertion = device.assert(&begin.body["options"], None);
    t.call(
        None,
        Method::POST,
        "/api/v1/me/passkeys/verify/finish",
        Some(json!({ "ceremony": begin.body["ceremony"], "credential": assertion })),
        &headers,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    let home = browse(&t, Method::GET, "/", &cookies, None).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("Welcome, kim"), "{}", home.body);
}
both!(the_pending_page_proves_a_passkey_after_a_link);
