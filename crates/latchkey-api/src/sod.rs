//! Segregation of duties: requests and responses of `/api/v1/sod-rules…`, and the risk a
//! user's roles carry (`SodRiskView`, on effective roles). Kinds and risks travel as their
//! snake_case names and are validated by the service, so a wrong value is a 422 naming the
//! field and the values allowed.

use latchkey_model::{Risk, RoleId, SodRule, SodRuleId, SystemId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{NamedRef, double_option};

/// One cell of a matrix rule, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SodPairInput {
    #[schema(value_type = String, format = Uuid)]
    pub a: RoleId,
    #[schema(value_type = String, format = Uuid)]
    pub b: RoleId,
    /// `none`, `low`, `high` or `forbidden`.
    pub risk: String,
}

/// `POST /api/v1/sod-rules` (and the body of `POST /api/v1/sod-rules/preview`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSodRule {
    pub name: String,
    #[schema(value_type = String, format = Uuid)]
    pub system_id: SystemId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `all`, `some` or `matrix`.
    pub kind: String,
    /// `none`, `low`, `high` or `forbidden`. Required for `all` and `some`; for `matrix`
    /// the rule's risk is the highest pair risk, and a `risk` given must equal it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    /// At least two distinct roles of the organisation, of any system.
    #[schema(value_type = Vec<String>)]
    pub role_ids: Vec<RoleId>,
    /// `some` only: no user may hold more than this many of the roles (1 ≤ N < roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u32>,
    /// `matrix` only: pairs of roles of `role_ids`, each pair once, with their risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Vec<SodPairInput>>,
}

/// `PATCH /api/v1/sod-rules/{id}` (and the optional body of
/// `POST /api/v1/sod-rules/{id}/preview`): the fields given replace the rule's; the result
/// is validated as a whole, as a new rule would be.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSodRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub system_id: Option<SystemId>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub role_ids: Option<Vec<RoleId>>,
    /// `null` clears it (when the kind is no longer `some`).
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>)]
    pub threshold: Option<Option<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Vec<SodPairInput>>,
}

/// A rule as saved (201 on create, 200 on update), with how many users already hold a
/// combination it names at its risk or above (they keep their roles: a rule never revokes;
/// for a `forbidden` rule one Security Center alert says so).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SodRuleSaved {
    #[serde(flatten)]
    pub rule: SodRule,
    pub violating_users: u64,
}

/// A user a rule affects: the roles of theirs that trigger it, and the risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SodAffectedUser {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user_name: String,
    pub risk: Risk,
    #[schema(value_type = Vec<Object>)]
    pub roles: Vec<NamedRef<RoleId>>,
}

/// `POST /api/v1/sod-rules/preview` and `POST /api/v1/sod-rules/{id}/preview`: the rule as
/// it would be saved (nothing is), and the users holding a combination that triggers it
/// now (sorted by user name; at most `limit` of them, `total` counts all).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SodPreview {
    pub rule: SodRule,
    pub total: u64,
    pub users: Vec<SodAffectedUser>,
}

/// The segregation-of-duties risk on one of a user's roles: the highest risk among the
/// combinations it takes part in, and the rules making them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SodRiskView {
    pub risk: Risk,
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<NamedRef<SodRuleId>>,
}
