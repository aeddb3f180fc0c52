//! TOTP devices through the REST API, with a clock the test moves: enrolment (secret, otpauth
//! URL, QR code; the secret sealed in the database), verification, the second factor of a
//! password sign-in (missing, replayed, skewed by one step and by two), the failed attempts
//! shown, the lockout wrong codes lead to, an administrator's reset and disabling.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use latchkey_model::FixedClock;
use latchkey_testkit::Backend;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::both;
use crate::harness::{Answer, TestApp};

const PASSWORD: &str = "correct horse battery";

/// Ten seconds into a 30-second step.
const START: OffsetDateTime = datetime!(2026-11-23 10:00:10 UTC);

async fn root_group(t: &TestApp) -> String {
    let groups = t
        .get(&t.admin, "/api/v1/groups?parent_id=root")
        .await
        .expect(StatusCode::OK);
    groups.body["items"][0]["id"].as_str().unwrap().to_owned()
}

/// A user with a password and a token of their own: (id, token).
async fn person(t: &TestApp, user_name: &str) -> (String, String) {
    let g = root_group(t).await;
    let id = t.user(&t.admin, user_name, &g).await;
    t.put(
        &t.admin,
        &format!("/api/v1/users/{id}/password"),
        json!({ "password": PASSWORD }),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    let token = t.token_for(&id).await;
    (id, token)
}

async fn sign_in(t: &TestApp, user_name: &str, password: &str, code: Option<&str>) -> Answer {
    let mut body = json!({ "user_name": user_name, "password": password });
    if let Some(c) = code {
        body["totp_code"] = json!(c);
    }
    t.post_public("/api/v1/auth/password", body).await
}

/// The code an authenticator app with `secret` (base32) shows at `at`.
fn code(secret: &str, at: OffsetDateTime) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new().with_secret(bytes).build().unwrap();
    totp.generate(u64::try_from(at.unix_timestamp()).unwrap())
        .to_string()
}

/// A six-digit code that is none of the codes of the steps around `at`.
fn wrong_code(secret: &str, at: OffsetDateTime) -> String {
    let near: Vec<String> = (-12..=12)
        .map(|n| code(secret, at + time::Duration::seconds(30 * n)))
        .collect();
    (0..1000)
        .map(|n| format!("{:06}", n * 997))
        .find(|c| !near.contains(c))
        .unwrap()
}

async fn devices(t: &TestApp, token: &str) -> Vec<Value> {
    t.get(token, "/api/v1/me/totp")
        .await
        .expect(StatusCode::OK)
        .body
        .as_array()
        .unwrap()
        .clone()
}

