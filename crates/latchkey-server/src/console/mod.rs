//! The admin console: server-rendered HTML pages under `/`, served by the same application
//! as the REST API and calling the same service functions, so a page shows and changes
//! exactly what the caller's REST requests could. Pages work without JavaScript; htmx
//! (vendored, served from `/static/`) only loads parts of a page, such as a group's
//! subgroups.
//!
//! Files by page area: `view` (templates, page responses, the signed-in caller, forms and
//! their CSRF check, errors next to fields), `session` (sign-in, sign-out, home), `users`,
//! `groups`, `roles`, `audit`, `security` (the Security Center), `account` (my sessions,
//! API tokens and password).

mod account;
mod audit;
mod group_page;
mod groups;
mod preview;
mod role_page;
mod roles;
mod security;
mod session;
mod systems;
mod users;
mod view;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::AppState;

pub(crate) use session::{link_failed_page, link_page};

/// Every console route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(session::home))
        .route("/sign-in", post(session::sign_in_password))
        .route("/sign-in/link", post(session::request_link))
        .route("/sign-out", post(session::sign_out))
        .route("/users", get(users::list).post(users::create))
        .route("/users/new", get(users::new_form))
        .route("/users/{id}", get(users::show))
        .route("/users/{id}/grants", post(users::grant))
        .route("/groups", get(groups::tree).post(groups::create))
        .route("/groups/{id}", get(group_page::show))
        .route("/groups/{id}/children", get(groups::children))
        .route("/groups/{id}/grants", post(group_page::grant))
        .route("/roles", get(roles::list).post(roles::create))
        .route("/roles/inheritance", post(roles::add_inheritance))
        .route("/systems", post(roles::create_system))
        .route("/audit", get(audit::list))
        .route("/security", get(security::events))
        .route("/security/alerts", get(security::alerts))
        .route(
            "/security/alerts/{id}/acknowledge",
            post(security::acknowledge),
        )
        .route("/security/alerts/{id}/resolve", post(security::resolve))
        .route(
            "/security/snapshots",
            get(security::snapshots).post(security::create_snapshot),
        )
        .route("/account", get(account::show))
        .route(
            "/account/sessions/{id}/revoke",
            post(account::revoke_session),
        )
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/account/password", post(account::change_password))
        .route("/groups/{id}/move", post(group_page::move_group))
        .route("/groups/{id}/disable", post(group_page::disable))
        .route("/groups/{id}/enable", post(group_page::enable))
        .route("/groups/{id}/managers", post(group_page::add_manager))
        .route(
            "/groups/{id}/managers/remove",
            post(group_page::remove_manager),
        )
        .route("/systems", get(systems::tree))
        .route("/systems/{id}", get(systems::show))
        .route("/systems/{id}/children", get(systems::children))
        .route("/roles/{id}", get(role_page::show))
        .route("/roles/{id}/permissions", post(role_page::permissions))
        .route("/roles/{id}/policy", post(role_page::policy))
        .route("/roles/{id}/granted", post(role_page::add_granted))
        .route(
            "/roles/{id}/granted/remove",
            post(role_page::remove_granted),
        )
        .route("/static/console.css", get(css))
        .route("/static/htmx.min.js", get(htmx))
}

/// Static files change only with the binary, and their URLs carry its fingerprint.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", *view::ASSET_VERSION)) {
        headers.insert(header::ETAG, tag);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", view::CSS)
}

async fn htmx() -> Response {
    asset("text/javascript; charset=utf-8", view::HTMX)
}
