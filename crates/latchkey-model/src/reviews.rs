//! Access reviews (recertification): a campaign over a selection of grants — those of an
//! information system (and its sub-systems), of a role, of a group (and its subtree, with
//! the grants of its members), or of every privileged role — taken when the campaign is
//! created. Each grant becomes an item that its reviewers (the role's owner, the system's
//! owner, or the grantee's managers) confirm or revoke before the due date; a confirmed
//! grant records when (`Grant::last_recertified_at`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccessReviewId, GrantId, GroupId, OrgId, ReviewItemId, RoleId, Stamps, SystemId};
use crate::{Grantee, UserId};

/// Which grants a campaign covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReviewSelection {
    /// Grants of the roles of this system and of its sub-systems.
    System {
        #[schema(value_type = String, format = Uuid)]
        system_id: SystemId,
    },
    /// Grants of this role.
    Role {
        #[schema(value_type = String, format = Uuid)]
        role_id: RoleId,
    },
    /// Grants to this group and the groups below it, and to the users its grants reach
    /// (primary or secondary members of the subtree).
    Group {
        #[schema(value_type = String, format = Uuid)]
        group_id: GroupId,
    },
    /// Grants of every privileged role.
    Privileged,
}

impl ReviewSelection {
    pub const fn kind(self) -> &'static str {
        match self {
            Self::System { .. } => "system",
            Self::Role { .. } => "role",
            Self::Group { .. } => "group",
            Self::Privileged => "privileged",
        }
    }

    /// The id of the selected object, if any.
    pub fn object(self) -> Option<uuid::Uuid> {
        match self {
            Self::System { system_id } => Some(system_id.as_uuid()),
            Self::Role { role_id } => Some(role_id.as_uuid()),
            Self::Group { group_id } => Some(group_id.as_uuid()),
            Self::Privileged => None,
        }
    }

    /// Rebuilds a selection from its stored kind and object.
    pub fn from_parts(kind: &str, object: Option<uuid::Uuid>) -> Option<Self> {
        match (kind, object) {
            ("system", Some(id)) => Some(Self::System {
                system_id: SystemId::from_uuid(id),
            }),
            ("role", Some(id)) => Some(Self::Role {
                role_id: RoleId::from_uuid(id),
            }),
            ("group", Some(id)) => Some(Self::Group {
                group_id: GroupId::from_uuid(id),
            }),
            ("privileged", None) => Some(Self::Privileged),
            _ => None,
        }
    }
}

/// Who reviews a campaign's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewerKind {
    /// The owner of the grant's role.
    RoleOwner,
    /// The owner of the information system of the grant's role.
    SystemOwner,
    /// The managers of the grantee's primary group (of the group, for a group grant): the
    /// users holding a `users.manage` role scoped to it, or else to its nearest ancestor
    /// that has such holders.
    Manager,
}

impl ReviewerKind {
    pub const ALL: [ReviewerKind; 3] = [Self::RoleOwner, Self::SystemOwner, Self::Manager];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RoleOwner => "role_owner",
            Self::SystemOwner => "system_owner",
            Self::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

/// Whether a campaign still takes decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Open,
    Closed,
}

impl ReviewStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// What became of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// Waiting for a reviewer.
    Pending,
    /// The grant was confirmed (recertified).
    Confirmed,
    /// The grant was revoked.
    Revoked,
    /// A grant made by an assignment rule: it follows its rule and cannot be revoked by
    /// hand, so nobody decides it (listed for completeness).
    NotReviewable,
}

impl ReviewDecision {
    pub const ALL: [ReviewDecision; 4] = [
        Self::Pending,
        Self::Confirmed,
        Self::Revoked,
        Self::NotReviewable,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Revoked => "revoked",
            Self::NotReviewable => "not_reviewable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A campaign. `owner_id` is its creator, who reviews the items nobody else can.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessReview {
    #[schema(value_type = String, format = Uuid)]
    pub id: AccessReviewId,
    #[schema(value_type = String, format = Uuid)]
    pub org_id: OrgId,
    pub name: String,
    pub description: Option<String>,
    pub selection: ReviewSelection,
    pub reviewer: ReviewerKind,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    pub status: ReviewStatus,
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: UserId,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub closed_by: Option<UserId>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// One grant of a campaign, as it was when the campaign was created (the grant itself may
/// since be gone), with the reviewers resolved then and the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewItem {
    #[schema(value_type = String, format = Uuid)]
    pub id: ReviewItemId,
    #[schema(value_type = String, format = Uuid)]
    pub org_id: OrgId,
    #[schema(value_type = String, format = Uuid)]
    pub campaign_id: AccessReviewId,
    #[schema(value_type = String, format = Uuid)]
    pub grant_id: GrantId,
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    pub role_name: String,
    #[serde(flatten)]
    pub grantee: Grantee,
    /// The user name or group name of the grantee.
    pub grantee_name: String,
    pub scope: Option<String>,
    /// Who may decide (besides holders of `reviews.manage`).
    #[schema(value_type = Vec<String>)]
    pub reviewer_ids: Vec<UserId>,
    /// No reviewer of the campaign's kind was found: the campaign's owner reviews it.
    pub reviewer_fallback: bool,
    pub decision: ReviewDecision,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub decided_by: Option<UserId>,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in ReviewerKind::ALL {
            assert_eq!(ReviewerKind::parse(k.as_str()), Some(k));
        }
        for d in ReviewDecision::ALL {
            assert_eq!(ReviewDecision::parse(d.as_str()), Some(d));
        }
        assert_eq!(ReviewerKind::parse("boss"), None);
        let s = ReviewSelection::Privileged;
        assert_eq!(ReviewSelection::from_parts(s.kind(), s.object()), Some(s));
        let id = uuid::Uuid::nil();
        assert_eq!(
            ReviewSelection::from_parts("role", Some(id)),
            Some(ReviewSelection::Role {
                role_id: RoleId::from_uuid(id)
            })
        );
        assert_eq!(ReviewSelection::from_parts("role", None), None);
    }
}
