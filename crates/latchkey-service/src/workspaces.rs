//! Workspaces: their members and teams, invitations under plan limits, folders with
//! visibility tiers, documents, and read-only API keys.
//!
//! Two checks, never confused: *app access* is a product permission held through roles
//! (`workspaces.create` makes a workspace); *workspace access* is membership, with a role
//! from Owner down to Agent-only. Neither implies the other. Everything here is scoped to
//! one workspace of the caller's organisation, and a workspace the caller is not a member
//! of, or a folder or document the caller cannot see, answers 404 like one that does not
//! exist: existence never leaks.
//!
//! Rights by member role (a higher role has every right of the lower ones):
//! - Agent-only and Viewer: read the folders and documents their role sees, the members
//!   and the teams.
//! - Editor: create, change and delete folders and documents they see.
//! - Admin: rename the workspace; invite, add, re-role and remove members below Owner;
//!   teams; API keys (Business plan and above).
//! - Owner: the plan, archiving, and making or removing Owners. The last Owner can neither
//!   leave nor be demoted.
//!
//! Member limits count members and pending invitations. Every write here runs in the
//! organisation's write transaction, whose first statement moves the organisation's
//! revision: writers of one organisation are serialised, so counting and inserting cannot
//! race (50 concurrent invitations to a Free workspace make exactly 3 members).

use latchkey_api::{
    AcceptWorkspaceInvitation, AddTeamMember, CreateDocument, CreateFolder, CreateTeam,
    CreateWorkspace, CreateWorkspaceKey, FolderAccess, InviteToWorkspace, ListResponse,
    MemberRoleUpdated, MemberView, PublicDocument, PublicFolder, TeamView, UpdateDocument,
    UpdateFolder, UpdateMember, UpdateTeam, UpdateWorkspace, WorkspaceAccess,
    WorkspaceInvitationView, WorkspaceInviteOutcome, WorkspaceKeyCreated, WorkspaceView,
};
use latchkey_engine::workspace::{FolderNode, FolderTree, PUBLIC_READER, sees};
use latchkey_model::{
    Document, DocumentId, FieldError, Folder, FolderId, InvitationStatus, MemberRole, Name, OrgId,
    Permission, Plan, Team, TeamId, UserId, ValidationErrors, Visibility, Workspace, WorkspaceId,
    WorkspaceInvitation, WorkspaceInvitationId, WorkspaceKey, WorkspaceKeyId, WorkspaceMember,
};
use latchkey_store::{DocumentQuery, Tx};
use time::OffsetDateTime;

use crate::tokens::{hash_token, random_secret};
use crate::{Principal, ServiceError, ServiceResult, Services};

/// The prefix of a workspace API key's secret.
pub const WORKSPACE_KEY_PREFIX: &str = "lkw_";
/// The prefix of a workspace invitation's secret.
pub const WORKSPACE_INVITATION_PREFIX: &str = "lkwi_";
const INVITATION_DAYS: i64 = 7;
/// How long a key's `last_used_at` may lag: a read writes it at most this often.
const KEY_TOUCH_SECONDS: i64 = 60;
const TITLE_MAX: usize = 500;
const BODY_MAX: usize = 1_000_000;
const EXTERNAL_ID_MAX: usize = 200;

/// A caller's standing in one workspace, read in the request's transaction.
struct Standing {
    workspace: Workspace,
    role: MemberRole,
}

impl Standing {
    fn require(&self, at_least: MemberRole, action: &str) -> ServiceResult<()> {
        if self.role >= at_least {
            return Ok(());
        }
        Err(ServiceError::Forbidden {
            permission: None,
            message: format!(
                "{action} needs the workspace role `{}` or higher; you are `{}` in `{}`",
                at_least.as_str(),
                self.role.as_str(),
                self.workspace.name
            ),
        })
    }

    fn writable(&self) -> ServiceResult<()> {
        if self.workspace.archived_at.is_some() {
            return Err(ServiceError::conflict(
                "workspace_archived",
                format!(
                    "workspace `{}` is archived: its content is read-only until an owner restores it",
                    self.workspace.name
                ),
            ));
        }
        Ok(())
    }
}

fn parse_role(field: &str, raw: &str) -> Result<MemberRole, FieldError> {
    MemberRole::parse(raw.trim()).ok_or_else(|| {
        FieldError::new(
            field,
            "one_of",
            format!(
                "`{field}` must be one of {}; got `{raw}`",
                MemberRole::names()
            ),
        )
    })
}

fn parse_plan(raw: &str) -> Result<Plan, FieldError> {
    Plan::parse(raw.trim()).ok_or_else(|| {
        FieldError::new(
            "plan",
            "one_of",
            format!("`plan` must be one of {}; got `{raw}`", Plan::names()),
        )
    })
}

/// The own minimum role of a folder from its tier and `min_role`, or the errors.
fn tier(
    visibility: Option<&str>,
    min_role: Option<&str>,
    caller: MemberRole,
    errors: &mut ValidationErrors,
) -> Option<(Visibility, Option<MemberRole>)> {
    let visibility = match visibility.map(str::trim) {
        None => Visibility::Workspace,
        Some(v) => match Visibility::parse(v) {
            Some(v) => v,
            None => {
                errors.push(FieldError::new(
                    "visibility",
                    "one_of",
                    format!("`visibility` must be `workspace` or `role`; got `{v}`"),
                ));
                return None;
            }
        },
    };
    let min_role = match min_role {
        None => None,
        Some(r) => Some(errors.check(parse_role("min_role", r))?),
    };
    match (visibility, min_role) {
        (Visibility::Workspace, Some(_)) => {
            errors.push(FieldError::new(
                "min_role",
                "only_with_role_visibility",
                "`min_role` applies to folders with `visibility` `role`; leave it out for `workspace`",
            ));
            None
        }
        (Visibility::Role, None) => {
            errors.push(FieldError::new(
                "min_role",
                "required",
                "a folder with `visibility` `role` needs `min_role`",
            ));
            None
        }
        (Visibility::Role, Some(r)) if r > caller => {
            errors.push(FieldError::new(
                "min_role",
                "at_most_your_role",
                format!(
                    "`min_role` `{}` is above your own role `{}`: you could not see the folder",
                    r.as_str(),
                    caller.as_str()
                ),
            ));
            None
        }
        (v, r) => Some((v, r)),
    }
}

fn own_role(visibility: Visibility, min_role: Option<MemberRole>) -> MemberRole {
    match visibility {
        Visibility::Workspace => MemberRole::AgentOnly,
        Visibility::Role => min_role.unwrap_or(MemberRole::AgentOnly),
    }
}

fn invitation_view(i: WorkspaceInvitation, now: OffsetDateTime) -> WorkspaceInvitationView {
    WorkspaceInvitationView {
        status: i.status(now),
        invitation: i,
    }
}

fn cursor(page: &latchkey_store::Page<Document>) -> Option<String> {
    page.has_more
        .then(|| page.items.last().map(|d| d.id.to_string()))
        .flatten()
}

fn parse_cursor(raw: Option<&str>) -> ServiceResult<Option<DocumentId>> {
    raw.map(|c| {
        c.parse::<DocumentId>().map_err(|_| {
            ServiceError::from(FieldError::new(
                "cursor",
                "format",
                "`cursor` is not one this list gave out",
            ))
        })
    })
    .transpose()
}

