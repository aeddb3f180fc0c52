//! Sign-in vocabulary: sessions, password policies and security events. The rules that use
//! them live in the service; these are the shapes stored and shown.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    FieldError, MagicLinkId, OrgId, RoleId, SecurityAlertId, SecurityEventId, SessionId, UserId,
    UserTypeId, ValidationErrors,
};

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Password,
    MagicLink,
    Passkey,
    /// The first session of a user who just accepted an invitation without a password.
    Invitation,
}

impl SignInMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::MagicLink => "magic_link",
            Self::Passkey => "passkey",
            Self::Invitation => "invitation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "password" => Some(Self::Password),
            "magic_link" => Some(Self::MagicLink),
            "passkey" => Some(Self::Passkey),
            "invitation" => Some(Self::Invitation),
            _ => None,
        }
    }
}

/// A signed-in session. Its secret is shown once, at sign-in; only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    pub id: SessionId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub method: SignInMethod,
    #[serde(skip_serializing, default)]
    pub token_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the session was last used, to the minute.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// The address the sign-in came from.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// When the session's user last proved a passkey in it (at sign-in or afterwards).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub passkey_verified_at: Option<OffsetDateTime>,
}

/// The rules a new password must follow, for the users of one user type or, without a
/// user type, for everyone else in the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Fewest characters (8 to 128).
    pub min_length: u32,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_digit: bool,
    /// Anything that is not a letter or a digit.
    pub require_symbol: bool,
    /// How many earlier passwords may not be used again (0 to 24).
    pub history: u32,
    /// Days a password stays valid; `null` for ever (1 to 3650).
    pub expiry_days: Option<u32>,
}

impl Default for PasswordPolicy {
    /// Length over composition (NIST SP 800-63B): 12 characters, no class rules, the last
    /// five passwords not reused, no expiry.
    fn default() -> Self {
        Self {
            min_length: 12,
            require_lowercase: false,
            require_uppercase: false,
            require_digit: false,
            require_symbol: false,
            history: 5,
            expiry_days: None,
        }
    }
}

/// Longest password accepted: argon2 takes any length, but hashing megabytes is a cheap
/// way to burn a server's time.
pub const MAX_PASSWORD: usize = 1024;

impl PasswordPolicy {
    /// Every rule `password` breaks, against field `field`.
    pub fn check(&self, field: &str, password: &str) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        let chars = password.chars().count();
        if chars < self.min_length as usize {
            errors.push(FieldError::new(
                field,
                "min_length",
                format!(
                    "the password must have at least {} characters",
                    self.min_length
                ),
            ));
        }
        if password.len() > MAX_PASSWORD {
            errors.push(FieldError::new(
                field,
                "max_length",
                format!("the password must have at most {MAX_PASSWORD} bytes"),
            ));
        }
        let classes = [
            (
                self.require_lowercase,
                "lowercase",
                "a lower-case letter",
                char::is_lowercase as fn(char) -> bool,
            ),
            (
                self.require_uppercase,
                "uppercase",
                "an upper-case letter",
                char::is_uppercase,
            ),
            (self.require_digit, "digit", "a digit", |c: char| {
                c.is_ascii_digit()
            }),
            (
                self.require_symbol,
                "symbol",
                "a character that is neither a letter nor a digit",
                |c: char| !c.is_alphanumeric(),
            ),
        ];
        for (required, rule, what, test) in classes {
            if required && !password.chars().any(test) {
                errors.push(FieldError::new(
                    field,
                    rule,
                    format!("the password must contain {what}"),
                ));
            }
        }
        errors
    }

    /// The range each setting must lie in.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if !(8..=128).contains(&self.min_length) {
            errors.push(FieldError::new(
                "min_length",
                "range",
                "`min_length` must be between 8 and 128",
            ));
        }
        if self.history > 24 {
            errors.push(FieldError::new(
                "history",
                "range",
                "`history` must be between 0 and 24",
            ));
        }
        if self.expiry_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            errors.push(FieldError::new(
                "expiry_days",
                "range",
                "`expiry_days` must be between 1 and 3650, or null for no expiry",
            ));
        }
        errors.finish()
    }

    /// Whether `after` asks less than `self` anywhere: the Security Center flags it.
    pub fn weakened_by(&self, after: &PasswordPolicy) -> bool {
        after.min_length < self.min_length
            || (self.require_lowercase && !after.require_lowercase)
            || (self.require_uppercase && !after.require_uppercase)
            || (self.require_digit && !after.require_digit)
            || (self.require_symbol && !after.require_symbol)
            || after.history < self.history
            || match (self.expiry_days, after.expiry_days) {
                (Some(_), None) => true,
                (Some(b), Some(a)) => a > b,
                _ => false,
            }
    }
}

