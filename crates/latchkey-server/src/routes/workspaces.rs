//! Workspaces under `/api/v1/workspaces…` (membership decides, not permissions: only
//! creating one needs `workspaces.create`), and the public read API under
//! `/public/v1/workspaces…`, authenticated by workspace API keys.

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use latchkey_api::{
    AcceptWorkspaceInvitation, AddCollaborator, AddTeamMember, CreateDocument, CreateFolder,
    CreateItem, CreateTeam, CreateWorkspace, CreateWorkspaceKey, InviteToWorkspace, ItemView,
    ListResponse, MemberView, Ownership, PublicDocument, PublicFolder, SharingSettings, TeamView,
    UpdateDocument, UpdateFolder, UpdateMember, UpdateTeam, UpdateWorkspace, WorkspaceAccess,
    WorkspaceInvitationView, WorkspaceInviteOutcome, WorkspaceKeyCreated, WorkspaceView,
};
use latchkey_model::{
    DeletedUser, Document, DocumentId, Folder, FolderId, ItemId, TeamId, UserId, WorkspaceId,
    WorkspaceInvitationId, WorkspaceKey, WorkspaceKeyId,
};
use latchkey_service::{DocumentFilter, ServiceError};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{Created, CreatedPlain, NoContent, Tagged};

const MEMBER: &str = "workspace membership";

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.post(
        "/workspaces",
        create,
        doc("workspaces", "Create a workspace; the creator becomes its Owner")
            .perm("workspaces.create")
            .body::<CreateWorkspace>()
            .created::<WorkspaceView>(),
    )
    .get(
        "/workspaces",
        list,
        doc("workspaces", "The workspaces the caller is a member of")
            .perm(MEMBER)
            .ok_array::<WorkspaceView>(),
    )
    .get(
        "/workspaces/{id}",
        get_one,
        doc("workspaces", "One workspace").perm(MEMBER).ok::<WorkspaceView>(),
    )
    .patch(
        "/workspaces/{id}",
        update,
        doc(
            "workspaces",
            "Rename (admin), change the plan or archive and restore (owner)",
        )
        .perm(MEMBER)
        .body::<UpdateWorkspace>()
        .ok::<WorkspaceView>(),
    )
    .post(
        "/workspaces/{id}/invitations",
        invite,
        doc(
            "workspaces",
            "Invite by email at a role (201), or change the role of the member with that address (200); members and pending invitations count against the plan's limit",
        )
        .perm("workspace admin (owner to invite an owner)")
        .body::<InviteToWorkspace>()
        .status(201)
        .ok::<WorkspaceInviteOutcome>(),
    )
    .get(
        "/workspaces/{id}/invitations",
        list_invitations,
        doc("workspaces", "The workspace's invitations, newest first")
            .perm("workspace admin")
            .ok_array::<WorkspaceInvitationView>(),
    )
    .delete(
        "/workspaces/{id}/invitations/{invitation_id}",
        revoke_invitation,
        doc("workspaces", "Revoke a pending invitation")
            .perm("workspace admin")
            .ok::<WorkspaceInvitationView>(),
    )
    .post(
        "/workspace-invitations/accept",
        accept,
        doc(
            "workspaces",
            "The signed-in invitee (the invited address must be theirs) joins the workspace",
        )
        .perm("signed in as the invited address")
        .body::<AcceptWorkspaceInvitation>()
        .ok::<WorkspaceView>(),
    )
    .get(
        "/workspaces/{id}/members",
        members,
        doc("workspaces", "Members with their roles").perm(MEMBER).ok_array::<MemberView>(),
    )
    .post(
        "/workspaces/{id}/members",
        add_member,
        doc(
            "workspaces",
            "Add an existing user of the organisation at a role (within the plan's limit)",
        )
        .perm("workspace admin (owner to add an owner)")
        .body::<AddMember>()
        .created::<MemberView>(),
    )
    .patch(
        "/workspaces/{id}/members/{user_id}",
        update_member,
        doc("workspaces", "Change a member's role; the last owner stays an owner")
            .perm("workspace admin (owner for owners)")
            .body::<UpdateMember>()
            .ok::<MemberView>(),
    )
    .delete(
        "/workspaces/{id}/members/{user_id}",
        remove_member,
        doc(
            "workspaces",
            "Remove a member, or leave (your own id); the last owner cannot leave",
        )
        .perm("workspace admin (owner for owners), or yourself")
        .no_content(),
    )
    .get(
        "/workspaces/{id}/teams",
        teams,
        doc("workspaces", "Teams with their members").perm(MEMBER).ok_array::<TeamView>(),
    )
    .post(
        "/workspaces/{id}/teams",
        create_team,
        doc("workspaces", "Create a team").perm("workspace admin").body::<CreateTeam>().created::<TeamView>(),
    )
    .patch(
        "/workspaces/{id}/teams/{team_id}",
        update_team,
        doc("workspaces", "Rename a team or change its description")
            .perm("workspace admin")
            .body::<UpdateTeam>()
            .ok::<TeamView>(),
    )
    .delete(
        "/workspaces/{id}/teams/{team_id}",
        delete_team,
        doc("workspaces", "Delete a team").perm("workspace admin").no_content(),
    )
    .post(
        "/workspaces/{id}/teams/{team_id}/members",
        add_team_member,
        doc("workspaces", "Add a member of the workspace to a team")
            .perm("workspace admin")
            .body::<AddTeamMember>()
            .ok::<TeamView>(),
    )
    .delete(
        "/workspaces/{id}/teams/{team_id}/members/{user_id}",
        remove_team_member,
        doc("workspaces", "Remove someone from a team").perm("workspace admin").no_content(),
    )
    .get(
        "/workspaces/{id}/folders",
        folders,
        doc("workspaces", "The folders the caller's role sees").perm(MEMBER).ok_array::<Folder>(),
    )
    .post(
        "/workspaces/{id}/folders",
        create_folder,
        doc(
            "workspaces",
            "Create a folder, visible to the whole workspace or to members at or above `min_role`",
        )
        .perm("workspace editor")
        .body::<CreateFolder>()
        .created::<Folder>(),
    )
    .get(
        "/workspaces/{id}/folders/{folder_id}",
        get_folder,
        doc("workspaces", "One folder the caller sees").perm(MEMBER).ok::<Folder>(),
    )
    .patch(
        "/workspaces/{id}/folders/{folder_id}",
        update_folder,
        doc("workspaces", "Rename, move or change the visibility of a folder")
            .perm("workspace editor")
            .body::<UpdateFolder>()
            .ok::<Folder>(),
    )
    .delete(
        "/workspaces/{id}/folders/{folder_id}",
        delete_folder,
        doc("workspaces", "Delete an empty folder").perm("workspace editor").no_content(),
    )
    .get(
        "/workspaces/{id}/documents",
        documents,
        doc(
            "workspaces",
            "The documents the caller sees, in creation order; `folder_id`, `q` (title and body), `external_id`",
        )
        .perm(MEMBER)
        .page::<Document>(&["folder_id", "q", "external_id"]),
    )
    .post(
        "/workspaces/{id}/documents",
        create_document,
        doc(
            "workspaces",
            "Create a document in a folder; applications register their own items with `external_id`",
        )
        .perm("workspace editor")
        .body::<CreateDocument>()
        .created::<Document>(),
    )
    .get(
        "/workspaces/{id}/documents/{document_id}",
        get_document,
        doc("workspaces", "One document the caller sees").perm(MEMBER).ok::<Document>(),
    )
    .patch(
        "/workspaces/{id}/documents/{document_id}",
        update_document,
        doc("workspaces", "Change a document (`If-Match` its version)")
            .perm("workspace editor")
            .body::<UpdateDocument>()
            .ok::<Document>(),
    )
    .delete(
        "/workspaces/{id}/documents/{document_id}",
        delete_document,
        doc("workspaces", "Delete a document").perm("workspace editor").no_content(),
    )
    .post(
        "/workspaces/{id}/api-keys",
        create_key,
        doc(
            "workspaces",
            "Create a read-only API key (Business plan and above) with a folder-visibility role at most the creator's; the secret is shown once",
        )
        .perm("workspace admin")
        .body::<CreateWorkspaceKey>()
        .created::<WorkspaceKeyCreated>(),
    )
    .get(
        "/workspaces/{id}/api-keys",
        keys,
        doc("workspaces", "The workspace's API keys, revoked ones included")
            .perm("workspace admin")
            .ok_array::<WorkspaceKey>(),
    )
    .delete(
        "/workspaces/{id}/api-keys/{key_id}",
        revoke_key,
        doc("workspaces", "Revoke an API key").perm("workspace admin").ok::<WorkspaceKey>(),
    )
    .get(
        "/users/{id}/access",
        access,
        doc(
            "workspaces",
            "App access (product permissions from roles) and workspace access (membership) of a user for `workspace_id`, and optionally `folder_id`",
        )
        .perm("users.view")
        .query(&["workspace_id", "folder_id"])
        .ok::<WorkspaceAccess>(),
    )
    .get(
        "/users/{id}/owned",
        owned,
        doc(
            "users",
            "Everything the user owns that deleting them would hand over: workspaces, folders, documents, items (and information systems and roles, which need a new owner first)",
        )
        .perm("users.view")
        .ok::<Ownership>(),
    )
    .get(
        "/deleted-users",
        deleted_users,
        doc("users", "Tombstones of deleted users: who they were, when, by whom, and who took over what they owned")
            .perm("users.view")
            .ok_array::<DeletedUser>(),
    )
    .post(
        "/items",
        create_item,
        doc("items", "Create an app item (orchestration, draft, sheet, meeting, template, sequence) owned by the caller")
            .perm("signed in (workspace editor for an item in a workspace)")
            .body::<CreateItem>()
            .created::<ItemView>(),
    )
    .get(
        "/items",
        items,
        doc("items", "The items the caller owns, collaborates on, or that are published")
            .perm("signed in")
            .ok_array::<ItemView>(),
    )
    .get(
        "/items/{id}",
        item,
        doc("items", "One item the caller may see").perm("signed in").ok::<ItemView>(),
    )
    .post(
        "/items/{id}/collaborators",
        share,
        doc(
            "items",
            "The owner shares the item; an orchestration needs `orchestrations.share` when unrestricted sharing is off",
        )
        .perm("item owner")
        .body::<AddCollaborator>()
        .ok::<ItemView>(),
    )
    .delete(
        "/items/{id}/collaborators/{user_id}",
        unshare,
        doc("items", "Stop sharing with someone (the owner), or leave (the collaborator)")
            .perm("item owner, or the collaborator")
            .no_content(),
    )
    .post(
        "/items/{id}/publish",
        publish,
        doc("items", "Publish an owned orchestration to the organisation")
            .perm("item owner with orchestrations.publish")
            .ok::<ItemView>(),
    )
    .delete(
        "/items/{id}/publish",
        withdraw,
        doc("items", "Withdraw a published orchestration").perm("item owner").ok::<ItemView>(),
    )
    .get(
        "/settings/sharing",
        sharing,
        doc("settings", "Whether sharing owned orchestrations is unrestricted")
            .perm("signed in")
            .ok::<SharingSettings>(),
    )
    .put(
        "/settings/sharing",
        set_sharing,
        doc("settings", "Turn unrestricted sharing on or off")
            .perm("org.settings")
            .body::<SharingSettings>()
            .ok::<SharingSettings>(),
    )
}

