//! Segregation-of-duties rules. A rule's role list is also kept as rows that reference the
//! roles, so a role named by a rule cannot be deleted from under it (`Conflict` with
//! constraint `foreign_key`), and the rules naming a role are found by index.

use async_trait::async_trait;
use latchkey_model::{OrgId, RoleId, SodRule, SodRuleId, SystemId};

use crate::{Page, Paging, StoreResult};

/// Which rules a list returns, sorted by name (then id).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SodRuleQuery {
    pub paging: Paging,
    /// Rules filed under this information system.
    pub system: Option<SystemId>,
    /// Rules naming this role.
    pub role: Option<RoleId>,
}

#[async_trait]
pub trait SodStore {
    async fn insert_sod_rule(&mut self, rule: &SodRule) -> StoreResult<()>;
    /// Replaces the rule's fields and role rows.
    async fn update_sod_rule(&mut self, rule: &SodRule) -> StoreResult<()>;
    async fn get_sod_rule(&mut self, org: OrgId, id: SodRuleId) -> StoreResult<Option<SodRule>>;
    async fn list_sod_rules(
        &mut self,
        org: OrgId,
        query: &SodRuleQuery,
    ) -> StoreResult<Page<SodRule>>;
    async fn delete_sod_rule(&mut self, org: OrgId, id: SodRuleId) -> StoreResult<bool>;
    /// Every rule of the organisation, by id (what enforcement indexes).
    async fn all_sod_rules(&mut self, org: OrgId) -> StoreResult<Vec<SodRule>>;
}
