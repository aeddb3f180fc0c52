//! Role assignment rules (`/api/v1/assignment-rules…`): manage, check, preview, apply and
//! follow a run.

use latchkey_api::{
    AssignmentRuleView, CheckExpression, CreateAssignmentRule, RuleDiff, UpdateAssignmentRule,
};
use latchkey_model::{AssignmentRuleId, RuleRun, RuleRunId};

use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

impl Client {
    pub async fn create_rule(&self, body: &CreateAssignmentRule) -> Result<AssignmentRuleView> {
        self.create("/api/v1/assignment-rules", body).await
    }

    pub async fn rules(&self) -> Result<Vec<AssignmentRuleView>> {
        self.get("/api/v1/assignment-rules").await
    }

    pub async fn rule(&self, id: AssignmentRuleId) -> Result<AssignmentRuleView> {
        self.get(&format!("/api/v1/assignment-rules/{id}")).await
    }

    pub async fn update_rule(
        &self,
        id: AssignmentRuleId,
        body: &UpdateAssignmentRule,
        if_match: Option<i64>,
    ) -> Result<AssignmentRuleView> {
        self.update(&format!("/api/v1/assignment-rules/{id}"), body, if_match)
            .await
    }

    pub async fn delete_rule(&self, id: AssignmentRuleId) -> Result<()> {
        self.delete(&format!("/api/v1/assignment-rules/{id}")).await
    }

    pub async fn check_rule(&self, body: &CheckExpression) -> Result<()> {
        self.post_no_content("/api/v1/assignment-rules/check", body)
            .await
    }

    pub async fn preview_rule(&self, id: AssignmentRuleId, limit: usize) -> Result<RuleDiff> {
        self.create(
            &format!("/api/v1/assignment-rules/{id}/preview?limit={limit}"),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn preview_draft_rule(
        &self,
        body: &CreateAssignmentRule,
        limit: usize,
    ) -> Result<RuleDiff> {
        self.create(
            &format!("/api/v1/assignment-rules/preview?limit={limit}"),
            body,
        )
        .await
    }

    /// Starts applying the rule; the run answered is followed with [`Client::rule_run`].
    pub async fn apply_rule(&self, id: AssignmentRuleId) -> Result<RuleRun> {
        self.create(
            &format!("/api/v1/assignment-rules/{id}/apply"),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn rule_run(&self, id: AssignmentRuleId, run: RuleRunId) -> Result<RuleRun> {
        self.get(&format!("/api/v1/assignment-rules/{id}/runs/{run}"))
            .await
    }

    pub async fn rule_runs(&self, id: AssignmentRuleId) -> Result<Vec<RuleRun>> {
        self.get(&format!("/api/v1/assignment-rules/{id}/runs"))
            .await
    }
}
