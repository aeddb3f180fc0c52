//! TOTP devices: the authenticator apps a user enrolled as a second factor. The secret is
//! kept sealed (the service seals it under the installation's master key); these are the
//! shapes stored, and the rules that need no I/O.

use time::OffsetDateTime;

use crate::{FieldError, OrgId, TotpDeviceId, UserId};

/// Seconds in a TOTP step: what authenticator apps use.
pub const TOTP_STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const TOTP_DIGITS: usize = 6;
/// Longest device name, in characters.
pub const MAX_TOTP_NAME: usize = 64;

/// One enrolled device, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpDevice {
    pub id: TotpDeviceId,
    pub org_id: OrgId,
    pub user_id: UserId,
    /// Unique among the user's devices.
    pub name: String,
    /// The HMAC secret sealed with XChaCha20-Poly1305; never shown again after enrolment.
    pub sealed_secret: Vec<u8>,
    pub created_at: OffsetDateTime,
    /// When the first correct code was given; until then the device is no second factor.
    pub verified_at: Option<OffsetDateTime>,
    /// The step (Unix time / 30 s) of the last code accepted: no code of that step or an
    /// earlier one is accepted again.
    pub last_used_step: Option<i64>,
    /// Wrong or replayed codes since the last accepted one.
    pub failed_attempts: u32,
    pub last_failure_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for TotpDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpDevice")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("sealed_secret", &"<sealed>")
            .field("created_at", &self.created_at)
            .field("verified_at", &self.verified_at)
            .field("last_used_step", &self.last_used_step)
            .field("failed_attempts", &self.failed_attempts)
            .field("last_failure_at", &self.last_failure_at)
            .finish()
    }
}

impl TotpDevice {
    /// When the last accepted code's step began.
    pub fn last_used_at(&self) -> Option<OffsetDateTime> {
        self.last_used_step.and_then(|s| {
            OffsetDateTime::from_unix_timestamp(s.saturating_mul(TOTP_STEP_SECONDS)).ok()
        })
    }

    /// A device name: trimmed, 1 to 64 characters, no control characters.
    pub fn parse_name(field: &str, raw: &str) -> Result<String, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new(
                field,
                "required",
                format!("`{field}` must not be empty"),
            ));
        }
        if name.chars().count() > MAX_TOTP_NAME {
            return Err(FieldError::new(
                field,
                "max_length",
                format!("`{field}` has at most {MAX_TOTP_NAME} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "format",
                format!("`{field}` must not contain control characters"),
            ));
        }
        Ok(name.to_owned())
    }

    /// A code as typed: six digits, spaces allowed between them (apps show `123 456`).
    pub fn parse_code(field: &str, raw: &str) -> Result<String, FieldError> {
        let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != TOTP_DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                "format",
                format!("`{field}` is the {TOTP_DIGITS}-digit code the authenticator app shows"),
            ));
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            TotpDevice::parse_name("name", "  phone ").ok(),
            Some("phone".to_owned())
        );
        assert_eq!(
            TotpDevice::parse_name("name", "  ")
                .map_err(|e| e.rule)
                .err(),
            Some("required".to_owned())
        );
        let long = "x".repeat(65);
        assert_eq!(
            TotpDevice::parse_name("name", &long)
                .map_err(|e| e.rule)
                .err(),
            Some("max_length".to_owned())
        );
        assert!(TotpDevice::parse_name("name", &"é".repeat(64)).is_ok());
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(
            TotpDevice::parse_code("code", "123 456").ok(),
            Some("123456".to_owned())
        );
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert!(TotpDevice::parse_code("code", bad).is_err(), "{bad}");
        }
    }
}
