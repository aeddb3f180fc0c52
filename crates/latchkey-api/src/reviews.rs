//! Access reviews: requests and responses of `/api/v1/access-reviews…`. The reviewer kind
//! and the decision travel as snake_case names validated by the service (a wrong value is
//! a 422 naming the field and the values allowed).

use latchkey_model::{AccessReview, GroupId, ReviewItem, RoleId, SystemId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Which grants a campaign covers: exactly one of the fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewSelectionInput {
    /// The grants of the roles of this system and of its sub-systems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub system_id: Option<SystemId>,
    /// The grants of this role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub role_id: Option<RoleId>,
    /// The grants to this group and its subtree, and to the users its grants reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub group_id: Option<GroupId>,
    /// `true`: the grants of every privileged role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
}

/// `POST /api/v1/access-reviews`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccessReview {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub selection: ReviewSelectionInput,
    /// `role_owner`, `system_owner` or `manager`.
    pub reviewer: String,
    /// In the future.
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
}

/// A campaign's items by state. `pending` counts items still waiting (after closing: left
/// undecided); `overdue` those of them past the due date while the campaign is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReviewCountsView {
    pub total: u64,
    pub pending: u64,
    pub confirmed: u64,
    pub revoked: u64,
    pub not_reviewable: u64,
    pub overdue: u64,
}

/// A campaign with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccessReviewView {
    #[serde(flatten)]
    pub campaign: AccessReview,
    pub counts: ReviewCountsView,
}

/// An item with what a reviewer needs of its campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewItemView {
    #[serde(flatten)]
    pub item: ReviewItem,
    pub campaign_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    /// Pending, in an open campaign, past its due date.
    pub overdue: bool,
}

/// `POST /api/v1/access-reviews/{id}/items/{item}/decide`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideReviewItem {
    /// `confirm` or `revoke`.
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}
