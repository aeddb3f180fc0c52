//! Request bodies. Unknown fields are refused, so that a misspelt field is an error rather
//! than silently ignored.

use latchkey_model::{Attributes, DomainValue, GroupId, RoleId, SystemId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::double_option;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganisation {
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub user_name: String,
    pub first_name: String,
    #[serde(default)]
    pub middle_name: Option<String>,
    pub last_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub mail_aliases: Vec<String>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[schema(value_type = String, format = Uuid)]
    pub primary_group_id: GroupId,
    /// Defaults to true.
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub multi_session: Option<bool>,
    #[serde(default)]
    pub comments: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub middle_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_aliases: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub user_type: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub primary_group_id: Option<GroupId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_session: Option<bool>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub comments: Option<Option<String>>,
    /// Merged into the stored attributes; a `null` value removes that attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Attributes>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub group_type: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<GroupId>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub active_since: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub active_until: Option<OffsetDateTime>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub group_type: Option<Option<String>>,
    /// Moves the group; `null` makes it a root. A move under itself or a descendant is refused.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<Option<GroupId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    #[serde(
        default,
        deserialize_with = "double_option_time",
        serialize_with = "ser_double_option_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub active_since: Option<Option<OffsetDateTime>>,
    #[serde(
        default,
        deserialize_with = "double_option_time",
        serialize_with = "ser_double_option_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub active_until: Option<Option<OffsetDateTime>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Attributes>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMembership {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub group_id: GroupId,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub comments: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Attributes,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMembership {
    #[serde(
        default,
        deserialize_with = "double_option_time",
        serialize_with = "ser_double_option_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Option<OffsetDateTime>>,
    #[serde(
        default,
        deserialize_with = "double_option_time",
        serialize_with = "ser_double_option_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Option<OffsetDateTime>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub comments: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Attributes>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSystem {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `application` (default), `container` or `business`.
    #[serde(default)]
    pub system_type: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<SystemId>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub owner_id: Option<UserId>,
    #[serde(default)]
    pub notification_emails: Vec<String>,
    #[serde(default)]
    pub approval_process: Option<bool>,
    #[serde(default)]
    pub single_role: Option<bool>,
    /// Holders of this role (of the same organisation) decide the system's approval
    /// requests, with its owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub approver_role_id: Option<RoleId>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSystem {
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
    pub system_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<Option<SystemId>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub owner_id: Option<Option<UserId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_emails: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_process: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_role: Option<bool>,
    /// `null` clears it.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub approver_role_id: Option<Option<RoleId>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDomain {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub values: Vec<DomainValue>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDomain {
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
    #[schema(value_type = Option<Vec<Object>>)]
    pub values: Option<Vec<DomainValue>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    pub name: String,
    #[schema(value_type = String, format = Uuid)]
    pub system_id: SystemId,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// `none` (default), `groups`, `systems` or `custom` (with `domain_id`).
    #[serde(default)]
    pub domain_type: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub domain_id: Option<latchkey_model::DomainId>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub owner_id: Option<UserId>,
    /// Only for roles outside the `latchkey` system, whose privilege follows from permissions.
    #[serde(default)]
    pub privileged: Option<bool>,
    /// Product permissions; only roles of the `latchkey` system carry them.
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub owner_id: Option<Option<UserId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGrantedRole {
    /// The child role that holders of this role receive.
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    pub mandatory: bool,
    /// `same` (the parent grant's scope; the default when the child is scoped), `fixed`
    /// (with `scope_value`) or `none`.
    #[serde(default)]
    pub scope_mode: Option<String>,
    #[serde(default)]
    pub scope_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGrant {
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub group_id: Option<GroupId>,
    /// Required exactly when the role is scoped. For the `groups` domain a group id or name,
    /// for `systems` a system id or name, for a custom domain one of its values.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGrant {
    #[serde(
        default,
        deserialize_with = "double_option_time",
        serialize_with = "ser_double_option_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Option<OffsetDateTime>>,
    #[serde(
        default,
        deserialize_with = "double_option_time",
        serialize_with = "ser_double_option_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Option<OffsetDateTime>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAttribute {
    /// `user`, `group` or `membership`.
    pub object_type: String,
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    /// `string`, `number`, `boolean`, `date`, `email` or `reference`.
    pub data_type: String,
    #[serde(default)]
    pub required: Option<bool>,
    #[serde(default)]
    pub unique: Option<bool>,
    #[serde(default)]
    pub allowed_values: Vec<String>,
    #[serde(default)]
    pub position: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAttribute {
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub label: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_values: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserType {
    pub code: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserType {
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMailDomain {
    pub code: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub obsolete: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMailDomain {
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obsolete: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

fn double_option_time<'de, D>(de: D) -> Result<Option<Option<OffsetDateTime>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    time::serde::rfc3339::option::deserialize(de).map(Some)
}

fn ser_double_option_time<S>(
    value: &Option<Option<OffsetDateTime>>,
    ser: S,
) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
{
    match value {
        Some(inner) => time::serde::rfc3339::option::serialize(inner, ser),
        None => ser.serialize_none(),
    }
}

/// "May this user do this here?" Give a `role` or a `permission`; `scope` when the role or
/// permission is scoped. `at` asks about another instant than now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    #[schema(value_type = String, format = Uuid)]
    pub user: UserId,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub role: Option<RoleId>,
    /// A product permission name (`users.view`, ...).
    #[serde(default)]
    pub permission: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    /// Also return the paths that grant it.
    #[serde(default)]
    pub explain: bool,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
}

/// Up to 1,000 checks answered together, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBatchRequest {
    pub checks: Vec<CheckRequest>,
}

/// Writes a request holding a password without it, so that no log can show one.
macro_rules! redacted_debug {
    ($ty:ident { $($shown:ident),* } hides { $($hidden:ident),* }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), &"<redacted>"))*
                    .finish()
            }
        }
    };
}

/// `POST /api/v1/auth/password`.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSignIn {
    /// The organisation's slug; needed only when the installation has several.
    #[serde(default)]
    pub organisation: Option<String>,
    pub user_name: String,
    pub password: String,
    /// The current code of a TOTP device: required once the user has a verified one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_code: Option<String>,
}
redacted_debug!(PasswordSignIn { organisation, user_name } hides { password, totp_code });