/// `(kind, detail)` of the organisation's security events of `kind` (a prefix), oldest
/// first.
async fn events(t: &TestApp, kind: &str) -> Vec<(String, Value)> {
    let page = t
        .get(
            &t.admin,
            &format!("/api/v1/security/events?order=asc&limit=200&kind={kind}"),
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

/// Enrols a device named `name` for the owner of `token`: (id, secret).
async fn enroll(t: &TestApp, token: &str, name: &str) -> (String, String, Value) {
    let enrolled = t
        .post(token, "/api/v1/me/totp", json!({ "name": name }))
        .await
        .expect(StatusCode::CREATED);
    let secret = enrolled.body["secret"].as_str().unwrap().to_owned();
    (enrolled.id(), secret, enrolled.body)
}

async fn a_totp_device_becomes_a_second_factor_of_password_sign_in(backend: Backend) {
    let clock = Arc::new(FixedClock::new(START));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let (ana, ana_token) = person(&t, "ana").await;
    let at = |steps: i64| START + time::Duration::seconds(30 * steps);

    // Enrolment answers the secret, the otpauth URL and a QR code.
    let (device, secret, body) = enroll(&t, &ana_token, "phone").await;
    assert_eq!(body["name"], "phone");
    assert_eq!(body["verified"], false);
    assert_eq!(body["failed_attempts"], 0);
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    let url = body["otpauth_url"].as_str().unwrap();
    let org_name = {
        let mut tx = t.services.store().read().await.unwrap();
        tx.list_orgs().await.unwrap()[0].name.clone()
    };
    assert!(url.starts_with("otpauth://totp/"), "{url}");
    assert!(url.contains(&format!("secret={secret}")), "{url}");
    assert!(url.contains(":ana?"), "the account is the user name: {url}");
    assert!(
        [org_name.replace(' ', "%20"), org_name.replace(' ', "+")]
            .iter()
            .any(|issuer| url.contains(&format!("issuer={issuer}"))),
        "the issuer is the organisation `{org_name}`: {url}"
    );
    let svg = body["qr_svg"].as_str().unwrap();
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );

    // Bad names name the field and rule, and change nothing.
    let empty = t
        .post(&ana_token, "/api/v1/me/totp", json!({ "name": "  " }))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.fields(), [("name".to_owned(), "required".to_owned())]);
    let long = t
        .post(
            &ana_token,
            "/api/v1/me/totp",
            json!({ "name": "x".repeat(65) }),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        long.fields(),
        [("name".to_owned(), "max_length".to_owned())]
    );
    let twice = t
        .post(&ana_token, "/api/v1/me/totp", json!({ "name": "phone" }))
        .await;
    assert_eq!(
        twice.fields(),
        [("name".to_owned(), "already_exists".to_owned())]
    );
    twice.problem(StatusCode::CONFLICT, "already_exists");
    assert_eq!(devices(&t, &ana_token).await.len(), 1);

    // At rest the secret is sealed: neither its bytes nor its base32 are in the row.
    {
        let mut tx = t.services.store().read().await.unwrap();
        let orgs = tx.list_orgs().await.unwrap();
        let stored = tx
            .get_totp_device(orgs[0].id, device.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let plain: Vec<u8> = totp_rs::Secret::try_from_base32(&secret)
            .unwrap()
            .as_ref()
            .to_vec();
        assert_eq!(plain.len(), 20);
        assert_eq!(stored.sealed_secret.len(), 1 + 24 + 20 + 16);
        assert!(
            !stored
                .sealed_secret
                .windows(20)
                .any(|w| w == plain.as_slice())
        );
        assert!(
            !String::from_utf8_lossy(&stored.sealed_secret).contains(&secret),
            "no base32 either"
        );
    }

    // An unverified device asks nothing at sign-in.
    sign_in(&t, "ana", PASSWORD, None)
        .await
        .expect(StatusCode::OK);

    // Verification: a wrong code is refused and counted, a malformed one is named.
    let verify = |code: String| {
        let t = &t;
        let path = format!("/api/v1/me/totp/{device}/verify");
        let token = ana_token.clone();
        async move { t.post(&token, &path, json!({ "code": code })).await }
    };
    let wrong = verify(wrong_code(&secret, at(0)))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.fields(), [("code".to_owned(), "matches".to_owned())]);
    let malformed = verify("12ab56".to_owned())
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        malformed.fields(),
        [("code".to_owned(), "format".to_owned())]
    );
    assert_eq!(devices(&t, &ana_token).await[0]["failed_attempts"], 1);
    let verified = verify(code(&secret, at(0)))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(verified["verified"], true);
    assert_eq!(
        verified["failed_attempts"], 0,
        "an accepted code clears them"
    );
    verify(code(&secret, at(1)))
        .await
        .problem(StatusCode::CONFLICT, "already_verified");

    // From now on the password alone is not enough; a wrong password still reads as before,
    // telling nothing of the device.
    let required = sign_in(&t, "ana", PASSWORD, None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "totp_required");
    assert!(
        required["detail"].as_str().unwrap().contains("totp_code"),
        "{required}"
    );
    let wrong_password = sign_in(&t, "ana", "wrong horse battery", None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let unknown = sign_in(&t, "nobody", PASSWORD, None)
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(wrong_password["detail"], unknown["detail"]);
    sign_in(
        &t,
        "ana",
        "wrong horse battery",
        Some(&code(&secret, at(0))),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let bad_format = sign_in(&t, "ana", PASSWORD, Some("123"))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad_format.fields(),
        [("totp_code".to_owned(), "format".to_owned())]
    );

    // The code that verified the device was used: not again, even in the same step.
    let replay = sign_in(&t, "ana", PASSWORD, Some(&code(&secret, at(0))))
        .await
        .problem(StatusCode::UNAUTHORIZED, "totp_invalid");
    assert!(
        replay["detail"].as_str().unwrap().contains("already used"),
        "{replay}"
    );

    // The next step's code opens a session, once.
    clock.set(at(1));
    let signed = sign_in(&t, "ana", PASSWORD, Some(&code(&secret, at(1))))
        .await
        .expect(StatusCode::OK);
    assert!(signed.body["token"].as_str().unwrap().starts_with("lks_"));
    sign_in(&t, "ana", PASSWORD, Some(&code(&secret, at(1))))
        .await
        .problem(StatusCode::UNAUTHORIZED, "totp_invalid");

    // Clock skew: two steps ahead is refused (and said to be a clock problem), one step
    // behind is the used one (a replay), one step ahead is accepted.
    clock.set(at(2));
    let skewed = sign_in(&t, "ana", PASSWORD, Some(&code(&secret, at(4))))
        .await
        .problem(StatusCode::UNAUTHORIZED, "totp_invalid");
    assert!(
        skewed["detail"].as_str().unwrap().contains("clock"),
        "{skewed}"
    );
    let listed = devices(&t, &ana_token).await;
    assert_eq!(listed[0]["failed_attempts"], 2, "{listed:?}");
    assert!(listed[0]["last_failure_at"].is_string());
    assert_eq!(listed[0]["last_used_at"], "2026-11-23T10:00:30Z");
    sign_in(&t, "ana", PASSWORD, Some(&code(&secret, at(3))))
        .await
        .expect(StatusCode::OK);
    // One step behind, once the step it belongs to is newer than the last used.
    clock.set(at(5));
    sign_in(&t, "ana", PASSWORD, Some(&code(&secret, at(4))))
        .await
        .expect(StatusCode::OK);
    // Two steps behind is refused.
    clock.set(at(8));
    sign_in(&t, "ana", PASSWORD, Some(&code(&secret, at(6))))
        .await
        .problem(StatusCode::UNAUTHORIZED, "totp_invalid");
    assert_eq!(devices(&t, &ana_token).await[0]["failed_attempts"], 1);

    // Every step is in the Security Center.
    let totp_events = events(&t, "totp.").await;
    let kinds: Vec<&str> = totp_events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["totp.enrolled", "totp.refused", "totp.verified"],
        "{totp_events:?}"
    );
    assert_eq!(totp_events[1].1["reason"], "totp_wrong");
    let reasons: Vec<String> = events(&t, "sign_in.failed")
        .await
        .iter()
        .map(|(_, d)| d["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        reasons,
        [
            "totp_required",
            "wrong_password",
            "unknown_user",
            "wrong_password",
            "totp_malformed",
            "totp_replayed",
            "totp_replayed",
            "totp_wrong",
            "totp_wrong",
        ],
    );

    // An administrator's reset: forbidden to a plain user, recovery activity otherwise.
    let (_bo, bo_token) = person(&t, "bo").await;
    t.get(&bo_token, &format!("/api/v1/users/{ana}/totp"))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.delete(&bo_token, &format!("/api/v1/users/{ana}/totp/{device}"))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    // Someone else's device is not yours to verify or disable.
    t.post(
        &bo_token,
        &format!("/api/v1/me/totp/{device}/verify"),
        json!({ "code": "123456" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    let as_admin = t
        .get(&t.admin, &format!("/api/v1/users/{ana}/totp"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(as_admin.body[0]["id"], device.as_str());
    assert_eq!(as_admin.body[0]["failed_attempts"], 1);
    assert!(!as_admin.text.contains(&secret), "the secret is shown once");
    t.delete(&t.admin, &format!("/api/v1/users/{ana}/totp/{device}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    let reset = events(&t, "recovery.").await;
    assert_eq!(reset.len(), 3, "two password resets, then {reset:?}");
    assert_eq!(reset[2].0, "recovery.totp_reset");
    assert_eq!(reset[2].1["device_id"], device.as_str());
    sign_in(&t, "ana", PASSWORD, None)
        .await
        .expect(StatusCode::OK);

    // An administrator resets only a device of the user named in the path.
    let (_dan, dan_token) = person(&t, "dan").await;
    let (dans, _, _) = enroll(&t, &dan_token, "phone").await;
    t.delete(&t.admin, &format!("/api/v1/users/{ana}/totp/{dans}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(devices(&t, &dan_token).await.len(), 1);

    // The endpoints are in the OpenAPI document.
    let doc = t
        .call(None, Method::GET, "/api/v1/openapi.json", None, &[])
        .await
        .expect(StatusCode::OK)
        .body;
    for path in [
        "/me/totp",
        "/me/totp/{id}/verify",
        "/me/totp/{id}",
        "/users/{id}/totp",
        "/users/{id}/totp/{device}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert!(doc["components"]["schemas"]["TotpEnrolled"].is_object());

    // Disabling one's own verified device takes one of its current codes.
    let (tablet, tablet_secret, _) = enroll(&t, &ana_token, "tablet").await;
    t.post(
        &ana_token,
        &format!("/api/v1/me/totp/{tablet}/verify"),
        json!({ "code": code(&tablet_secret, at(8)) }),
    )
    .await
    .expect(StatusCode::OK);
    let path = format!("/api/v1/me/totp/{tablet}");
    let no_code = t
        .delete(&ana_token, &path)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        no_code.fields(),
        [("code".to_owned(), "required".to_owned())]
    );
    let used = t
        .call(
            Some(&ana_token),
            Method::DELETE,
            &path,
            Some(json!({ "code": code(&tablet_secret, at(8)) })),
            &[],
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(used.fields(), [("code".to_owned(), "replayed".to_owned())]);
    assert_eq!(devices(&t, &ana_token).await.len(), 1, "nothing removed");
    clock.set(at(9));
    t.call(
        Some(&ana_token),
        Method::DELETE,
        &path,
        Some(json!({ "code": code(&tablet_secret, at(9)) })),
        &[],
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    assert!(devices(&t, &ana_token).await.is_empty());
    let kinds: Vec<String> = events(&t, "totp.")
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        ["totp.refused".to_owned(), "totp.disabled".to_owned()]
    );
    sign_in(&t, "ana", PASSWORD, None)
        .await
        .expect(StatusCode::OK);
}
both!(a_totp_device_becomes_a_second_factor_of_password_sign_in);

async fn wrong_codes_lock_the_account_even_with_the_right_password(backend: Backend) {
    let clock = Arc::new(FixedClock::new(START));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let (_cy, token) = person(&t, "cy").await;
    let (device, secret, _) = enroll(&t, &token, "phone").await;
    t.post(
        &token,
        &format!("/api/v1/me/totp/{device}/verify"),
        json!({ "code": code(&secret, START) }),
    )
    .await
    .expect(StatusCode::OK);
    let wrong = wrong_code(&secret, START);
    for _ in 0..4 {
        sign_in(&t, "cy", PASSWORD, Some(&wrong))
            .await
            .problem(StatusCode::UNAUTHORIZED, "totp_invalid");
    }
    let locked = sign_in(&t, "cy", PASSWORD, Some(&wrong))
        .await
        .problem(StatusCode::LOCKED, "locked");
    assert!(
        locked["detail"].as_str().unwrap().contains("10:05:10"),
        "{locked}"
    );
    // Locked means locked, even with a right code.
    clock.set(START + time::Duration::seconds(30));
    sign_in(
        &t,
        "cy",
        PASSWORD,
        Some(&code(&secret, START + time::Duration::seconds(30))),
    )
    .await
    .problem(StatusCode::LOCKED, "locked");
    let alerts = t
        .get(&t.admin, "/api/v1/security/alerts?rule=repeated_failures")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        alerts.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        alerts.text
    );
    // After the lock, a right code signs in and clears the count.
    let later = START + time::Duration::minutes(6);
    clock.set(later);
    sign_in(&t, "cy", PASSWORD, Some(&code(&secret, later)))
        .await
        .expect(StatusCode::OK);
    assert_eq!(devices(&t, &token).await[0]["failed_attempts"], 0);
}
both!(wrong_codes_lock_the_account_even_with_the_right_password);

/// The right password does not wipe the failures while the code is still to come: wrong
/// passwords and wrong codes count together towards the lockout.
async fn wrong_passwords_and_wrong_codes_count_together(backend: Backend) {
    let clock = Arc::new(FixedClock::new(START));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let (_dot, token) = person(&t, "dot").await;
    let (device, secret, _) = enroll(&t, &token, "phone").await;
    t.post(
        &token,
        &format!("/api/v1/me/totp/{device}/verify"),
        json!({ "code": code(&secret, START) }),
    )
    .await
    .expect(StatusCode::OK);
    for _ in 0..2 {
        sign_in(&t, "dot", "not the password at all", None)
            .await
            .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    let wrong = wrong_code(&secret, START);
    for _ in 0..2 {
        sign_in(&t, "dot", PASSWORD, Some(&wrong))
            .await
            .problem(StatusCode::UNAUTHORIZED, "totp_invalid");
    }
    // The fifth failure in a row, two of them wrong passwords: locked.
    sign_in(&t, "dot", PASSWORD, Some(&wrong))
        .await
        .problem(StatusCode::LOCKED, "locked");
}
both!(wrong_passwords_and_wrong_codes_count_together);
