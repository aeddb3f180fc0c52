//! Workspaces and their content. Every method takes the organisation; those below a
//! workspace take the workspace too, and a row of another workspace is never returned,
//! updated or deleted.

use async_trait::async_trait;
use latchkey_model::{
    DeletedUser, Document, DocumentId, Folder, FolderId, Item, ItemId, MemberRole, OrgId, Team,
    TeamId, UserId, Workspace, WorkspaceId, WorkspaceInvitation, WorkspaceInvitationId,
    WorkspaceKey, WorkspaceKeyId, WorkspaceMember,
};
use time::OffsetDateTime;

use crate::{Page, StoreResult};

/// Which documents a list returns: those of one workspace in folders whose effective
/// minimum role is at or below `reader`, in id order.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentQuery {
    pub reader: MemberRole,
    pub folder: Option<FolderId>,
    /// Words the title or the body contains (without case, ASCII).
    pub q: Option<String>,
    pub external_id: Option<String>,
    pub after: Option<DocumentId>,
    /// 1..=1000.
    pub limit: u32,
}

/// Who owns what, for deleting a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnedContent {
    pub workspaces: Vec<(WorkspaceId, String)>,
    pub folders: Vec<(WorkspaceId, FolderId, String)>,
    pub documents: Vec<(WorkspaceId, DocumentId, String)>,
    pub items: Vec<(ItemId, String, String)>,
}

impl OwnedContent {
    pub fn is_empty(&self) -> bool {
        self.workspaces.is_empty()
            && self.folders.is_empty()
            && self.documents.is_empty()
            && self.items.is_empty()
    }
}

#[async_trait]
pub trait WorkspaceStore {
    async fn insert_workspace(&mut self, w: &Workspace) -> StoreResult<()>;
    async fn update_workspace(&mut self, w: &Workspace) -> StoreResult<()>;
    async fn get_workspace(
        &mut self,
        org: OrgId,
        id: WorkspaceId,
    ) -> StoreResult<Option<Workspace>>;
    /// The workspaces `user` is a member of, with the user's role, by name.
    async fn workspaces_of(
        &mut self,
        org: OrgId,
        user: UserId,
    ) -> StoreResult<Vec<(Workspace, MemberRole)>>;

    /// Adds a member, or changes the role of an existing one.
    async fn put_member(&mut self, m: &WorkspaceMember) -> StoreResult<()>;
    async fn get_member(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        user: UserId,
    ) -> StoreResult<Option<WorkspaceMember>>;
    async fn list_members(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
    ) -> StoreResult<Vec<WorkspaceMember>>;
    async fn delete_member(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        user: UserId,
    ) -> StoreResult<bool>;
    /// Members and how many of them are owners.
    async fn count_members(&mut self, org: OrgId, ws: WorkspaceId) -> StoreResult<(u32, u32)>;

