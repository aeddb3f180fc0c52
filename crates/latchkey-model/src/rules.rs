//! Role assignment rules: an expression over a user that, while true, grants the rule's
//! roles (grants of origin `rule`), and the runs that apply a rule to the whole organisation.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AssignmentRuleId, OrgId, RoleId, RuleRunId, Stamps, UserId};

/// A role assignment rule. `expression` is CEL over `user` and must give a boolean;
/// `roles_expression`, when set, gives more role names (`role` or `role@system`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssignmentRule {
    pub id: AssignmentRuleId,
    pub org_id: OrgId,
    pub name: String,
    pub description: Option<String>,
    pub expression: String,
    pub roles_expression: Option<String>,
    pub role_ids: Vec<RoleId>,
    /// A disabled rule grants nothing: its grants are revoked when it is applied.
    pub enabled: bool,
    #[serde(flatten)]
    pub stamps: Stamps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
}

impl RunStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(Self::Running),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One application of a rule to every user, with its progress: `done` of `total` users
/// evaluated, and what changed so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleRun {
    pub id: RuleRunId,
    pub org_id: OrgId,
    pub rule_id: AssignmentRuleId,
    pub status: RunStatus,
    pub total: i64,
    pub done: i64,
    /// Grants made.
    pub granted: i64,
    /// Grants revoked.
    pub revoked: i64,
    /// Grants withheld because they would give a forbidden combination of roles.
    pub refused: i64,
    /// Users for whom the expression failed on their data (treated as not matching).
    pub errors: i64,
    pub message: Option<String>,
    pub started_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}