/// What a document list asks for.
#[derive(Debug, Clone, Default)]
pub struct DocumentFilter {
    pub folder_id: Option<FolderId>,
    pub q: Option<String>,
    pub external_id: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl Services {
    async fn standing(tx: &mut dyn Tx, p: &Principal, ws: WorkspaceId) -> ServiceResult<Standing> {
        let member = tx.get_member(p.org_id, ws, p.user_id).await?;
        let workspace = tx.get_workspace(p.org_id, ws).await?;
        match (workspace, member) {
            (Some(workspace), Some(member)) => Ok(Standing {
                workspace,
                role: member.role,
            }),
            _ => Err(ServiceError::not_found("workspace", ws)),
        }
    }

    /// A folder the reader sees, or 404.
    async fn visible_folder(
        tx: &mut dyn Tx,
        org: OrgId,
        ws: WorkspaceId,
        reader: MemberRole,
        id: FolderId,
    ) -> ServiceResult<Folder> {
        match tx.get_folder(org, ws, id).await? {
            Some(f) if sees(reader, f.effective_min_role) => Ok(f),
            _ => Err(ServiceError::not_found("folder", id)),
        }
    }

    /// The folder a request field names, when the reader sees it; otherwise the field's
    /// error (a hidden folder is a missing one).
    async fn folder_field(
        tx: &mut dyn Tx,
        org: OrgId,
        ws: WorkspaceId,
        reader: MemberRole,
        field: &str,
        id: FolderId,
        errors: &mut ValidationErrors,
    ) -> ServiceResult<Option<Folder>> {
        match tx.get_folder(org, ws, id).await? {
            Some(f) if sees(reader, f.effective_min_role) => Ok(Some(f)),
            _ => {
                errors.push(FieldError::new(
                    field,
                    "exists",
                    format!("folder `{id}` does not exist in this workspace"),
                ));
                Ok(None)
            }
        }
    }

    async fn visible_document(
        tx: &mut dyn Tx,
        org: OrgId,
        ws: WorkspaceId,
        reader: MemberRole,
        id: DocumentId,
    ) -> ServiceResult<Document> {
        let Some(d) = tx.get_document(org, ws, id).await? else {
            return Err(ServiceError::not_found("document", id));
        };
        match tx.get_folder(org, ws, d.folder_id).await? {
            Some(f) if sees(reader, f.effective_min_role) => Ok(d),
            _ => Err(ServiceError::not_found("document", id)),
        }
    }

    async fn workspace_view(
        tx: &mut dyn Tx,
        workspace: Workspace,
        role: MemberRole,
    ) -> ServiceResult<WorkspaceView> {
        let (members, _) = tx.count_members(workspace.org_id, workspace.id).await?;
        Ok(WorkspaceView {
            member_limit: workspace.plan.member_limit(),
            workspace,
            my_role: role,
            member_count: members,
        })
    }

    /// Creates a workspace (`workspaces.create`); the creator is its first Owner.
    pub async fn create_workspace(
        &self,
        p: &Principal,
        req: &CreateWorkspace,
    ) -> ServiceResult<WorkspaceView> {
        p.require(Permission::WorkspacesCreate)?;
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse("name", &req.name));
        let plan = match req.plan.as_deref() {
            None => Some(Plan::Free),
            Some(raw) => errors.check(parse_plan(raw)),
        };
        errors.finish()?;
        let (Some(name), Some(plan)) = (name, plan) else {
            return Err(ServiceError::Internal(
                "validated fields missing".to_owned(),
            ));
        };
        let now = self.now();
        let workspace = Workspace {
            id: WorkspaceId::from_uuid(self.uuid()),
            org_id: p.org_id,
            name: name.into_string(),
            plan,
            owner_id: p.user_id,
            archived_at: None,
            created_at: now,
            created_by: p.user_id,
            updated_at: now,
        };
        let member = WorkspaceMember {
            workspace_id: workspace.id,
            org_id: p.org_id,
            user_id: p.user_id,
            role: MemberRole::Owner,
            joined_at: now,
            added_by: p.user_id,
        };
        let mut tx = self.begin(p.org_id).await?;
        tx.insert_workspace(&workspace).await?;
        tx.put_member(&member).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "workspace.create",
            "workspace",
            workspace.id,
            None::<&()>,
            Some(&workspace),
        )
        .await?;
        let view = Self::workspace_view(&mut *tx, workspace, MemberRole::Owner).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// The workspaces the caller is a member of.
    pub async fn my_workspaces(&self, p: &Principal) -> ServiceResult<Vec<WorkspaceView>> {
        let mut tx = self.read().await?;
        let mut out = Vec::new();
        for (w, role) in tx.workspaces_of(p.org_id, p.user_id).await? {
            out.push(Self::workspace_view(&mut *tx, w, role).await?);
        }
        Ok(out)
    }

    pub async fn get_workspace(
        &self,
        p: &Principal,
        ws: WorkspaceId,
    ) -> ServiceResult<WorkspaceView> {
        let mut tx = self.read().await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        Self::workspace_view(&mut *tx, s.workspace, s.role).await
    }

    /// Renames (Admin), changes the plan or archives (Owner).
    pub async fn update_workspace(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        req: &UpdateWorkspace,
    ) -> ServiceResult<WorkspaceView> {
        let mut errors = ValidationErrors::new();
        let name = req
            .name
            .as_deref()
            .and_then(|n| errors.check(Name::parse("name", n)));
        let plan = req
            .plan
            .as_deref()
            .and_then(|p| errors.check(parse_plan(p)));
        errors.finish()?;
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        let before = s.workspace.clone();
        let mut w = s.workspace.clone();
        if let Some(name) = name {
            s.require(MemberRole::Admin, "renaming the workspace")?;
            s.writable()?;
            w.name = name.into_string();
        }
        if let Some(plan) = plan {
            s.require(MemberRole::Owner, "changing the plan")?;
            if let Some(limit) = plan.member_limit() {
                let (members, _) = tx.count_members(p.org_id, ws).await?;
                let pending = tx
                    .count_pending_workspace_invitations(p.org_id, ws, self.now())
                    .await?;
                if members + pending > limit {
                    return Err(ServiceError::field_conflict(
                        "plan_limit",
                        "plan",
                        format!(
                            "the {} plan allows {limit} members (pending invitations included); `{}` has {members} members and {pending} pending invitations: remove some first",
                            plan.title(),
                            w.name
                        ),
                    ));
                }
            }
            w.plan = plan;
        }
        if let Some(archived) = req.archived {
            s.require(MemberRole::Owner, "archiving or restoring the workspace")?;
            w.archived_at = match (archived, w.archived_at) {
                (true, None) => Some(self.now()),
                (true, at) => at,
                (false, _) => None,
            };
        }
        if w != before {
            w.updated_at = self.now();
            tx.update_workspace(&w).await?;
            let action = match (before.archived_at, w.archived_at) {
                (None, Some(_)) => "workspace.archive",
                (Some(_), None) => "workspace.restore",
                _ => "workspace.update",
            };
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                action,
                "workspace",
                ws,
                Some(&before),
                Some(&w),
            )
            .await?;
        }
        let view = Self::workspace_view(&mut *tx, w, s.role).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Refuses when the plan has no room for one more member or invitation.
    async fn require_room(&self, tx: &mut dyn Tx, w: &Workspace) -> ServiceResult<()> {
        let Some(limit) = w.plan.member_limit() else {
            return Ok(());
        };
        let (members, _) = tx.count_members(w.org_id, w.id).await?;
        let pending = tx
            .count_pending_workspace_invitations(w.org_id, w.id, self.now())
            .await?;
        if members + pending >= limit {
            return Err(ServiceError::conflict(
                "plan_limit",
                format!(
                    "workspace `{}` is on the {} plan, which allows {limit} members (pending invitations included); it has {members} members and {pending} pending invitations. Upgrade to Business or Enterprise for unlimited members",
                    w.name,
                    w.plan.title()
                ),
            ));
        }
        Ok(())
    }

    /// Refuses to take the owner role from the workspace's last owner.
    async fn keep_an_owner(
        tx: &mut dyn Tx,
        s: &Standing,
        member: &WorkspaceMember,
    ) -> ServiceResult<()> {
        if member.role != MemberRole::Owner {
            return Ok(());
        }
        let (_, owners) = tx.count_members(member.org_id, member.workspace_id).await?;
        if owners <= 1 {
            return Err(ServiceError::conflict(
                "last_owner",
                format!(
                    "this is the last owner of `{}`: make someone else an owner first",
                    s.workspace.name
                ),
            ));
        }
        Ok(())
    }

