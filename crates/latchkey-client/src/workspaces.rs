//! The workspace endpoints (`/api/v1/workspaces…`): workspaces, members, invitations,
//! teams, folders, documents and API keys, and a user's access to a workspace. Membership
//! decides there, not permissions, so a workspace the caller is not in answers 404.
//!
//! Updates are sent with only the fields given: for `parent_id` (where `null` moves a
//! folder to the top) and a team's `description` (where `null` clears it) an absent field
//! and `null` differ, so the bodies are built here with exactly the fields given.

use latchkey_api::{
    AcceptWorkspaceInvitation, AddTeamMember, CreateDocument, CreateFolder, CreateTeam,
    CreateWorkspace, CreateWorkspaceKey, InviteToWorkspace, ListResponse, MemberView, TeamView,
    UpdateDocument, UpdateFolder, UpdateMember, UpdateTeam, UpdateWorkspace, WorkspaceAccess,
    WorkspaceInvitationView, WorkspaceInviteOutcome, WorkspaceKeyCreated, WorkspaceView,
};
use latchkey_model::{
    Document, DocumentId, Folder, FolderId, TeamId, UserId, WorkspaceId, WorkspaceInvitationId,
    WorkspaceKey, WorkspaceKeyId,
};
use serde::Serialize;

use crate::query::{DocumentFilter, Page};
use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

/// `POST /api/v1/workspaces/{id}/members`.
#[derive(Serialize)]
struct AddMember<'a> {
    user_id: UserId,
    role: &'a str,
}

/// `GET /api/v1/users/{id}/access` query.
#[derive(Serialize)]
struct AccessQuery {
    workspace_id: WorkspaceId,
    #[serde(skip_serializing_if = "Option::is_none")]
    folder_id: Option<FolderId>,
}

/// The fields of an [`UpdateWorkspace`] that are set.
#[derive(Serialize)]
struct WorkspacePatch<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archived: Option<bool>,
}

/// The fields of an [`UpdateTeam`] that are set; `description: null` clears it.
#[derive(Serialize)]
struct TeamPatch<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Option<&'a str>>,
}

/// The fields of an [`UpdateFolder`] that are set; `parent_id: null` moves it to the top.
#[derive(Serialize)]
struct FolderPatch<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<Option<FolderId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_role: Option<&'a str>,
}

/// The fields of an [`UpdateDocument`] that are set.
#[derive(Serialize)]
struct DocumentPatch<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    folder_id: Option<FolderId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a serde_json::Value>,
}

fn workspace_patch(u: &UpdateWorkspace) -> WorkspacePatch<'_> {
    WorkspacePatch {
        name: u.name.as_deref(),
        plan: u.plan.as_deref(),
        archived: u.archived,
    }
}

fn team_patch(u: &UpdateTeam) -> TeamPatch<'_> {
    TeamPatch {
        name: u.name.as_deref(),
        description: u.description.as_ref().map(Option::as_deref),
    }
}

fn folder_patch(u: &UpdateFolder) -> FolderPatch<'_> {
    FolderPatch {
        name: u.name.as_deref(),
        parent_id: u.parent_id,
        visibility: u.visibility.as_deref(),
        min_role: u.min_role.as_deref(),
    }
}

fn document_patch(u: &UpdateDocument) -> DocumentPatch<'_> {
    DocumentPatch {
        folder_id: u.folder_id,
        title: u.title.as_deref(),
        body: u.body.as_deref(),
        metadata: u.metadata.as_ref(),
    }
}

fn ws_path(ws: WorkspaceId, rest: &str) -> String {
    format!("/api/v1/workspaces/{ws}{rest}")
}

impl Client {
    // ----- workspaces -----

    /// `GET /api/v1/workspaces`: the workspaces the caller is a member of.
    pub async fn list_workspaces(&self) -> Result<Vec<WorkspaceView>> {
        self.get("/api/v1/workspaces").await
    }

    pub async fn get_workspace(&self, ws: WorkspaceId) -> Result<WorkspaceView> {
        self.get(&ws_path(ws, "")).await
    }

    /// `POST /api/v1/workspaces` (`workspaces.create`); the caller becomes its owner.
    pub async fn create_workspace(&self, body: &CreateWorkspace) -> Result<WorkspaceView> {
        self.create("/api/v1/workspaces", body).await
    }

    /// `PATCH /api/v1/workspaces/{id}`: rename (admin), plan, archive or restore (owner).
    pub async fn update_workspace(
        &self,
        ws: WorkspaceId,
        body: &UpdateWorkspace,
    ) -> Result<WorkspaceView> {
        self.update(&ws_path(ws, ""), &workspace_patch(body), None)
            .await
    }

    // ----- invitations -----

