//! Invitations: an administrator asks someone, by work email, to join the organisation
//! with a role and, optionally, a group. Only the SHA-256 of the invitation's secret is
//! kept; accepting it creates the user, once.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{GroupId, InvitationId, OrgId, RoleId, UserId};

/// Where an invitation stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationStatus {
    /// Where an invitation with these instants stands at `now` (organisation and workspace
    /// invitations alike).
    pub fn at(
        now: OffsetDateTime,
        accepted_at: Option<OffsetDateTime>,
        revoked_at: Option<OffsetDateTime>,
        expires_at: OffsetDateTime,
    ) -> Self {
        if accepted_at.is_some() {
            Self::Accepted
        } else if revoked_at.is_some() {
            Self::Revoked
        } else if expires_at <= now {
            Self::Expired
        } else {
            Self::Pending
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "accepted" => Some(Self::Accepted),
            "revoked" => Some(Self::Revoked),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    /// The invited work address, as typed (trimmed).
    pub email: String,
    pub role_id: RoleId,
    pub group_id: Option<GroupId>,
    #[serde(skip_serializing, default)]
    pub token_hash: String,
    pub invited_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub accepted_at: Option<OffsetDateTime>,
    /// The user the acceptance created.
    pub user_id: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<UserId>,
}

impl Invitation {
    pub fn status(&self, now: OffsetDateTime) -> InvitationStatus {
        InvitationStatus::at(now, self.accepted_at, self.revoked_at, self.expires_at)
    }
}