    /// Revokes the pending invitations to `email` in `ws` (a new invitation or a direct
    /// addition answers them): they neither keep a seat nor change a role later.
    async fn close_pending_invitations(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        ws: WorkspaceId,
        email: &str,
        now: OffsetDateTime,
    ) -> ServiceResult<()> {
        for old in tx
            .list_workspace_invitations(p.org_id, ws, Some(email))
            .await?
        {
            if old.status(now) == InvitationStatus::Pending
                && tx
                    .close_workspace_invitation(p.org_id, old.id, None, now)
                    .await?
            {
                self.audit(
                    tx,
                    Some(p),
                    p.org_id,
                    "workspace_invitation.replace",
                    "workspace_invitation",
                    old.id,
                    Some(&old),
                    None::<&()>,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Checks that the caller may give `role` to someone (or take it away).
    fn may_assign(s: &Standing, role: MemberRole) -> ServiceResult<()> {
        s.require(MemberRole::Admin, "managing members")?;
        if role == MemberRole::Owner {
            s.require(MemberRole::Owner, "making or removing an owner")?;
        }
        Ok(())
    }

    /// Invites by email at a role; a member with that address has their role changed
    /// instead.
    pub async fn invite_to_workspace(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        req: &InviteToWorkspace,
    ) -> ServiceResult<WorkspaceInviteOutcome> {
        let mut errors = ValidationErrors::new();
        let role = errors.check(parse_role("role", &req.role));
        let mut tx = self.begin(p.org_id).await?;
        let email =
            crate::validate::email(&mut *tx, p.org_id, "email", req.email.trim(), &mut errors)
                .await?;
        errors.finish()?;
        let (Some(role), Some(email)) = (role, email) else {
            return Err(ServiceError::Internal(
                "validated fields missing".to_owned(),
            ));
        };
        let s = Self::standing(&mut *tx, p, ws).await?;
        Self::may_assign(&s, role)?;
        s.writable()?;

        if let Some(user) = tx.get_user_by_email(p.org_id, email.as_str()).await?
            && let Some(member) = tx.get_member(p.org_id, ws, user.id).await?
        {
            let updated = self
                .change_member_role(&mut *tx, p, &s, member, role)
                .await?;
            tx.commit().await?;
            return Ok(WorkspaceInviteOutcome::Updated(MemberRoleUpdated {
                updated_user_id: updated.user_id,
                role: updated.role,
                message: format!(
                    "{} is already a member of `{}`: their role is now `{}`",
                    email.as_str(),
                    s.workspace.name,
                    role.as_str()
                ),
            }));
        }

        let now = self.now();
        // A new invitation to an address replaces the pending one (it does not count twice).
        self.close_pending_invitations(&mut *tx, p, ws, email.as_str(), now)
            .await?;
        self.require_room(&mut *tx, &s.workspace).await?;
        let secret = random_secret(WORKSPACE_INVITATION_PREFIX);
        let invitation = WorkspaceInvitation {
            id: WorkspaceInvitationId::from_uuid(self.uuid()),
            org_id: p.org_id,
            workspace_id: ws,
            email: email.as_str().to_owned(),
            role,
            token_hash: hash_token(&secret),
            invited_by: p.user_id,
            created_at: now,
            expires_at: now + time::Duration::days(INVITATION_DAYS),
            accepted_at: None,
            user_id: None,
            revoked_at: None,
        };
        tx.insert_workspace_invitation(&invitation).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "workspace_invitation.create",
            "workspace_invitation",
            invitation.id,
            None::<&()>,
            Some(&invitation),
        )
        .await?;
        tx.commit().await?;
        self.mail_workspace_invitation(&p.user_name, &s.workspace.name, &invitation, &secret)
            .await;
        Ok(WorkspaceInviteOutcome::Invited(invitation_view(
            invitation, now,
        )))
    }

    async fn mail_workspace_invitation(
        &self,
        inviter: &str,
        workspace: &str,
        invitation: &WorkspaceInvitation,
        secret: &str,
    ) {
        let settings = self.mail_settings();
        let url = format!(
            "{}/workspace-invite?token={secret}",
            settings.public_url.trim_end_matches('/')
        );
        let mail = crate::mail::Mail {
            to: invitation.email.clone(),
            subject: format!("You are invited to the workspace {workspace}"),
            text: format!(
                "Hello,\n\n{inviter} invites you to the workspace {workspace} on Latchkey as {}.\n\nSign in with this address and open this link within {INVITATION_DAYS} days to join:\n\n{url}\n\nIt works once. If you did not expect it, ignore this mail.\n",
                invitation.role.as_str()
            ),
        };
        self.send_mail(settings, mail, "workspace invitation").await;
    }

    /// The caller's organisation's workspace invitation with this secret, in any state.
    async fn invitation_by_secret(
        tx: &mut dyn Tx,
        p: &Principal,
        secret: &str,
    ) -> ServiceResult<Option<WorkspaceInvitation>> {
        Ok(tx
            .find_workspace_invitation_by_hash(&hash_token(secret.trim()))
            .await?
            .filter(|i| i.org_id == p.org_id))
    }

    /// Whether the invitation is to the caller's own address.
    async fn addressed_to_caller(
        tx: &mut dyn Tx,
        p: &Principal,
        invitation: &WorkspaceInvitation,
    ) -> ServiceResult<bool> {
        Ok(tx
            .get_user(p.org_id, p.user_id)
            .await?
            .and_then(|u| u.email)
            .is_some_and(|e| e.eq_ignore_ascii_case(&invitation.email)))
    }

    /// What a pending invitation addressed to the signed-in user is for: the workspace's
    /// name, the role and the address. Anyone else's invitation is not found.
    pub async fn preview_workspace_invitation(
        &self,
        p: &Principal,
        token: &str,
    ) -> ServiceResult<(String, MemberRole, String)> {
        let invalid = || ServiceError::not_found("workspace invitation", "(the token)");
        let mut tx = self.read().await?;
        let Some(invitation) = Self::invitation_by_secret(&mut *tx, p, token)
            .await?
            .filter(|i| i.status(self.now()) == InvitationStatus::Pending)
        else {
            return Err(invalid());
        };
        let mine = Self::addressed_to_caller(&mut *tx, p, &invitation).await?;
        let workspace = tx.get_workspace(p.org_id, invitation.workspace_id).await?;
        match (mine, workspace) {
            (true, Some(w)) => Ok((w.name, invitation.role, invitation.email)),
            _ => Err(invalid()),
        }
    }

    /// The signed-in invitee accepts: they join at the invitation's role.
    pub async fn accept_workspace_invitation(
        &self,
        p: &Principal,
        req: &AcceptWorkspaceInvitation,
    ) -> ServiceResult<WorkspaceView> {
        let invalid = || ServiceError::not_found("workspace invitation", "(the token)");
        let mut tx = self.begin(p.org_id).await?;
        let Some(invitation) = Self::invitation_by_secret(&mut *tx, p, &req.token).await? else {
            return Err(invalid());
        };
        let now = self.now();
        if invitation.status(now) != InvitationStatus::Pending {
            return Err(ServiceError::conflict(
                "invitation_closed",
                format!(
                    "this invitation is {}; ask for a new one",
                    invitation.status(now).as_str()
                ),
            ));
        }
        if !Self::addressed_to_caller(&mut *tx, p, &invitation).await? {
            // Someone else's invitation: as if it did not exist.
            return Err(invalid());
        }
        let Some(workspace) = tx.get_workspace(p.org_id, invitation.workspace_id).await? else {
            return Err(invalid());
        };
        if !tx
            .close_workspace_invitation(p.org_id, invitation.id, Some(p.user_id), now)
            .await?
        {
            return Err(ServiceError::conflict(
                "invitation_closed",
                "this invitation was just used or revoked; ask for a new one",
            ));
        }
        // Someone who became a member meanwhile keeps the role they have: an old
        // invitation never changes a member's role (it could demote the last owner).
        if let Some(existing) = tx.get_member(p.org_id, workspace.id, p.user_id).await? {
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "workspace_invitation.accept_as_member",
                "workspace_invitation",
                invitation.id,
                None::<&()>,
                Some(&existing),
            )
            .await?;
            let view = Self::workspace_view(&mut *tx, workspace, existing.role).await?;
            tx.commit().await?;
            return Ok(view);
        }
        let member = WorkspaceMember {
            workspace_id: workspace.id,
            org_id: p.org_id,
            user_id: p.user_id,
            role: invitation.role,
            joined_at: now,
            added_by: invitation.invited_by,
        };
        tx.put_member(&member).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "workspace_member.join",
            "workspace",
            workspace.id,
            None::<&()>,
            Some(&member),
        )
        .await?;
        let view = Self::workspace_view(&mut *tx, workspace, invitation.role).await?;
        tx.commit().await?;
        Ok(view)
    }

    pub async fn list_workspace_invitations(
        &self,
        p: &Principal,
        ws: WorkspaceId,
    ) -> ServiceResult<Vec<WorkspaceInvitationView>> {
        let mut tx = self.read().await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "seeing invitations")?;
        let now = self.now();
        Ok(tx
            .list_workspace_invitations(p.org_id, ws, None)
            .await?
            .into_iter()
            .map(|i| invitation_view(i, now))
            .collect())
    }

