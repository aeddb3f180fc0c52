//! Passkeys: WebAuthn credentials a user registers and signs in with, and the ceremonies
//! in progress that register and use them. The model keeps webauthn-rs's credential as the
//! opaque JSON it serialises to; only the service reads it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{CeremonyId, OrgId, PasskeyId, SessionId, UserId};

/// A registered passkey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PasskeyRecord {
    pub id: PasskeyId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    /// The credential id, base64url without padding, as authenticators send it.
    pub credential_id: String,
    /// webauthn-rs's credential (public key, counter), as JSON.
    #[serde(skip_serializing, default)]
    pub credential: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CeremonyPurpose {
    /// Registering a passkey for the session's user.
    Register,
    /// Signing in with the passkeys of a named user.
    SignIn,
    /// Signing in with a discoverable passkey: the authenticator names the user.
    DiscoverableSignIn,
    /// Proving a passkey within a session (after a magic-link sign-in).
    Verify,
}

impl CeremonyPurpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SignIn => "sign_in",
            Self::DiscoverableSignIn => "discoverable_sign_in",
            Self::Verify => "verify",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "register" => Some(Self::Register),
            "sign_in" => Some(Self::SignIn),
            "discoverable_sign_in" => Some(Self::DiscoverableSignIn),
            "verify" => Some(Self::Verify),
            _ => None,
        }
    }
}

/// The server's half of a WebAuthn exchange in progress. It travels sealed (encrypted and
/// authenticated under the server's key) to the client and back; the store only records
/// the ids of those finished, so that each is used once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceremony {
    pub id: CeremonyId,
    pub org_id: Option<OrgId>,
    pub user_id: Option<UserId>,
    pub session_id: Option<SessionId>,
    pub purpose: CeremonyPurpose,
    /// webauthn-rs's ceremony state, as JSON.
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}
