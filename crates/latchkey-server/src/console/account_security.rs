//! Sign-in security on My account: my passkeys (registered by `static/console.js` through
//! the REST ceremony endpoints, renamed and removed here, removal after a confirmation
//! page), my authenticator apps (TOTP: enrolled with a QR code shown once, verified with a
//! code, disabled after a confirmation page that asks for a current code), and the idle
//! timeout: the request that keeps a session alive and the sign-out at its end.
//!
//! Everything goes through the services the REST API calls, scoped to the caller: another
//! user's passkey or device is "not found".

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_api::{EnrollTotp, TotpCode};
use latchkey_model::{PasskeyId, TotpDeviceId};
use latchkey_service::ServiceError;
use serde_json::{Value, json};

use super::view::{
    Console, ConsoleForm, Form, Page, Problem, parse_id, pending_form, redirect, rfc3339,
};
use crate::app::AppState;
use crate::extract::Client;

/// What a successful form of this part says when My account shows again.
pub(super) fn notice(done: &str) -> Option<&'static str> {
    match done {
        "passkey_added" => Some("Passkey registered: you can sign in with it from now on."),
        "passkey_renamed" => Some("Passkey renamed."),
        "passkey_removed" => Some("Passkey removed: it no longer signs you in."),
        "totp_verified" => {
            Some("Authenticator app verified: sign-ins with your password now ask for its code.")
        }
        "totp_disabled" => Some("Authenticator app disabled: sign-ins no longer ask for its code."),
        _ => None,
    }
}

/// My passkeys and authenticator apps, as My account lists them.
pub(super) async fn sections(s: &AppState, c: &Console) -> Result<(Value, Value), Problem> {
    let passkeys = s.services.list_own_passkeys(&c.p).await?;
    let devices = s.services.list_own_totp(&c.p).await?;
    let passkeys: Vec<_> = passkeys
        .iter()
        .map(|k| {
            json!({
                "id": k.id,
                "name": k.name,
                "created_at": rfc3339(Some(k.created_at)),
                "last_used_at": rfc3339(k.last_used_at),
            })
        })
        .collect();
    let devices: Vec<_> = devices
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "name": d.name,
                "verified": d.verified,
                "created_at": rfc3339(Some(d.created_at)),
                "last_used_at": rfc3339(d.last_used_at),
                "failed_attempts": d.failed_attempts,
            })
        })
        .collect();
    Ok((json!(passkeys), json!(devices)))
}

/// A refusal of one of this part's forms: next to its field on My account (`which` names
/// the form), or an error page when it is not about the form.
async fn refused(
    s: &AppState,
    c: &Console,
    which: &str,
    problem: Problem,
    form: &Form,
) -> Response {
    if problem.fields.is_empty() && problem.status != StatusCode::UNPROCESSABLE_ENTITY {
        return problem.page(c);
    }
    super::account::account_page(s, c, &Form::default(), Some((which, &problem, form))).await
}

/// `POST /account/passkeys/{id}/rename`.
pub(super) async fn rename_passkey(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let id = match parse_id::<PasskeyId>("passkey", &id) {
        Ok(id) => id,
        Err(problem) => return problem.page(&c),
    };
    match s
        .services
        .rename_own_passkey(&c.p, id, form.get("name"))
        .await
    {
        Ok(_) => redirect(&headers, "/account?done=passkey_renamed"),
        Err(e) => refused(&s, &c, &format!("passkey-{id}"), Problem::from(e), &form).await,
    }
}

/// The passkey `id` of the caller, for its confirmation page.
async fn own_passkey(
    s: &AppState,
    c: &Console,
    id: PasskeyId,
) -> Result<latchkey_model::PasskeyRecord, Response> {
    match s.services.list_own_passkeys(&c.p).await {
        Ok(keys) => keys
            .into_iter()
            .find(|k| k.id == id)
            .ok_or_else(|| Problem::from(ServiceError::not_found("passkey", id)).page(c)),
        Err(e) => Err(Problem::from(e).page(c)),
    }
}