    /// `POST /api/v1/workspaces/{id}/invitations`: a new invitation, or the member whose
    /// role it changed.
    pub async fn invite_to_workspace(
        &self,
        ws: WorkspaceId,
        body: &InviteToWorkspace,
    ) -> Result<WorkspaceInviteOutcome> {
        self.create(&ws_path(ws, "/invitations"), body).await
    }

    pub async fn list_workspace_invitations(
        &self,
        ws: WorkspaceId,
    ) -> Result<Vec<WorkspaceInvitationView>> {
        self.get(&ws_path(ws, "/invitations")).await
    }

    pub async fn revoke_workspace_invitation(
        &self,
        ws: WorkspaceId,
        id: WorkspaceInvitationId,
    ) -> Result<WorkspaceInvitationView> {
        self.delete_json(&ws_path(ws, &format!("/invitations/{id}")))
            .await
    }

    /// `POST /api/v1/workspace-invitations/accept`: the signed-in invitee joins.
    pub async fn accept_workspace_invitation(
        &self,
        body: &AcceptWorkspaceInvitation,
    ) -> Result<WorkspaceView> {
        self.create("/api/v1/workspace-invitations/accept", body)
            .await
    }

    // ----- members -----

    pub async fn list_workspace_members(&self, ws: WorkspaceId) -> Result<Vec<MemberView>> {
        self.get(&ws_path(ws, "/members")).await
    }

    /// Adds an existing user of the organisation at `role` (within the plan's limit).
    pub async fn add_workspace_member(
        &self,
        ws: WorkspaceId,
        user: UserId,
        role: &str,
    ) -> Result<MemberView> {
        self.create(
            &ws_path(ws, "/members"),
            &AddMember {
                user_id: user,
                role,
            },
        )
        .await
    }

    pub async fn update_workspace_member(
        &self,
        ws: WorkspaceId,
        user: UserId,
        body: &UpdateMember,
    ) -> Result<MemberView> {
        self.update(&ws_path(ws, &format!("/members/{user}")), body, None)
            .await
    }

    /// Removes a member; with the caller's own id, leaves the workspace.
    pub async fn remove_workspace_member(&self, ws: WorkspaceId, user: UserId) -> Result<()> {
        self.delete(&ws_path(ws, &format!("/members/{user}"))).await
    }

    // ----- teams -----

    pub async fn list_teams(&self, ws: WorkspaceId) -> Result<Vec<TeamView>> {
        self.get(&ws_path(ws, "/teams")).await
    }

    pub async fn create_team(&self, ws: WorkspaceId, body: &CreateTeam) -> Result<TeamView> {
        self.create(&ws_path(ws, "/teams"), body).await
    }

    pub async fn update_team(
        &self,
        ws: WorkspaceId,
        team: TeamId,
        body: &UpdateTeam,
    ) -> Result<TeamView> {
        self.update(
            &ws_path(ws, &format!("/teams/{team}")),
            &team_patch(body),
            None,
        )
        .await
    }

    pub async fn delete_team(&self, ws: WorkspaceId, team: TeamId) -> Result<()> {
        self.delete(&ws_path(ws, &format!("/teams/{team}"))).await
    }

    /// Adds a member of the workspace to a team; the team as it is then.
    pub async fn add_team_member(
        &self,
        ws: WorkspaceId,
        team: TeamId,
        user: UserId,
    ) -> Result<TeamView> {
        self.create(
            &ws_path(ws, &format!("/teams/{team}/members")),
            &AddTeamMember { user_id: user },
        )
        .await
    }

    pub async fn remove_team_member(
        &self,
        ws: WorkspaceId,
        team: TeamId,
        user: UserId,
    ) -> Result<()> {
        self.delete(&ws_path(ws, &format!("/teams/{team}/members/{user}")))
            .await
    }

    // ----- folders -----

    /// The folders the caller's role sees.
    pub async fn list_folders(&self, ws: WorkspaceId) -> Result<Vec<Folder>> {
        self.get(&ws_path(ws, "/folders")).await
    }

    pub async fn get_folder(&self, ws: WorkspaceId, folder: FolderId) -> Result<Folder> {
        self.get(&ws_path(ws, &format!("/folders/{folder}"))).await
    }

    pub async fn create_folder(&self, ws: WorkspaceId, body: &CreateFolder) -> Result<Folder> {
        self.create(&ws_path(ws, "/folders"), body).await
    }

    pub async fn update_folder(
        &self,
        ws: WorkspaceId,
        folder: FolderId,
        body: &UpdateFolder,
    ) -> Result<Folder> {
        self.update(
            &ws_path(ws, &format!("/folders/{folder}")),
            &folder_patch(body),
            None,
        )
        .await
    }

    /// Deletes an empty folder.
    pub async fn delete_folder(&self, ws: WorkspaceId, folder: FolderId) -> Result<()> {
        self.delete(&ws_path(ws, &format!("/folders/{folder}")))
            .await
    }

