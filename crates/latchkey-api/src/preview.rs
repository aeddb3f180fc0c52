//! Previews of a change to a role or a group: who gains and who loses which effective role
//! if it were made, answered without making it (`POST /api/v1/access-preview`).

use latchkey_model::{GrantId, GroupId, RoleId, SystemId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The change to judge, by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeToPreview {
    /// `role_id` would grant `child_role_id` (mandatory by default: its holders hold it).
    AddGrantedRole {
        #[schema(value_type = String, format = Uuid)]
        role_id: RoleId,
        #[schema(value_type = String, format = Uuid)]
        child_role_id: RoleId,
        #[serde(default = "yes")]
        mandatory: bool,
    },
    /// `role_id` would stop granting `child_role_id`.
    RemoveGrantedRole {
        #[schema(value_type = String, format = Uuid)]
        role_id: RoleId,
        #[schema(value_type = String, format = Uuid)]
        child_role_id: RoleId,
    },
    /// `role_id` would be granted to `group_id` (with `scope` for a scoped role).
    GrantToGroup {
        #[schema(value_type = String, format = Uuid)]
        role_id: RoleId,
        #[schema(value_type = String, format = Uuid)]
        group_id: GroupId,
        #[serde(default)]
        scope: Option<String>,
    },
    /// The grant would be revoked (to a user or a group).
    RevokeGrant {
        #[schema(value_type = String, format = Uuid)]
        grant_id: GrantId,
    },
    /// `group_id` would move under `parent_id` (`null`: a root).
    MoveGroup {
        #[schema(value_type = String, format = Uuid)]
        group_id: GroupId,
        #[schema(value_type = Option<String>, format = Uuid)]
        parent_id: Option<GroupId>,
    },
}

fn yes() -> bool {
    true
}

/// The answer: effective roles gained and lost, by user, now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessPreview {
    /// Users the change can reach (and whose effective roles were compared).
    pub users_considered: usize,
    pub gains_total: usize,
    pub losses_total: usize,
    /// At most `limit` each, by user name then role.
    pub gains: Vec<PreviewEntry>,
    pub losses: Vec<PreviewEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PreviewEntry {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    pub role_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub system_id: SystemId,
    pub system_name: String,
    pub scope: Option<String>,
}
