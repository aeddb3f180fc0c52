//! Approval requests. A grant or a revoke of a role of an information system with an
//! approval process waits (the grant is `pending_approval`, or `pending_revoke` while a
//! revoke waits) until an approver — the system's owner or a holder of its approver role —
//! approves or rejects it. The request is the record of that wait: what was asked, by whom,
//! and what was decided, by whom, with which comment. It outlives its grant (a rejected
//! grant or an approved revoke deletes the grant), so it names the role, the system and
//! the grantee itself.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{ApprovalId, GrantId, Grantee, OrgId, RoleId, SystemId, UserId};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalAction {
    /// The grant is made (it waits as `pending_approval`).
    Grant,
    /// The grant is revoked (it waits as `pending_revoke`, still conferring).
    Revoke,
}

impl ApprovalAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Revoke => "revoke",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Grant, Self::Revoke]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// Where a request stands. Only `pending` ever changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    /// Withdrawn by its requester.
    Cancelled,
}

impl ApprovalStatus {
    pub const ALL: [ApprovalStatus; 4] = [
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApprovalRequest {
    pub id: ApprovalId,
    pub org_id: OrgId,
    /// The grant asked for or asked to be revoked (gone once a rejected grant or an
    /// approved revoke deleted it).
    pub grant_id: GrantId,
    pub action: ApprovalAction,
    pub system_id: SystemId,
    pub role_id: RoleId,
    #[serde(flatten)]
    pub grantee: Grantee,
    pub scope: Option<String>,
    /// `None` for a request whose requester was deleted since, or made without one.
    pub requested_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    pub status: ApprovalStatus,
    pub decided_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    pub comment: Option<String>,
}
