//! What every console page shares: the templates (embedded in the binary, auto-escaped),
//! the page response with its security headers, the signed-in caller taken from the session
//! cookie, forms whose CSRF field is checked before anything else, service errors turned
//! into messages placed next to the fields they name, and the dates filters and forms use.
//!
//! Architecture invariant: a console handler gets its caller only through [`Console`] or
//! [`ConsoleForm`], so every page is signed in and every POST carries the session's CSRF
//! token; what the caller may see or change is decided by the service functions the REST
//! API calls too.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_service::{PendingAction, Principal, ServiceError};
use minijinja::Environment;
use serde::Serialize;
use serde_json::{Map, Value, json};
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

use crate::app::AppState;
use crate::error::{ApiError, Failure};
use crate::extract::{SESSION_COOKIE, cookie, credential};

/// The templates, by name. Every one extends `base.html` or is a fragment htmx swaps in.
const TEMPLATE_FILES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("sign_in.html", include_str!("../../templates/sign_in.html")),
    ("pending.html", include_str!("../../templates/pending.html")),
    ("link.html", include_str!("../../templates/link.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("users.html", include_str!("../../templates/users.html")),
    (
        "user_new.html",
        include_str!("../../templates/user_new.html"),
    ),
    ("user.html", include_str!("../../templates/user.html")),
    ("groups.html", include_str!("../../templates/groups.html")),
    (
        "group_children.html",
        include_str!("../../templates/group_children.html"),
    ),
    ("group.html", include_str!("../../templates/group.html")),
    ("roles.html", include_str!("../../templates/roles.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
    (
        "security.html",
        include_str!("../../templates/security.html"),
    ),
    ("account.html", include_str!("../../templates/account.html")),
    (
        "token_created.html",
        include_str!("../../templates/token_created.html"),
    ),
    ("rules.html", include_str!("../../templates/rules.html")),
    ("rule.html", include_str!("../../templates/rule.html")),
    (
        "rule_run.html",
        include_str!("../../templates/rule_run.html"),
    ),
    (
        "rule_run_progress.html",
        include_str!("../../templates/rule_run_progress.html"),
    ),
    ("sod.html", include_str!("../../templates/sod.html")),
    (
        "sod_rule.html",
        include_str!("../../templates/sod_rule.html"),
    ),
    (
        "approvals.html",
        include_str!("../../templates/approvals.html"),
    ),
    (
        "approval.html",
        include_str!("../../templates/approval.html"),
    ),
    ("reviews.html", include_str!("../../templates/reviews.html")),
    (
        "review_items.html",
        include_str!("../../templates/review_items.html"),
    ),
    (
        "review_new.html",
        include_str!("../../templates/review_new.html"),
    ),
    ("review.html", include_str!("../../templates/review.html")),
    (
        "review_revoke.html",
        include_str!("../../templates/review_revoke.html"),
    ),
    (
        "users_import.html",
        include_str!("../../templates/users_import.html"),
    ),
    (
        "user_invite.html",
        include_str!("../../templates/user_invite.html"),
    ),
    (
        "user_confirm.html",
        include_str!("../../templates/user_confirm.html"),
    ),
    (
        "user_more.html",
        include_str!("../../templates/user_more.html"),
    ),
    (
        "workspaces.html",
        include_str!("../../templates/workspaces.html"),
    ),
    (
        "workspace.html",
        include_str!("../../templates/workspace.html"),
    ),
    (
        "workspace_key_created.html",
        include_str!("../../templates/workspace_key_created.html"),
    ),
    (
        "security_a_account.html",
        include_str!("../../templates/security_a_account.html"),
    ),
    (
        "security_a_register.html",
        include_str!("../../templates/security_a_register.html"),
    ),
    (
        "security_a_totp.html",
        include_str!("../../templates/security_a_totp.html"),
    ),
    (
        "security_a_confirm.html",
        include_str!("../../templates/security_a_confirm.html"),
    ),
    (
        "security_a_charts.html",
        include_str!("../../templates/security_a_charts.html"),
    ),
    (
        "change_preview.html",
        include_str!("../../templates/change_preview.html"),
    ),
    ("confirm.html", include_str!("../../templates/confirm.html")),
    (
        "group_as_of.html",
        include_str!("../../templates/group_as_of.html"),
    ),
    ("systems.html", include_str!("../../templates/systems.html")),
    (
        "system_children.html",
        include_str!("../../templates/system_children.html"),
    ),
    ("system.html", include_str!("../../templates/system.html")),
    ("role.html", include_str!("../../templates/role.html")),
];

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Everything the console renders is HTML: escape every value, whatever the name.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    for &(name, source) in TEMPLATE_FILES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a console template does not parse");
        }
    }
    env
});

