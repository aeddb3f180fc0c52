//! Response bodies that are not plain domain entities (those are served as the model's
//! types): pages, explanations of access, problems, reports.

use latchkey_model::{
    AssignmentRuleId, GrantId, GroupId, OrgId, RoleId, SystemId, TokenId, UserId,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A page of a list. `next_cursor`, when present, fetches the following page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `application/problem+json` (RFC 9457) with a stable `code` and the fields at fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code (`validation_failed`, `not_found`, `conflict`, ...).
    pub code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub rule: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NamedRef<Id> {
    pub id: Id,
    pub name: String,
}

pub type RoleRef = NamedRef<RoleId>;
pub type GroupRef = NamedRef<GroupId>;

/// One way a user comes to hold a role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccessPath {
    /// `direct`, `group`, or `rule` (a grant a role assignment rule made).
    pub kind: String,
    #[schema(value_type = String, format = Uuid)]
    pub grant_id: GrantId,
    /// The role the grant names (the first link of `chain` when inherited).
    #[schema(value_type = Object)]
    pub granted_role: RoleRef,
    /// For `group`: the group the user is a member of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub member_group: Option<GroupRef>,
    /// For `group`: the group holding the grant (the member group or one of its ancestors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub ancestor_group: Option<GroupRef>,
    /// For `group`: `primary` or `secondary` membership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<String>,
    /// Parent roles from the granted role down to the held role, excluded (empty when the
    /// held role is the granted one).
    #[schema(value_type = Vec<Object>)]
    pub chain: Vec<RoleRef>,
    /// For `rule`: the role assignment rule that made the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub rule: Option<NamedRef<AssignmentRuleId>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EffectiveRoleView {
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    pub role_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub system_id: SystemId,
    pub system_name: String,
    pub scope: Option<String>,
    pub paths: Vec<AccessPath>,
    /// The segregation-of-duties risk (`low`, `high`, or `forbidden` for a combination
    /// older than its rule) of a combination this role takes part in; absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sod: Option<crate::SodRiskView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EffectiveRoles {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Set when the answer comes from the access history (a past `at`): the organisation
    /// revision whose state it shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_revision: Option<i64>,
    pub roles: Vec<EffectiveRoleView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HolderView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user_name: String,
    pub scope: Option<String>,
    pub paths: Vec<AccessPath>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoleHolders {
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    pub role_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Set when the answer comes from the access history (a past `at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of_revision: Option<i64>,
    pub holders: Vec<HolderView>,
}

/// Who the caller is and what they may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub org_id: OrgId,
    pub org_slug: String,
    pub installation_admin: bool,
    /// Permissions held everywhere.
    pub permissions: Vec<String>,
    /// Permissions held for some groups or systems only, with their scope values.
    #[schema(value_type = Object)]
    pub scoped_permissions: std::collections::BTreeMap<String, Vec<String>>,
}

/// The answer to creating an organisation: it and its first administrator's token, shown
/// once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrganisationCreated {
    #[schema(value_type = Object)]
    pub organisation: latchkey_model::Organisation,
    #[schema(value_type = String, format = Uuid)]
    pub admin_user_id: UserId,
    pub admin_user_name: String,
    /// The administrator's API token. It is not stored and cannot be shown again.
    pub admin_token: String,
}

/// A session opened by signing in: the secret is shown once. Send it as
/// `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SignedIn {
    #[schema(value_type = String, format = Uuid)]
    pub session_id: latchkey_model::SessionId,
    pub token: String,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: latchkey_model::UserId,
    /// The organisation's slug.
    pub organisation: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Sessions of this user that the sign-in ended (a user without multi-session keeps one).
    pub ended_sessions: u32,
    /// What the user's roles ask before the session may do anything else:
    /// `enroll_passkey` (register one at `/me/passkeys/register/begin`) or `verify_passkey`
    /// (prove one at `/me/passkeys/verify/begin`); absent when nothing is asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_action: Option<String>,
}

/// A session as listed: `current` marks the one the request came with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: latchkey_model::Session,
    pub current: bool,
}

/// What the caller's roles ask of their sign-ins: the strictest combination, and the
/// roles that ask something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EffectiveSecurityPolicy {
    #[serde(flatten)]
    pub policy: latchkey_model::RoleSecurityPolicy,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<latchkey_model::RoleId>,
}

/// A password policy and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PasswordPolicyView {
    #[serde(flatten)]
    pub policy: latchkey_model::PasswordPolicy,
    /// `user_type` when the user type has its own, `organisation` for the organisation's
    /// default, `built_in` when neither was set.
    pub source: String,
}

/// A new API token: the secret is shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    #[schema(value_type = String, format = Uuid)]
    pub id: TokenId,
    pub name: String,
    pub token: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerification {
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken_at_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The outcome of a CSV import (or of its dry run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub kind: String,
    pub dry_run: bool,
    /// False when any row failed; then nothing was written.
    pub ok: bool,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub errors: Vec<ImportError>,
    /// What each row would do or did: `create`, `update` or `unchanged`.
    pub actions: Vec<ImportAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportError {
    /// 1-based data row (the header is row 0).
    pub row: u64,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportAction {
    pub row: u64,
    pub action: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PermissionInfo {
    pub name: String,
    pub description: String,
    pub privileged: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckResponse {
    pub allowed: bool,
    /// Why not, when it is not obvious (`user is disabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `explain`: every path that grants the role (empty when denied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<AccessPath>>,
    /// The revision of the organisation the answer reflects.
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckBatchResponse {
    pub results: Vec<CheckResponse>,
    pub revision: i64,
}

/// An invitation as administrators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InvitationView {
    #[serde(flatten)]
    pub invitation: latchkey_model::Invitation,
    pub status: latchkey_model::InvitationStatus,
}

/// The answer to an invitation: a new invitation (201), or (200) the existing user whose
/// role or group was updated instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum InviteOutcome {
    Invited(InvitationView),
    Updated(ExistingUserUpdated),
}

/// `200` to an invitation whose email already belongs to a user: nothing was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExistingUserUpdated {
    #[schema(value_type = String, format = Uuid)]
    pub updated_user_id: UserId,
    /// Whether the role was granted now (false: the user already held it directly).
    pub role_granted: bool,
    /// Whether the user was added to the group now.
    pub group_added: bool,
    pub message: String,
}

/// What an invitation is for, as its invitee sees it before accepting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InvitationPreview {
    pub organisation: String,
    pub organisation_name: String,
    pub email: String,
    pub role: String,
    pub group: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A user made by accepting an invitation, and their first session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InvitationAccepted {
    pub user: latchkey_model::User,
    pub session: SignedIn,
}

/// The first half of a WebAuthn ceremony: pass `options` to `navigator.credentials.create()`
/// or `.get()`, then send the answer with `ceremony` (opaque: the server's half, sealed)
/// before `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PasskeyChallenge {
    pub ceremony: String,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}
