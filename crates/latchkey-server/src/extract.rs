//! Request extractors whose failures are problems, not axum's plain-text rejections: the
//! caller (`Auth`), a JSON body (`ApiJson`), a query string (`ApiQuery`), path ids
//! (`ApiPath`), `If-Match` and the wanted representation (`Format`).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;
use latchkey_model::FieldError;
use latchkey_service::{Principal, ServiceError};
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::error::ApiError;

/// The authenticated caller, from `Authorization: Bearer <token>` or the session cookie.
/// A session whose roles first ask for a passkey (`Principal::pending`) is refused here
/// (403); the few endpoints that let it comply take [`AuthPending`] instead.
pub struct Auth(pub Principal);

/// The authenticated caller, even one whose session must first register or prove a passkey.
pub struct AuthPending(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = authenticated(parts, state).await?;
        match principal.pending {
            Some(action) => Err(ApiError::Pending(action)),
            None => Ok(Auth(principal)),
        }
    }
}

impl FromRequestParts<AppState> for AuthPending {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticated(parts, state).await.map(AuthPending)
    }
}

/// The secret of `Authorization: Bearer <secret>`.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// The secret a request authenticates with: the bearer token, else the session cookie. A
/// cookie rides along on requests other sites make the browser send, so a request that
/// changes something with it must carry the session's CSRF token as well (`csrf_sent`: the
/// `X-CSRF-Token` header, or the field of one of our own pages' forms), which only our own
/// pages can read.
pub(crate) fn credential<'h>(
    headers: &'h axum::http::HeaderMap,
    changes: bool,
    csrf_sent: Option<&str>,
) -> Result<&'h str, ApiError> {
    if let Some(token) = bearer(headers) {
        return Ok(token);
    }
    let session = cookie(headers, SESSION_COOKIE).ok_or_else(|| {
        ApiError::from(ServiceError::Unauthenticated(
            "send an API token as `Authorization: Bearer <token>`, or sign in".to_owned(),
        ))
    })?;
    if changes && csrf_sent.unwrap_or_default() != latchkey_service::csrf_token(session) {
        return Err(ApiError::CsrfFailed);
    }
    Ok(session)
}

async fn authenticated(parts: &mut Parts, state: &AppState) -> Result<Principal, ApiError> {
    {
        let csrf_sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let token = credential(&parts.headers, !parts.method.is_safe(), csrf_sent)?;
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let principal = state.services.authenticate(token).await?;
        // Read-your-writes across replicas: answer only once this server has the revision.
        if let Some(raw) = parts.headers.get("latchkey-min-revision") {
            let wanted = raw
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::unprocessable(
                        "Latchkey-Min-Revision",
                        "integer",
                        "`Latchkey-Min-Revision` must be a revision number",
                    )
                })?;
            state
                .services
                .wait_for_revision(principal.org_id, wanted)
                .await?;
        }
        Ok(principal.with_request_id(request_id))
    }
}

/// The cookie holding a browser's session secret (HttpOnly).
pub const SESSION_COOKIE: &str = "latchkey_session";
/// The cookie holding the session's CSRF token (readable by the page).
pub const CSRF_COOKIE: &str = "latchkey_csrf";
/// The header a cookie-authenticated change must repeat the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Where the request came from: the peer address (when the server knows it) and the
/// `User-Agent`, cut to 256 characters.
pub struct Client(pub latchkey_service::ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect());
        Ok(Self(latchkey_service::ClientInfo { ip, user_agent }))
    }
}

/// A JSON body. Syntax errors answer 400; a missing, unknown or mistyped field 422 naming it.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            let message = serde_source(&e);
            let field = field_in(&message).unwrap_or_else(|| "body".to_owned());
            let rule = if message.contains("missing field") {
                "required"
            } else if message.contains("unknown field") {
                "unknown_field"
            } else {
                "type"
            };
            ApiError::BadRequest {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "validation_failed",
                detail: format!("the body does not fit: {message}"),
                fields: vec![FieldError::new(field, rule, message)],
            }
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "malformed_json",
            detail: format!("the body is not valid JSON: {}", serde_source(&e)),
            fields: vec![],
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::BadRequest {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            detail: "send the body as `Content-Type: application/json`".to_owned(),
            fields: vec![],
        },
        JsonRejection::BytesRejection(_) => ApiError::PayloadTooLarge,
        other => ApiError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            detail: other.body_text(),
            fields: vec![],
        },
    }
}

/// serde's own message, without axum's prefix.
fn serde_source(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The field a serde message names. Messages look like "missing field `x` at line…",
/// "unknown field `x`, expected …", or carry the path first ("parent.x: invalid type…").
fn field_in(message: &str) -> Option<String> {
    for marker in ["missing field `", "unknown field `"] {
        if let Some(at) = message.find(marker) {
            let rest = &message[at + marker.len()..];
            let name = rest.split('`').next()?;
            let prefix = message[..at].trim_end_matches(": ").trim();
            // For an unknown field the path already ends with it; for a missing one it is
            // the parent's.
            return Some(if prefix.is_empty() || prefix == "." {
                name.to_owned()
            } else if prefix == name || prefix.ends_with(&format!(".{name}")) {
                prefix.to_owned()
            } else {
                format!("{prefix}.{name}")
            });
        }
    }
    let (path, _) = message.split_once(": ")?;
    (!path.is_empty() && path != "." && !path.contains(' ')).then(|| path.to_owned())
}

/// A query string.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Self(v)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    let message = serde_source(&rejection);
    let field = field_in(&message).unwrap_or_else(|| "query".to_owned());
    ApiError::BadRequest {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "validation_failed",
        detail: format!("the query string does not fit: {message}"),
        fields: vec![FieldError::new(field, "type", message)],
    }
}

/// Path parameters; an id that is not a UUID answers 404 like any unknown id.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Self(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ServiceError::NotFound {
                what: "object",
                id: e.body_text().chars().take(80).collect(),
            }
            .into()),
            Err(other) => Err(ApiError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                code: "bad_request",
                detail: other.body_text(),
                fields: vec![],
            }),
        }
    }
}

/// `If-Match: "<version>"`. `*` or no header means "any version".
pub struct IfMatch(pub Option<i64>);

impl FromRequestParts<AppState> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(raw) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let raw = raw.to_str().unwrap_or_default().trim();
        if raw == "*" {
            return Ok(Self(None));
        }
        let tag = raw.trim_start_matches("W/").trim_matches('"');
        match tag.parse::<i64>() {
            Ok(v) => Ok(Self(Some(v))),
            // A tag this server never issued cannot match the current version.
            Err(_) => Err(ServiceError::PreconditionFailed(format!(
                "`If-Match` {raw} does not name a version of this object"
            ))
            .into()),
        }
    }
}

/// JSON unless the client asks for CSV (`?format=csv` or `Accept: text/csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl FromRequestParts<AppState> for Format {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        for pair in query.split('&') {
            if let Some(v) = pair.strip_prefix("format=") {
                return match v {
                    "csv" => Ok(Self::Csv),
                    "json" => Ok(Self::Json),
                    other => Err(ApiError::unprocessable(
                        "format",
                        "one_of",
                        format!("`format` must be `json` or `csv`, not `{other}`"),
                    )),
                };
            }
        }
        let accepts_csv = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"));
        Ok(if accepts_csv { Self::Csv } else { Self::Json })
    }
}