async fn owned(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<axum::Json<Ownership>> {
    Ok(axum::Json(s.services.owned_by(&p, id).await?))
}

async fn deleted_users(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<axum::Json<Vec<DeletedUser>>> {
    Ok(axum::Json(s.services.deleted_users(&p).await?))
}

async fn create_item(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateItem>,
) -> ApiResult<CreatedPlain<ItemView>> {
    Ok(CreatedPlain(s.services.create_item(&p, &body).await?))
}

async fn items(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<axum::Json<Vec<ItemView>>> {
    Ok(axum::Json(s.services.my_items(&p).await?))
}

async fn item(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<ItemId>,
) -> ApiResult<axum::Json<ItemView>> {
    Ok(axum::Json(s.services.get_item(&p, id).await?))
}

async fn share(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<ItemId>,
    ApiJson(body): ApiJson<AddCollaborator>,
) -> ApiResult<axum::Json<ItemView>> {
    Ok(axum::Json(s.services.share_item(&p, id, &body).await?))
}

async fn unshare(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, user)): ApiPath<(ItemId, UserId)>,
) -> ApiResult<NoContent> {
    s.services.unshare_item(&p, id, user).await?;
    Ok(NoContent)
}

async fn publish(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<ItemId>,
) -> ApiResult<axum::Json<ItemView>> {
    Ok(axum::Json(s.services.publish_item(&p, id, true).await?))
}

async fn withdraw(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<ItemId>,
) -> ApiResult<axum::Json<ItemView>> {
    Ok(axum::Json(s.services.publish_item(&p, id, false).await?))
}

async fn sharing(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<axum::Json<SharingSettings>> {
    Ok(axum::Json(s.services.sharing_settings(&p).await?))
}

async fn set_sharing(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<SharingSettings>,
) -> ApiResult<axum::Json<SharingSettings>> {
    Ok(axum::Json(
        s.services.set_sharing_settings(&p, &body).await?,
    ))
}

/// `/public/v1`: read-only, with a workspace API key; only workspace-visible content.
pub fn public() -> Router<AppState> {
    Router::new()
        .route("/workspaces/{id}/folders", get(public_folders))
        .route("/workspaces/{id}/documents", get(public_documents))
        .route(
            "/workspaces/{id}/documents/{document_id}",
            get(public_document),
        )
}

async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateWorkspace>,
) -> ApiResult<CreatedPlain<WorkspaceView>> {
    Ok(CreatedPlain(s.services.create_workspace(&p, &body).await?))
}

async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<axum::Json<Vec<WorkspaceView>>> {
    Ok(axum::Json(s.services.my_workspaces(&p).await?))
}

async fn get_one(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> ApiResult<axum::Json<WorkspaceView>> {
    Ok(axum::Json(s.services.get_workspace(&p, id).await?))
}

async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(body): ApiJson<UpdateWorkspace>,
) -> ApiResult<axum::Json<WorkspaceView>> {
    Ok(axum::Json(
        s.services.update_workspace(&p, id, &body).await?,
    ))
}

async fn invite(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(body): ApiJson<InviteToWorkspace>,
) -> ApiResult<Response> {
    let outcome = s.services.invite_to_workspace(&p, id, &body).await?;
    let status = match outcome {
        WorkspaceInviteOutcome::Invited(_) => StatusCode::CREATED,
        WorkspaceInviteOutcome::Updated(_) => StatusCode::OK,
    };
    Ok((status, axum::Json(outcome)).into_response())
}

async fn list_invitations(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> ApiResult<axum::Json<Vec<WorkspaceInvitationView>>> {
    Ok(axum::Json(
        s.services.list_workspace_invitations(&p, id).await?,
    ))
}

async fn revoke_invitation(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, invitation)): ApiPath<(WorkspaceId, WorkspaceInvitationId)>,
) -> ApiResult<axum::Json<WorkspaceInvitationView>> {
    Ok(axum::Json(
        s.services
            .revoke_workspace_invitation(&p, id, invitation)
            .await?,
    ))
}

