//! Inviting people by email: the invitation, its mail, the page and form it leads to,
//! accepting it once, revoking it, its expiry, and an address that already has a user.

use std::sync::Arc;

use axum::http::StatusCode;
use latchkey_model::FixedClock;
use latchkey_testkit::Backend;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::both;
use crate::harness::TestApp;
use crate::sign_in::{event_kinds, mails, root_group, sign_in, user_with};

/// The invitation secret in a mail.
fn token_in(mail: &str) -> String {
    let link = mail
        .split_whitespace()
        .find(|w| w.starts_with("http://localhost:8080/invite?token="))
        .unwrap_or_else(|| panic!("no invitation link in {mail}"));
    link.split("token=").nth(1).unwrap().to_owned()
}

fn accept_body(token: &str, user_name: &str, password: Option<&str>) -> Value {
    let mut body = json!({
        "token": token,
        "user_name": user_name,
        "first_name": "New",
        "last_name": "Comer",
    });
    if let Some(p) = password {
        body["password"] = json!(p);
    }
    body
}

async fn users_named(t: &TestApp, name: &str) -> usize {
    t.get(&t.admin, &format!("/api/v1/users?q={name}"))
        .await
        .expect(StatusCode::OK)
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["user_name"] == name)
        .count()
}

async fn an_invitation_is_mailed_accepted_once_and_grants_its_role(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let sys = t.system(&t.admin, "Wiki").await;
    let reader = t.role(&t.admin, &sys, "Reader").await;
    let sales = t.group(&t.admin, "Sales", None).await;

    let answer = t
        .post(
            &t.admin,
            "/api/v1/invitations",
            json!({ "email": "  New.Comer@example.com ", "role_id": reader, "group_id": sales }),
        )
        .await
        .expect(StatusCode::CREATED);
    let id = answer.id();
    assert_eq!(answer.body["status"], "pending");
    assert_eq!(answer.body["email"], "New.Comer@example.com");
    assert_eq!(answer.body["expires_at"], "2026-11-30T10:00:00Z");
    assert!(
        answer.body.get("token_hash").is_none() && !answer.text.contains("lki_"),
        "neither the secret nor its hash is shown: {}",
        answer.text
    );
    let sent = mails(&t);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("To: New.Comer@example.com"), "{}", sent[0]);
    let token = token_in(&sent[0]);
    assert!(token.starts_with("lki_"));

    // The link's page says what the invitation is for and uses nothing up.
    let page = t
        .call(
            None,
            axum::http::Method::GET,
            &format!("/invite?token={token}"),
            None,
            &[],
        )
        .await
        .expect(StatusCode::OK);
    assert!(page.text.contains("Reader") && page.text.contains("Sales"));
    assert!(
        page.text
            .contains("<form method=\"post\" action=\"/invite\">")
    );
    let preview = t
        .post_public("/api/v1/invitations/lookup", json!({ "token": token }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(preview.body["role"], "Reader");
    assert_eq!(preview.body["group"], "Sales");

    // A password the policy refuses: nothing is created, the invitation stays pending.
    let refused = t
        .post_public(
            "/api/v1/invitations/accept",
            accept_body(&token, "newcomer", Some("short")),
        )
        .await;
    refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(users_named(&t, "newcomer").await, 0);
    let still = t
        .get(&t.admin, &format!("/api/v1/invitations/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(still.body["status"], "pending");

    let accepted = t
        .post_public(
            "/api/v1/invitations/accept",
            accept_body(&token, "newcomer", Some("a long enough password")),
        )
        .await
        .expect(StatusCode::CREATED);
    let user = accepted.body["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(accepted.body["user"]["email"], "New.Comer@example.com");
    assert_eq!(accepted.body["user"]["primary_group_id"], sales.as_str());
    assert_eq!(accepted.body["session"]["user_id"], user.as_str());
    let session = accepted.body["session"]["token"].as_str().unwrap();
    let me = t.get(session, "/api/v1/me").await.expect(StatusCode::OK);
    assert_eq!(me.body["user_name"], "newcomer");
    let roles = t
        .get(&t.admin, &format!("/api/v1/users/{user}/effective-roles"))
        .await
        .expect(StatusCode::OK);
    assert!(
        roles.text.contains(&reader),
        "the invited role is held: {}",
        roles.text
    );
    // The password chosen signs in.
    sign_in(&t, "newcomer", "a long enough password")
        .await
        .expect(StatusCode::OK);
    let after = t
        .get(&t.admin, &format!("/api/v1/invitations/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(after.body["status"], "accepted");
    assert_eq!(after.body["user_id"], user.as_str());

    // Once only.
    t.post_public(
        "/api/v1/invitations/accept",
        accept_body(&token, "second", Some("a long enough password")),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(users_named(&t, "second").await, 0);
    t.post_public(
        "/api/v1/invitations/accept",
        accept_body("lki_forged", "third", None),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    let kinds: Vec<_> = event_kinds(&t, "").await;
    let names: Vec<&str> = kinds.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"invitation.sent"), "{names:?}");
    assert!(names.contains(&"invitation.accepted"), "{names:?}");
    let failed: Vec<_> = kinds
        .iter()
        .filter(|(k, _)| k == "invitation.failed")
        .collect();
    assert_eq!(failed.len(), 1, "{kinds:?}");
    assert_eq!(failed[0].1["reason"], "accepted");
}
both!(an_invitation_is_mailed_accepted_once_and_grants_its_role);

async fn an_address_that_has_a_user_updates_that_user_instead(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let sys = t.system(&t.admin, "Wiki").await;
    let reader = t.role(&t.admin, &sys, "Reader").await;
    let sales = t.group(&t.admin, "Sales", None).await;
    let ivy = user_with(
        &t,
        json!({ "user_name": "ivy", "first_name": "Ivy", "last_name": "I", "primary_group_id": g, "email": "ivy@example.com" }),
    )
    .await;

    let answer = t
        .post(
            &t.admin,
            "/api/v1/invitations",
            json!({ "email": "IVY@example.com", "role_id": reader, "group_id": sales }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(answer.body["updated_user_id"], ivy.as_str());
    assert_eq!(answer.body["role_granted"], true);
    assert_eq!(answer.body["group_added"], true);
    assert!(mails(&t).is_empty(), "no invitation is sent");
    let roles = t
        .get(&t.admin, &format!("/api/v1/users/{ivy}/effective-roles"))
        .await
        .expect(StatusCode::OK);
    assert!(roles.text.contains(&reader));
    let memberships = t
        .get(&t.admin, &format!("/api/v1/memberships?user_id={ivy}"))
        .await
        .expect(StatusCode::OK);
    assert!(memberships.text.contains(&sales), "{}", memberships.text);

    // Again: nothing left to change, and the answer says so.
    let again = t
        .post(
            &t.admin,
            "/api/v1/invitations",
            json!({ "email": "ivy@example.com", "role_id": reader, "group_id": sales }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(again.body["role_granted"], false);
    assert_eq!(again.body["group_added"], false);
    assert!(
        again.body["message"]
            .as_str()
            .unwrap()
            .contains("nothing changed")
    );
    let invitations = t
        .get(&t.admin, "/api/v1/invitations")
        .await
        .expect(StatusCode::OK);
    assert_eq!(invitations.body.as_array().unwrap().len(), 0);
}
both!(an_address_that_has_a_user_updates_that_user_instead);

async fn invitations_are_revoked_replaced_and_expire(backend: Backend) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-23 10:00 UTC)));
    let t = TestApp::with_clock(backend, clock.clone()).await;
    let sys = t.system(&t.admin, "Wiki").await;
    let reader = t.role(&t.admin, &sys, "Reader").await;
    let invite = |email: &'static str| {
        let t = &t;
        let reader = reader.clone();
        async move {
            t.post(
                &t.admin,
                "/api/v1/invitations",
                json!({ "email": email, "role_id": reader }),
            )
            .await
            .expect(StatusCode::CREATED)
            .id()
        }
    };

    // Revoked: the link stops working, and revoking twice is a conflict.
    let first = invite("rex@example.com").await;
    let token = token_in(mails(&t).last().unwrap());
    let revoked = t
        .delete(&t.admin, &format!("/api/v1/invitations/{first}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(revoked.body["status"], "revoked");
    t.delete(&t.admin, &format!("/api/v1/invitations/{first}"))
        .await
        .problem(StatusCode::CONFLICT, "invitation_status");
    t.post_public(
        "/api/v1/invitations/accept",
        accept_body(&token, "rex", None),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    // A new invitation to the same address replaces the pending one.
    let older = invite("sam@example.com").await;
    let older_token = token_in(mails(&t).last().unwrap());
    let newer = invite("sam@example.com").await;
    let newer_token = token_in(mails(&t).last().unwrap());
    let pending = t
        .get(&t.admin, "/api/v1/invitations?status=pending")
        .await
        .expect(StatusCode::OK);
    let ids: Vec<&str> = pending
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![newer.as_str()], "only the newest is pending");
    assert_ne!(older, newer);
    t.post_public(
        "/api/v1/invitations/accept",
        accept_body(&older_token, "sam", None),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    // Seven days later it has expired.
    clock.advance(time::Duration::days(7));
    t.post_public(
        "/api/v1/invitations/accept",
        accept_body(&newer_token, "sam", None),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let expired = t
        .get(&t.admin, "/api/v1/invitations?status=expired")
        .await
        .expect(StatusCode::OK);
    assert_eq!(expired.body.as_array().unwrap().len(), 1);
    t.get(&t.admin, "/api/v1/invitations?status=sideways")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let reasons: Vec<String> = event_kinds(&t, "kind=invitation.failed")
        .await
        .into_iter()
        .map(|(_, d)| d["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons, ["revoked", "revoked", "expired"]);
    assert!(
        !event_kinds(&t, "kind=invitation.revoked").await.is_empty(),
        "revoking is an event"
    );
}
both!(invitations_are_revoked_replaced_and_expire);

async fn accepting_without_a_password_opens_a_session_for_a_passkey(backend: Backend) {
    let t = TestApp::new(backend).await;
    let sys = t.system(&t.admin, "Wiki").await;
    let reader = t.role(&t.admin, &sys, "Reader").await;
    t.post(
        &t.admin,
        "/api/v1/invitations",
        json!({ "email": "pia@example.com", "role_id": reader }),
    )
    .await
    .expect(StatusCode::CREATED);
    let token = token_in(mails(&t).last().unwrap());
    // The form, as a browser posts it: cookies, then home.
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/invite")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "localhost:8080")
        .body(axum::body::Body::from(format!(
            "token={token}&user_name=pia&first_name=Pia&last_name=P&password="
        )))
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
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("latchkey_session=lks_") && c.contains("HttpOnly")),
        "{cookies:?}"
    );
    // No password was set: a password sign-in fails like a wrong one.
    sign_in(&t, "pia", "anything at all here")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let sessions = t
        .get(&t.admin, "/api/v1/security/events?kind=sign_in.succeeded")
        .await
        .expect(StatusCode::OK);
    assert_eq!(sessions.body["items"][0]["detail"]["method"], "invitation");
}
both!(accepting_without_a_password_opens_a_session_for_a_passkey);

async fn inviting_needs_the_permission_and_hands_out_only_what_one_holds(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let sys = t.system(&t.admin, "Wiki").await;
    let reader = t.role(&t.admin, &sys, "Reader").await;
    let plain = user_with(
        &t,
        json!({ "user_name": "plain", "first_name": "P", "last_name": "P", "primary_group_id": g }),
    )
    .await;
    let plain_token = t.token_for(&plain).await;
    t.post(
        &plain_token,
        "/api/v1/invitations",
        json!({ "email": "x@example.com", "role_id": reader }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
    t.get(&plain_token, "/api/v1/invitations")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");

    // An inviter who holds users.invite only cannot invite into the Administrator role.
    let admin_id = t
        .get(&t.admin, "/api/v1/me")
        .await
        .expect(StatusCode::OK)
        .body["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invite_role = t
        .post(
            &t.admin,
            "/api/v1/roles",
            json!({
                "name": "Invites",
                "system_id": latchkey_system(&t).await,
                "permissions": ["users.invite"],
                "owner_id": admin_id,
            }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let inviter = user_with(
        &t,
        json!({ "user_name": "inviter", "first_name": "I", "last_name": "I", "primary_group_id": g }),
    )
    .await;
    t.grant_user(&t.admin, &invite_role, &inviter, None)
        .await
        .expect(StatusCode::CREATED);
    let inviter_token = t.token_for(&inviter).await;
    let admin_role = t.system_role("Administrator").await;
    let fields = t
        .post(
            &inviter_token,
            "/api/v1/invitations",
            json!({ "email": "x@example.com", "role_id": admin_role }),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .fields();
    assert!(
        fields.contains(&("role_id".to_owned(), "not_held".to_owned())),
        "{fields:?}"
    );
    let bad = t
        .post(
            &inviter_token,
            "/api/v1/invitations",
            json!({ "email": "not an address", "role_id": reader, "group_id": "0190b7a4-0000-7000-8000-000000000000" }),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .fields();
    assert!(
        bad.contains(&("email".to_owned(), "format".to_owned()))
            || bad.iter().any(|(f, _)| f == "email"),
        "{bad:?}"
    );
    assert!(
        bad.iter().any(|(f, r)| f == "group_id" && r == "exists"),
        "{bad:?}"
    );
    assert!(mails(&t).is_empty(), "nothing was sent");
    // The plain Reader role is fine.
    t.post(
        &inviter_token,
        "/api/v1/invitations",
        json!({ "email": "x@example.com", "role_id": reader }),
    )
    .await
    .expect(StatusCode::CREATED);
    // An existing user's access is user management: the inviter alone may not change it.
    user_with(
        &t,
        json!({ "user_name": "old", "first_name": "O", "last_name": "O", "primary_group_id": g, "email": "old@example.com" }),
    )
    .await;
    t.post(
        &inviter_token,
        "/api/v1/invitations",
        json!({ "email": "old@example.com", "role_id": reader }),
    )
    .await
    .problem(StatusCode::CONFLICT, "existing_user");
}
both!(inviting_needs_the_permission_and_hands_out_only_what_one_holds);

/// The id of the built-in `latchkey` system.
async fn latchkey_system(t: &TestApp) -> String {
    let systems = t
        .get(&t.admin, "/api/v1/systems?q=latchkey")
        .await
        .expect(StatusCode::OK);
    systems.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "latchkey")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A user manager of Sales invites into Sales only, and sees, reads and revokes only the
/// invitations into it.
async fn a_scoped_inviter_sees_only_invitations_into_its_groups(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let sales = t.group(&t.admin, "Sales", Some(&g)).await;
    let hr = t.group(&t.admin, "HR", Some(&g)).await;
    let sys = t.system(&t.admin, "Wiki").await;
    let reader = t.role(&t.admin, &sys, "Reader").await;
    let manager = t.user(&t.admin, "manager", &sales).await;
    let um = t.system_role("User manager").await;
    t.grant_user(&t.admin, &um, &manager, Some(&sales))
        .await
        .expect(StatusCode::CREATED);
    let m = t.token_for(&manager).await;
    // Without a group, or into another, is refused.
    let fields = t
        .post(
            &m,
            "/api/v1/invitations",
            json!({ "email": "a@example.com", "role_id": reader }),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .fields();
    assert_eq!(fields, [("group_id".to_owned(), "required".to_owned())]);
    t.post(
        &m,
        "/api/v1/invitations",
        json!({ "email": "a@example.com", "role_id": reader, "group_id": hr }),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let mine = t
        .post(
            &m,
            "/api/v1/invitations",
            json!({ "email": "a@example.com", "role_id": reader, "group_id": sales }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let theirs = t
        .post(
            &t.admin,
            "/api/v1/invitations",
            json!({ "email": "b@example.com", "role_id": reader, "group_id": hr }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id();
    let listed = t
        .get(&m, "/api/v1/invitations")
        .await
        .expect(StatusCode::OK);
    let ids: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine.as_str()]);
    t.get(&m, &format!("/api/v1/invitations/{theirs}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.delete(&m, &format!("/api/v1/invitations/{theirs}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        t.get(&t.admin, "/api/v1/invitations")
            .await
            .expect(StatusCode::OK)
            .body
            .as_array()
            .unwrap()
            .len(),
        2,
        "the administrator sees both"
    );
}
both!(a_scoped_inviter_sees_only_invitations_into_its_groups);