/// `POST /api/v1/auth/password/change`: a new password for someone who cannot sign in with
/// the old one any more (it expired), proven by the old one.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpiredPasswordChange {
    #[serde(default)]
    pub organisation: Option<String>,
    pub user_name: String,
    pub current_password: String,
    pub new_password: String,
}
redacted_debug!(ExpiredPasswordChange { organisation, user_name } hides { current_password, new_password });

/// `PUT /api/v1/me/password`.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}
redacted_debug!(ChangePassword {} hides { current_password, new_password });

/// `PUT /api/v1/users/{id}/password`: an administrator sets (resets) a user's password.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    pub password: String,
}
redacted_debug!(SetPassword {} hides { password });

/// `POST /security/alerts/{id}/acknowledge` and `.../resolve`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAction {
    /// Why, or what was done (at most 2,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/auth/magic-link`: mail a sign-in link to this address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MagicLinkRequest {
    pub email: String,
    /// The organisation's slug; needed only when the installation has several.
    #[serde(default)]
    pub organisation: Option<String>,
}

/// `POST /api/v1/auth/magic-link/consume`: sign in with the secret from the link.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MagicLinkSignIn {
    pub token: String,
}
redacted_debug!(MagicLinkSignIn {} hides { token });

/// `POST /api/v1/invitations`: invite someone by work email with a role and, optionally, a
/// group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    pub email: String,
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    /// The new user's primary group (an existing user is added to it); the organisation's
    /// root group when left out.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub group_id: Option<GroupId>,
}

/// `POST /api/v1/invitations/lookup`: what an invitation is for, shown before accepting.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationToken {
    pub token: String,
}
redacted_debug!(InvitationToken {} hides { token });

/// `POST /api/v1/invitations/accept`: become a user of the organisation. Without a
/// password, the new user signs in with the session this answers and registers a passkey.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    pub token: String,
    pub user_name: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub password: Option<String>,
}
redacted_debug!(AcceptInvitation { user_name, first_name, last_name } hides { token, password });

/// `POST /api/v1/me/passkeys/register/finish`: the authenticator's answer to the options of
/// `register/begin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishPasskeyRegistration {
    /// The `ceremony` of `register/begin`, as it came.
    pub ceremony: String,
    /// What the user calls this passkey ("work laptop"); 1 to 64 characters.
    pub name: String,
    /// The `PublicKeyCredential` of `navigator.credentials.create()`, as JSON.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// `POST /api/v1/auth/passkey/begin`: start a passkey sign-in. Without `user_name` the
/// authenticator chooses a discoverable passkey (and so names the user).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeginPasskeySignIn {
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub user_name: Option<String>,
}

/// `POST /api/v1/auth/passkey/finish` (and `/me/passkeys/verify/finish`): the
/// authenticator's assertion for the options of the matching `begin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishPasskeyAssertion {
    /// The `ceremony` of the matching `begin`, as it came.
    pub ceremony: String,
    /// The `PublicKeyCredential` of `navigator.credentials.get()`, as JSON.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// `PATCH /api/v1/me/passkeys/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenamePasskey {
    pub name: String,
}
