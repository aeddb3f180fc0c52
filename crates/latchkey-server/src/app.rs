//! The application: shared state, every route (the REST API, the console's pages, health and
//! metrics), and the middleware around them (request ids, request logs, metrics, body
//! limits, the problem+json fallback).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use latchkey_service::Services;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, Failure};
use crate::metrics::Metrics;
use crate::openapi::ApiRouter;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub metrics: Arc<Metrics>,
    pub openapi: Arc<String>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The organisation revision a response reflects.
const REVISION: HeaderName = HeaderName::from_static("latchkey-revision");

/// Builds the whole HTTP application over `services`.
pub fn build(services: Services, max_body_bytes: usize) -> Router {
    let (api, openapi) = crate::routes::api(ApiRouter::default()).finish();
    let api = api.method_not_allowed_fallback(method_not_allowed);
    let openapi_json = openapi.to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
    let state = AppState {
        services,
        metrics: Arc::new(Metrics::default()),
        openapi: Arc::new(openapi_json),
    };
    Router::new()
        .nest("/api/v1", api)
        .route("/api/v1/openapi.json", get(openapi_document))
        .nest("/public/v1", crate::routes::workspaces::public())
        .route(
            "/auth/magic-link",
            get(crate::routes::sign_in::magic_link_page)
                .post(crate::routes::sign_in::magic_link_form),
        )
        .route(
            "/invite",
            get(crate::routes::invitations::invite_page)
                .post(crate::routes::invitations::invite_form),
        )
        .route(
            "/workspace-invite",
            get(crate::routes::workspaces::invite_page)
                .post(crate::routes::workspaces::invite_form),
        )
        .merge(crate::console::routes())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes))
        // A span per request only at `debug`: formatting one costs a tenth of a check's
        // round trip. At `info`, `track` logs each failure with its request id instead.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::debug_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %request_id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::default()))
        .with_state(state)
}

/// Request ids shaped as UUIDs: a random half drawn once per process and a counter, so
/// that naming a request costs no system call.
#[derive(Clone)]
struct RequestIds {
    process: u64,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        Self {
            // A version 7 id's second half is random.
            process: uuid::Uuid::now_v7().as_u64_pair().1,
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = uuid::Uuid::from_u64_pair(self.process, n);
        let mut buf = uuid::Uuid::encode_buffer();
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
            .ok()
            .map(RequestId::new)
    }
}

async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Cheap clones (an `Arc<str>`, an enum, `Bytes`): nothing is allocated per request.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let request_id = req.headers().get(REQUEST_ID).cloned();
    let started = Instant::now();
    let (mut response, revision) = latchkey_service::observe_revisions(next.run(req)).await;
    if revision > 0 {
        response
            .headers_mut()
            .insert(REVISION, HeaderValue::from(revision));
    }
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.metrics.observe(
        route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed(),
    );
    // The cause of a server error stays in the logs, with what identifies the request.
    if let Some(Failure(cause)) = response.extensions_mut().remove::<Failure>() {
        let request_id = request_id
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::error!(%request_id, method = %method, route, status = response.status().as_u16(), error = %cause, "request failed");
    }
    // Problems carry the request id so a user can quote it to an operator.
    if let Some(id) = request_id.as_ref().and_then(|v| v.to_str().ok())
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/problem+json")
    {
        response = with_request_id(response, id).await;
    }
    response
}

async fn with_request_id(response: Response, id: &str) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return (parts.status, "").into_response();
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut v) => {
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "request_id".to_owned(),
                    serde_json::Value::String(id.to_owned()),
                );
            }
            serde_json::to_vec(&v).unwrap_or_else(|_| bytes.to_vec())
        }
        Err(_) => bytes.to_vec(),
    };
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

async fn fallback() -> ApiError {
    ApiError::NoRoute
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

async fn openapi_document(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.as_str().to_owned(),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store answers and its migrations are applied.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.store().ready().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the store is unreachable or not migrated\n",
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.services.store();
    let body = state.metrics.render(store.pool_state(), store.backend());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_uuids_of_one_process() {
        let mut ids = RequestIds::default();
        let req = axum::http::Request::new(());
        let mut seen = std::collections::HashSet::new();
        let mut prefix = None;
        for _ in 0..1000 {
            let id = ids.make_request_id(&req).map(|id| {
                id.header_value()
                    .to_str()
                    .map(str::to_owned)
                    .unwrap_or_default()
            });
            let id = id.unwrap_or_default();
            let parsed = uuid::Uuid::parse_str(&id);
            assert!(parsed.is_ok(), "{id} is a UUID");
            let half = parsed.map(|u| u.as_u64_pair().0).unwrap_or_default();
            assert_eq!(*prefix.get_or_insert(half), half);
            assert!(seen.insert(id));
        }
        // Another process (another generator) starts from another random half.
        let mut other = RequestIds::default();
        let theirs = other
            .make_request_id(&req)
            .and_then(|id| id.header_value().to_str().ok().map(str::to_owned))
            .unwrap_or_default();
        assert!(!seen.contains(&theirs));
    }
}