    async fn insert_team(&mut self, t: &Team) -> StoreResult<()>;
    async fn update_team(&mut self, t: &Team) -> StoreResult<()>;
    async fn get_team(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: TeamId,
    ) -> StoreResult<Option<Team>>;
    async fn list_teams(&mut self, org: OrgId, ws: WorkspaceId) -> StoreResult<Vec<Team>>;
    async fn delete_team(&mut self, org: OrgId, ws: WorkspaceId, id: TeamId) -> StoreResult<bool>;
    async fn add_team_member(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        team: TeamId,
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn remove_team_member(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        team: TeamId,
        user: UserId,
    ) -> StoreResult<bool>;
    async fn team_members(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        team: TeamId,
    ) -> StoreResult<Vec<UserId>>;

    async fn insert_folder(&mut self, f: &Folder) -> StoreResult<()>;
    async fn update_folder(&mut self, f: &Folder) -> StoreResult<()>;
    /// Stores new effective minimum roles of several folders.
    async fn set_effective_roles(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        roles: &[(FolderId, MemberRole)],
    ) -> StoreResult<()>;
    async fn get_folder(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: FolderId,
    ) -> StoreResult<Option<Folder>>;
    /// Every folder of the workspace, by name.
    async fn list_folders(&mut self, org: OrgId, ws: WorkspaceId) -> StoreResult<Vec<Folder>>;
    async fn delete_folder(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: FolderId,
    ) -> StoreResult<bool>;
    /// Sub-folders and documents directly in a folder.
    async fn folder_contents(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: FolderId,
    ) -> StoreResult<(u32, u32)>;

    async fn insert_document(&mut self, d: &Document) -> StoreResult<()>;
    async fn update_document(&mut self, d: &Document) -> StoreResult<()>;
    async fn get_document(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: DocumentId,
    ) -> StoreResult<Option<Document>>;
    async fn delete_document(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: DocumentId,
    ) -> StoreResult<bool>;
    async fn list_documents(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        query: &DocumentQuery,
    ) -> StoreResult<Page<Document>>;
    /// Bulk loads (benchmarks, imports): many documents in one statement per chunk.
    async fn insert_documents(&mut self, docs: &[Document]) -> StoreResult<()>;

    async fn insert_workspace_invitation(&mut self, i: &WorkspaceInvitation) -> StoreResult<()>;
    async fn get_workspace_invitation(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: WorkspaceInvitationId,
    ) -> StoreResult<Option<WorkspaceInvitation>>;
    /// Across organisations: the invitation names its organisation.
    async fn find_workspace_invitation_by_hash(
        &mut self,
        token_hash: &str,
    ) -> StoreResult<Option<WorkspaceInvitation>>;
    /// The workspace's invitations, newest first; only those to `email` when given.
    async fn list_workspace_invitations(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        email: Option<&str>,
    ) -> StoreResult<Vec<WorkspaceInvitation>>;
    /// Pending invitations (not accepted, not revoked, unexpired at `now`).
    async fn count_pending_workspace_invitations(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        now: OffsetDateTime,
    ) -> StoreResult<u32>;
    /// Sets `accepted_at`/`user_id` or `revoked_at` of a pending invitation: `Ok(true)`
    /// when this call did.
    async fn close_workspace_invitation(
        &mut self,
        org: OrgId,
        id: WorkspaceInvitationId,
        accepted_by: Option<UserId>,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;

    async fn insert_workspace_key(&mut self, k: &WorkspaceKey) -> StoreResult<()>;
    async fn get_workspace_key(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
        id: WorkspaceKeyId,
    ) -> StoreResult<Option<WorkspaceKey>>;
    async fn list_workspace_keys(
        &mut self,
        org: OrgId,
        ws: WorkspaceId,
    ) -> StoreResult<Vec<WorkspaceKey>>;
    /// Across organisations: the key names its workspace.
    async fn find_workspace_key_by_hash(
        &mut self,
        token_hash: &str,
    ) -> StoreResult<Option<WorkspaceKey>>;
    async fn revoke_workspace_key(
        &mut self,
        org: OrgId,
        id: WorkspaceKeyId,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<bool>;
    async fn touch_workspace_key(
        &mut self,
        org: OrgId,
        id: WorkspaceKeyId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Revokes every live key `user` created; how many.
    async fn revoke_workspace_keys_of(
        &mut self,
        org: OrgId,
        user: UserId,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<u32>;

    async fn insert_item(&mut self, item: &Item) -> StoreResult<()>;
    async fn update_item(&mut self, item: &Item) -> StoreResult<()>;
    async fn get_item(&mut self, org: OrgId, id: ItemId) -> StoreResult<Option<Item>>;
    /// The items `user` owns, collaborates on, or that are published, newest first.
    async fn items_for(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<Item>>;
    async fn add_collaborator(
        &mut self,
        org: OrgId,
        item: ItemId,
        user: UserId,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<bool>;
    async fn remove_collaborator(
        &mut self,
        org: OrgId,
        item: ItemId,
        user: UserId,
    ) -> StoreResult<bool>;
    async fn collaborators(&mut self, org: OrgId, item: ItemId) -> StoreResult<Vec<UserId>>;
    /// The organisation's "unrestricted sharing" setting (true when never set).
    async fn unrestricted_sharing(&mut self, org: OrgId) -> StoreResult<bool>;
    async fn set_unrestricted_sharing(
        &mut self,
        org: OrgId,
        on: bool,
        at: OffsetDateTime,
        by: UserId,
    ) -> StoreResult<()>;

    async fn insert_deleted_user(&mut self, tombstone: &DeletedUser) -> StoreResult<()>;
    async fn deleted_users(&mut self, org: OrgId) -> StoreResult<Vec<DeletedUser>>;

    /// What `user` owns: workspaces, folders, documents, items.
    async fn owned_content(&mut self, org: OrgId, user: UserId) -> StoreResult<OwnedContent>;
    /// Gives everything `from` owns to `to`; how many rows moved.
    async fn reassign_content(&mut self, org: OrgId, from: UserId, to: UserId) -> StoreResult<u64>;
    /// Removes `user` from every workspace (and so from every team).
    async fn remove_from_workspaces(&mut self, org: OrgId, user: UserId) -> StoreResult<u32>;
}
