//! Workspaces: containers of a team's content (folders, documents, teams, API keys), each
//! with its own members. Membership is separate from the product permissions that roles
//! carry: holding `workspaces.create` lets a user make a workspace, not read one.
//!
//! Member roles are ordered, highest first: Owner, Admin, Editor, Viewer, Agent-only, and a
//! higher role has every right of the lower ones. A folder is visible to every member
//! (tier `workspace`) or to members at or above a required role (tier `role`); a folder
//! inside a restricted folder is never more visible than its parent, so what decides is
//! its *effective* minimum role, the highest along its ancestry (computed by the engine).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    DocumentId, FolderId, OrgId, TeamId, UserId, WorkspaceId, WorkspaceInvitationId, WorkspaceKeyId,
};

/// A workspace's billing plan: it caps members and gates API keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Free,
    Basic,
    Business,
    Enterprise,
}

impl Plan {
    pub const ALL: [Plan; 4] = [Self::Free, Self::Basic, Self::Business, Self::Enterprise];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Basic => "basic",
            Self::Business => "business",
            Self::Enterprise => "enterprise",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// How many members (pending invitations included) the plan allows; `None`: no limit.
    pub const fn member_limit(self) -> Option<u32> {
        match self {
            Self::Free => Some(3),
            Self::Basic => Some(25),
            Self::Business | Self::Enterprise => None,
        }
    }

    /// Whether the workspace may have API keys (and its public read API answers).
    pub const fn allows_api_keys(self) -> bool {
        matches!(self, Self::Business | Self::Enterprise)
    }

    /// The names, smallest first, for error messages.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }

    /// The plan's name as people write it.
    pub const fn title(self) -> &'static str {
        match self {
            Self::Free => "Free",
            Self::Basic => "Basic",
            Self::Business => "Business",
            Self::Enterprise => "Enterprise",
        }
    }
}

/// A member's role in one workspace, highest first. `Ord` follows the hierarchy:
/// `Owner > Admin > Editor > Viewer > AgentOnly`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    AgentOnly = 0,
    Viewer = 1,
    Editor = 2,
    Admin = 3,
    Owner = 4,
}

impl MemberRole {
    /// Highest first.
    pub const ALL: [MemberRole; 5] = [
        Self::Owner,
        Self::Admin,
        Self::Editor,
        Self::Viewer,
        Self::AgentOnly,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
            Self::AgentOnly => "agent_only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role's place in the hierarchy, 0 (agent-only) to 4 (owner); what the store
    /// keeps and compares.
    pub const fn rank(self) -> u8 {
        self as u8
    }

    pub fn from_rank(rank: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.rank() == rank)
    }

    /// The names, highest first, for error messages.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

/// Who sees a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Every member of the workspace.
    Workspace,
    /// Members at or above the folder's `min_role`.
    Role,
}

impl Visibility {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Workspace => "workspace",
            Self::Role => "role",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "workspace" => Some(Self::Workspace),
            "role" => Some(Self::Role),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub org_id: OrgId,
    pub name: String,
    pub plan: Plan,
    /// The member who created it, or to whom ownership was reassigned.
    pub owner_id: UserId,
    #[serde(with = "time::serde::rfc3339::option")]
    pub archived_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkspaceMember {
    pub workspace_id: WorkspaceId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: MemberRole,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
    pub added_by: UserId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Team {
    pub id: TeamId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Folder {
    pub id: FolderId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub parent_id: Option<FolderId>,
    pub name: String,
    pub visibility: Visibility,
    /// The required role of a `role` folder; `None` for a `workspace` folder.
    pub min_role: Option<MemberRole>,
    /// The lowest role that sees the folder, its ancestors' restrictions included.
    pub effective_min_role: MemberRole,
    pub owner_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Folder {
    /// The role this folder itself requires, before its ancestors are considered.
    pub fn own_min_role(&self) -> MemberRole {
        match self.visibility {
            Visibility::Workspace => MemberRole::AgentOnly,
            Visibility::Role => self.min_role.unwrap_or(MemberRole::AgentOnly),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    pub id: DocumentId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub folder_id: FolderId,
    pub title: String,
    pub body: String,
    /// Free-form JSON an application keeps with the document.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// The id an application gave its own item when it registered it as a document.
    pub external_id: Option<String>,
    pub owner_id: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkspaceInvitation {
    pub id: WorkspaceInvitationId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub email: String,
    pub role: MemberRole,
    #[serde(skip_serializing, default)]
    pub token_hash: String,
    pub invited_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub accepted_at: Option<OffsetDateTime>,
    pub user_id: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl WorkspaceInvitation {
    pub fn status(&self, now: OffsetDateTime) -> crate::InvitationStatus {
        crate::InvitationStatus::at(now, self.accepted_at, self.revoked_at, self.expires_at)
    }
}

/// A workspace API key: a read credential of one workspace. Only the SHA-256 of its secret
/// is kept; `prefix` (the secret's first characters) lets people tell keys apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkspaceKey {
    pub id: WorkspaceKeyId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// The folder-visibility role the key reads with (never above its creator's).
    pub role: MemberRole,
    pub prefix: String,
    #[serde(skip_serializing, default)]
    pub token_hash: String,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<UserId>,
}

/// The kinds of app items: typed objects of the product with an owner and collaborators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Orchestration,
    Draft,
    Sheet,
    Meeting,
    Template,
    Sequence,
}

impl ItemKind {
    pub const ALL: [ItemKind; 6] = [
        Self::Orchestration,
        Self::Draft,
        Self::Sheet,
        Self::Meeting,
        Self::Template,
        Self::Sequence,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Orchestration => "orchestration",
            Self::Draft => "draft",
            Self::Sheet => "sheet",
            Self::Meeting => "meeting",
            Self::Template => "template",
            Self::Sequence => "sequence",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

/// An app item. Its owner shares it with collaborators; an orchestration can also be
/// published to the whole organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    pub id: crate::ItemId,
    pub org_id: OrgId,
    pub workspace_id: Option<WorkspaceId>,
    pub kind: ItemKind,
    pub name: String,
    pub owner_id: UserId,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    pub published_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What is kept of a deleted user, so that audit and history still name them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeletedUser {
    pub id: UserId,
    pub org_id: OrgId,
    pub user_name: String,
    pub full_name: String,
    pub email: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub deleted_at: OffsetDateTime,
    pub deleted_by: Option<UserId>,
    /// Who received what they owned.
    pub reassigned_to: Option<UserId>,
}