    // ----- documents -----

    /// One page of the documents the caller sees, in creation order (`page.order` is not
    /// supported here).
    pub async fn list_documents(
        &self,
        ws: WorkspaceId,
        filter: &DocumentFilter,
        page: &Page,
    ) -> Result<ListResponse<Document>> {
        self.list(&ws_path(ws, "/documents"), filter, page).await
    }

    /// Every document the caller sees, following `next_cursor`.
    pub async fn list_all_documents(
        &self,
        ws: WorkspaceId,
        filter: &DocumentFilter,
        page: &Page,
    ) -> Result<Vec<Document>> {
        self.list_all(&ws_path(ws, "/documents"), filter, page)
            .await
    }

    pub async fn get_document(&self, ws: WorkspaceId, doc: DocumentId) -> Result<Document> {
        self.get(&ws_path(ws, &format!("/documents/{doc}"))).await
    }

    pub async fn create_document(
        &self,
        ws: WorkspaceId,
        body: &CreateDocument,
    ) -> Result<Document> {
        self.create(&ws_path(ws, "/documents"), body).await
    }

    /// `PATCH` a document; the server asks for `If-Match` with its version.
    pub async fn update_document(
        &self,
        ws: WorkspaceId,
        doc: DocumentId,
        body: &UpdateDocument,
        if_match: Option<i64>,
    ) -> Result<Document> {
        self.update(
            &ws_path(ws, &format!("/documents/{doc}")),
            &document_patch(body),
            if_match,
        )
        .await
    }

    pub async fn delete_document(&self, ws: WorkspaceId, doc: DocumentId) -> Result<()> {
        self.delete(&ws_path(ws, &format!("/documents/{doc}")))
            .await
    }

    // ----- API keys -----

    /// A read-only key of the workspace (Business plan and above); its secret is in the
    /// answer, and only there.
    pub async fn create_workspace_key(
        &self,
        ws: WorkspaceId,
        body: &CreateWorkspaceKey,
    ) -> Result<WorkspaceKeyCreated> {
        self.create(&ws_path(ws, "/api-keys"), body).await
    }

    /// The workspace's keys, revoked ones included; never their secrets.
    pub async fn list_workspace_keys(&self, ws: WorkspaceId) -> Result<Vec<WorkspaceKey>> {
        self.get(&ws_path(ws, "/api-keys")).await
    }

    pub async fn revoke_workspace_key(
        &self,
        ws: WorkspaceId,
        key: WorkspaceKeyId,
    ) -> Result<WorkspaceKey> {
        self.delete_json(&ws_path(ws, &format!("/api-keys/{key}")))
            .await
    }

    // ----- a user's access -----

    /// `GET /api/v1/users/{id}/access`: app access (permissions from roles) and workspace
    /// access (membership), and a folder's visibility when one is given (`users.view`).
    pub async fn workspace_access(
        &self,
        user: UserId,
        ws: WorkspaceId,
        folder: Option<FolderId>,
    ) -> Result<WorkspaceAccess> {
        self.get_with_query(
            &format!("/api/v1/users/{user}/access"),
            &AccessQuery {
                workspace_id: ws,
                folder_id: folder,
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn patches_send_only_the_fields_given() {
        let id: FolderId = "0190a4b2-0000-7000-8000-000000000007".parse().unwrap();
        let rename = UpdateFolder {
            name: Some("Ops".into()),
            ..UpdateFolder::default()
        };
        assert_eq!(json(&folder_patch(&rename)), r#"{"name":"Ops"}"#);
        let top = UpdateFolder {
            parent_id: Some(None),
            ..UpdateFolder::default()
        };
        assert_eq!(json(&folder_patch(&top)), r#"{"parent_id":null}"#);
        let moved = UpdateFolder {
            parent_id: Some(Some(id)),
            min_role: Some("editor".into()),
            ..UpdateFolder::default()
        };
        assert_eq!(
            json(&folder_patch(&moved)),
            format!(r#"{{"parent_id":"{id}","min_role":"editor"}}"#)
        );
        let team = UpdateTeam {
            name: Some("Night".into()),
            ..UpdateTeam::default()
        };
        assert_eq!(json(&team_patch(&team)), r#"{"name":"Night"}"#);
        let cleared = UpdateTeam {
            description: Some(None),
            ..UpdateTeam::default()
        };
        assert_eq!(json(&team_patch(&cleared)), r#"{"description":null}"#);
        let archive = UpdateWorkspace {
            archived: Some(true),
            ..UpdateWorkspace::default()
        };
        assert_eq!(json(&workspace_patch(&archive)), r#"{"archived":true}"#);
        let retitle = UpdateDocument {
            title: Some("T".into()),
            ..UpdateDocument::default()
        };
        assert_eq!(json(&document_patch(&retitle)), r#"{"title":"T"}"#);
    }
}
