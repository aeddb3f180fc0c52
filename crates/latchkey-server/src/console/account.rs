//! My account, for every signed-in user: my live sessions (the current one marked, any one
//! revocable), my personal API tokens (created with their secret shown once on the result
//! page, revoked with a form saying what stops working), and the form to change my
//! password. The services scope all of it to the caller.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use latchkey_api::{ChangePassword, CreateToken};
use latchkey_model::{SessionId, TokenId};
use latchkey_service::ServiceError;
use serde_json::json;

use super::view::{
    Console, ConsoleForm, Form, Page, Problem, clear_session_cookies, day, redirect, rfc3339,
};
use crate::app::AppState;
use crate::extract::Client;

/// What a successful form says when the page shows again.
fn notice(done: &str) -> Option<&'static str> {
    match done {
        "session" => Some("Session ended: whoever used it is signed out."),
        "token" => Some("Token revoked: programs using it are refused from now on."),
        "password" => Some("Password changed."),
        _ => super::account_security::notice(done),
    }
}

/// `GET /account`.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    account_page(&s, &c, &q, None).await
}

pub(super) async fn account_page(
    s: &AppState,
    c: &Console,
    q: &Form,
    failed: Option<(&str, &Problem, &Form)>,
) -> Response {
    let sessions = match s.services.list_own_sessions(&c.p).await {
        Ok(sessions) => sessions,
        Err(e) => return Problem::from(e).page(c),
    };
    let tokens = match s.services.list_tokens(&c.p).await {
        Ok(tokens) => tokens,
        Err(e) => return Problem::from(e).page(c),
    };
    let sessions: Vec<_> = sessions
        .iter()
        .map(|v| {
            json!({
                "id": v.session.id,
                "current": v.current,
                "method": v.session.method,
                "created_at": rfc3339(Some(v.session.created_at)),
                "last_seen_at": rfc3339(Some(v.session.last_seen_at)),
                "expires_at": rfc3339(Some(v.session.expires_at)),
                "ip": v.session.ip,
                "user_agent": v.session.user_agent,
            })
        })
        .collect();
    let tokens: Vec<_> = tokens
        .iter()
        .filter(|t| t.revoked_at.is_none())
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "created_at": rfc3339(Some(t.created_at)),
                "expires_at": rfc3339(t.expires_at),
            })
        })
        .collect();
    let (passkeys, totp) = match super::account_security::sections(s, c).await {
        Ok(found) => found,
        Err(problem) => return problem.page(c),
    };
    let mut page = Page::signed_in("account.html", c, "account")
        .set("sessions", sessions)
        .set("tokens", tokens)
        .set("passkeys", passkeys)
        .set("totp_devices", totp)
        .set("notice", notice(q.get("done")));
    if let Some((which, problem, form)) = failed {
        page = page.failed(problem, form).set("failed_form", which);
    }
    page.render()
}

async fn refused(
    s: &AppState,
    c: &Console,
    which: &str,
    problem: Problem,
    form: &Form,
) -> Response {
    // A refusal that is not about the form (a session or token of someone else) is a page.
    if problem.fields.is_empty() && problem.status != StatusCode::UNPROCESSABLE_ENTITY {
        return problem.page(c);
    }
    account_page(s, c, &Form::default(), Some((which, &problem, form))).await
}

/// `POST /account/sessions/{id}/revoke`. Ending the current session signs this browser out.
pub(super) async fn revoke_session(
    State(s): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm {
        c,
        form: _,
        headers,
    } = f;
    let Ok(session) = id.parse::<SessionId>() else {
        return Problem::from(ServiceError::not_found("session", &id)).page(&c);
    };
    let current = match s.services.list_own_sessions(&c.p).await {
        Ok(mine) => mine.iter().any(|v| v.current && v.session.id == session),
        Err(e) => return Problem::from(e).page(&c),
    };
    if let Err(e) = s.services.revoke_session(&c.p, session, &client).await {
        return Problem::from(e).page(&c);
    }
    if current {
        let mut response = redirect(&headers, "/");
        clear_session_cookies(&mut response);
        return response;
    }
    redirect(&headers, "/account?done=session")
}

/// `POST /account/tokens`: the new token's secret, shown on this response and never again.
pub(super) async fn create_token(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, .. } = f;
    // The token lasts until the end of the chosen day (UTC).
    let expires_at = match day(&form, "expires", true) {
        Ok(at) => at,
        Err(problem) => return refused(&s, &c, "token", problem, &form).await,
    };
    let req = CreateToken {
        name: form.get("name").to_owned(),
        expires_at,
    };
    match s.services.create_token(&c.p, req).await {
        Ok(created) => Page::signed_in("token_created.html", &c, "account")
            .status(StatusCode::CREATED)
            .set("name", &created.name)
            .set("token", &created.token)
            .set("expires_at", rfc3339(created.expires_at))
            .render(),
        Err(e) => refused(&s, &c, "token", Problem::from(e), &form).await,
    }
}

/// `POST /account/tokens/{id}/revoke`.
pub(super) async fn revoke_token(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm {
        c,
        form: _,
        headers,
    } = f;
    let Ok(token) = id.parse::<TokenId>() else {
        return Problem::from(ServiceError::not_found("api token", &id)).page(&c);
    };
    match s.services.revoke_token(&c.p, token).await {
        Ok(()) => redirect(&headers, "/account?done=token"),
        Err(e) => Problem::from(e).page(&c),
    }
}

/// `POST /account/password`: the current password proves it is me; the new one is typed
/// twice, and the console compares the two before asking the service.
pub(super) async fn change_password(
    State(s): State<AppState>,
    Client(client): Client,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    if form.get("new_password") != form.get("confirm_password") {
        let problem = Problem::invalid("confirm_password", "the two new passwords differ");
        return refused(&s, &c, "password", problem, &form).await;
    }
    let req = ChangePassword {
        current_password: form.get("current_password").to_owned(),
        new_password: form.get("new_password").to_owned(),
    };
    match s.services.change_own_password(&c.p, &req, &client).await {
        Ok(()) => redirect(&headers, "/account?done=password"),
        Err(e) => refused(&s, &c, "password", Problem::from(e), &form).await,
    }
}
