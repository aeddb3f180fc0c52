//! The engine's input: a plain-data snapshot of one organisation's entitlement graph (groups,
//! systems, users, memberships, roles, inheritance edges, grants), already reduced to what the
//! computation needs. The service builds it from the store; the engine trusts none of it —
//! dangling ids, duplicates and cycles are tolerated and whatever cannot be resolved is
//! ignored (see [`crate::Engine::build`]).

use latchkey_model::{
    GrantId, Grantee, GroupId, Permission, RoleId, ScopeMapping, SystemId, UserId,
};
use time::OffsetDateTime;

/// Everything the engine knows about one organisation. Order within the vectors does not
/// matter; when an id appears twice, the first occurrence wins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub groups: Vec<GroupNode>,
    pub systems: Vec<SystemNode>,
    pub users: Vec<UserNode>,
    /// Secondary memberships only; the primary group is [`UserNode::primary_group`].
    pub memberships: Vec<MembershipEdge>,
    pub roles: Vec<RoleNode>,
    pub inheritance: Vec<InheritanceEdge>,
    pub grants: Vec<GrantEdge>,
}

/// A group of the organisational forest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupNode {
    pub id: GroupId,
    /// `None`, or an id the snapshot does not contain, makes the group a root.
    pub parent: Option<GroupId>,
    pub disabled: bool,
    /// Start of activity, inclusive; `None` is unbounded.
    pub active_since: Option<OffsetDateTime>,
    /// End of activity, exclusive; `None` is unbounded.
    pub active_until: Option<OffsetDateTime>,
}

impl GroupNode {
    /// Whether the group contributes grants at `at`: enabled and inside its activity window.
    pub fn active_at(&self, at: OffsetDateTime) -> bool {
        !self.disabled && in_window(self.active_since, self.active_until, at)
    }
}

/// An information system of the systems tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemNode {
    pub id: SystemId,
    /// `None`, or an id the snapshot does not contain, makes the system a root.
    pub parent: Option<SystemId>,
}

/// A user. `enabled` is carried but does not change the computation: a disabled user's
/// effective roles are still computed, and the caller decides what a disabled user may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNode {
    pub id: UserId,
    /// A primary group the snapshot does not contain contributes nothing.
    pub primary_group: GroupId,
    pub enabled: bool,
}

/// A secondary membership, in force when `starts_at <= at < ends_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipEdge {
    pub user: UserId,
    pub group: GroupId,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
}

/// A role. `scoped` is the role's domain type being anything but *none*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleNode {
    pub id: RoleId,
    pub system: SystemId,
    pub permissions: Vec<Permission>,
    pub scoped: bool,
}

/// "Granted role": `parent` grants `child`. Only mandatory edges make holders of the parent
/// hold the child; every edge counts for [`crate::Engine::inheritance_cycle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InheritanceEdge {
    pub parent: RoleId,
    pub child: RoleId,
    pub mandatory: bool,
    pub scope: ScopeMapping,
}

/// A grant of `role` with an optional scope value to a user or a group. It confers the role
/// when `confers` (its status says so, see `GrantStatus::confers`) and
/// `starts_at <= at < ends_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantEdge {
    pub id: GrantId,
    pub role: RoleId,
    pub grantee: Grantee,
    pub scope: Option<String>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub confers: bool,
}

impl GrantEdge {
    /// Whether the grant gives its role at `at`.
    pub fn in_force_at(&self, at: OffsetDateTime) -> bool {
        self.confers && in_window(self.starts_at, self.ends_at, at)
    }
}

/// Whether `at` lies in the start-inclusive, end-exclusive window; `None` bounds are open.
#[inline]
pub fn in_window(
    starts_at: Option<OffsetDateTime>,
    ends_at: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> bool {
    starts_at.is_none_or(|s| s <= at) && ends_at.is_none_or(|e| at < e)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn windows_are_start_inclusive_end_exclusive() {
        let start = datetime!(2025-01-01 0:00 UTC);
        let end = datetime!(2025-02-01 0:00 UTC);
        assert!(!in_window(
            Some(start),
            Some(end),
            datetime!(2024-12-31 23:59:59 UTC)
        ));
        assert!(in_window(Some(start), Some(end), start));
        assert!(in_window(
            Some(start),
            Some(end),
            datetime!(2025-01-31 23:59:59 UTC)
        ));
        assert!(!in_window(Some(start), Some(end), end));
        assert!(in_window(None, None, end));
        assert!(!in_window(
            Some(end),
            Some(start),
            datetime!(2025-01-15 0:00 UTC)
        ));
    }
}
