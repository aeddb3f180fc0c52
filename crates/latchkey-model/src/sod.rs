//! Segregation of duties (SoD): a rule on an information system naming roles (of any system
//! of the organisation) that no one user should combine. Its kind says what combination
//! triggers it — `all` of the roles, more than `threshold` of them (`some`), or a pair with a
//! risk of its own (`matrix`) — and its risk what happens then: `forbidden` refuses the write
//! that would make the combination, `low` and `high` allow it and show the risk on the
//! user's roles, `none` records the rule without effect.

use serde::{Deserialize, Serialize};

use crate::{OrgId, RoleId, SodRuleId, Stamps, SystemId};

/// What combination of a rule's roles triggers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SodKind {
    /// Holding every role of the list.
    All,
    /// Holding more than `threshold` roles of the list.
    Some,
    /// Holding both roles of a pair of the matrix; each pair has its own risk.
    Matrix,
}

impl SodKind {
    pub const ALL: [SodKind; 3] = [Self::All, Self::Some, Self::Matrix];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Some => "some",
            Self::Matrix => "matrix",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The names, for error messages.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

/// How bad a combination is, ordered: `None < Low < High < Forbidden`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    #[default]
    None,
    Low,
    High,
    Forbidden,
}

impl Risk {
    pub const ALL: [Risk; 4] = [Self::None, Self::Low, Self::High, Self::Forbidden];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::High => "high",
            Self::Forbidden => "forbidden",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The names, lowest first, for error messages.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One cell of a matrix rule: holding both `a` and `b` carries `risk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SodPair {
    #[schema(value_type = String, format = Uuid)]
    pub a: RoleId,
    #[schema(value_type = String, format = Uuid)]
    pub b: RoleId,
    pub risk: Risk,
}

/// A segregation-of-duties rule. Invariants the service keeps: `role_ids` holds at least
/// two distinct roles of the organisation; `threshold` is set for `some` only, with
/// `1 <= threshold < role_ids.len()`; `matrix` is set for `matrix` only, each unordered
/// pair at most once and drawn from `role_ids`; for `matrix`, `risk` is the highest pair
/// risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SodRule {
    #[schema(value_type = String, format = Uuid)]
    pub id: SodRuleId,
    #[schema(value_type = String, format = Uuid)]
    pub org_id: OrgId,
    /// The information system the rule is filed under (its roles may be of any system).
    #[schema(value_type = String, format = Uuid)]
    pub system_id: SystemId,
    pub name: String,
    pub description: Option<String>,
    pub kind: SodKind,
    pub risk: Risk,
    #[schema(value_type = Vec<String>)]
    pub role_ids: Vec<RoleId>,
    pub threshold: Option<u32>,
    pub matrix: Vec<SodPair>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// A combination of roles a user holds (or would hold) that triggers a rule: the rule, the
/// risk of the combination, and the roles making it (for `matrix`, the roles of the pairs
/// at that risk).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SodViolation {
    #[schema(value_type = String, format = Uuid)]
    pub rule_id: SodRuleId,
    pub risk: Risk,
    #[schema(value_type = Vec<String>)]
    pub role_ids: Vec<RoleId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risks_are_ordered_and_named() {
        assert!(Risk::None < Risk::Low && Risk::Low < Risk::High && Risk::High < Risk::Forbidden);
        for r in Risk::ALL {
            assert_eq!(Risk::parse(r.as_str()), Some(r));
        }
        for k in SodKind::ALL {
            assert_eq!(SodKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Risk::parse("medium"), None);
        assert_eq!(SodKind::names(), "all, some, matrix");
    }
}