/// The console's style sheet and htmx, served by the binary (no CDN).
pub(crate) const CSS: &str = include_str!("../../static/console.css");
pub(crate) const HTMX: &str = include_str!("../../static/htmx.min.js");
/// The console's own script: passkey ceremonies and the idle sign-out.
pub(crate) const JS: &str = include_str!("../../static/console.js");

/// A short fingerprint of the static files, put in their URLs so a new binary's files are
/// fetched while an unchanged one's stay cached.
pub(crate) static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| {
    // FNV-1a: stable across builds and platforms, unlike `DefaultHasher`.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in CSS.bytes().chain(HTMX.bytes()).chain(JS.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", hash >> 32)
});

/// A page to render: a template, a status and what the template shows.
pub(crate) struct Page {
    template: &'static str,
    status: StatusCode,
    ctx: Map<String, Value>,
}

impl Page {
    pub(crate) fn new(template: &'static str) -> Self {
        let mut ctx = Map::new();
        ctx.insert("asset_version".to_owned(), json!(*ASSET_VERSION));
        Self {
            template,
            status: StatusCode::OK,
            ctx,
        }
    }

    /// A page of the signed-in console: the caller's name, the CSRF token for its forms and
    /// the current section of the navigation.
    pub(crate) fn signed_in(template: &'static str, c: &Console, section: &str) -> Self {
        Self::new(template)
            .set("me", &*c.p.user_name)
            .set("csrf", &c.csrf)
            .set("section", section)
            .set(
                "idle_seconds",
                super::account_security::idle_seconds(c.p.idle_timeout_minutes),
            )
            .set("idle_minutes", c.p.idle_timeout_minutes)
    }

    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn set(mut self, key: &str, value: impl Serialize) -> Self {
        self.ctx.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// A failed form: the problem, its field messages and what the user typed.
    pub(crate) fn failed(self, problem: &Problem, form: &Form) -> Self {
        self.status(problem.status)
            .set("problem", &problem.message)
            .set("errors", &problem.fields)
            .set("values", form.values())
    }

    pub(crate) fn render(self) -> Response {
        let html = TEMPLATES
            .get_template(self.template)
            .and_then(|t| t.render(minijinja::value::Serde(Value::Object(self.ctx))));
        match html {
            Ok(html) => html_response(self.status, html),
            Err(e) => {
                let mut response = html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><title>Latchkey</title><p>The page could not be shown; the error has been logged.</p>".to_owned(),
                );
                response.extensions_mut().insert(Failure(format!(
                    "console template `{}`: {e:#}",
                    self.template
                )));
                response
            }
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        self.render()
    }
}

/// HTML with the headers every console page carries: never cached (pages show access
/// data), never framed, scripts and styles from this server only.
fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// `303 See Other` to `to`; for an htmx request, the header that makes htmx navigate.
pub(crate) fn redirect(headers: &HeaderMap, to: &str) -> Response {
    let to = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/"));
    if headers.contains_key("hx-request") {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.headers_mut().insert("hx-redirect", to);
        return response;
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// A service error as the console shows it: a status, a sentence, and messages by field.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) fields: BTreeMap<String, String>,
    /// The cause of a server error, for the log only.
    cause: Option<String>,
}

/// The list parameters of one page: at most `limit` rows after `cursor`, in the list's
/// own order.
pub(super) fn page_of(limit: &str, cursor: Option<String>) -> latchkey_service::ListParams {
    latchkey_service::ListParams {
        limit: Some(limit.to_owned()),
        cursor,
        order: None,
    }
}

/// An id from a page's path or form: one that does not parse names nothing there is, so it
/// is answered like an id of nothing (404 naming `what`), never as a bad request.
pub(super) fn parse_id<T: std::str::FromStr>(what: &'static str, raw: &str) -> Result<T, Problem> {
    raw.parse::<T>()
        .map_err(|_| Problem::from(ServiceError::not_found(what, raw)))
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<ApiError> for Problem {
    fn from(e: ApiError) -> Self {
        let status = e.status_code();
        let cause = status.is_server_error().then(|| format!("{e:?}"));
        let (_, message, errors) = e.parts();
        let mut fields = BTreeMap::new();
        for f in errors {
            fields.entry(f.field).or_insert(f.message);
        }
        Self {
            status,
            message,
            fields,
            cause,
        }
    }
}

impl Problem {
    /// A field the console itself found wrong before asking the service (422).
    pub(crate) fn invalid(field: &str, message: &str) -> Self {
        ServiceError::invalid(field, "invalid", message.to_owned()).into()
    }

    /// The error page of a signed-in caller (403, 404, 5xx…).
    pub(crate) fn page(self, c: &Console) -> Response {
        let cause = self.cause.clone();
        let mut response = Page::signed_in("error.html", c, "")
            .status(self.status)
            .set("status", self.status.as_u16())
            .set("title", self.status.canonical_reason().unwrap_or("Error"))
            .set("problem", &self.message)
            .render();
        if let Some(cause) = cause {
            response.extensions_mut().insert(Failure(cause));
        }
        response
    }
}

/// The signed-in caller of a console page, and the CSRF token its forms carry.
pub(crate) struct Console {
    pub(crate) p: Principal,
    pub(crate) csrf: String,
}

/// Who the request's session belongs to, or the response to give instead: back to the
/// sign-in page when there is no valid session, the page explaining what the roles ask
/// first when the session is pending, 403 when a form's CSRF token is wrong.
pub(crate) async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    form_csrf: Option<&str>,
    allow_pending: bool,
) -> Result<Console, Response> {
    let changes = form_csrf.is_some();
    let token = match credential(headers, changes, form_csrf) {
        Ok(token) => token,
        Err(ApiError::CsrfFailed) => return Err(csrf_failed()),
        Err(_) => return Err(redirect(headers, "/")),
    };
    let csrf = cookie(headers, SESSION_COOKIE)
        .filter(|session| *session == token)
        .map(latchkey_service::csrf_token)
        .unwrap_or_default();
    let p = match state.services.authenticate(token).await {
        Ok(p) => p,
        Err(ServiceError::Unauthenticated(_)) => return Err(redirect(headers, "/")),
        Err(e) => {
            let problem = Problem::from(e);
            let cause = problem.cause.clone();
            let mut response = Page::new("error.html")
                .status(problem.status)
                .set("status", problem.status.as_u16())
                .set("problem", &problem.message)
                .render();
            if let Some(cause) = cause {
                response.extensions_mut().insert(Failure(cause));
            }
            return Err(response);
        }
    };
    let c = Console { p, csrf };
    match c.p.pending {
        Some(action) if !allow_pending => Err(pending_page(&c, action)),
        _ => Ok(c),
    }
}

/// What the roles ask before anything else, said plainly, with a way out.
pub(crate) fn pending_page(c: &Console, action: PendingAction) -> Response {
    let (title, what) = match action {
        PendingAction::EnrollPasskey => (
            "Register a passkey first",
            "One of your roles requires a passkey, and you have none yet. Until you register one, Latchkey lets this session do nothing else.",
        ),
        PendingAction::VerifyPasskey => (
            "Confirm with your passkey first",
            "You signed in with a link, and one of your roles asks for a passkey after such a sign-in. Until you prove one, Latchkey lets this session do nothing else.",
        ),
    };
    Page::signed_in("pending.html", c, "")
        .status(StatusCode::FORBIDDEN)
        .set("title", title)
        .set("what", what)
        .set("action", action.as_str())
        .render()
}

fn csrf_failed() -> Response {
    Page::new("error.html")
        .status(StatusCode::FORBIDDEN)
        .set("status", 403)
        .set("title", "Form not accepted")
        .set(
            "problem",
            "the form did not carry this session's security token (it may be from an older session); reload the page and try again",
        )
        .render()
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        caller(state, &parts.headers, None, false).await
    }
}

/// A submitted form, as the pairs the browser sent (a name may repeat).
#[derive(Debug, Default, Clone)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// Every non-blank value of `name`, in order.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// The first value of `name` exactly as sent (a pasted file); empty when absent.
    pub(crate) fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The value of `name` when it is not blank.
    pub(crate) fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Whether a checkbox named `name` was ticked.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// What the user typed, to fill the form again after a failure (never a password).
    pub(crate) fn values(&self) -> BTreeMap<&str, &str> {
        self.0
            .iter()
            .filter(|(k, _)| k != "csrf" && !k.contains("password"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

async fn read_form(req: Request, state: &AppState) -> Result<Form, Response> {
    match axum::extract::Form::<Vec<(String, String)>>::from_request(req, state).await {
        Ok(axum::extract::Form(pairs)) => Ok(Form(pairs)),
        Err(rejection) => Err(Page::new("error.html")
            .status(StatusCode::BAD_REQUEST)
            .set("status", 400)
            .set("title", "Form not understood")
            .set("problem", rejection.body_text())
            .render()),
    }
}

/// A console POST: the form, once its CSRF field matched the session's token, and the
/// signed-in caller.
pub(crate) struct ConsoleForm {
    pub(crate) c: Console,
    pub(crate) form: Form,
    pub(crate) headers: HeaderMap,
}

impl FromRequest<AppState> for ConsoleForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let form = read_form(req, state).await?;
        let c = caller(state, &headers, Some(form.get("csrf")), false).await?;
        Ok(Self { c, form, headers })
    }
}

/// A POST before any session exists (signing in): its CSRF token is a random value the
/// sign-in page set in a `SameSite=Strict` cookie, repeated in the form (double submit), so
/// another site cannot sign a browser into an account of its choosing.
pub(crate) struct PublicForm {
    pub(crate) form: Form,
    pub(crate) headers: HeaderMap,
}

/// The cookie holding the sign-in forms' CSRF token.
pub(crate) const PRE_SESSION_COOKIE: &str = "latchkey_pre";

impl FromRequest<AppState> for PublicForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let form = read_form(req, state).await?;
        let expected = cookie(&headers, PRE_SESSION_COOKIE).unwrap_or_default();
        if expected.is_empty() || form.get("csrf") != expected {
            return Err(csrf_failed());
        }
        Ok(Self { form, headers })
    }
}