    pub async fn revoke_workspace_invitation(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: WorkspaceInvitationId,
    ) -> ServiceResult<WorkspaceInvitationView> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "revoking invitations")?;
        let Some(invitation) = tx.get_workspace_invitation(p.org_id, ws, id).await? else {
            return Err(ServiceError::not_found("workspace invitation", id));
        };
        Self::may_assign(&s, invitation.role)?;
        let now = self.now();
        if !tx
            .close_workspace_invitation(p.org_id, id, None, now)
            .await?
        {
            return Err(ServiceError::conflict(
                "invitation_closed",
                format!(
                    "the invitation is {}, not pending",
                    invitation.status(now).as_str()
                ),
            ));
        }
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "workspace_invitation.revoke",
            "workspace_invitation",
            id,
            Some(&invitation),
            None::<&()>,
        )
        .await?;
        let after = tx
            .get_workspace_invitation(p.org_id, ws, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("the invitation vanished".to_owned()))?;
        tx.commit().await?;
        Ok(invitation_view(after, now))
    }

    /// Adds an existing user of the organisation directly (Admin), within the plan's limit.
    pub async fn add_workspace_member(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        user: UserId,
        role: &str,
    ) -> ServiceResult<MemberView> {
        let role = parse_role("role", role)?;
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        Self::may_assign(&s, role)?;
        s.writable()?;
        let Some(u) = tx.get_user(p.org_id, user).await? else {
            return Err(FieldError::new(
                "user_id",
                "exists",
                format!("user `{user}` does not exist"),
            )
            .into());
        };
        if let Some(existing) = tx.get_member(p.org_id, ws, user).await? {
            let m = self
                .change_member_role(&mut *tx, p, &s, existing, role)
                .await?;
            tx.commit().await?;
            return Ok(member_view(m, &u));
        }
        // A pending invitation to this person's address is answered by adding them: it
        // must neither keep a seat nor change their role later.
        if let Some(email) = u.email.as_deref() {
            self.close_pending_invitations(&mut *tx, p, ws, email, self.now())
                .await?;
        }
        self.require_room(&mut *tx, &s.workspace).await?;
        let m = WorkspaceMember {
            workspace_id: ws,
            org_id: p.org_id,
            user_id: user,
            role,
            joined_at: self.now(),
            added_by: p.user_id,
        };
        tx.put_member(&m).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "workspace_member.add",
            "workspace",
            ws,
            None::<&()>,
            Some(&m),
        )
        .await?;
        tx.commit().await?;
        Ok(member_view(m, &u))
    }

    async fn change_member_role(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        s: &Standing,
        member: WorkspaceMember,
        role: MemberRole,
    ) -> ServiceResult<WorkspaceMember> {
        Self::may_assign(s, role)?;
        Self::may_assign(s, member.role)?;
        s.writable()?;
        if member.role == role {
            return Ok(member);
        }
        Self::keep_an_owner(tx, s, &member).await?;
        let after = WorkspaceMember {
            role,
            ..member.clone()
        };
        tx.put_member(&after).await?;
        self.audit(
            tx,
            Some(p),
            p.org_id,
            "workspace_member.role",
            "workspace",
            member.workspace_id,
            Some(&member),
            Some(&after),
        )
        .await?;
        Ok(after)
    }

    pub async fn list_workspace_members(
        &self,
        p: &Principal,
        ws: WorkspaceId,
    ) -> ServiceResult<Vec<MemberView>> {
        let mut tx = self.read().await?;
        Self::standing(&mut *tx, p, ws).await?;
        let members = tx.list_members(p.org_id, ws).await?;
        let ids: Vec<UserId> = members.iter().map(|m| m.user_id).collect();
        let users = tx.get_users(p.org_id, &ids).await?;
        Ok(members
            .into_iter()
            .filter_map(|m| {
                let u = users.iter().find(|u| u.id == m.user_id)?;
                Some(member_view(m, u))
            })
            .collect())
    }

    pub async fn update_workspace_member(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        user: UserId,
        req: &UpdateMember,
    ) -> ServiceResult<MemberView> {
        let role = parse_role("role", &req.role)?;
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        let Some(member) = tx.get_member(p.org_id, ws, user).await? else {
            return Err(ServiceError::not_found("member", user));
        };
        let m = self
            .change_member_role(&mut *tx, p, &s, member, role)
            .await?;
        let u = tx
            .get_user(p.org_id, user)
            .await?
            .ok_or_else(|| ServiceError::not_found("member", user))?;
        tx.commit().await?;
        Ok(member_view(m, &u))
    }

    /// Removes a member (Admin; Owner for an owner), or the caller leaves.
    pub async fn remove_workspace_member(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        user: UserId,
    ) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        let Some(member) = tx.get_member(p.org_id, ws, user).await? else {
            return Err(ServiceError::not_found("member", user));
        };
        if user != p.user_id {
            Self::may_assign(&s, member.role)?;
        }
        Self::keep_an_owner(&mut *tx, &s, &member).await?;
        tx.delete_member(p.org_id, ws, user).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            if user == p.user_id {
                "workspace_member.leave"
            } else {
                "workspace_member.remove"
            },
            "workspace",
            ws,
            Some(&member),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_team(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        req: &CreateTeam,
    ) -> ServiceResult<TeamView> {
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse("name", &req.name));
        let description =
            crate::validate::text("description", req.description.as_deref(), 2000, &mut errors);
        errors.finish()?;
        let Some(name) = name else {
            return Err(ServiceError::Internal(
                "validated fields missing".to_owned(),
            ));
        };
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "managing teams")?;
        s.writable()?;
        let team = Team {
            id: TeamId::from_uuid(self.uuid()),
            org_id: p.org_id,
            workspace_id: ws,
            name: name.into_string(),
            description,
            created_at: self.now(),
        };
        tx.insert_team(&team).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "team.create",
            "team",
            team.id,
            None::<&()>,
            Some(&team),
        )
        .await?;
        tx.commit().await?;
        Ok(TeamView {
            team,
            members: Vec::new(),
        })
    }

    pub async fn list_teams(&self, p: &Principal, ws: WorkspaceId) -> ServiceResult<Vec<TeamView>> {
        let mut tx = self.read().await?;
        Self::standing(&mut *tx, p, ws).await?;
        let mut out = Vec::new();
        for team in tx.list_teams(p.org_id, ws).await? {
            let members = tx.team_members(p.org_id, ws, team.id).await?;
            out.push(TeamView { team, members });
        }
        Ok(out)
    }

    pub async fn update_team(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: TeamId,
        req: &UpdateTeam,
    ) -> ServiceResult<TeamView> {
        let mut errors = ValidationErrors::new();
        let name = req
            .name
            .as_deref()
            .and_then(|n| errors.check(Name::parse("name", n)));
        let description = req
            .description
            .as_ref()
            .map(|d| crate::validate::text("description", d.as_deref(), 2000, &mut errors));
        errors.finish()?;
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "managing teams")?;
        s.writable()?;
        let Some(before) = tx.get_team(p.org_id, ws, id).await? else {
            return Err(ServiceError::not_found("team", id));
        };
        let mut team = before.clone();
        if let Some(name) = name {
            team.name = name.into_string();
        }
        if let Some(description) = description {
            team.description = description;
        }
        tx.update_team(&team).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "team.update",
            "team",
            id,
            Some(&before),
            Some(&team),
        )
        .await?;
        let members = tx.team_members(p.org_id, ws, id).await?;
        tx.commit().await?;
        Ok(TeamView { team, members })
    }

    pub async fn delete_team(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: TeamId,
    ) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "managing teams")?;
        s.writable()?;
        let Some(team) = tx.get_team(p.org_id, ws, id).await? else {
            return Err(ServiceError::not_found("team", id));
        };
        tx.delete_team(p.org_id, ws, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "team.delete",
            "team",
            id,
            Some(&team),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_team_member(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: TeamId,
        req: &AddTeamMember,
    ) -> ServiceResult<TeamView> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "managing teams")?;
        s.writable()?;
        let Some(team) = tx.get_team(p.org_id, ws, id).await? else {
            return Err(ServiceError::not_found("team", id));
        };
        if tx.get_member(p.org_id, ws, req.user_id).await?.is_none() {
            return Err(FieldError::new(
                "user_id",
                "member",
                format!(
                    "user `{}` is not a member of `{}`; teams group members of the workspace",
                    req.user_id, s.workspace.name
                ),
            )
            .into());
        }
        if tx
            .add_team_member(p.org_id, ws, id, req.user_id, self.now())
            .await?
        {
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "team.member_add",
                "team",
                id,
                None::<&()>,
                Some(&serde_json::json!({ "user_id": req.user_id })),
            )
            .await?;
        }
        let members = tx.team_members(p.org_id, ws, id).await?;
        tx.commit().await?;
        Ok(TeamView { team, members })
    }

    pub async fn remove_team_member(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: TeamId,
        user: UserId,
    ) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "managing teams")?;
        s.writable()?;
        if tx.get_team(p.org_id, ws, id).await?.is_none()
            || !tx.remove_team_member(p.org_id, ws, id, user).await?
        {
            return Err(ServiceError::not_found("team member", user));
        }
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "team.member_remove",
            "team",
            id,
            Some(&serde_json::json!({ "user_id": user })),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The folders the caller sees, by name.
    pub async fn list_folders(&self, p: &Principal, ws: WorkspaceId) -> ServiceResult<Vec<Folder>> {
        let mut tx = self.read().await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        Ok(tx
            .list_folders(p.org_id, ws)
            .await?
            .into_iter()
            .filter(|f| sees(s.role, f.effective_min_role))
            .collect())
    }

    pub async fn get_folder(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: FolderId,
    ) -> ServiceResult<Folder> {
        let mut tx = self.read().await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        Self::visible_folder(&mut *tx, p.org_id, ws, s.role, id).await
    }

    pub async fn create_folder(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        req: &CreateFolder,
    ) -> ServiceResult<Folder> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Editor, "creating folders")?;
        s.writable()?;
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse("name", &req.name));
        let tier = tier(
            req.visibility.as_deref(),
            req.min_role.as_deref(),
            s.role,
            &mut errors,
        );
        let parent = match req.parent_id {
            None => None,
            Some(id) => {
                Self::folder_field(&mut *tx, p.org_id, ws, s.role, "parent_id", id, &mut errors)
                    .await?
            }
        };
        errors.finish()?;
        let (Some(name), Some((visibility, min_role))) = (name, tier) else {
            return Err(ServiceError::Internal(
                "validated fields missing".to_owned(),
            ));
        };
        let now = self.now();
        let own = own_role(visibility, min_role);
        let folder = Folder {
            id: FolderId::from_uuid(self.uuid()),
            org_id: p.org_id,
            workspace_id: ws,
            parent_id: parent.as_ref().map(|f| f.id),
            name: name.into_string(),
            visibility,
            min_role,
            // The engine's rule for one new leaf: its own tier or its parent's, the higher.
            effective_min_role: parent
                .as_ref()
                .map_or(own, |f| f.effective_min_role.max(own)),
            owner_id: p.user_id,
            created_at: now,
            updated_at: now,
        };
        tx.insert_folder(&folder).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "folder.create",
            "folder",
            folder.id,
            None::<&()>,
            Some(&folder),
        )
        .await?;
        tx.commit().await?;
        Ok(folder)
    }

    pub async fn update_folder(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: FolderId,
        req: &UpdateFolder,
    ) -> ServiceResult<Folder> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        let before = Self::visible_folder(&mut *tx, p.org_id, ws, s.role, id).await?;
        s.require(MemberRole::Editor, "changing folders")?;
        s.writable()?;
        let mut errors = ValidationErrors::new();
        let mut f = before.clone();
        if let Some(name) = req
            .name
            .as_deref()
            .and_then(|n| errors.check(Name::parse("name", n)))
        {
            f.name = name.into_string();
        }
        if req.visibility.is_some() || req.min_role.is_some() {
            let visibility = req
                .visibility
                .as_deref()
                .or(Some(before.visibility.as_str()));
            let min_role = match (req.min_role.as_deref(), req.visibility.as_deref()) {
                (Some(r), _) => Some(r),
                (None, Some(v)) if v.trim() == "workspace" => None,
                (None, _) => before.min_role.map(MemberRole::as_str),
            };
            if let Some((v, r)) = tier(visibility, min_role, s.role, &mut errors) {
                f.visibility = v;
                f.min_role = r;
            }
        }
        let folders = tx.list_folders(p.org_id, ws).await?;
        if let Some(parent) = req.parent_id {
            if let Some(pid) = parent {
                let visible = folders
                    .iter()
                    .any(|x| x.id == pid && sees(s.role, x.effective_min_role));
                if !visible {
                    errors.push(FieldError::new(
                        "parent_id",
                        "exists",
                        format!("folder `{pid}` does not exist in this workspace"),
                    ));
                }
            }
            f.parent_id = parent;
        }
        // The engine recomputes every effective role with the change applied.
        let nodes: Vec<FolderNode> = folders
            .iter()
            .map(|x| {
                let x = if x.id == id { &f } else { x };
                FolderNode {
                    id: x.id,
                    parent: x.parent_id,
                    own: x.own_min_role(),
                }
            })
            .collect();
        // Only the moved folder's parent changed, so a cycle in this tree is one through
        // it: walking up from the new parent reaches the folder.
        let tree = FolderTree::build(&nodes);
        if let Some(pid) = f.parent_id
            && tree.would_cycle(id, pid)
        {
            errors.push(FieldError::new(
                "parent_id",
                "no_cycle",
                "a folder cannot move below itself",
            ));
        }
        errors.finish()?;
        let changed: Vec<(FolderId, MemberRole)> = folders
            .iter()
            .filter_map(|x| {
                let e = tree.effective(x.id)?;
                (e != x.effective_min_role && x.id != id).then_some((x.id, e))
            })
            .collect();
        f.effective_min_role = tree.effective(id).unwrap_or(f.effective_min_role);
        if !sees(s.role, f.effective_min_role) {
            return Err(FieldError::new(
                if req.parent_id.is_some() { "parent_id" } else { "min_role" },
                "at_most_your_role",
                format!(
                    "the folder would need the role `{}`, above your own `{}`: you could not see it",
                    f.effective_min_role.as_str(),
                    s.role.as_str()
                ),
            )
            .into());
        }
        if f == before {
            return Ok(f);
        }
        f.updated_at = self.now();
        tx.update_folder(&f).await?;
        tx.set_effective_roles(p.org_id, ws, &changed).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "folder.update",
            "folder",
            id,
            Some(&before),
            Some(&f),
        )
        .await?;
        tx.commit().await?;
        Ok(f)
    }

    /// Deletes an empty folder (no sub-folders, no documents).
    pub async fn delete_folder(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: FolderId,
    ) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        let folder = Self::visible_folder(&mut *tx, p.org_id, ws, s.role, id).await?;
        s.require(MemberRole::Editor, "deleting folders")?;
        s.writable()?;
        let (folders, documents) = tx.folder_contents(p.org_id, ws, id).await?;
        if folders + documents > 0 {
            return Err(ServiceError::conflict(
                "folder_not_empty",
                format!(
                    "folder `{}` still holds {folders} folders and {documents} documents; move or delete them first",
                    folder.name
                ),
            ));
        }
        tx.delete_folder(p.org_id, ws, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "folder.delete",
            "folder",
            id,
            Some(&folder),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    fn document_fields(
        title: Option<&str>,
        body: Option<&str>,
        metadata: Option<&serde_json::Value>,
        errors: &mut ValidationErrors,
    ) {
        if let Some(t) = title {
            let t = t.trim();
            if t.is_empty() {
                errors.push(FieldError::new(
                    "title",
                    "required",
                    "`title` must not be empty",
                ));
            } else if t.chars().count() > TITLE_MAX {
                errors.push(FieldError::new(
                    "title",
                    "max_length",
                    format!("`title` must be at most {TITLE_MAX} characters"),
                ));
            }
        }
        if body.is_some_and(|b| b.len() > BODY_MAX) {
            errors.push(FieldError::new(
                "body",
                "max_length",
                format!("`body` must be at most {BODY_MAX} bytes"),
            ));
        }
        if metadata.is_some_and(|m| !m.is_object()) {
            errors.push(FieldError::new(
                "metadata",
                "object",
                "`metadata` must be a JSON object",
            ));
        }
    }

    pub async fn create_document(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        req: &CreateDocument,
    ) -> ServiceResult<Document> {
        let mut errors = ValidationErrors::new();
        Self::document_fields(
            Some(&req.title),
            Some(&req.body),
            req.metadata.as_ref(),
            &mut errors,
        );
        let external_id = crate::validate::text(
            "external_id",
            req.external_id.as_deref(),
            EXTERNAL_ID_MAX,
            &mut errors,
        );
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Editor, "creating documents")?;
        s.writable()?;
        Self::folder_field(
            &mut *tx,
            p.org_id,
            ws,
            s.role,
            "folder_id",
            req.folder_id,
            &mut errors,
        )
        .await?;
        errors.finish()?;
        let now = self.now();
        let doc = Document {
            id: DocumentId::from_uuid(self.uuid()),
            org_id: p.org_id,
            workspace_id: ws,
            folder_id: req.folder_id,
            title: req.title.trim().to_owned(),
            body: req.body.clone(),
            metadata: req
                .metadata
                .clone()
                .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
            external_id,
            owner_id: p.user_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        tx.insert_document(&doc).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "document.create",
            "document",
            doc.id,
            None::<&()>,
            Some(&serde_json::json!({ "title": doc.title, "folder_id": doc.folder_id, "external_id": doc.external_id })),
        )
        .await?;
        tx.commit().await?;
        Ok(doc)
    }

    pub async fn get_document(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: DocumentId,
    ) -> ServiceResult<Document> {
        let mut tx = self.read().await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        Self::visible_document(&mut *tx, p.org_id, ws, s.role, id).await
    }

    pub async fn update_document(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: DocumentId,
        req: &UpdateDocument,
        if_match: Option<i64>,
    ) -> ServiceResult<Document> {
        let mut errors = ValidationErrors::new();
        Self::document_fields(
            req.title.as_deref(),
            req.body.as_deref(),
            req.metadata.as_ref(),
            &mut errors,
        );
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        let before = Self::visible_document(&mut *tx, p.org_id, ws, s.role, id).await?;
        s.require(MemberRole::Editor, "changing documents")?;
        s.writable()?;
        crate::check_version(if_match, before.version, "document")?;
        if let Some(folder) = req.folder_id {
            Self::folder_field(
                &mut *tx,
                p.org_id,
                ws,
                s.role,
                "folder_id",
                folder,
                &mut errors,
            )
            .await?;
        }
        errors.finish()?;
        let mut d = before.clone();
        if let Some(folder) = req.folder_id {
            d.folder_id = folder;
        }
        if let Some(t) = &req.title {
            d.title = t.trim().to_owned();
        }
        if let Some(b) = &req.body {
            d.body = b.clone();
        }
        if let Some(m) = &req.metadata {
            d.metadata = m.clone();
        }
        if d == before {
            return Ok(d);
        }
        d.updated_at = self.now();
        d.version += 1;
        tx.update_document(&d).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "document.update",
            "document",
            id,
            Some(&serde_json::json!({ "title": before.title, "folder_id": before.folder_id, "version": before.version })),
            Some(&serde_json::json!({ "title": d.title, "folder_id": d.folder_id, "version": d.version })),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    pub async fn delete_document(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: DocumentId,
    ) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        let doc = Self::visible_document(&mut *tx, p.org_id, ws, s.role, id).await?;
        s.require(MemberRole::Editor, "deleting documents")?;
        s.writable()?;
        tx.delete_document(p.org_id, ws, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "document.delete",
            "document",
            id,
            Some(&serde_json::json!({ "title": doc.title, "folder_id": doc.folder_id })),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn documents_as(
        tx: &mut dyn Tx,
        org: OrgId,
        ws: WorkspaceId,
        reader: MemberRole,
        filter: &DocumentFilter,
    ) -> ServiceResult<ListResponse<Document>> {
        let limit = filter.limit.unwrap_or(50);
        if !(1..=1000).contains(&limit) {
            return Err(
                FieldError::new("limit", "range", "`limit` must be between 1 and 1000").into(),
            );
        }
        if let Some(folder) = filter.folder_id {
            // A hidden folder is a missing one.
            Self::visible_folder(tx, org, ws, reader, folder).await?;
        }
        let page = tx
            .list_documents(
                org,
                ws,
                &DocumentQuery {
                    reader,
                    folder: filter.folder_id,
                    q: filter.q.clone(),
                    external_id: filter.external_id.clone(),
                    after: parse_cursor(filter.cursor.as_deref())?,
                    limit,
                },
            )
            .await?;
        let next_cursor = cursor(&page);
        Ok(ListResponse {
            items: page.items,
            next_cursor,
        })
    }

    /// The documents the caller sees, in creation order; search and filters apply only
    /// within what the caller sees.
    pub async fn list_documents(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        filter: &DocumentFilter,
    ) -> ServiceResult<ListResponse<Document>> {
        let mut tx = self.read().await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        Self::documents_as(&mut *tx, p.org_id, ws, s.role, filter).await
    }

    pub async fn create_workspace_key(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        req: &CreateWorkspaceKey,
    ) -> ServiceResult<WorkspaceKeyCreated> {
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse("name", &req.name));
        let role = errors.check(parse_role("role", &req.role));
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "creating API keys")?;
        s.writable()?;
        if !s.workspace.plan.allows_api_keys() {
            return Err(ServiceError::Forbidden {
                permission: None,
                message: format!(
                    "API keys are a Business-plan feature; `{}` is on the {} plan",
                    s.workspace.name,
                    s.workspace.plan.title()
                ),
            });
        }
        if let Some(r) = role
            && r > s.role
        {
            errors.push(FieldError::new(
                "role",
                "at_most_your_role",
                format!(
                    "a key's role can be at most your own (`{}`); got `{}`",
                    s.role.as_str(),
                    r.as_str()
                ),
            ));
        }
        errors.finish()?;
        let (Some(name), Some(role)) = (name, role) else {
            return Err(ServiceError::Internal(
                "validated fields missing".to_owned(),
            ));
        };
        let secret = random_secret(WORKSPACE_KEY_PREFIX);
        let key = WorkspaceKey {
            id: WorkspaceKeyId::from_uuid(self.uuid()),
            org_id: p.org_id,
            workspace_id: ws,
            name: name.into_string(),
            role,
            prefix: secret.chars().take(12).collect(),
            token_hash: hash_token(&secret),
            created_by: p.user_id,
            created_at: self.now(),
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        tx.insert_workspace_key(&key).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "workspace_key.create",
            "workspace_key",
            key.id,
            None::<&()>,
            Some(&key),
        )
        .await?;
        tx.commit().await?;
        Ok(WorkspaceKeyCreated { key, secret })
    }

    pub async fn list_workspace_keys(
        &self,
        p: &Principal,
        ws: WorkspaceId,
    ) -> ServiceResult<Vec<WorkspaceKey>> {
        let mut tx = self.read().await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "seeing API keys")?;
        Ok(tx.list_workspace_keys(p.org_id, ws).await?)
    }

    pub async fn revoke_workspace_key(
        &self,
        p: &Principal,
        ws: WorkspaceId,
        id: WorkspaceKeyId,
    ) -> ServiceResult<WorkspaceKey> {
        let mut tx = self.begin(p.org_id).await?;
        let s = Self::standing(&mut *tx, p, ws).await?;
        s.require(MemberRole::Admin, "revoking API keys")?;
        let Some(key) = tx.get_workspace_key(p.org_id, ws, id).await? else {
            return Err(ServiceError::not_found("workspace API key", id));
        };
        let now = self.now();
        if tx
            .revoke_workspace_key(p.org_id, id, now, p.user_id)
            .await?
        {
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "workspace_key.revoke",
                "workspace_key",
                id,
                Some(&key),
                None::<&()>,
            )
            .await?;
        }
        let after = tx
            .get_workspace_key(p.org_id, ws, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("the key vanished".to_owned()))?;
        tx.commit().await?;
        Ok(after)
    }

    /// Authenticates a workspace API key for the public read API of workspace `ws`: the
    /// key, and the role it reads with there.
    async fn public_reader(
        &self,
        secret: &str,
        ws: WorkspaceId,
    ) -> ServiceResult<(WorkspaceKey, MemberRole)> {
        let unauthenticated =
            || ServiceError::Unauthenticated("a valid workspace API key is required".to_owned());
        if !secret.starts_with(WORKSPACE_KEY_PREFIX) {
            return Err(unauthenticated());
        }
        let mut tx = self.read().await?;
        let Some(key) = tx.find_workspace_key_by_hash(&hash_token(secret)).await? else {
            return Err(unauthenticated());
        };
        if key.revoked_at.is_some() {
            return Err(unauthenticated());
        }
        if key.workspace_id != ws {
            // Another workspace's key: this workspace does not exist for it.
            return Err(ServiceError::not_found("workspace", ws));
        }
        let Some(workspace) = tx.get_workspace(key.org_id, ws).await? else {
            return Err(ServiceError::not_found("workspace", ws));
        };
        if !workspace.plan.allows_api_keys() {
            return Err(ServiceError::Forbidden {
                permission: None,
                message: format!(
                    "the public API is a Business-plan feature; this workspace is on the {} plan",
                    workspace.plan.title()
                ),
            });
        }
        drop(tx);
        let now = self.now();
        if key
            .last_used_at
            .is_none_or(|at| now - at >= time::Duration::seconds(KEY_TOUCH_SECONDS))
        {
            let mut tx = self.inner.store.begin().await?;
            tx.touch_workspace_key(key.org_id, key.id, now).await?;
            tx.commit().await?;
        }
        // Whatever the key's role, the public API reads what every member sees.
        let reader = key.role.min(PUBLIC_READER);
        Ok((key, reader))
    }

    pub async fn public_folders(
        &self,
        secret: &str,
        ws: WorkspaceId,
    ) -> ServiceResult<Vec<PublicFolder>> {
        let (key, reader) = self.public_reader(secret, ws).await?;
        let mut tx = self.read().await?;
        Ok(tx
            .list_folders(key.org_id, ws)
            .await?
            .into_iter()
            .filter(|f| sees(reader, f.effective_min_role))
            .map(PublicFolder::from)
            .collect())
    }

    pub async fn public_documents(
        &self,
        secret: &str,
        ws: WorkspaceId,
        filter: &DocumentFilter,
    ) -> ServiceResult<ListResponse<PublicDocument>> {
        let (key, reader) = self.public_reader(secret, ws).await?;
        let mut tx = self.read().await?;
        let page = Self::documents_as(&mut *tx, key.org_id, ws, reader, filter).await?;
        Ok(ListResponse {
            items: page.items.into_iter().map(PublicDocument::from).collect(),
            next_cursor: page.next_cursor,
        })
    }

    pub async fn public_document(
        &self,
        secret: &str,
        ws: WorkspaceId,
        id: DocumentId,
    ) -> ServiceResult<PublicDocument> {
        let (key, reader) = self.public_reader(secret, ws).await?;
        let mut tx = self.read().await?;
        Ok(Self::visible_document(&mut *tx, key.org_id, ws, reader, id)
            .await?
            .into())
    }

    /// Both checks for one user and workspace (and optionally a folder): app access from
    /// roles, workspace access from membership. Needs `users.view` over the user; folder
    /// names are not shown (the caller may not be a member).
    pub async fn workspace_access(
        &self,
        p: &Principal,
        user: UserId,
        ws: WorkspaceId,
        folder: Option<FolderId>,
    ) -> ServiceResult<WorkspaceAccess> {
        let scope = p.require(Permission::UsersView)?;
        let mut tx = self.read().await?;
        let u = Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?;
        let Some(workspace) = tx.get_workspace(p.org_id, ws).await? else {
            return Err(ServiceError::not_found("workspace", ws));
        };
        let member = tx.get_member(p.org_id, ws, user).await?;
        let mut teams = Vec::new();
        if member.is_some() {
            for t in tx.list_teams(p.org_id, ws).await? {
                if tx.team_members(p.org_id, ws, t.id).await?.contains(&user) {
                    teams.push(t.name);
                }
            }
        }
        let folder = match folder {
            None => None,
            Some(id) => {
                let Some(f) = tx.get_folder(p.org_id, ws, id).await? else {
                    return Err(ServiceError::not_found("folder", id));
                };
                // The folder's name is content: shown only to a caller who sees the folder.
                let caller_sees = tx
                    .get_member(p.org_id, ws, p.user_id)
                    .await?
                    .is_some_and(|m| sees(m.role, f.effective_min_role));
                Some(FolderAccess {
                    folder_id: f.id,
                    name: caller_sees.then(|| f.name.clone()),
                    visibility: f.visibility,
                    min_role: f.min_role,
                    effective_min_role: f.effective_min_role,
                    visible: member
                        .as_ref()
                        .is_some_and(|m| sees(m.role, f.effective_min_role)),
                })
            }
        };
        drop(tx);
        let engine = self.engine(p.org_id).await?;
        let grants = engine.read().engine.permissions(user, self.now());
        let mut app_permissions: Vec<String> = grants
            .unscoped
            .iter()
            .chain(grants.scoped.keys())
            .map(|perm| perm.as_str().to_owned())
            .collect();
        app_permissions.sort();
        app_permissions.dedup();
        let mut explanation = vec![match &member {
            Some(m) => format!(
                "{} is a member of `{}` as `{}`: workspace access is granted by membership",
                u.user_name,
                workspace.name,
                m.role.as_str()
            ),
            None => format!(
                "{} is not a member of `{}`: no workspace access, whatever their roles grant",
                u.user_name, workspace.name
            ),
        }];
        explanation.push(if app_permissions.is_empty() {
            format!("{} holds no product permission (app access comes from roles, never from membership)", u.user_name)
        } else {
            format!(
                "{} holds {} product permissions through roles (app access); none of them grants membership",
                u.user_name,
                app_permissions.len()
            )
        });
        if let Some(f) = &folder {
            explanation.push(match (&member, f.visible) {
                (Some(m), true) => format!(
                    "folder `{}` needs `{}` (its own tier and its parents'); `{}` sees it",
                    f.name.as_deref().unwrap_or(&f.folder_id.to_string()),
                    f.effective_min_role.as_str(),
                    m.role.as_str()
                ),
                (Some(m), false) => format!(
                    "folder `{}` needs `{}` (its own tier and its parents'); `{}` does not see it",
                    f.name.as_deref().unwrap_or(&f.folder_id.to_string()),
                    f.effective_min_role.as_str(),
                    m.role.as_str()
                ),
                (None, _) => format!(
                    "folder `{}` is not visible to {}: not a member",
                    f.name.as_deref().unwrap_or(&f.folder_id.to_string()),
                    u.user_name
                ),
            });
        }
        Ok(WorkspaceAccess {
            user_id: user,
            workspace_id: ws,
            app_permissions,
            member_role: member.map(|m| m.role),
            teams,
            folder,
            explanation,
        })
    }
}

