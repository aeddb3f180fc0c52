//! List queries and pages. Lists use keyset pagination: a page ends with the sort key and id
//! of its last row, and the next page starts strictly after them, so rows inserted while a
//! client pages never shift or repeat what it sees.

use latchkey_model::{
    GrantId, GrantOrigin, GrantStatus, Grantee, GroupId, MembershipId, OrgId, RoleId, SystemId,
    UserId,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// Where the previous page stopped: the sort column's value and the row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub key: SortValue,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Text(String),
    Int(i64),
    /// The sort column is the id itself.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// More rows follow the last item.
    pub has_more: bool,
}

/// Paging shared by every list: at most `limit` rows (1..=1000), after `after`,
/// ascending unless `descending`.
#[derive(Debug, Clone, PartialEq)]
pub struct Paging {
    pub limit: u32,
    pub after: Option<After>,
    pub descending: bool,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            limit: 100,
            after: None,
            descending: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    #[default]
    UserName,
    LastName,
    /// `created_at` in microseconds (`SortValue::Int`).
    CreatedAt,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserQuery {
    pub paging: Paging,
    pub sort: UserSort,
    /// Case-insensitive substring of user name, full name or email.
    pub q: Option<String>,
    pub user_name: Option<String>,
    pub email: Option<String>,
    pub enabled: Option<bool>,
    pub user_type: Option<String>,
    pub primary_group: Option<GroupId>,
    /// Users whose primary group is one of these groups or below one of them.
    pub primary_group_under: Option<Vec<GroupId>>,
    /// Users with a secondary membership (any dates) in this group.
    pub member_of: Option<GroupId>,
    /// Custom attribute equality (`name`, value as text).
    pub attribute: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupQuery {
    /// Sorted by name.
    pub paging: Paging,
    pub q: Option<String>,
    /// `Some(None)`: root groups only; `Some(Some(g))`: children of `g`.
    pub parent: Option<Option<GroupId>>,
    pub disabled: Option<bool>,
    pub group_type: Option<String>,
    /// Groups that are one of these or below one of them.
    pub under: Option<Vec<GroupId>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MembershipQuery {
    /// Sorted by id.
    pub paging: Paging,
    pub user: Option<UserId>,
    pub group: Option<GroupId>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SystemQuery {
    /// Sorted by name.
    pub paging: Paging,
    pub q: Option<String>,
    pub parent: Option<Option<SystemId>>,
    /// Systems that are one of these or below one of them.
    pub under: Option<Vec<SystemId>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoleQuery {
    /// Sorted by name.
    pub paging: Paging,
    pub q: Option<String>,
    pub system: Option<SystemId>,
    pub privileged: Option<bool>,
    /// Roles of systems that are one of these or below one of them.
    pub systems_under: Option<Vec<SystemId>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct GrantQuery {
    /// Sorted by id (creation order).
    pub paging: Paging,
    pub role: Option<RoleId>,
    pub user: Option<UserId>,
    pub group: Option<GroupId>,
    pub status: Option<GrantStatus>,
    pub origin: Option<GrantOrigin>,
    pub parent_grant: Option<latchkey_model::GrantId>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditQuery {
    /// Sorted by `seq` (`SortValue::None`, the cursor id is the entry id; `after_seq`
    /// carries the position).
    pub limit: u32,
    pub after_seq: Option<i64>,
    pub descending: bool,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub actor: Option<UserId>,
    pub action: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

/// Security events, newest first unless `descending` is false; sorted by id (UUIDv7, so
/// by time), the cursor is the last id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecurityEventQuery {
    pub limit: u32,
    pub after: Option<Uuid>,
    pub descending: bool,
    /// Exact kinds (`sign_in.failed`), or a prefix ending in `.` (`sign_in.`).
    pub kind: Option<String>,
    pub user: Option<UserId>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

/// Security alerts, newest first unless `descending` is false; the cursor is the last id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecurityAlertQuery {
    pub limit: u32,
    pub after: Option<Uuid>,
    pub descending: bool,
    pub status: Option<latchkey_model::AlertStatus>,
    pub rule: Option<String>,
    pub user: Option<UserId>,
}

/// What the engine needs of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserHead {
    pub id: UserId,
    pub org_id: OrgId,
    pub primary_group_id: GroupId,
    pub enabled: bool,
}

/// What the engine needs of a secondary membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipHead {
    pub id: MembershipId,
    pub user_id: UserId,
    pub group_id: GroupId,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
}

/// What the engine needs of a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantHead {
    pub id: GrantId,
    pub role_id: RoleId,
    pub grantee: Grantee,
    pub scope: Option<String>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub status: GrantStatus,
    /// The role assignment rule that made the grant, if one did.
    pub rule_id: Option<latchkey_model::AssignmentRuleId>,
}