fn confirm_remove_page(
    c: &Console,
    key: &latchkey_model::PasskeyRecord,
    count: usize,
    problem: Option<&Problem>,
) -> Response {
    let mut page = Page::signed_in("security_a_confirm.html", c, "account")
        .set("what", "passkey")
        .set("title", format!("Remove the passkey “{}”?", key.name))
        .set("action", format!("/account/passkeys/{}/remove", key.id))
        .set("last", count <= 1)
        .set("button", "Remove this passkey");
    if let Some(problem) = problem {
        page = page.status(problem.status).set("problem", &problem.message);
    }
    page.render()
}

/// `GET /account/passkeys/{id}/remove`: what removing it means, and the button.
pub(super) async fn confirm_remove_passkey(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
) -> Response {
    let id = match parse_id::<PasskeyId>("passkey", &id) {
        Ok(id) => id,
        Err(problem) => return problem.page(&c),
    };
    let count = match s.services.list_own_passkeys(&c.p).await {
        Ok(keys) => keys.len(),
        Err(e) => return Problem::from(e).page(&c),
    };
    match own_passkey(&s, &c, id).await {
        Ok(key) => confirm_remove_page(&c, &key, count, None),
        Err(response) => response,
    }
}

/// `POST /account/passkeys/{id}/remove`. The last passkey stays while a role requires
/// one: the confirmation page says so.
pub(super) async fn remove_passkey(
    State(s): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, headers, .. } = f;
    let id = match parse_id::<PasskeyId>("passkey", &id) {
        Ok(id) => id,
        Err(problem) => return problem.page(&c),
    };
    let key = match own_passkey(&s, &c, id).await {
        Ok(key) => key,
        Err(response) => return response,
    };
    match s.services.remove_own_passkey(&c.p, id, &client).await {
        Ok(()) => redirect(&headers, "/account?done=passkey_removed"),
        Err(e) => {
            let count = s
                .services
                .list_own_passkeys(&c.p)
                .await
                .map_or(1, |k| k.len());
            confirm_remove_page(&c, &key, count, Some(&Problem::from(e)))
        }
    }
}

/// `POST /account/passkeys`: where the registration form goes when no script ran it (the
/// browser has scripts off): says what is needed, next to the field.
pub(super) async fn register_without_script(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, .. } = f;
    let problem = Problem::invalid(
        "name",
        "registering a passkey needs JavaScript: browsers offer passkeys to scripts only; turn scripts on for this site and try again",
    );
    refused(&s, &c, "register", problem, &form).await
}

/// The data URI of an SVG image: percent-encoded, so nothing in it can leave the attribute
/// (and the page's policy allows `data:` images).
fn svg_data_uri(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len() + 32);
    out.push_str("data:image/svg+xml,");
    for b in svg.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~' | b' ' | b'/' | b'=' | b':')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.replace(' ', "%20")
}

/// `POST /account/totp`: enrols an authenticator app and shows its QR code and secret,
/// this once, with the form that verifies it.
pub(super) async fn enroll_totp(
    State(s): State<AppState>,
    Client(client): Client,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, .. } = f;
    let req = EnrollTotp {
        name: form.get("name").to_owned(),
    };
    match s.services.enroll_totp(&c.p, &req, &client).await {
        Ok(enrolled) => Page::signed_in("security_a_totp.html", &c, "account")
            .status(StatusCode::CREATED)
            .set("id", enrolled.device.id)
            .set("name", &enrolled.device.name)
            .set("secret", &enrolled.secret)
            .set("qr", svg_data_uri(&enrolled.qr_svg))
            .render(),
        Err(e) => refused(&s, &c, "totp", Problem::from(e), &form).await,
    }
}

/// `POST /account/totp/{id}/verify`: the first code proves the app holds the secret. A
/// wrong code shows next to the field on My account, with the count of failures.
pub(super) async fn verify_totp(
    State(s): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let id = match parse_id::<TotpDeviceId>("TOTP device", &id) {
        Ok(id) => id,
        Err(problem) => return problem.page(&c),
    };
    let code = TotpCode {
        code: form.get("code").to_owned(),
    };
    match s.services.verify_totp(&c.p, id, &code, &client).await {
        Ok(_) => redirect(&headers, "/account?done=totp_verified"),
        Err(e) => refused(&s, &c, &format!("totp-{id}"), Problem::from(e), &form).await,
    }
}

