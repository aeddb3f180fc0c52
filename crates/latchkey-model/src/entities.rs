//! The directory's aggregates as stored and as served. Fields are public where no invariant
//! spans them; constructors that enforce invariants live in the service layer, which is the
//! only writer. `version` counts updates and backs the `ETag`/`If-Match` protocol.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    AttributeId, DomainId, GrantId, GroupId, InheritanceId, MailDomainId, MembershipId, OrgId,
    Permission, RoleId, SystemId, TokenId, UserId, UserTypeId,
};

/// Custom attribute values by attribute name.
pub type Attributes = BTreeMap<String, serde_json::Value>;

/// Who made a change: a user, or the system itself (seeding, schedulers).
pub type Actor = Option<UserId>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub slug: String,
    /// Increases by one with every committed write in the organisation.
    pub revision: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Creation and update stamps shared by every editable aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stamps {
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub created_by: Actor,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub updated_by: Actor,
    /// Starts at 1 and increases on every update; the ETag is derived from it.
    pub version: i64,
}

impl Stamps {
    pub fn new(at: OffsetDateTime, by: Actor) -> Self {
        Self {
            created_at: at,
            created_by: by,
            updated_at: at,
            updated_by: by,
            version: 1,
        }
    }

    pub fn touch(&mut self, at: OffsetDateTime, by: Actor) {
        self.updated_at = at;
        self.updated_by = by;
        self.version += 1;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub user_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    /// Derived: first, middle and last name joined by single spaces.
    pub full_name: String,
    pub email: Option<String>,
    pub mail_aliases: Vec<String>,
    pub user_type: Option<String>,
    pub primary_group_id: GroupId,
    pub enabled: bool,
    pub multi_session: bool,
    pub comments: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: Attributes,
    /// May create organisations; held by the bootstrap administrator only.
    pub installation_admin: bool,
    #[serde(flatten)]
    pub stamps: Stamps,
}

impl User {
    pub fn derive_full_name(first: &str, middle: Option<&str>, last: &str) -> String {
        [Some(first), middle, Some(last)]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Group {
    pub id: GroupId,
    pub org_id: OrgId,
    pub name: String,
    pub description: Option<String>,
    pub group_type: Option<String>,
    pub parent_id: Option<GroupId>,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub active_since: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub active_until: Option<OffsetDateTime>,
    #[schema(value_type = Object)]
    pub attributes: Attributes,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// A secondary membership. The primary group is `User::primary_group_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Membership {
    pub id: MembershipId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub group_id: GroupId,
    #[serde(with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
    pub comments: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: Attributes,
    #[serde(flatten)]
    pub stamps: Stamps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SystemType {
    Application,
    Container,
    Business,
}

impl SystemType {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Application => "application",
            Self::Container => "container",
            Self::Business => "business",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "application" => Some(Self::Application),
            "container" => Some(Self::Container),
            "business" => Some(Self::Business),
            _ => None,
        }
    }
}

/// The name of the built-in information system whose roles carry product permissions.
pub const LATCHKEY_SYSTEM: &str = "latchkey";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct System {
    pub id: SystemId,
    pub org_id: OrgId,
    pub name: String,
    pub description: Option<String>,
    pub system_type: SystemType,
    pub parent_id: Option<SystemId>,
    pub owner_id: Option<UserId>,
    pub notification_emails: Vec<String>,
    /// Grants and revokes of this system's roles wait for approval.
    pub approval_process: bool,
    /// Holders of this role (any path) decide approval requests of the system, with its
    /// owner. A role of the same organisation.
    pub approver_role_id: Option<RoleId>,
    /// This system's roles are mutually exclusive for a user.
    pub single_role: bool,
    /// The built-in `latchkey` system: cannot be renamed or deleted.
    pub builtin: bool,
    #[serde(flatten)]
    pub stamps: Stamps,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DomainValue {
    pub value: String,
    pub description: Option<String>,
}

/// A custom scope type defined on an information system, with its allowed values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Domain {
    pub id: DomainId,
    pub org_id: OrgId,
    pub system_id: SystemId,
    pub name: String,
    pub description: Option<String>,
    pub values: Vec<DomainValue>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// What a role's scope value ranges over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "domain_type", content = "domain_id", rename_all = "snake_case")]
pub enum RoleDomain {
    /// Unscoped: granted without a scope value.
    None,
    /// Scope values are group ids; a permission applies to that group's subtree.
    Groups,
    /// Scope values are information system ids; a permission applies to that system's subtree.
    Systems,
    /// Scope values come from a custom domain of the role's system.
    Custom(DomainId),
}

impl RoleDomain {
    pub const fn is_scoped(self) -> bool {
        !matches!(self, Self::None)
    }

    pub const fn type_name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Groups => "groups",
            Self::Systems => "systems",
            Self::Custom(_) => "custom",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Role {
    pub id: RoleId,
    pub org_id: OrgId,
    pub system_id: SystemId,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    #[serde(flatten)]
    pub domain: RoleDomain,
    pub external_id: Option<String>,
    pub owner_id: Option<UserId>,
    /// Derived from the permissions for roles of the `latchkey` system; set by hand otherwise.
    pub privileged: bool,
    pub permissions: Vec<Permission>,
    /// Seeded: cannot be renamed, deleted or have its permissions changed.
    pub system_role: bool,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// How a mandatory child role's scope follows from the parent grant's scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "scope_mode", content = "scope_value", rename_all = "snake_case")]
pub enum ScopeMapping {
    /// The child is unscoped.
    None,
    /// The child gets the parent grant's scope value.
    Same,
    /// The child always gets this value.
    Fixed(String),
}

impl ScopeMapping {
    /// The child's scope given the parent's.
    pub fn apply(&self, parent_scope: Option<&str>) -> Option<String> {
        match self {
            Self::None => None,
            Self::Same => parent_scope.map(str::to_owned),
            Self::Fixed(v) => Some(v.clone()),
        }
    }
}

/// "Granted role": holders of `parent_role_id` also get `child_role_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleInheritance {
    pub id: InheritanceId,
    pub org_id: OrgId,
    pub parent_role_id: RoleId,
    pub child_role_id: RoleId,
    /// Mandatory: every holder of the parent effectively holds the child, which cannot be
    /// revoked on its own. Otherwise the child is granted separately when the parent is.
    pub mandatory: bool,
    #[serde(flatten)]
    pub scope: ScopeMapping,
    #[serde(flatten)]
    pub stamps: Stamps,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(
    tag = "grantee_type",
    content = "grantee_id",
    rename_all = "snake_case"
)]
pub enum Grantee {
    User(UserId),
    Group(GroupId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Active,
    PendingApproval,
    PendingRevoke,
    Scheduled,
    Expired,
}

impl GrantStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::PendingApproval => "pending_approval",
            Self::PendingRevoke => "pending_revoke",
            Self::Scheduled => "scheduled",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "pending_approval" => Some(Self::PendingApproval),
            "pending_revoke" => Some(Self::PendingRevoke),
            "scheduled" => Some(Self::Scheduled),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }

    /// The status a grant with these dates has at `now`, before any approval: `scheduled`
    /// until it starts, `expired` once it ends, `active` between.
    pub fn dated(
        starts_at: Option<OffsetDateTime>,
        ends_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Self {
        if ends_at.is_some_and(|e| e <= now) {
            Self::Expired
        } else if starts_at.is_some_and(|s| s > now) {
            Self::Scheduled
        } else {
            Self::Active
        }
    }

    /// Whether a grant in this status confers its role within its dates. An `expired`
    /// grant did, until its end: questions about the past still see it.
    pub const fn confers(self) -> bool {
        matches!(
            self,
            Self::Active | Self::PendingRevoke | Self::Scheduled | Self::Expired
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantOrigin {
    Manual,
    Rule,
    Inheritance,
}

impl GrantOrigin {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Rule => "rule",
            Self::Inheritance => "inheritance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(Self::Manual),
            "rule" => Some(Self::Rule),
            "inheritance" => Some(Self::Inheritance),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: GrantId,
    pub org_id: OrgId,
    pub role_id: RoleId,
    #[serde(flatten)]
    pub grantee: Grantee,
    pub scope: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
    pub status: GrantStatus,
    pub origin: GrantOrigin,
    /// For origin `inheritance`: the grant whose role granted this one.
    pub parent_grant_id: Option<GrantId>,
    /// For origin `rule`: the role assignment rule that made it.
    pub rule_id: Option<crate::AssignmentRuleId>,
    /// When a reviewer last confirmed the grant in an access review.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_recertified_at: Option<OffsetDateTime>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

impl Grant {
    /// Whether the grant confers its role at `at` (status and dates; start inclusive,
    /// end exclusive).
    pub fn in_force_at(&self, at: OffsetDateTime) -> bool {
        self.status.confers()
            && self.starts_at.is_none_or(|s| s <= at)
            && self.ends_at.is_none_or(|e| at < e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    User,
    Group,
    Membership,
}

impl ObjectType {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Membership => "membership",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "group" => Some(Self::Group),
            "membership" => Some(Self::Membership),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    String,
    Number,
    Boolean,
    Date,
    Email,
    /// A reference to another user, by id or user name.
    Reference,
}

impl AttributeType {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Email => "email",
            Self::Reference => "reference",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "string" => Some(Self::String),
            "number" => Some(Self::Number),
            "boolean" => Some(Self::Boolean),
            "date" => Some(Self::Date),
            "email" => Some(Self::Email),
            "reference" => Some(Self::Reference),
            _ => None,
        }
    }
}

/// The definition of a custom attribute ("metadata").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttributeDefinition {
    pub id: AttributeId,
    pub org_id: OrgId,
    pub object_type: ObjectType,
    pub name: String,
    pub label: Option<String>,
    pub data_type: AttributeType,
    pub required: bool,
    pub unique: bool,
    /// When non-empty, the only values accepted.
    pub allowed_values: Vec<String>,
    pub position: i64,
    #[serde(flatten)]
    pub stamps: Stamps,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserType {
    pub id: UserTypeId,
    pub org_id: OrgId,
    pub code: String,
    pub description: Option<String>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MailDomain {
    pub id: MailDomainId,
    pub org_id: OrgId,
    /// The domain name itself, lower case (`example.com`).
    pub code: String,
    pub description: Option<String>,
    /// Obsolete domains are refused for new or changed email addresses.
    pub obsolete: bool,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// An API token. The secret itself is never stored; `token_hash` is its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: TokenId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    #[serde(skip_serializing, default)]
    pub token_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_name_skips_missing_parts() {
        assert_eq!(User::derive_full_name("Ana", None, "Diaz"), "Ana Diaz");
        assert_eq!(
            User::derive_full_name("Ana", Some(" María "), "Diaz"),
            "Ana María Diaz"
        );
        assert_eq!(User::derive_full_name("Ana", Some(""), "Diaz"), "Ana Diaz");
    }

    #[test]
    fn scope_mapping() {
        assert_eq!(ScopeMapping::Same.apply(Some("x")), Some("x".to_owned()));
        assert_eq!(
            ScopeMapping::Fixed("y".into()).apply(Some("x")),
            Some("y".to_owned())
        );
        assert_eq!(ScopeMapping::None.apply(Some("x")), None);
    }
}