fn member_view(m: WorkspaceMember, u: &latchkey_model::User) -> MemberView {
    MemberView {
        user_id: m.user_id,
        user_name: u.user_name.clone(),
        full_name: u.full_name.clone(),
        email: u.email.clone(),
        role: m.role,
        joined_at: m.joined_at,
    }
}

/// "workspace `Ops`, 2 folders, 14 documents and orchestration `Nightly`": for messages.
pub(crate) fn describe_owned(c: &latchkey_store::OwnedContent) -> String {
    let mut parts: Vec<String> = c
        .workspaces
        .iter()
        .map(|(_, name)| format!("workspace `{name}`"))
        .collect();
    if !c.folders.is_empty() {
        parts.push(format!("{} folders", c.folders.len()));
    }
    if !c.documents.is_empty() {
        parts.push(format!("{} documents", c.documents.len()));
    }
    parts.extend(
        c.items
            .iter()
            .map(|(_, kind, name)| format!("{kind} `{name}`")),
    );
    parts.join(", ")
}

impl Services {
    /// Moves what `from` owns to `to`, making `to` an Owner wherever `from` owned the
    /// workspace or was its last Owner (a workspace never loses its last owner); how many
    /// objects moved.
    pub(crate) async fn hand_over(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        from: UserId,
        to: UserId,
        content: &latchkey_store::OwnedContent,
    ) -> ServiceResult<u64> {
        let mut needs_owner: Vec<WorkspaceId> =
            content.workspaces.iter().map(|(id, _)| *id).collect();
        for (w, role) in tx.workspaces_of(p.org_id, from).await? {
            if role == MemberRole::Owner {
                let (_, owners) = tx.count_members(p.org_id, w.id).await?;
                if owners <= 1 && !needs_owner.contains(&w.id) {
                    needs_owner.push(w.id);
                }
            }
        }
        for ws in needs_owner {
            let current = tx.get_member(p.org_id, ws, to).await?;
            if current
                .as_ref()
                .is_some_and(|m| m.role == MemberRole::Owner)
            {
                continue;
            }
            let member = WorkspaceMember {
                workspace_id: ws,
                org_id: p.org_id,
                user_id: to,
                role: MemberRole::Owner,
                joined_at: current.as_ref().map_or(self.now(), |m| m.joined_at),
                added_by: p.user_id,
            };
            tx.put_member(&member).await?;
            self.audit(
                tx,
                Some(p),
                p.org_id,
                "workspace_member.role",
                "workspace",
                ws,
                current.as_ref(),
                Some(&member),
            )
            .await?;
        }
        Ok(tx.reassign_content(p.org_id, from, to).await?)
    }