/// A password policy as stored: the organisation's default (`user_type_id` null) or one
/// user type's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredPasswordPolicy {
    pub org_id: OrgId,
    pub user_type_id: Option<UserTypeId>,
    #[serde(flatten)]
    pub policy: PasswordPolicy,
}

/// A user's current password hash (PHC string) and when it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRecord {
    pub hash: String,
    pub set_at: OffsetDateTime,
}

/// Failed sign-ins since the last success, and the lock they led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignInFailures {
    pub count: u32,
    pub locked_until: Option<OffsetDateTime>,
}

/// Something the Security Center shows: a sign-in, a failure, a lockout, a revoked session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecurityEvent {
    pub id: SecurityEventId,
    pub org_id: OrgId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `sign_in.succeeded`, `sign_in.failed`, `sign_in.locked`, `session.revoked`, ...
    pub kind: String,
    /// The user the event is about, when known.
    pub user_id: Option<UserId>,
    /// Who caused it, when that is someone else (an administrator revoking a session).
    pub actor_id: Option<UserId>,
    pub ip: Option<String>,
    /// What else is known: the reason of a failure, the session concerned.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Where an alert stands: raised, seen by someone, dealt with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

impl AlertStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "acknowledged" => Some(Self::Acknowledged),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// A Security Center alert, raised by a rule from a security event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecurityAlert {
    pub id: SecurityAlertId,
    pub org_id: OrgId,
    #[serde(with = "time::serde::rfc3339")]
    pub raised_at: OffsetDateTime,
    /// `repeated_failures`, `privileged_grant`, `policy_weakened`.
    pub rule: String,
    /// `high` or `medium`.
    pub severity: String,
    pub summary: String,
    /// The user the alert is about, when there is one.
    pub user_id: Option<UserId>,
    /// The event that raised it.
    pub event_id: SecurityEventId,
    pub status: AlertStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    pub resolved_by: Option<UserId>,
    /// What whoever acknowledged or resolved it wrote.
    pub note: Option<String>,
}

/// What holding a role asks of its holders' sign-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleSecurityPolicy {
    /// Holders must have a passkey enrolled.
    pub require_passkey: bool,
    /// After a magic-link sign-in, holders must also present a passkey (those without one
    /// are sent to enroll).
    pub passkey_after_magic_link: bool,
    /// Sessions end after this many minutes without a request; `null` for Off. The presets
    /// are 15, 30, 60, 240, 480 and 1440; any value from 15 to 1440 is accepted.
    pub idle_timeout_minutes: Option<u32>,
}

impl RoleSecurityPolicy {
    pub const MIN_IDLE_MINUTES: u32 = 15;
    pub const MAX_IDLE_MINUTES: u32 = 24 * 60;

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Some(m) = self.idle_timeout_minutes
            && !(Self::MIN_IDLE_MINUTES..=Self::MAX_IDLE_MINUTES).contains(&m)
        {
            errors.push(FieldError::new(
                "idle_timeout_minutes",
                "range",
                format!(
                    "`idle_timeout_minutes` must be null (Off) or between {} (15 minutes) and {} (24 hours), not {m}",
                    Self::MIN_IDLE_MINUTES,
                    Self::MAX_IDLE_MINUTES
                ),
            ));
        }
        errors.finish()
    }

    /// The strictest combination: every requirement of either, the shorter idle timeout.
    pub fn strictest(self, other: Self) -> Self {
        Self {
            require_passkey: self.require_passkey || other.require_passkey,
            passkey_after_magic_link: self.passkey_after_magic_link
                || other.passkey_after_magic_link,
            idle_timeout_minutes: match (self.idle_timeout_minutes, other.idle_timeout_minutes) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// A role's stored policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredRoleSecurityPolicy {
    pub org_id: OrgId,
    pub role_id: RoleId,
    pub policy: RoleSecurityPolicy,
}

/// A single-use sign-in link sent by mail. Its secret is in the mail only; the store keeps
/// its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicLink {
    pub id: MagicLinkId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    /// The address that asked for it.
    pub ip: Option<String>,
}