async fn accept(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<AcceptWorkspaceInvitation>,
) -> ApiResult<axum::Json<WorkspaceView>> {
    Ok(axum::Json(
        s.services.accept_workspace_invitation(&p, &body).await?,
    ))
}

async fn members(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> ApiResult<axum::Json<Vec<MemberView>>> {
    Ok(axum::Json(s.services.list_workspace_members(&p, id).await?))
}

/// `POST /api/v1/workspaces/{id}/members`.
#[derive(Debug, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub role: String,
}

async fn add_member(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(body): ApiJson<AddMember>,
) -> ApiResult<CreatedPlain<MemberView>> {
    Ok(CreatedPlain(
        s.services
            .add_workspace_member(&p, id, body.user_id, &body.role)
            .await?,
    ))
}

async fn update_member(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, user)): ApiPath<(WorkspaceId, UserId)>,
    ApiJson(body): ApiJson<UpdateMember>,
) -> ApiResult<axum::Json<MemberView>> {
    Ok(axum::Json(
        s.services
            .update_workspace_member(&p, id, user, &body)
            .await?,
    ))
}

async fn remove_member(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, user)): ApiPath<(WorkspaceId, UserId)>,
) -> ApiResult<NoContent> {
    s.services.remove_workspace_member(&p, id, user).await?;
    Ok(NoContent)
}