/// Reads `ConsoleForm`-style pairs for a handler that must accept a pending session (signing
/// out).
pub(crate) async fn pending_form(
    state: &AppState,
    req: Request,
) -> Result<(Console, HeaderMap), Response> {
    let headers = req.headers().clone();
    let form = read_form(req, state).await?;
    let c = caller(state, &headers, Some(form.get("csrf")), true).await?;
    Ok((c, headers))
}

/// `pairs` as a URL query string (`a=1&b=x%20y`), blank values left out.
pub(crate) fn encode_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let encode = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The instant a `YYYY-MM-DD` field names: the start of that day (UTC), or with `end` the
/// start of the next one, so a range "from 3 to 5 March" covers the whole of 5 March.
pub(crate) fn day(q: &Form, name: &str, end: bool) -> Result<Option<OffsetDateTime>, Problem> {
    let raw = q.get(name);
    if raw.is_empty() {
        return Ok(None);
    }
    let date = Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map_err(|_| Problem::invalid(name, "give a date as YYYY-MM-DD"))?;
    let start = date.midnight().assume_utc();
    Ok(Some(if end {
        start + Duration::days(1)
    } else {
        start
    }))
}

/// An RFC 3339 instant for a query string; blank when there is none.
pub(crate) fn rfc3339(at: Option<OffsetDateTime>) -> String {
    at.and_then(|at| {
        at.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_default()
}

/// `latchkey_session` and `latchkey_csrf` cleared.
pub(crate) fn clear_session_cookies(response: &mut Response) {
    for name in [SESSION_COOKIE, crate::extract::CSRF_COOKIE] {
        if let Ok(v) = HeaderValue::from_str(&format!("{name}=; Path=/; Max-Age=0")) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATE_FILES {
            assert!(
                TEMPLATES.get_template(name).is_ok(),
                "template {name} does not parse: {:?}",
                TEMPLATES.get_template(name).err()
            );
        }
    }

    #[test]
    fn a_day_filter_covers_the_whole_day() {
        let q = Form::from_pairs(vec![
            ("from".to_owned(), "2026-03-05".to_owned()),
            ("to".to_owned(), " 2026-03-05 ".to_owned()),
            ("bad".to_owned(), "5 March".to_owned()),
        ]);
        let from = day(&q, "from", false).ok().flatten();
        let to = day(&q, "to", true).ok().flatten();
        assert_eq!(rfc3339(from), "2026-03-05T00:00:00Z");
        assert_eq!(rfc3339(to), "2026-03-06T00:00:00Z");
        assert_eq!(day(&q, "absent", false).ok(), Some(None));
        let problem = day(&q, "bad", false).err().map(|p| p.fields);
        assert_eq!(
            problem.and_then(|f| f.get("bad").cloned()).as_deref(),
            Some("give a date as YYYY-MM-DD")
        );
    }

    #[tokio::test]
    async fn values_are_escaped_whatever_the_template() {
        let page = Page::new("error.html")
            .set("status", 404)
            .set("problem", "<script>alert(1)</script>")
            .render();
        assert_eq!(page.status(), StatusCode::OK);
        let body = axum::body::to_bytes(page.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{body}"
        );
        assert!(!body.contains("<script>alert"), "{body}");
    }
}
