//! Role assignment rules: create, change, preview and apply.

use latchkey_model::{AssignmentRule, AssignmentRuleId, RoleId, RuleRun, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::double_option;

/// `POST /api/v1/assignment-rules`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssignmentRule {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// CEL over `user`, giving a boolean: `user.active && user.primary_group == "Writers"`.
    pub expression: String,
    /// CEL over `user`, giving a list of more role names (`role` or `role@system`) granted
    /// while `expression` holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles_expression: Option<String>,
    #[serde(default)]
    pub role_ids: Vec<RoleId>,
    /// Defaults to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `PATCH /api/v1/assignment-rules/{id}`: absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssignmentRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub roles_expression: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_ids: Option<Vec<RoleId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A rule with its latest run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssignmentRuleView {
    #[serde(flatten)]
    pub rule: AssignmentRule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RuleRun>,
}

/// One user gaining or losing one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleChange {
    pub user_id: UserId,
    pub user_name: String,
    pub role_id: RoleId,
    pub role_name: String,
    pub system_name: String,
}

/// A grant the rule would make that a forbidden combination of roles withholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleRefusal {
    pub user_id: UserId,
    pub user_name: String,
    pub role_id: RoleId,
    pub role_name: String,
    pub reason: String,
}

/// A problem evaluating the rule for one user (the rule counts as false for them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleError {
    pub user_id: UserId,
    pub user_name: String,
    pub message: String,
}

/// `POST /api/v1/assignment-rules/{id}/preview`: exactly what applying the rule now would
/// change, without writing. The lists hold at most `limit` entries each; the totals count
/// everything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleDiff {
    pub rule_id: AssignmentRuleId,
    pub users: u64,
    pub matching: u64,
    pub gains_total: u64,
    pub losses_total: u64,
    pub refused_total: u64,
    pub errors_total: u64,
    pub gains: Vec<RuleChange>,
    pub losses: Vec<RuleChange>,
    pub refused: Vec<RuleRefusal>,
    pub errors: Vec<RuleError>,
    /// Whether a list was cut at `limit`.
    pub truncated: bool,
}

/// `POST /api/v1/assignment-rules/check`: checks expressions without saving a rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckExpression {
    pub expression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles_expression: Option<String>,
}