async fn teams(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> ApiResult<axum::Json<Vec<TeamView>>> {
    Ok(axum::Json(s.services.list_teams(&p, id).await?))
}

async fn create_team(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(body): ApiJson<CreateTeam>,
) -> ApiResult<CreatedPlain<TeamView>> {
    Ok(CreatedPlain(s.services.create_team(&p, id, &body).await?))
}

async fn update_team(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, team)): ApiPath<(WorkspaceId, TeamId)>,
    ApiJson(body): ApiJson<UpdateTeam>,
) -> ApiResult<axum::Json<TeamView>> {
    Ok(axum::Json(
        s.services.update_team(&p, id, team, &body).await?,
    ))
}

async fn delete_team(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, team)): ApiPath<(WorkspaceId, TeamId)>,
) -> ApiResult<NoContent> {
    s.services.delete_team(&p, id, team).await?;
    Ok(NoContent)
}

async fn add_team_member(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, team)): ApiPath<(WorkspaceId, TeamId)>,
    ApiJson(body): ApiJson<AddTeamMember>,
) -> ApiResult<axum::Json<TeamView>> {
    Ok(axum::Json(
        s.services.add_team_member(&p, id, team, &body).await?,
    ))
}

async fn remove_team_member(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, team, user)): ApiPath<(WorkspaceId, TeamId, UserId)>,
) -> ApiResult<NoContent> {
    s.services.remove_team_member(&p, id, team, user).await?;
    Ok(NoContent)
}

