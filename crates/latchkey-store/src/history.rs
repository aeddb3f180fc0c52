//! Access history: the rows the entitlement engine reads, as they were at a past revision.
//! Triggers record every version (see the `0017_history.sql` migrations); these reads take
//! the version in force at a revision, `rev_from <= revision < rev_to`, and parse it like
//! the live row.

use async_trait::async_trait;
use latchkey_model::{
    AccessSnapshot, Grant, Group, GroupId, Membership, OrgId, Role, RoleId, RoleInheritance,
    SnapshotId, System, User, UserId,
};
use time::OffsetDateTime;

use crate::StoreResult;

/// Every row of an organisation that the entitlement engine reads, at one revision.
#[derive(Debug, Clone, Default)]
pub struct OrgAsOf {
    pub groups: Vec<Group>,
    pub systems: Vec<System>,
    pub users: Vec<User>,
    pub memberships: Vec<Membership>,
    pub roles: Vec<Role>,
    pub inheritance: Vec<RoleInheritance>,
    pub grants: Vec<Grant>,
}

/// Which secondary memberships to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipsOf {
    User(UserId),
    Group(GroupId),
}

#[async_trait]
pub trait HistoryStore {
    /// The last revision written at or before `at`; `None` when `at` is before the
    /// organisation's history begins.
    async fn revision_at(&mut self, org: OrgId, at: OffsetDateTime) -> StoreResult<Option<i64>>;
    /// The first revision the history holds and when it was written.
    async fn history_begins(&mut self, org: OrgId) -> StoreResult<Option<(i64, OffsetDateTime)>>;
    async fn users_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        ids: &[UserId],
    ) -> StoreResult<Vec<User>>;
    /// The users whose primary group was `group`.
    async fn primary_members_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        group: GroupId,
    ) -> StoreResult<Vec<User>>;
    async fn groups_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        ids: &[GroupId],
    ) -> StoreResult<Vec<Group>>;
    async fn memberships_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        of: MembershipsOf,
    ) -> StoreResult<Vec<Membership>>;
    /// Grants to any of `users` or `groups`.
    async fn grants_to_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        users: &[UserId],
        groups: &[GroupId],
    ) -> StoreResult<Vec<Grant>>;
    /// Granted-role links whose parent is one of `parents`.
    async fn inheritance_from_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        parents: &[RoleId],
    ) -> StoreResult<Vec<RoleInheritance>>;
    async fn roles_as_of(
        &mut self,
        org: OrgId,
        revision: i64,
        ids: &[RoleId],
    ) -> StoreResult<Vec<Role>>;
    async fn systems_as_of(&mut self, org: OrgId, revision: i64) -> StoreResult<Vec<System>>;
    /// The whole organisation at `revision` (snapshots and role holders).
    async fn organisation_as_of(&mut self, org: OrgId, revision: i64) -> StoreResult<OrgAsOf>;

    async fn insert_snapshot(&mut self, snapshot: &AccessSnapshot) -> StoreResult<()>;
    async fn get_snapshot(
        &mut self,
        org: OrgId,
        id: SnapshotId,
    ) -> StoreResult<Option<AccessSnapshot>>;
    /// Newest first, at most `limit`.
    async fn list_snapshots(&mut self, org: OrgId, limit: u32) -> StoreResult<Vec<AccessSnapshot>>;
}