    /// The information systems and roles `user` owns: they need a new owner before the
    /// user can be deleted.
    pub(crate) async fn owned_catalog(
        tx: &mut dyn Tx,
        org: OrgId,
        user: UserId,
    ) -> ServiceResult<Vec<latchkey_api::OwnedThing>> {
        let mut owned = Vec::new();
        for s in tx
            .all_systems(org)
            .await?
            .into_iter()
            .filter(|s| s.owner_id == Some(user))
        {
            owned.push(latchkey_api::OwnedThing {
                what: "information_system".to_owned(),
                id: s.id.to_string(),
                name: s.name,
                detail: None,
            });
        }
        for r in tx
            .all_roles(org)
            .await?
            .into_iter()
            .filter(|r| r.owner_id == Some(user))
        {
            owned.push(latchkey_api::OwnedThing {
                what: "role".to_owned(),
                id: r.id.to_string(),
                name: r.name,
                detail: None,
            });
        }
        Ok(owned)
    }

    /// Everything a user owns that their deletion would hand over (`users.view`).
    pub async fn owned_by(
        &self,
        p: &Principal,
        user: UserId,
    ) -> ServiceResult<latchkey_api::Ownership> {
        let scope = p.require(Permission::UsersView)?;
        let mut tx = self.read().await?;
        Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?;
        let mut owned = Self::owned_catalog(&mut *tx, p.org_id, user).await?;
        let thing =
            |what: &str, id: String, name: &str, detail: Option<String>| latchkey_api::OwnedThing {
                what: what.to_owned(),
                id,
                name: name.to_owned(),
                detail,
            };
        let c = tx.owned_content(p.org_id, user).await?;
        for (id, name) in &c.workspaces {
            owned.push(thing("workspace", id.to_string(), name, None));
        }
        for (ws, id, name) in &c.folders {
            owned.push(thing("folder", id.to_string(), name, Some(ws.to_string())));
        }
        for (ws, id, title) in &c.documents {
            owned.push(thing(
                "document",
                id.to_string(),
                title,
                Some(ws.to_string()),
            ));
        }
        for (id, kind, name) in &c.items {
            owned.push(thing("item", id.to_string(), name, Some(kind.clone())));
        }
        Ok(latchkey_api::Ownership {
            user_id: user,
            owned,
        })
    }

