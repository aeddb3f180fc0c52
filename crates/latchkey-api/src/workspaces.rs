//! Workspaces: requests and responses of `/api/v1/workspaces…` and of the public read API
//! `/public/v1/workspaces…`. Plans, roles and visibility tiers travel as their snake_case
//! names and are validated by the service, so a wrong value is a 422 naming the field and
//! the values allowed.

use latchkey_model::{
    Document, DocumentId, Folder, FolderId, InvitationStatus, MemberRole, Team, UserId, Workspace,
    WorkspaceId, WorkspaceInvitation, WorkspaceKey,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::double_option;

/// `POST /api/v1/workspaces`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspace {
    pub name: String,
    /// `free` (the default), `basic`, `business` or `enterprise`.
    #[serde(default)]
    pub plan: Option<String>,
}

/// `PATCH /api/v1/workspaces/{id}`: rename (admins), change the plan or archive (owners).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspace {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    /// `true` archives (content stays readable, nothing changes any more), `false` restores.
    #[serde(default)]
    pub archived: Option<bool>,
}

/// A workspace as one of its members sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceView {
    #[serde(flatten)]
    pub workspace: Workspace,
    /// The caller's role in it.
    pub my_role: MemberRole,
    pub member_count: u32,
    /// The plan's member limit (members and pending invitations); `null`: unlimited.
    pub member_limit: Option<u32>,
}

/// `POST /api/v1/workspaces/{id}/invitations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteToWorkspace {
    pub email: String,
    /// `owner`, `admin`, `editor`, `viewer` or `agent_only`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceInvitationView {
    #[serde(flatten)]
    pub invitation: WorkspaceInvitation,
    pub status: InvitationStatus,
}

/// The answer to a workspace invitation: a new invitation (201), or (200) the member whose
/// role was updated instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum WorkspaceInviteOutcome {
    Invited(WorkspaceInvitationView),
    Updated(MemberRoleUpdated),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MemberRoleUpdated {
    #[schema(value_type = String, format = Uuid)]
    pub updated_user_id: UserId,
    pub role: MemberRole,
    pub message: String,
}

/// `POST /api/v1/workspace-invitations/accept`, by the signed-in invitee.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptWorkspaceInvitation {
    pub token: String,
}

impl std::fmt::Debug for AcceptWorkspaceInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptWorkspaceInvitation")
            .field("token", &"<redacted>")
            .finish()
    }
}

/// A member with who they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub user_name: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: MemberRole,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
}

/// `PATCH /api/v1/workspaces/{id}/members/{user_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    pub role: String,
}

/// `POST /api/v1/workspaces/{id}/teams`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// `PATCH /api/v1/workspaces/{id}/teams/{team_id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
}

/// `POST /api/v1/workspaces/{id}/teams/{team_id}/members`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTeamMember {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TeamView {
    #[serde(flatten)]
    pub team: Team,
    #[schema(value_type = Vec<String>)]
    pub members: Vec<UserId>,
}

/// `POST /api/v1/workspaces/{id}/folders`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFolder {
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<FolderId>,
    /// `workspace` (every member; the default) or `role` (members at or above `min_role`).
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub min_role: Option<String>,
}

/// `PATCH /api/v1/workspaces/{id}/folders/{folder_id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFolder {
    #[serde(default)]
    pub name: Option<String>,
    /// `null` moves the folder to the top.
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<Option<FolderId>>,
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub min_role: Option<String>,
}

/// `POST /api/v1/workspaces/{id}/documents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDocument {
    #[schema(value_type = String, format = Uuid)]
    pub folder_id: FolderId,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// An application registering its own item: the item's id in that application,
    /// unique in the workspace.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// `PATCH /api/v1/workspaces/{id}/documents/{document_id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDocument {
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub folder_id: Option<FolderId>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// `POST /api/v1/workspaces/{id}/api-keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspaceKey {
    pub name: String,
    /// The key's folder-visibility role, at most the creator's. The public read API
    /// returns only workspace-visible content whatever it is; it bounds what the key may
    /// ever see.
    pub role: String,
}

/// `201` to a new workspace API key: the secret, shown this once.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceKeyCreated {
    #[serde(flatten)]
    pub key: WorkspaceKey,
    pub secret: String,
}

impl std::fmt::Debug for WorkspaceKeyCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkspaceKeyCreated")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A document as the public read API gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicDocument {
    #[schema(value_type = String, format = Uuid)]
    pub id: DocumentId,
    #[schema(value_type = String, format = Uuid)]
    pub folder_id: FolderId,
    pub title: String,
    pub body: String,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub external_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<Document> for PublicDocument {
    fn from(d: Document) -> Self {
        Self {
            id: d.id,
            folder_id: d.folder_id,
            title: d.title,
            body: d.body,
            metadata: d.metadata,
            external_id: d.external_id,
            updated_at: d.updated_at,
        }
    }
}

/// A folder as the public read API gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicFolder {
    #[schema(value_type = String, format = Uuid)]
    pub id: FolderId,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<FolderId>,
    pub name: String,
}

impl From<Folder> for PublicFolder {
    fn from(f: Folder) -> Self {
        Self {
            id: f.id,
            parent_id: f.parent_id,
            name: f.name,
        }
    }
}

/// Both checks of `GET /api/v1/users/{id}/access?workspace_id=…[&folder_id=…]`: what the
/// user may do in the product (roles) and what they may see in the workspace (membership).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceAccess {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub workspace_id: WorkspaceId,
    /// The product permissions the user holds (app access), from their roles.
    pub app_permissions: Vec<String>,
    /// The user's role in the workspace; `null`: not a member (no workspace access,
    /// whatever the permissions).
    pub member_role: Option<MemberRole>,
    pub teams: Vec<String>,
    /// When a folder was asked about: whether the user sees it, and why.
    pub folder: Option<FolderAccess>,
    /// One sentence per check, for people.
    pub explanation: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FolderAccess {
    #[schema(value_type = String, format = Uuid)]
    pub folder_id: FolderId,
    /// Shown only when the caller is a member who sees the folder.
    pub name: Option<String>,
    pub visibility: latchkey_model::Visibility,
    pub min_role: Option<MemberRole>,
    /// The lowest role that sees it, ancestors included.
    pub effective_min_role: MemberRole,
    pub visible: bool,
}

/// `POST /api/v1/items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateItem {
    /// `orchestration`, `draft`, `sheet`, `meeting`, `template` or `sequence`.
    pub kind: String,
    pub name: String,
    /// The workspace it belongs to (the caller must be an editor there), if any.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub workspace_id: Option<WorkspaceId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemView {
    #[serde(flatten)]
    pub item: latchkey_model::Item,
    #[schema(value_type = Vec<String>)]
    pub collaborators: Vec<UserId>,
}

/// `POST /api/v1/items/{id}/collaborators`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCollaborator {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
}

/// `GET|PUT /api/v1/settings/sharing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingSettings {
    /// When off, sharing an owned orchestration needs `orchestrations.share`.
    pub unrestricted_sharing: bool,
}

/// A named thing someone owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OwnedThing {
    /// `workspace`, `folder`, `document`, `item` (with `kind`), `information_system`, `role`.
    pub what: String,
    pub id: String,
    pub name: String,
    /// The item kind, or the workspace a folder or document is in.
    pub detail: Option<String>,
}

/// `GET /api/v1/users/{id}/owned`: everything a deletion would have to hand over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ownership {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub owned: Vec<OwnedThing>,
}
