//! Passkeys through the REST API, with a software authenticator (webauthn-authenticator-rs's
//! `SoftPasskey`) that builds real ES256 attestations and assertions against the server's
//! options: registering several, naming, listing and removing them, signing in by user
//! name and discoverably, replays, a wrong origin, recovery by an administrator, and the
//! role policies that require a passkey.

use axum::http::StatusCode;
use latchkey_testkit::Backend;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

use crate::both;
use crate::harness::TestApp;
use crate::sign_in::{event_kinds, root_group, set_password, sign_in, user_with};

/// A device holding passkeys, used from `origin`.
pub(crate) struct Device {
    soft: SoftPasskey,
    origin: Url,
}

impl Device {
    pub(crate) fn new() -> Self {
        Self::at("http://localhost:8080")
    }

    fn at(origin: &str) -> Self {
        Self {
            // Claims user verification, as a platform authenticator with a PIN would.
            soft: SoftPasskey::new(true),
            origin: Url::parse(origin).unwrap(),
        }
    }

    pub(crate) fn register(&mut self, options: &Value) -> Value {
        let options: CreationChallengeResponse = serde_json::from_value(options.clone()).unwrap();
        let answer = self
            .soft
            .do_registration(self.origin.clone(), options)
            .unwrap();
        serde_json::to_value(answer).unwrap()
    }

    /// An assertion for `options`. For a discoverable request (no allowed credentials) the
    /// device picks `resident` and sends `user_handle`, as a passkey stored on the device
    /// does.
    pub(crate) fn assert(&mut self, options: &Value, resident: Option<(&str, &str)>) -> Value {
        let mut options: RequestChallengeResponse =
            serde_json::from_value(options.clone()).unwrap();
        if let Some((credential_id, _)) = resident {
            assert!(options.public_key.allow_credentials.is_empty());
            let mut allow: Value = json!([{ "type": "public-key", "id": credential_id }]);
            options.public_key.allow_credentials = serde_json::from_value(allow.take()).unwrap();
        }
        let mut answer = self
            .soft
            .do_authentication(self.origin.clone(), options)
            .unwrap();
        if let Some((_, user)) = resident {
            answer.response.user_handle =
                Some(uuid::Uuid::parse_str(user).unwrap().as_bytes().to_vec());
        }
        serde_json::to_value(answer).unwrap()
    }
}

/// Registers a passkey named `name` with `device` for the holder of `token`.
pub(crate) async fn register(t: &TestApp, token: &str, device: &mut Device, name: &str) -> Value {
    let begin = t
        .post(token, "/api/v1/me/passkeys/register/begin", json!({}))
        .await
        .expect(StatusCode::OK);
    let credential = device.register(&begin.body["options"]);
    t.post(
        token,
        "/api/v1/me/passkeys/register/finish",
        json!({ "ceremony": begin.body["ceremony"], "name": name, "credential": credential }),
    )
    .await
    .expect(StatusCode::CREATED)
    .body
}

