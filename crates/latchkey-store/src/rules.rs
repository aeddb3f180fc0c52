//! Role assignment rules, their runs, and the grants they make. Every method takes the
//! organisation and never reads or changes another's rows.

use async_trait::async_trait;
use latchkey_model::{
    AssignmentRule, AssignmentRuleId, GrantId, OrgId, RoleId, RuleRun, RuleRunId, User, UserId,
};

use crate::{MembershipHead, StoreResult};

/// A grant a rule made to a user: what applying the rule compares with what it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleGrant {
    pub grant_id: GrantId,
    pub rule_id: AssignmentRuleId,
    pub user_id: UserId,
    pub role_id: RoleId,
}

#[async_trait]
pub trait RuleStore {
    async fn insert_rule(&mut self, rule: &AssignmentRule) -> StoreResult<()>;
    async fn update_rule(&mut self, rule: &AssignmentRule) -> StoreResult<()>;
    async fn get_rule(
        &mut self,
        org: OrgId,
        id: AssignmentRuleId,
    ) -> StoreResult<Option<AssignmentRule>>;
    /// Every rule of the organisation, by name.
    async fn list_rules(&mut self, org: OrgId) -> StoreResult<Vec<AssignmentRule>>;
    async fn delete_rule(&mut self, org: OrgId, id: AssignmentRuleId) -> StoreResult<bool>;

    /// The grants rules made to users: of one rule or of all, to the users named or to all.
    async fn rule_grants(
        &mut self,
        org: OrgId,
        rule: Option<AssignmentRuleId>,
        users: Option<&[UserId]>,
    ) -> StoreResult<Vec<RuleGrant>>;
    /// Deletes grants by id, in few statements; grants that reference them (their
    /// non-mandatory children) must be gone first.
    async fn delete_grants(&mut self, org: OrgId, ids: &[GrantId]) -> StoreResult<()>;
    /// Up to `limit` users with an id after `after`, in id order (full rows).
    async fn users_after(
        &mut self,
        org: OrgId,
        after: Option<UserId>,
        limit: u32,
    ) -> StoreResult<Vec<User>>;
    /// The secondary memberships of the users named.
    async fn memberships_of(
        &mut self,
        org: OrgId,
        users: &[UserId],
    ) -> StoreResult<Vec<MembershipHead>>;

    async fn insert_rule_run(&mut self, run: &RuleRun) -> StoreResult<()>;
    async fn update_rule_run(&mut self, run: &RuleRun) -> StoreResult<()>;
    async fn get_rule_run(&mut self, org: OrgId, id: RuleRunId) -> StoreResult<Option<RuleRun>>;
    /// A rule's runs, latest first, at most `limit`.
    async fn list_rule_runs(
        &mut self,
        org: OrgId,
        rule: AssignmentRuleId,
        limit: u32,
    ) -> StoreResult<Vec<RuleRun>>;
}
