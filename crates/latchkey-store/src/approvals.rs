//! Approval requests: the record of a grant or a revoke waiting for an approver, and of
//! its decision. A request is history and outlives its grant; at most one request per grant
//! is pending (a second is a `Conflict` on `approval_requests.grant_id`).

use async_trait::async_trait;
use latchkey_model::{
    ApprovalId, ApprovalRequest, ApprovalStatus, GrantId, OrgId, RoleId, SystemId, UserId,
};

use crate::{Page, Paging, StoreResult};

/// Which requests a list returns, oldest first (by id) unless the paging says otherwise.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApprovalQuery {
    pub paging: Paging,
    pub status: Option<ApprovalStatus>,
    /// Requests of these systems only; `Some(empty)` matches nothing.
    pub systems: Option<Vec<SystemId>>,
    pub system: Option<SystemId>,
    pub requested_by: Option<UserId>,
    pub grant: Option<GrantId>,
    /// Leaves out requests this user made or whose grantee they are (what they may not
    /// decide).
    pub excluding_user: Option<UserId>,
}

#[async_trait]
pub trait ApprovalStore {
    async fn insert_approval(&mut self, request: &ApprovalRequest) -> StoreResult<()>;
    /// Records a decision on a pending request (its status, decider, instant and comment);
    /// a request no longer pending is refused with `Conflict { constraint: "not_found" }`,
    /// so two deciders racing cannot both decide.
    async fn decide_approval(&mut self, request: &ApprovalRequest) -> StoreResult<()>;
    async fn get_approval(
        &mut self,
        org: OrgId,
        id: ApprovalId,
    ) -> StoreResult<Option<ApprovalRequest>>;
    /// The pending request of a grant, if one is.
    async fn pending_approval(
        &mut self,
        org: OrgId,
        grant: GrantId,
    ) -> StoreResult<Option<ApprovalRequest>>;
    async fn list_approvals(
        &mut self,
        org: OrgId,
        query: &ApprovalQuery,
    ) -> StoreResult<Page<ApprovalRequest>>;
    /// The names of the systems whose approver role is `role`, by name.
    async fn approver_role_systems(&mut self, org: OrgId, role: RoleId)
    -> StoreResult<Vec<String>>;
}
