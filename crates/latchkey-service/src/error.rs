//! The errors a use case returns. Each maps to exactly one HTTP status in the server; the
//! messages are written for the person who sent the request.

use latchkey_model::{FieldError, Permission, ValidationErrors};
use latchkey_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No valid credentials (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// The password was right but the second factor is missing or wrong (401), with a
    /// stable code (`totp_required`, `totp_invalid`) telling a client what to ask for.
    #[error("{message}")]
    SecondFactor { code: &'static str, message: String },
    /// Authenticated, but the permission is not held at all (403).
    #[error("{message}")]
    Forbidden {
        permission: Option<Permission>,
        message: String,
    },
    /// The object does not exist in the caller's organisation, or is outside the caller's
    /// administrative scope (404; existence never leaks).
    #[error("{what} `{id}` not found")]
    NotFound { what: &'static str, id: String },
    /// Too many attempts from one address; retry after this many seconds (429).
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// Sign-in is refused for a while after repeated failures (423).
    #[error("{0}")]
    Locked(String),
    /// The password is right but has expired; it must be changed first (403).
    #[error("{0}")]
    PasswordExpired(String),
    /// The request is malformed field by field (422).
    #[error("{0}")]
    Validation(ValidationErrors),
    /// The request is valid but contradicts the current state (409).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// `If-Match` names an older version (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// A dependency is down (503).
    #[error("{0}")]
    Unavailable(String),
    /// The engine has not reached the revision the request asked for (503).
    #[error("{0}")]
    RevisionNotReached(String),
    /// A bug or corrupt data (500); the message is logged, never shown.
    #[error("{0}")]
    Internal(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            what,
            id: id.to_string(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn field_conflict(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn invalid(field: &str, rule: &str, message: impl Into<String>) -> Self {
        Self::Validation(FieldError::new(field, rule, message).into())
    }

    pub fn forbidden(permission: Permission) -> Self {
        Self::Forbidden {
            permission: Some(permission),
            message: format!("this requires the `{permission}` permission"),
        }
    }
}

impl From<ValidationErrors> for ServiceError {
    fn from(e: ValidationErrors) -> Self {
        Self::Validation(e)
    }
}

impl From<FieldError> for ServiceError {
    fn from(e: FieldError) -> Self {
        Self::Validation(e.into())
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { constraint } => {
                let (field, message) = match constraint.as_str() {
                    "users.user_name" => ("user_name", "a user with this user name already exists"),
                    "users.email" => ("email", "a user with this email already exists"),
                    "groups.name" => ("name", "a group with this name already exists"),
                    "systems.name" => (
                        "name",
                        "an information system with this name already exists",
                    ),
                    "roles.name" => (
                        "name",
                        "this information system already has a role with this name",
                    ),
                    "domains.name" => (
                        "name",
                        "this information system already has a domain with this name",
                    ),
                    "attribute_definitions.name" => (
                        "name",
                        "an attribute with this name already exists for this object type",
                    ),
                    "user_types.code" => ("code", "a user type with this code already exists"),
                    "mail_domains.code" => ("code", "this mail domain already exists"),
                    "organisations.slug" => {
                        ("slug", "an organisation with this slug already exists")
                    }
                    "role_inheritance.child_role_id" => {
                        ("role_id", "this role already grants that role")
                    }
                    "workspace_teams.name" => {
                        ("name", "this workspace already has a team with this name")
                    }
                    "documents.external_id" => (
                        "external_id",
                        "this workspace already has a document with this external id",
                    ),
                    "assignment_rules.name" => (
                        "name",
                        "a role assignment rule with this name already exists",
                    ),
                    "sod_rules.name" => (
                        "name",
                        "this information system already has a segregation-of-duties rule with this name",
                    ),
                    "foreign_key" => ("", "the object is still referenced by others"),
                    _ => ("", "the change conflicts with existing data"),
                };
                Self::Conflict {
                    code: if constraint == "foreign_key" {
                        "in_use"
                    } else {
                        "already_exists"
                    },
                    message: message.to_owned(),
                    field: (!field.is_empty()).then(|| field.to_owned()),
                }
            }
            StoreError::Unavailable(m) => {
                Self::Unavailable(format!("the database is unavailable: {m}"))
            }
            other => Self::Internal(other.to_string()),
        }
    }
}
