//! The segregation-of-duties endpoints (`/api/v1/sod-rules…`): rules and previews of the
//! users a rule affects. Update bodies serialise only the fields given (`UpdateSodRule`
//! skips unset fields; `description: Some(None)` and `threshold: Some(None)` send `null`,
//! which clears them).

use latchkey_api::{CreateSodRule, ListResponse, SodPreview, SodRuleSaved, UpdateSodRule};
use latchkey_model::{RoleId, SodRule, SodRuleId, SystemId};
use serde::Serialize;

use crate::query::Page;
use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

/// `GET /api/v1/sod-rules` filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SodRuleFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_id: Option<SystemId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_id: Option<RoleId>,
}

impl Client {
    pub async fn list_sod_rules(
        &self,
        filter: &SodRuleFilter,
        page: &Page,
    ) -> Result<ListResponse<SodRule>> {
        self.list("/api/v1/sod-rules", filter, page).await
    }

    pub async fn list_all_sod_rules(
        &self,
        filter: &SodRuleFilter,
        page: &Page,
    ) -> Result<Vec<SodRule>> {
        self.list_all("/api/v1/sod-rules", filter, page).await
    }

    pub async fn get_sod_rule(&self, id: SodRuleId) -> Result<SodRule> {
        self.get(&format!("/api/v1/sod-rules/{id}")).await
    }

    /// Creates a rule; the answer counts the users already breaking it.
    pub async fn create_sod_rule(&self, body: &CreateSodRule) -> Result<SodRuleSaved> {
        self.create("/api/v1/sod-rules", body).await
    }

    pub async fn update_sod_rule(
        &self,
        id: SodRuleId,
        body: &UpdateSodRule,
        if_match: Option<i64>,
    ) -> Result<SodRuleSaved> {
        self.update(&format!("/api/v1/sod-rules/{id}"), body, if_match)
            .await
    }

    pub async fn delete_sod_rule(&self, id: SodRuleId) -> Result<()> {
        self.delete(&format!("/api/v1/sod-rules/{id}")).await
    }

    /// The users a rule not yet saved would affect.
    pub async fn preview_sod_rule(&self, body: &CreateSodRule) -> Result<SodPreview> {
        self.create("/api/v1/sod-rules/preview", body).await
    }

    /// The users a saved rule affects, with `changes` applied (not saved).
    pub async fn preview_saved_sod_rule(
        &self,
        id: SodRuleId,
        changes: &UpdateSodRule,
    ) -> Result<SodPreview> {
        self.create(&format!("/api/v1/sod-rules/{id}/preview"), changes)
            .await
    }
}