/// The confirmation page of disabling a device: a verified one asks for a current code.
async fn disable_page(
    s: &AppState,
    c: &Console,
    id: TotpDeviceId,
    failed: Option<(&Problem, &Form)>,
) -> Response {
    let device = match s.services.list_own_totp(&c.p).await {
        Ok(devices) => devices.into_iter().find(|d| d.id == id),
        Err(e) => return Problem::from(e).page(c),
    };
    let Some(device) = device else {
        return Problem::from(ServiceError::not_found("TOTP device", id)).page(c);
    };
    let mut page = Page::signed_in("security_a_confirm.html", c, "account")
        .set("what", "totp")
        .set(
            "title",
            format!("Disable the authenticator app “{}”?", device.name),
        )
        .set("action", format!("/account/totp/{id}/disable"))
        .set("verified", device.verified)
        .set("failed_attempts", device.failed_attempts)
        .set("button", "Disable this authenticator app");
    if let Some((problem, form)) = failed {
        page = page.failed(problem, form);
    }
    page.render()
}

/// `GET /account/totp/{id}/disable`.
pub(super) async fn confirm_disable_totp(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
) -> Response {
    match parse_id::<TotpDeviceId>("TOTP device", &id) {
        Ok(id) => disable_page(&s, &c, id, None).await,
        Err(problem) => problem.page(&c),
    }
}

/// `POST /account/totp/{id}/disable`.
pub(super) async fn disable_totp(
    State(s): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let id = match parse_id::<TotpDeviceId>("TOTP device", &id) {
        Ok(id) => id,
        Err(problem) => return problem.page(&c),
    };
    let proof = form.opt("code").map(|code| TotpCode { code });
    match s
        .services
        .disable_own_totp(&c.p, id, proof.as_ref(), &client)
        .await
    {
        Ok(()) => redirect(&headers, "/account?done=totp_disabled"),
        Err(e) => {
            let problem = Problem::from(e);
            if problem.fields.is_empty() {
                return problem.page(&c);
            }
            disable_page(&s, &c, id, Some((&problem, &form))).await
        }
    }
}

/// Seconds a page tells the browser before it signs out an idle session. The server ends
/// a session idle for longer than the roles' timeout, measured from the last request it
/// recorded, and it records requests to the minute: the page counts a minute less, so the
/// browser signs out before the server would refuse it.
pub(crate) fn idle_seconds(minutes: Option<u32>) -> Option<u32> {
    minutes.map(|m| m.saturating_mul(60).saturating_sub(60).max(60))
}

/// `POST /session/keep-alive`: the idle warning's "stay signed in". The request itself is
/// the activity; the answer says how long the session now has.
pub(super) async fn keep_alive(f: ConsoleForm) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let seconds = idle_seconds(f.c.p.idle_timeout_minutes).unwrap_or(0);
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert("latchkey-idle-seconds", v);
    }
    response
}

/// `POST /sign-out/idle`: where an idle page goes at its deadline. Ends the session if the
/// server has not already, and shows the sign-in page saying why.
pub(super) async fn sign_out_idle(
    State(s): State<AppState>,
    Client(client): Client,
    req: Request,
) -> Response {
    match pending_form(&s, req).await {
        Ok((c, _)) => {
            if let Err(e) = s.services.sign_out(&c.p, &client).await {
                return Problem::from(e).page(&c);
            }
        }
        // Already ended (idle on the server too): nothing to sign out.
        Err(response) if response.status() == StatusCode::SEE_OTHER => {}
        Err(response) => return response,
    }
    let mut response = redirect(&HeaderMap::new(), "/?signed_out=idle");
    super::view::clear_session_cookies(&mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_signs_out_a_minute_before_the_server_would() {
        assert_eq!(idle_seconds(None), None);
        assert_eq!(idle_seconds(Some(15)), Some(14 * 60));
        assert_eq!(idle_seconds(Some(1)), Some(60));
    }

    #[test]
    fn an_svg_data_uri_keeps_nothing_that_ends_an_attribute() {
        let uri = svg_data_uri(r#"<svg a="1">'&</svg>"#);
        assert!(uri.starts_with("data:image/svg+xml,"));
        for c in ['"', '\'', '<', '>', '&', ' '] {
            assert!(!uri[19..].contains(c), "{uri}");
        }
    }
}