async fn passkeys_register_and_sign_in_by_name_or_discoverably(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let ann = user_with(
        &t,
        json!({ "user_name": "ann", "first_name": "Ann", "last_name": "A", "primary_group_id": g }),
    )
    .await;
    let ann_token = t.token_for(&ann).await;
    let mut laptop = Device::new();
    let mut phone = Device::new();
    let first = register(&t, &ann_token, &mut laptop, "work laptop").await;
    let second = register(&t, &ann_token, &mut phone, "phone").await;
    assert_eq!(first["name"], "work laptop");
    assert!(
        first.get("credential").is_none(),
        "no key material is shown"
    );
    let listed = t
        .get(&ann_token, "/api/v1/me/passkeys")
        .await
        .expect(StatusCode::OK);
    let names: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["work laptop", "phone"]);

    // Registering the same device again is refused by the options (excluded credentials)
    // or, failing that, by the server.
    let begin = t
        .post(&ann_token, "/api/v1/me/passkeys/register/begin", json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        begin.body["options"]["publicKey"]["excludeCredentials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // By user name: the options list her passkeys; either device signs in.
    let begin = t
        .post_public("/api/v1/auth/passkey/begin", json!({ "user_name": "ann" }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        begin.body["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let assertion = phone.assert(&begin.body["options"], None);
    let signed = t
        .post_public(
            "/api/v1/auth/passkey/finish",
            json!({ "ceremony": begin.body["ceremony"], "credential": assertion }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(signed.body["user_id"], ann.as_str());
    let session = signed.body["token"].as_str().unwrap().to_owned();
    let me = t.get(&session, "/api/v1/me").await.expect(StatusCode::OK);
    assert_eq!(me.body["user_name"], "ann");

    // The same assertion again: its ceremony was finished.
    t.post_public(
        "/api/v1/auth/passkey/finish",
        json!({ "ceremony": begin.body["ceremony"], "credential": assertion }),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // ... and under a new ceremony: its challenge differs.
    let again = t
        .post_public("/api/v1/auth/passkey/begin", json!({ "user_name": "ann" }))
        .await
        .expect(StatusCode::OK);
    t.post_public(
        "/api/v1/auth/passkey/finish",
        json!({ "ceremony": again.body["ceremony"], "credential": assertion }),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    // Discoverable: no user name; the device names the user.
    let begin = t
        .post_public("/api/v1/auth/passkey/begin", json!({}))
        .await
        .expect(StatusCode::OK);
    assert!(
        begin.body["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    let laptop_id = first["credential_id"].as_str().unwrap();
    let assertion = laptop.assert(&begin.body["options"], Some((laptop_id, &ann)));
    let signed = t
        .post_public(
            "/api/v1/auth/passkey/finish",
            json!({ "ceremony": begin.body["ceremony"], "credential": assertion }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(signed.body["user_id"], ann.as_str());
    let listed = t
        .get(&ann_token, "/api/v1/me/passkeys")
        .await
        .expect(StatusCode::OK);
    assert!(
        listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|k| !k["last_used_at"].is_null()),
        "both were used: {}",
        listed.text
    );

    // Rename, then remove one: the other still signs in, the removed one does not.
    let id = second["id"].as_str().unwrap();
    let renamed = t
        .patch(
            &ann_token,
            &format!("/api/v1/me/passkeys/{id}"),
            json!({ "name": "old phone" }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(renamed.body["name"], "old phone");
    t.patch(
        &ann_token,
        &format!("/api/v1/me/passkeys/{id}"),
        json!({ "name": "" }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    t.delete(&ann_token, &format!("/api/v1/me/passkeys/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    let begin = t
        .post_public("/api/v1/auth/passkey/begin", json!({ "user_name": "ann" }))
        .await
        .expect(StatusCode::OK);
    let mut listed_only_laptop = begin.body["options"].clone();
    assert_eq!(
        listed_only_laptop["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The phone still answers if asked (the options name it again): the server refuses.
    listed_only_laptop["publicKey"]["allowCredentials"] =
        json!([{ "type": "public-key", "id": second["credential_id"] }]);
    let assertion = phone.assert(&listed_only_laptop, None);
    t.post_public(
        "/api/v1/auth/passkey/finish",
        json!({ "ceremony": begin.body["ceremony"], "credential": assertion }),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    let kinds: Vec<String> = event_kinds(&t, "")
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for kind in [
        "passkey.added",
        "passkey.removed",
        "sign_in.succeeded",
        "sign_in.failed",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    let reasons: Vec<String> = event_kinds(&t, "kind=sign_in.failed")
        .await
        .into_iter()
        .map(|(_, d)| d["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        reasons,
        ["replayed", "invalid", "unknown_passkey"],
        "the replay, the replay under a new challenge, then the removed passkey"
    );
}
both!(passkeys_register_and_sign_in_by_name_or_discoverably);

async fn forged_and_foreign_answers_change_nothing(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let bo = user_with(
        &t,
        json!({ "user_name": "bo", "first_name": "Bo", "last_name": "B", "primary_group_id": g }),
    )
    .await;
    let bo_token = t.token_for(&bo).await;

    // An answer made on another origin is refused at registration.
    let mut foreign = Device::at("https://evil.localhost");
    let begin = t
        .post(&bo_token, "/api/v1/me/passkeys/register/begin", json!({}))
        .await
        .expect(StatusCode::OK);
    let credential = foreign.register(&begin.body["options"]);
    let refused = t
        .post(
            &bo_token,
            "/api/v1/me/passkeys/register/finish",
            json!({ "ceremony": begin.body["ceremony"], "name": "evil", "credential": credential }),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .fields();
    assert_eq!(refused, [("credential".to_owned(), "webauthn".to_owned())]);
    // Garbage is a clear 422 naming the field; an unknown ceremony too.
    let begin = t
        .post(&bo_token, "/api/v1/me/passkeys/register/begin", json!({}))
        .await
        .expect(StatusCode::OK);
    let fields = t
        .post(
            &bo_token,
            "/api/v1/me/passkeys/register/finish",
            json!({ "ceremony": begin.body["ceremony"], "name": "x", "credential": { "id": 5 } }),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .fields();
    assert_eq!(fields[0].0, "credential");
    let mut device = Device::new();
    let options = t
        .post(&bo_token, "/api/v1/me/passkeys/register/begin", json!({}))
        .await
        .expect(StatusCode::OK);
    let credential = device.register(&options.body["options"]);
    let fields = t
        .post(
            &bo_token,
            "/api/v1/me/passkeys/register/finish",
            json!({ "ceremony": "lkc_forged", "name": "x", "credential": credential }),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .fields();
    assert_eq!(fields[0].0, "ceremony");
    assert!(
        t.get(&bo_token, "/api/v1/me/passkeys")
            .await
            .expect(StatusCode::OK)
            .body
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was registered"
    );
    // Another user cannot finish Bo's ceremony.
    let cy = user_with(
        &t,
        json!({ "user_name": "cy", "first_name": "Cy", "last_name": "C", "primary_group_id": g }),
    )
    .await;
    let cy_token = t.token_for(&cy).await;
    t.post(
        &cy_token,
        "/api/v1/me/passkeys/register/finish",
        json!({ "ceremony": options.body["ceremony"], "name": "x", "credential": credential }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // A sign-in assertion from another origin is refused, and it is an event.
    let key = register(&t, &bo_token, &mut device, "key").await;
    let begin = t
        .post_public("/api/v1/auth/passkey/begin", json!({ "user_name": "bo" }))
        .await
        .expect(StatusCode::OK);
    let mut elsewhere = Device::at("https://evil.localhost");
    std::mem::swap(&mut elsewhere.soft, &mut device.soft);
    let assertion = elsewhere.assert(&begin.body["options"], None);
    t.post_public(
        "/api/v1/auth/passkey/finish",
        json!({ "ceremony": begin.body["ceremony"], "credential": assertion }),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let failed = event_kinds(&t, "kind=sign_in.failed").await;
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].1["detail"].as_str().unwrap().contains("rigin"),
        "the event says why: {}",
        failed[0].1
    );
    let _ = key;
    assert!(
        event_kinds(&t, "kind=sign_in.succeeded").await.is_empty(),
        "no session was opened"
    );
}
both!(forged_and_foreign_answers_change_nothing);

async fn an_administrator_resets_a_lost_passkey(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let dee = user_with(
        &t,
        json!({ "user_name": "dee", "first_name": "Dee", "last_name": "D", "primary_group_id": g }),
    )
    .await;
    let dee_token = t.token_for(&dee).await;
    let mut device = Device::new();
    let key = register(&t, &dee_token, &mut device, "lost phone").await;
    let id = key["id"].as_str().unwrap();
    // Nobody else may see or remove it without users.manage.
    let eve = user_with(
        &t,
        json!({ "user_name": "eve", "first_name": "Eve", "last_name": "E", "primary_group_id": g }),
    )
    .await;
    let eve_token = t.token_for(&eve).await;
    t.get(&eve_token, &format!("/api/v1/users/{dee}/passkeys"))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.delete(&eve_token, &format!("/api/v1/users/{dee}/passkeys/{id}"))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    t.delete(&eve_token, &format!("/api/v1/me/passkeys/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    let listed = t
        .get(&t.admin, &format!("/api/v1/users/{dee}/passkeys"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    t.delete(&t.admin, &format!("/api/v1/users/{dee}/passkeys/{id}"))
        .await
        .expect(StatusCode::NO_CONTENT);
    let events = event_kinds(&t, "kind=recovery.").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "recovery.passkey_reset");
    assert_eq!(events[0].1["name"], "lost phone");
}
both!(an_administrator_resets_a_lost_passkey);

async fn role_policies_send_users_to_enroll_and_verify_a_passkey(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let sys = t.system(&t.admin, "Payroll").await;
    let strict = t.role(&t.admin, &sys, "Payroll clerk").await;
    let fay = user_with(
        &t,
        json!({ "user_name": "fay", "first_name": "Fay", "last_name": "F", "primary_group_id": g, "email": "fay@example.com" }),
    )
    .await;
    set_password(&t, &fay, "fay's long password").await;
    t.grant_user(&t.admin, &strict, &fay, None)
        .await
        .expect(StatusCode::CREATED);

    // Before any policy, a password session does anything her roles allow.
    let before = sign_in(&t, "fay", "fay's long password")
        .await
        .expect(StatusCode::OK);
    assert!(before.body.get("required_action").is_none());
    let live = before.body["token"].as_str().unwrap().to_owned();
    t.get(&live, "/api/v1/sessions")
        .await
        .expect(StatusCode::OK);

    t.put(
        &t.admin,
        &format!("/api/v1/roles/{strict}/security-policy"),
        json!({ "require_passkey": true, "passkey_after_magic_link": true, "idle_timeout_minutes": null }),
    )
    .await
    .expect(StatusCode::OK);
    // The live session is held to it at its next request; only enrolling is open to it.
    let held = t.get(&live, "/api/v1/sessions").await;
    let problem = held.problem(StatusCode::FORBIDDEN, "passkey_enrollment_required");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("/me/passkeys/register/begin")
    );
    t.get(&live, "/api/v1/me").await.expect(StatusCode::OK);
    let fresh = sign_in(&t, "fay", "fay's long password")
        .await
        .expect(StatusCode::OK);
    assert_eq!(fresh.body["required_action"], "enroll_passkey");
    let session = fresh.body["token"].as_str().unwrap().to_owned();
    let mut device = Device::new();
    register(&t, &session, &mut device, "laptop").await;
    t.get(&session, "/api/v1/sessions")
        .await
        .expect(StatusCode::OK);
    // The last passkey stays while the policy requires one.
    let keys = t
        .get(&session, "/api/v1/me/passkeys")
        .await
        .expect(StatusCode::OK);
    let key = keys.body[0]["id"].as_str().unwrap().to_owned();
    t.delete(&session, &format!("/api/v1/me/passkeys/{key}"))
        .await
        .problem(StatusCode::CONFLICT, "passkey_required");

    // After a magic link, the session must prove the passkey first.
    t.post_public(
        "/api/v1/auth/magic-link",
        json!({ "email": "fay@example.com" }),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    let mail = crate::sign_in::mails(&t).pop().unwrap();
    let secret = mail
        .split_whitespace()
        .find_map(|w| w.split("token=").nth(1))
        .unwrap()
        .to_owned();
    let linked = t
        .post_public(
            "/api/v1/auth/magic-link/consume",
            json!({ "token": secret }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(linked.body["required_action"], "verify_passkey");
    let linked = linked.body["token"].as_str().unwrap().to_owned();
    t.get(&linked, "/api/v1/sessions")
        .await
        .problem(StatusCode::FORBIDDEN, "passkey_verification_required");
    let begin = t
        .post(&linked, "/api/v1/me/passkeys/verify/begin", json!({}))
        .await
        .expect(StatusCode::OK);
    let assertion = device.assert(&begin.body["options"], None);
    t.post(
        &linked,
        "/api/v1/me/passkeys/verify/finish",
        json!({ "ceremony": begin.body["ceremony"], "credential": assertion }),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    t.get(&linked, "/api/v1/sessions")
        .await
        .expect(StatusCode::OK);
    assert_eq!(event_kinds(&t, "kind=passkey.verified").await.len(), 1);

    // API tokens are not sessions: the policy does not hold them up.
    let token = t.token_for(&fay).await;
    t.get(&token, "/api/v1/sessions")
        .await
        .expect(StatusCode::OK);
}
both!(role_policies_send_users_to_enroll_and_verify_a_passkey);
