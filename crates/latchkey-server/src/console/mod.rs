//! The admin console: server-rendered HTML pages under `/`, served by the same application
//! as the REST API and calling the same service functions, so a page shows and changes
//! exactly what the caller's REST requests could. Pages work without JavaScript; htmx
//! (vendored, served from `/static/`) only loads parts of a page, such as a group's
//! subgroups.
//!
//! Files by page area: `view` (templates, page responses, the signed-in caller, forms and
//! their CSRF check, errors next to fields), `session` (sign-in, sign-out, home), `users`,
//! `groups`, `roles`, `audit`, `security` (the Security Center), `account` (my sessions,
//! API tokens and password), and governance: `rules` (role assignment rules), `sod`
//! (segregation of duties), `approvals`, `reviews` (access reviews).
//! API tokens and password), `lifecycle` (users' CSV download, invitation, disabling,
//! deletion with hand-over, and the user page's sessions, security and audit tabs),
//! `import` (CSV import with column mapping and a dry run), `workspaces`.

mod account;
mod account_security;
mod approvals;
mod audit;
mod group_page;
mod groups;
mod import;
mod lifecycle;
mod preview;
mod reviews;
mod role_page;
mod roles;
mod rules;
mod security;
mod security_charts;
mod session;
mod sod;
mod systems;
mod users;
mod view;
mod workspaces;

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
        .route(
            "/sign-in/passkey",
            post(session::sign_in_passkey_without_script),
        )
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
        .route("/rules", get(rules::list).post(rules::create))
        .route("/rules/new", get(rules::new_form))
        .route("/rules/{id}", get(rules::show).post(rules::update))
        .route("/rules/{id}/preview", post(rules::preview))
        .route("/rules/{id}/apply", post(rules::apply))
        .route("/rules/{id}/runs/{run}", get(rules::run))
        .route("/sod", get(sod::list).post(sod::create))
        .route("/sod/new", get(sod::new_form))
        .route("/sod/{id}", get(sod::show).post(sod::update))
        .route("/approvals", get(approvals::list))
        .route("/approvals/{id}", get(approvals::show))
        .route("/approvals/{id}/decide", post(approvals::decide))
        .route("/reviews", get(reviews::list).post(reviews::create))
        .route("/reviews/new", get(reviews::new_form))
        .route("/reviews/items", get(reviews::items))
        .route("/reviews/{id}", get(reviews::show))
        .route("/reviews/{id}/close", post(reviews::close))
        .route(
            "/reviews/{id}/items/{item}/revoke",
            get(reviews::revoke_form),
        )
        .route("/reviews/{id}/items/{item}/decide", post(reviews::decide))
        .route("/users/export.csv", get(lifecycle::export))
        .route("/users/import", get(import::upload_form))
        .route("/users/import/map", post(import::map))
        .route("/users/import/preview", post(import::preview))
        .route("/users/import/run", post(import::run))
        .route(
            "/users/invite",
            get(lifecycle::invite_form).post(lifecycle::invite),
        )
        .route(
            "/users/{id}/disable",
            get(lifecycle::disable_confirm).post(lifecycle::disable),
        )
        .route("/users/{id}/enable", post(lifecycle::enable))
        .route(
            "/users/{id}/delete",
            get(lifecycle::delete_confirm).post(lifecycle::delete),
        )
        .route(
            "/users/{id}/sessions/{session}/revoke",
            post(lifecycle::revoke_session),
        )
        .route(
            "/workspaces",
            get(workspaces::list).post(workspaces::create),
        )
        .route(
            "/workspaces/{id}",
            get(workspaces::show).post(workspaces::update),
        )
        .route("/workspaces/{id}/members", post(workspaces::add_member))
        .route("/workspaces/{id}/teams", post(workspaces::create_team))
        .route("/workspaces/{id}/folders", post(workspaces::create_folder))
        .route("/workspaces/{id}/keys", post(workspaces::create_key))
        .route(
            "/workspaces/{id}/keys/{key}/revoke",
            post(workspaces::revoke_key),
        )
        .route(
            "/account/passkeys",
            post(account_security::register_without_script),
        )
        .route(
            "/account/passkeys/{id}/rename",
            post(account_security::rename_passkey),
        )
        .route(
            "/account/passkeys/{id}/remove",
            get(account_security::confirm_remove_passkey).post(account_security::remove_passkey),
        )
        .route("/account/totp", post(account_security::enroll_totp))
        .route(
            "/account/totp/{id}/verify",
            post(account_security::verify_totp),
        )
        .route(
            "/account/totp/{id}/disable",
            get(account_security::confirm_disable_totp).post(account_security::disable_totp),
        )
        .route("/session/keep-alive", post(account_security::keep_alive))
        .route("/sign-out/idle", post(account_security::sign_out_idle))
        .route("/security/charts", get(security_charts::show))
        .route("/static/console.js", get(js))
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
        .route("/static/import.js", get(import::script))
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

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", view::JS)
}