async fn folders(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> ApiResult<axum::Json<Vec<Folder>>> {
    Ok(axum::Json(s.services.list_folders(&p, id).await?))
}

async fn create_folder(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(body): ApiJson<CreateFolder>,
) -> ApiResult<CreatedPlain<Folder>> {
    Ok(CreatedPlain(s.services.create_folder(&p, id, &body).await?))
}

async fn get_folder(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, folder)): ApiPath<(WorkspaceId, FolderId)>,
) -> ApiResult<axum::Json<Folder>> {
    Ok(axum::Json(s.services.get_folder(&p, id, folder).await?))
}

async fn update_folder(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, folder)): ApiPath<(WorkspaceId, FolderId)>,
    ApiJson(body): ApiJson<UpdateFolder>,
) -> ApiResult<axum::Json<Folder>> {
    Ok(axum::Json(
        s.services.update_folder(&p, id, folder, &body).await?,
    ))
}

async fn delete_folder(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, folder)): ApiPath<(WorkspaceId, FolderId)>,
) -> ApiResult<NoContent> {
    s.services.delete_folder(&p, id, folder).await?;
    Ok(NoContent)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentsQuery {
    #[serde(default)]
    folder_id: Option<FolderId>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

impl From<DocumentsQuery> for DocumentFilter {
    fn from(q: DocumentsQuery) -> Self {
        DocumentFilter {
            folder_id: q.folder_id,
            q: q.q,
            external_id: q.external_id,
            cursor: q.cursor,
            limit: q.limit,
        }
    }
}

async fn documents(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiQuery(q): ApiQuery<DocumentsQuery>,
) -> ApiResult<axum::Json<ListResponse<Document>>> {
    Ok(axum::Json(
        s.services.list_documents(&p, id, &q.into()).await?,
    ))
}

async fn create_document(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(body): ApiJson<CreateDocument>,
) -> ApiResult<Created<Document>> {
    Ok(Created(s.services.create_document(&p, id, &body).await?))
}

async fn get_document(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, doc)): ApiPath<(WorkspaceId, DocumentId)>,
) -> ApiResult<Tagged<Document>> {
    Ok(Tagged(s.services.get_document(&p, id, doc).await?))
}

