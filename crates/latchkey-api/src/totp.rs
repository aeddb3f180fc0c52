//! The wire types of TOTP devices: enrolling, verifying and disabling one, and how a device
//! is shown (never with its secret, which is shown once, at enrolment).

use latchkey_model::{TotpDeviceId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// `POST /api/v1/me/totp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollTotp {
    /// 1 to 64 characters, unique among your devices.
    pub name: String,
}

/// `POST /api/v1/me/totp/{id}/verify`, and the proof a verified device asks for before it is
/// disabled (`DELETE /api/v1/me/totp/{id}`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCode {
    /// The six digits the authenticator app shows now.
    pub code: String,
}

impl std::fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpCode")
            .field("code", &"<redacted>")
            .finish()
    }
}

/// A TOTP device as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpDeviceView {
    pub id: TotpDeviceId,
    pub user_id: UserId,
    pub name: String,
    /// Whether a correct code was given: only a verified device is asked for at sign-in.
    pub verified: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub verified_at: Option<OffsetDateTime>,
    /// When the step of the last accepted code began.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// Wrong or replayed codes since the last accepted one.
    pub failed_attempts: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_failure_at: Option<OffsetDateTime>,
}

/// The answer to an enrolment: the only time the secret is shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrolled {
    #[serde(flatten)]
    pub device: TotpDeviceView,
    /// The secret in base32, for apps that cannot scan the QR code.
    pub secret: String,
    /// `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…` (SHA1, 6 digits, 30 s).
    pub otpauth_url: String,
    /// The otpauth URL as a QR code, an inline SVG document.
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpEnrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrolled")
            .field("device", &self.device)
            .field("secret", &"<redacted>")
            .field("otpauth_url", &"<redacted>")
            .field("qr_svg", &"<redacted>")
            .finish()
    }
}
