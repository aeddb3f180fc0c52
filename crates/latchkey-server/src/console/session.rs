//! Signing in and out of the console, and its home page. The sign-in page offers a password
//! and a mailed link; both open the same cookie session as the REST sign-in. A session whose
//! roles first ask for a passkey sees a page saying so and can only sign out.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use latchkey_api::{MagicLinkRequest, PasswordSignIn};
use latchkey_service::ServiceError;

use super::view::{
    Console, Form, PRE_SESSION_COOKIE, Page, Problem, PublicForm, clear_session_cookies,
    pending_form, pending_page, redirect,
};
use crate::app::AppState;
use crate::extract::{Client, SESSION_COOKIE, cookie};
use crate::routes::sign_in::session_cookies;

/// `GET /`: the home page when signed in, else the sign-in page.
pub(super) async fn home(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    // Why the browser was signed out, said on the sign-in page (`?signed_out=idle`).
    let signed_out = if q.iter().any(|(k, v)| k == "signed_out" && v == "idle") {
        "idle"
    } else {
        ""
    };
    let Some(token) = cookie(&headers, SESSION_COOKIE) else {
        return sign_in_page(
            &headers,
            SignInState {
                signed_out,
                ..SignInState::default()
            },
        );
    };
    match s.services.authenticate(token).await {
        Ok(p) => {
            let c = Console {
                csrf: latchkey_service::csrf_token(token),
                p,
            };
            match c.p.pending {
                Some(action) => pending_page(&c, action),
                None => Page::signed_in("home.html", &c, "home").render(),
            }
        }
        // An expired or revoked session: sign in again, and forget the old cookie.
        Err(ServiceError::Unauthenticated(_)) => {
            let mut response = sign_in_page(
                &headers,
                SignInState {
                    signed_out,
                    ..SignInState::default()
                },
            );
            clear_session_cookies(&mut response);
            response
        }
        Err(e) => {
            let problem = Problem::from(e);
            sign_in_page(
                &headers,
                SignInState {
                    problem: Some(problem),
                    ..SignInState::default()
                },
            )
        }
    }
}

#[derive(Default)]
struct SignInState {
    /// Which form failed: `password` or `link`.
    form: &'static str,
    problem: Option<Problem>,
    values: Form,
    notice: Option<&'static str>,
    /// Why the browser was signed out: `idle`, or empty.
    signed_out: &'static str,
}

/// The sign-in page, with the token its forms repeat from a `SameSite=Strict` cookie.
fn sign_in_page(headers: &HeaderMap, state: SignInState) -> Response {
    let existing = cookie(headers, PRE_SESSION_COOKIE)
        .filter(|v| {
            v.len() >= 32
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .map(str::to_owned);
    let pre = existing
        .clone()
        .unwrap_or_else(|| latchkey_service::random_secret("lkp_"));
    let mut page = Page::new("sign_in.html")
        .set("csrf", &pre)
        .set("failed_form", state.form)
        .set("notice", state.notice)
        .set("signed_out", state.signed_out);
    page = match &state.problem {
        Some(problem) => page.failed(problem, &state.values),
        None => page,
    };
    let mut response = page.render();
    if existing.is_none() {
        let secure = if crate::routes::sign_in::served_locally(headers) {
            ""
        } else {
            "; Secure"
        };
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{PRE_SESSION_COOKIE}={pre}; Path=/; HttpOnly; SameSite=Strict{secure}"
        )) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// `POST /sign-in`: a user name and a password (and a TOTP code once the user has one).
pub(super) async fn sign_in_password(
    State(s): State<AppState>,
    Client(client): Client,
    PublicForm { form, headers }: PublicForm,
) -> Response {
    let body = PasswordSignIn {
        organisation: form.opt("organisation"),
        user_name: form.get("user_name").to_owned(),
        password: form.get("password").to_owned(),
        totp_code: form.opt("totp_code"),
    };
    match s.services.sign_in_password(&body, &client).await {
        Ok(signed) => {
            let mut response = redirect(&HeaderMap::new(), "/");
            for v in session_cookies(&s, &headers, &signed) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => sign_in_page(
            &headers,
            SignInState {
                form: "password",
                problem: Some(Problem::from(e)),
                values: form,
                notice: None,
                signed_out: "",
            },
        ),
    }
}

/// `POST /sign-in/passkey`: where the passkey form goes when no script ran it (scripts are
/// off): the page again, saying what is needed next to the field.
pub(super) async fn sign_in_passkey_without_script(
    PublicForm { form, headers }: PublicForm,
) -> Response {
    let problem = Problem::invalid(
        "user_name",
        "signing in with a passkey needs JavaScript: browsers offer passkeys to scripts only; turn scripts on for this site, or use your password or a link",
    );
    sign_in_page(
        &headers,
        SignInState {
            form: "passkey",
            problem: Some(problem),
            values: form,
            notice: None,
            signed_out: "",
        },
    )
}

/// `POST /sign-in/link`: mails a sign-in link; the answer is the same whether the address
/// belongs to someone or not.
pub(super) async fn request_link(
    State(s): State<AppState>,
    Client(client): Client,
    PublicForm { form, headers }: PublicForm,
) -> Response {
    let body = MagicLinkRequest {
        email: form.get("email").to_owned(),
        organisation: form.opt("organisation"),
    };
    match s.services.request_magic_link(&body, &client).await {
        Ok(()) => {
            let mut response = sign_in_page(
                &headers,
                SignInState {
                    form: "link",
                    notice: Some(
                        "If the address belongs to a user, a sign-in link is on its way. It works once, within 15 minutes.",
                    ),
                    ..SignInState::default()
                },
            );
            *response.status_mut() = StatusCode::ACCEPTED;
            response
        }
        Err(e) => sign_in_page(
            &headers,
            SignInState {
                form: "link",
                problem: Some(Problem::from(e)),
                values: form,
                notice: None,
                signed_out: "",
            },
        ),
    }
}

/// `POST /sign-out`: ends the session (a pending one too) and goes back to the sign-in page.
pub(super) async fn sign_out(
    State(s): State<AppState>,
    Client(client): Client,
    req: Request,
) -> Response {
    let (c, headers) = match pending_form(&s, req).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Err(e) = s.services.sign_out(&c.p, &client).await {
        return Problem::from(e).page(&c);
    }
    let mut response = redirect(&headers, "/");
    clear_session_cookies(&mut response);
    response
}

/// `GET /auth/magic-link?token=…`, where a mailed or bootstrap link leads: a button that
/// posts the token (fetching the link signs nobody in, so mail scanners do not use it up).
/// The token stays out of `Referer` headers.
pub(crate) fn link_page(token: &str) -> Response {
    let mut response = Page::new("link.html").set("token", token).render();
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The answer to a link that does not sign in: invalid, expired or already used.
pub(crate) fn link_failed_page(status: StatusCode) -> Response {
    Page::new("error.html")
        .status(status)
        .set("status", status.as_u16())
        .set("title", "This link does not work")
        .set(
            "problem",
            "it is invalid, expired or already used; ask for a new one from the sign-in page",
        )
        .render()
}
