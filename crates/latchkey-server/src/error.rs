//! `ApiError`: every failure a handler can return, mapped to HTTP in one place
//! (`status_code`) and rendered as `application/problem+json` with a stable `code`. A 5xx
//! says nothing internal; its cause is logged with the request id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_api::{Problem, ProblemField};
use latchkey_model::FieldError;
use latchkey_service::ServiceError;

#[derive(Debug)]
pub enum ApiError {
    Service(ServiceError),
    /// The body or query could not be read (400 for malformed syntax, 422 for wrong fields).
    BadRequest {
        status: StatusCode,
        code: &'static str,
        detail: String,
        fields: Vec<FieldError>,
    },
    /// A change authenticated by the session cookie without the matching CSRF token (403).
    CsrfFailed,
    /// The session must register or prove a passkey before anything else (403).
    Pending(latchkey_service::PendingAction),
    /// No route has this path (404).
    NoRoute,
    /// The path exists, the method does not (405).
    MethodNotAllowed,
    PayloadTooLarge,
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self::Service(e)
    }
}

impl ApiError {
    pub fn unprocessable(field: &str, rule: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            detail: message.clone(),
            fields: vec![FieldError::new(field, rule, message)],
        }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Service(e) => match e {
                ServiceError::Unauthenticated(_) | ServiceError::SecondFactor { .. } => {
                    StatusCode::UNAUTHORIZED
                }
                ServiceError::Forbidden { .. } | ServiceError::PasswordExpired(_) => {
                    StatusCode::FORBIDDEN
                }
                ServiceError::Locked(_) => StatusCode::LOCKED,
                ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                ServiceError::NotFound { .. } => StatusCode::NOT_FOUND,
                ServiceError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::Conflict { .. } => StatusCode::CONFLICT,
                ServiceError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
                ServiceError::Unavailable(_) | ServiceError::RevisionNotReached(_) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::BadRequest { status, .. } => *status,
            Self::NoRoute => StatusCode::NOT_FOUND,
            Self::CsrfFailed | Self::Pending(_) => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    pub(crate) fn parts(&self) -> (&'static str, String, Vec<FieldError>) {
        match self {
            Self::Service(e) => match e {
                ServiceError::Unauthenticated(m) => ("unauthenticated", m.clone(), vec![]),
                ServiceError::SecondFactor { code, message } => (code, message.clone(), vec![]),
                ServiceError::Forbidden { message, .. } => ("forbidden", message.clone(), vec![]),
                ServiceError::NotFound { .. } => ("not_found", e.to_string(), vec![]),
                ServiceError::Validation(errors) => {
                    let detail = if errors.errors().len() == 1 {
                        errors.to_string()
                    } else {
                        format!("{} fields are invalid: {errors}", errors.errors().len())
                    };
                    ("validation_failed", detail, errors.errors().to_vec())
                }
                ServiceError::Conflict {
                    code,
                    message,
                    field,
                } => (
                    code,
                    message.clone(),
                    field
                        .iter()
                        .map(|f| FieldError::new(f, *code, message.clone()))
                        .collect(),
                ),
                ServiceError::PreconditionFailed(m) => ("precondition_failed", m.clone(), vec![]),
                ServiceError::Locked(m) => ("locked", m.clone(), vec![]),
                ServiceError::RateLimited { message, .. } => {
                    ("rate_limited", message.clone(), vec![])
                }
                ServiceError::PasswordExpired(m) => ("password_expired", m.clone(), vec![]),
                ServiceError::Unavailable(_) => (
                    "unavailable",
                    "the service is temporarily unavailable; retry shortly".to_owned(),
                    vec![],
                ),
                ServiceError::RevisionNotReached(m) => ("revision_not_reached", m.clone(), vec![]),
                ServiceError::Internal(_) => (
                    "internal",
                    "an internal error occurred; it has been logged".to_owned(),
                    vec![],
                ),
            },
            Self::BadRequest {
                code,
                detail,
                fields,
                ..
            } => (code, detail.clone(), fields.clone()),
            Self::NoRoute => ("not_found", "no such endpoint".to_owned(), vec![]),
            Self::Pending(action) => (
                match action {
                    latchkey_service::PendingAction::EnrollPasskey => "passkey_enrollment_required",
                    latchkey_service::PendingAction::VerifyPasskey => {
                        "passkey_verification_required"
                    }
                },
                action.explain().to_owned(),
                vec![],
            ),
            Self::CsrfFailed => (
                "csrf_failed",
                "a change signed in by cookie must send the `X-CSRF-Token` header with the value of the `latchkey_csrf` cookie".to_owned(),
                vec![],
            ),
            Self::MethodNotAllowed => (
                "method_not_allowed",
                "this endpoint does not take this method".to_owned(),
                vec![],
            ),
            Self::PayloadTooLarge => (
                "payload_too_large",
                "the request body is too large".to_owned(),
                vec![],
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        // The cause of a server error goes to the logs (`app::track` writes it with the
        // request id), never to the client.
        let failure = status
            .is_server_error()
            .then(|| Failure(format!("{self:?}")));
        let retry_after = match &self {
            Self::Service(ServiceError::RateLimited { retry_after, .. }) => Some(*retry_after),
            _ => None,
        };
        let (code, detail, fields) = self.parts();
        let problem = Problem {
            type_uri: format!("https://latchkey.dev/problems/{code}"),
            title: status.canonical_reason().unwrap_or("error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors: fields
                .into_iter()
                .map(|f| ProblemField {
                    field: f.field,
                    rule: f.rule,
                    message: f.message,
                })
                .collect(),
            request_id: None,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(failure) = failure {
            response.extensions_mut().insert(failure);
        }
        response
    }
}

/// The cause of a server error, carried from the error to the request log.
#[derive(Clone, Debug)]
pub struct Failure(pub String);

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_server_error_keeps_its_cause_for_the_log_and_out_of_the_body() {
        let response = ApiError::from(ServiceError::Internal("disk on fire at /var/x".to_owned()))
            .into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let cause = response.extensions().get::<Failure>().cloned();
        assert!(
            cause.is_some_and(|Failure(c)| c.contains("disk on fire")),
            "the cause travels to the request log"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap_or_default();
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("disk on fire"), "{body}");
        assert!(body.contains("\"code\":\"internal\""), "{body}");
    }

    #[test]
    fn a_client_error_carries_no_failure() {
        let response = ApiError::NoRoute.into_response();
        assert!(response.extensions().get::<Failure>().is_none());
    }
}