    /// Tombstones of deleted users, newest first (`users.view`).
    pub async fn deleted_users(
        &self,
        p: &Principal,
    ) -> ServiceResult<Vec<latchkey_model::DeletedUser>> {
        p.require(Permission::UsersView)?;
        let mut tx = self.read().await?;
        Ok(tx.deleted_users(p.org_id).await?)
    }

    /// Creates an app item owned by the caller; in a workspace, the caller must be an
    /// editor there.
    pub async fn create_item(
        &self,
        p: &Principal,
        req: &latchkey_api::CreateItem,
    ) -> ServiceResult<latchkey_api::ItemView> {
        let mut errors = ValidationErrors::new();
        let kind = latchkey_model::ItemKind::parse(req.kind.trim());
        if kind.is_none() {
            errors.push(FieldError::new(
                "kind",
                "one_of",
                format!(
                    "`kind` must be one of {}; got `{}`",
                    latchkey_model::ItemKind::names(),
                    req.kind
                ),
            ));
        }
        let name = errors.check(Name::parse("name", &req.name));
        errors.finish()?;
        let (Some(kind), Some(name)) = (kind, name) else {
            return Err(ServiceError::Internal(
                "validated fields missing".to_owned(),
            ));
        };
        let mut tx = self.begin(p.org_id).await?;
        if let Some(ws) = req.workspace_id {
            let s = Self::standing(&mut *tx, p, ws).await?;
            s.require(MemberRole::Editor, "creating items")?;
            s.writable()?;
        }
        let now = self.now();
        let item = latchkey_model::Item {
            id: latchkey_model::ItemId::from_uuid(self.uuid()),
            org_id: p.org_id,
            workspace_id: req.workspace_id,
            kind,
            name: name.into_string(),
            owner_id: p.user_id,
            published_at: None,
            published_by: None,
            created_at: now,
            updated_at: now,
        };
        tx.insert_item(&item).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "item.create",
            "item",
            item.id,
            None::<&()>,
            Some(&item),
        )
        .await?;
        tx.commit().await?;
        Ok(latchkey_api::ItemView {
            item,
            collaborators: Vec::new(),
        })
    }

    /// The items the caller owns, collaborates on, or that are published.
    pub async fn my_items(&self, p: &Principal) -> ServiceResult<Vec<latchkey_api::ItemView>> {
        let mut tx = self.read().await?;
        let mut out = Vec::new();
        for item in tx.items_for(p.org_id, p.user_id).await? {
            let collaborators = tx.collaborators(p.org_id, item.id).await?;
            out.push(latchkey_api::ItemView {
                item,
                collaborators,
            });
        }
        Ok(out)
    }

    /// An item the caller may see (owner, collaborator, or published), else 404.
    async fn item_seen(
        tx: &mut dyn Tx,
        p: &Principal,
        id: latchkey_model::ItemId,
    ) -> ServiceResult<(latchkey_model::Item, Vec<UserId>)> {
        let Some(item) = tx.get_item(p.org_id, id).await? else {
            return Err(ServiceError::not_found("item", id));
        };
        let collaborators = tx.collaborators(p.org_id, id).await?;
        if item.owner_id == p.user_id
            || item.published_at.is_some()
            || collaborators.contains(&p.user_id)
        {
            Ok((item, collaborators))
        } else {
            Err(ServiceError::not_found("item", id))
        }
    }

    pub async fn get_item(
        &self,
        p: &Principal,
        id: latchkey_model::ItemId,
    ) -> ServiceResult<latchkey_api::ItemView> {
        let mut tx = self.read().await?;
        let (item, collaborators) = Self::item_seen(&mut *tx, p, id).await?;
        Ok(latchkey_api::ItemView {
            item,
            collaborators,
        })
    }

    fn require_owner(
        p: &Principal,
        item: &latchkey_model::Item,
        action: &str,
    ) -> ServiceResult<()> {
        if item.owner_id == p.user_id {
            return Ok(());
        }
        Err(ServiceError::Forbidden {
            permission: None,
            message: format!(
                "only the owner of {} `{}` may {action}",
                item.kind.as_str(),
                item.name
            ),
        })
    }

    /// The owner shares an item with a collaborator. With unrestricted sharing off, an
    /// orchestration needs `orchestrations.share` as well.
    pub async fn share_item(
        &self,
        p: &Principal,
        id: latchkey_model::ItemId,
        req: &latchkey_api::AddCollaborator,
    ) -> ServiceResult<latchkey_api::ItemView> {
        let mut tx = self.begin(p.org_id).await?;
        let (item, _) = Self::item_seen(&mut *tx, p, id).await?;
        Self::require_owner(p, &item, "share it")?;
        if item.kind == latchkey_model::ItemKind::Orchestration
            && !tx.unrestricted_sharing(p.org_id).await?
        {
            p.require(Permission::OrchestrationsShare).map_err(|_| ServiceError::Forbidden {
                permission: Some(Permission::OrchestrationsShare),
                message: "unrestricted sharing is off in this organisation: sharing an orchestration needs `orchestrations.share` (the Publisher role has it)".to_owned(),
            })?;
        }
        if req.user_id == item.owner_id || tx.get_user(p.org_id, req.user_id).await?.is_none() {
            return Err(FieldError::new(
                "user_id",
                "exists",
                format!("`{}` is not another user of the organisation", req.user_id),
            )
            .into());
        }
        if tx
            .add_collaborator(p.org_id, id, req.user_id, self.now(), p.user_id)
            .await?
        {
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "item.share",
                "item",
                id,
                None::<&()>,
                Some(&serde_json::json!({ "user_id": req.user_id })),
            )
            .await?;
        }
        let collaborators = tx.collaborators(p.org_id, id).await?;
        tx.commit().await?;
        Ok(latchkey_api::ItemView {
            item,
            collaborators,
        })
    }

    pub async fn unshare_item(
        &self,
        p: &Principal,
        id: latchkey_model::ItemId,
        user: UserId,
    ) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        let (item, _) = Self::item_seen(&mut *tx, p, id).await?;
        // A collaborator may leave; otherwise it is the owner's call.
        if user != p.user_id {
            Self::require_owner(p, &item, "change who it is shared with")?;
        }
        if !tx.remove_collaborator(p.org_id, id, user).await? {
            return Err(ServiceError::not_found("collaborator", user));
        }
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "item.unshare",
            "item",
            id,
            Some(&serde_json::json!({ "user_id": user })),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The owner publishes an orchestration to the organisation (`orchestrations.publish`),
    /// or withdraws it.
    pub async fn publish_item(
        &self,
        p: &Principal,
        id: latchkey_model::ItemId,
        publish: bool,
    ) -> ServiceResult<latchkey_api::ItemView> {
        let mut tx = self.begin(p.org_id).await?;
        let (before, collaborators) = Self::item_seen(&mut *tx, p, id).await?;
        Self::require_owner(
            p,
            &before,
            if publish { "publish it" } else { "withdraw it" },
        )?;
        if before.kind != latchkey_model::ItemKind::Orchestration {
            return Err(ServiceError::conflict(
                "not_publishable",
                format!(
                    "only orchestrations are published to the organisation; this is a {}",
                    before.kind.as_str()
                ),
            ));
        }
        if publish {
            p.require(Permission::OrchestrationsPublish).map_err(|_| ServiceError::Forbidden {
                permission: Some(Permission::OrchestrationsPublish),
                message: "publishing an orchestration to the organisation needs `orchestrations.publish` (the Publisher role has it)".to_owned(),
            })?;
        }
        let mut item = before.clone();
        let now = self.now();
        match (publish, item.published_at) {
            (true, None) => {
                item.published_at = Some(now);
                item.published_by = Some(p.user_id);
            }
            (false, Some(_)) => {
                item.published_at = None;
                item.published_by = None;
            }
            _ => {}
        }
        if item != before {
            item.updated_at = now;
            tx.update_item(&item).await?;
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                if publish {
                    "item.publish"
                } else {
                    "item.withdraw"
                },
                "item",
                id,
                Some(&before),
                Some(&item),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(latchkey_api::ItemView {
            item,
            collaborators,
        })
    }

    pub async fn sharing_settings(
        &self,
        p: &Principal,
    ) -> ServiceResult<latchkey_api::SharingSettings> {
        let mut tx = self.read().await?;
        Ok(latchkey_api::SharingSettings {
            unrestricted_sharing: tx.unrestricted_sharing(p.org_id).await?,
        })
    }

    pub async fn set_sharing_settings(
        &self,
        p: &Principal,
        req: &latchkey_api::SharingSettings,
    ) -> ServiceResult<latchkey_api::SharingSettings> {
        p.require(Permission::OrgSettings)?;
        let mut tx = self.begin(p.org_id).await?;
        let before = tx.unrestricted_sharing(p.org_id).await?;
        if before != req.unrestricted_sharing {
            tx.set_unrestricted_sharing(p.org_id, req.unrestricted_sharing, self.now(), p.user_id)
                .await?;
            self.audit(
                &mut *tx,
                Some(p),
                p.org_id,
                "settings.sharing",
                "organisation",
                p.org_id,
                Some(&serde_json::json!({ "unrestricted_sharing": before })),
                Some(req),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(req.clone())
    }
}
