//! Access history: members of a group at an instant, restoring an earlier state of a
//! group's memberships or of a user's grants, and access snapshots. Answers drawn from the
//! history carry `as_of_revision`, the organisation revision whose state they show.

use latchkey_model::{GroupId, MembershipId, RoleId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// `GET /api/v1/groups/{id}/members`: the group's members at `at` (now by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GroupMembers {
    #[schema(value_type = String, format = Uuid)]
    pub group_id: GroupId,
    pub group_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub as_of_revision: i64,
    /// Primary members first, then secondary ones in force at `at`, each by user name.
    pub members: Vec<GroupMemberView>,
    /// More members than `limit` were there; `total` counts them all.
    pub truncated: bool,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GroupMemberView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user_name: String,
    /// `primary` or `secondary`.
    pub membership: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub membership_id: Option<MembershipId>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
}

/// `POST /api/v1/groups/{id}/members/restore` and `POST /api/v1/users/{id}/grants/restore`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// The past instant whose state to bring back.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Answer what would change without changing it.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a restore changed (or, with `dry_run`, would change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RestoreOutcome {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub as_of_revision: i64,
    pub dry_run: bool,
    /// Brought back (with new ids).
    pub added: Vec<RestoredItem>,
    /// Present now, absent then: removed.
    pub removed: Vec<RestoredItem>,
    /// Present both times with other dates: given the dates they had.
    pub changed: Vec<RestoredItem>,
    /// Differences a restore does not undo, said in words (a primary group, a grant made by
    /// a rule or an inheritance, a user or role that no longer exists).
    pub not_restored: Vec<String>,
}

/// A membership (`user_*` set) or a grant (`role_*` set) a restore touches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RestoredItem {
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub role_id: Option<RoleId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
}

/// `POST /api/v1/security/access-snapshots`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSnapshot {
    /// Defaults to "Access on <at>".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A past instant, or now (the default).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
}

/// One row of an access snapshot's CSV: a user holds a role (with a scope) at the
/// snapshot's instant, for the reasons `paths` lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnapshotEntry {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    pub role_name: String,
    pub system_name: String,
    pub scope: Option<String>,
    /// Each path in words, `; `-separated: `direct`, `rule <name>`, `group <member group>`
    /// (`via <ancestor>` when granted to an ancestor), then `from <role> > …` for roles
    /// granted by a held role.
    pub paths: String,
}