async fn update_document(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, doc)): ApiPath<(WorkspaceId, DocumentId)>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateDocument>,
) -> ApiResult<Tagged<Document>> {
    Ok(Tagged(
        s.services.update_document(&p, id, doc, &body, v).await?,
    ))
}

async fn delete_document(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, doc)): ApiPath<(WorkspaceId, DocumentId)>,
) -> ApiResult<NoContent> {
    s.services.delete_document(&p, id, doc).await?;
    Ok(NoContent)
}

async fn create_key(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiJson(body): ApiJson<CreateWorkspaceKey>,
) -> ApiResult<CreatedPlain<WorkspaceKeyCreated>> {
    Ok(CreatedPlain(
        s.services.create_workspace_key(&p, id, &body).await?,
    ))
}

async fn keys(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> ApiResult<axum::Json<Vec<WorkspaceKey>>> {
    Ok(axum::Json(s.services.list_workspace_keys(&p, id).await?))
}

async fn revoke_key(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, key)): ApiPath<(WorkspaceId, WorkspaceKeyId)>,
) -> ApiResult<axum::Json<WorkspaceKey>> {
    Ok(axum::Json(
        s.services.revoke_workspace_key(&p, id, key).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessQuery {
    workspace_id: WorkspaceId,
    #[serde(default)]
    folder_id: Option<FolderId>,
}

async fn access(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(user): ApiPath<UserId>,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> ApiResult<axum::Json<WorkspaceAccess>> {
    Ok(axum::Json(
        s.services
            .workspace_access(&p, user, q.workspace_id, q.folder_id)
            .await?,
    ))
}

/// The secret of `Authorization: Bearer <workspace API key>`.
pub struct KeySecret(String);

impl FromRequestParts<AppState> for KeySecret {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        crate::extract::bearer(&parts.headers)
            .map(|t| KeySecret(t.to_owned()))
            .ok_or_else(|| {
                ApiError::from(ServiceError::Unauthenticated(
                    "send a workspace API key as `Authorization: Bearer <key>`".to_owned(),
                ))
            })
    }
}

async fn public_folders(
    State(s): State<AppState>,
    KeySecret(key): KeySecret,
    ApiPath(id): ApiPath<WorkspaceId>,
) -> ApiResult<axum::Json<Vec<PublicFolder>>> {
    Ok(axum::Json(s.services.public_folders(&key, id).await?))
}

async fn public_documents(
    State(s): State<AppState>,
    KeySecret(key): KeySecret,
    ApiPath(id): ApiPath<WorkspaceId>,
    ApiQuery(q): ApiQuery<DocumentsQuery>,
) -> ApiResult<axum::Json<ListResponse<PublicDocument>>> {
    Ok(axum::Json(
        s.services.public_documents(&key, id, &q.into()).await?,
    ))
}

async fn public_document(
    State(s): State<AppState>,
    KeySecret(key): KeySecret,
    ApiPath((id, doc)): ApiPath<(WorkspaceId, DocumentId)>,
) -> ApiResult<axum::Json<PublicDocument>> {
    Ok(axum::Json(s.services.public_document(&key, id, doc).await?))
}

#[derive(Deserialize)]
pub(crate) struct InvitePage {
    #[serde(default)]
    token: String,
}

const NOT_VALID: &str = "<h1>This invitation does not work</h1><p>It is invalid, expired, revoked, already used, or addressed to someone else. Ask for a new one.</p>";
const SIGN_IN_FIRST: &str = "<h1>Sign in first</h1><p>Sign in to Latchkey with the address this invitation was sent to, then open the link again.</p>";

/// `GET /workspace-invite?token=…`, where the mailed link leads: for the signed-in invitee,
/// what the invitation is for and a button to join. Opening it uses nothing up.
pub(crate) async fn invite_page(
    State(s): State<AppState>,
    auth: Result<Auth, ApiError>,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<InvitePage>,
) -> Response {
    use crate::routes::invitations::{escape, page};
    let Ok(Auth(p)) = auth else {
        return page(StatusCode::UNAUTHORIZED, SIGN_IN_FIRST);
    };
    let Ok((workspace, role, email)) = s.services.preview_workspace_invitation(&p, &q.token).await
    else {
        return page(StatusCode::NOT_FOUND, NOT_VALID);
    };
    // The form posts with the session cookie; the CSRF token travels in the form.
    let csrf = crate::extract::cookie(&headers, crate::extract::SESSION_COOKIE)
        .map(latchkey_service::csrf_token)
        .unwrap_or_default();
    page(
        StatusCode::OK,
        &format!(
            "<h1>Join {workspace}</h1><p>You are invited as <b>{role}</b>, with the address {email}.</p>\n\
             <form method=\"post\" action=\"/workspace-invite\">\n\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <button type=\"submit\">Join</button>\n</form>",
            workspace = escape(&workspace),
            role = escape(role.as_str()),
            email = escape(&email),
            token = escape(&q.token),
            csrf = escape(&csrf),
        ),
    )
}

#[derive(Deserialize)]
pub(crate) struct JoinForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /workspace-invite` (the page's form): joins, then shows where.
pub(crate) async fn invite_form(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::Form(form): axum::extract::Form<JoinForm>,
) -> Response {
    use crate::routes::invitations::{escape, page};
    // A form cannot send the CSRF header: with the session cookie, its field carries the
    // token instead.
    let token = match crate::extract::credential(&headers, true, Some(&form.csrf)) {
        Ok(token) => token,
        Err(ApiError::CsrfFailed) => {
            return page(
                StatusCode::FORBIDDEN,
                "<h1>Not accepted</h1><p>The form expired; open the invitation link again.</p>",
            );
        }
        Err(_) => return page(StatusCode::UNAUTHORIZED, SIGN_IN_FIRST),
    };
    let p = match s.services.authenticate(token).await {
        Ok(p) if p.pending.is_none() => p,
        _ => return page(StatusCode::UNAUTHORIZED, SIGN_IN_FIRST),
    };
    match s
        .services
        .accept_workspace_invitation(&p, &AcceptWorkspaceInvitation { token: form.token })
        .await
    {
        Ok(view) => page(
            StatusCode::OK,
            &format!(
                "<h1>Welcome to {}</h1><p>You are a member as <b>{}</b>.</p>",
                escape(&view.workspace.name),
                escape(view.my_role.as_str())
            ),
        ),
        Err(_) => page(StatusCode::NOT_FOUND, NOT_VALID),
    }
}
