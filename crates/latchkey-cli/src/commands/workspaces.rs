//! `latchkey workspaces …` (workspaces, members, invitations, teams, folders, documents and
//! API keys) and `latchkey users access`. Membership decides on the server, so a workspace
//! you are not in is "not found" here too. A new API key's secret is printed once, with a
//! warning to keep it, like a new API token's.

use std::process::ExitCode;

use anyhow::{Context, bail};
use latchkey_api::{
    AcceptWorkspaceInvitation, CreateDocument, CreateFolder, CreateTeam, CreateWorkspace,
    CreateWorkspaceKey, InviteToWorkspace, MemberView, TeamView, UpdateFolder, UpdateMember,
    UpdateWorkspace, WorkspaceAccess, WorkspaceInvitationView, WorkspaceInviteOutcome,
    WorkspaceView,
};
use latchkey_client::{DocumentFilter, Page};
use latchkey_model::{Document, Folder, MemberRole, Visibility, WorkspaceId, WorkspaceKey};

use super::{Ctx, success};
use crate::cli::{
    DocumentCreateArgs, DocumentListArgs, FolderCreateArgs, FolderUpdateArgs, UserAccessArgs,
    WorkspacesCmd,
};
use crate::output::{Tabular, instant, table};

impl Tabular for WorkspaceView {
    const HEADERS: &'static [&'static str] =
        &["id", "name", "plan", "my role", "members", "archived"];
    fn row(&self) -> Vec<String> {
        let w = &self.workspace;
        vec![
            w.id.to_string(),
            w.name.clone(),
            w.plan.as_str().to_owned(),
            self.my_role.as_str().to_owned(),
            members(self),
            w.archived_at.map(instant).unwrap_or_default(),
        ]
    }
}

/// `2 of 3` under a limit, `2` without.
fn members(w: &WorkspaceView) -> String {
    match w.member_limit {
        Some(limit) => format!("{} of {limit}", w.member_count),
        None => w.member_count.to_string(),
    }
}

impl Tabular for MemberView {
    const HEADERS: &'static [&'static str] = &[
        "user id",
        "user name",
        "full name",
        "email",
        "role",
        "joined",
    ];
    fn row(&self) -> Vec<String> {
        vec![
            self.user_id.to_string(),
            self.user_name.clone(),
            self.full_name.clone(),
            self.email.clone().unwrap_or_default(),
            self.role.as_str().to_owned(),
            instant(self.joined_at),
        ]
    }
}

impl Tabular for WorkspaceInvitationView {
    const HEADERS: &'static [&'static str] =
        &["id", "email", "role", "status", "created", "expires"];
    fn row(&self) -> Vec<String> {
        let i = &self.invitation;
        vec![
            i.id.to_string(),
            i.email.clone(),
            i.role.as_str().to_owned(),
            self.status.as_str().to_owned(),
            instant(i.created_at),
            instant(i.expires_at),
        ]
    }
}

impl Tabular for TeamView {
    const HEADERS: &'static [&'static str] = &["id", "name", "description", "members"];
    fn row(&self) -> Vec<String> {
        let members: Vec<String> = self.members.iter().map(ToString::to_string).collect();
        vec![
            self.team.id.to_string(),
            self.team.name.clone(),
            self.team.description.clone().unwrap_or_default(),
            members.join(", "),
        ]
    }
}

impl Tabular for Folder {
    const HEADERS: &'static [&'static str] = &[
        "id",
        "name",
        "parent",
        "visibility",
        "min role",
        "effective min role",
    ];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            self.parent_id.map(|p| p.to_string()).unwrap_or_default(),
            self.visibility.as_str().to_owned(),
            self.min_role
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            self.effective_min_role.as_str().to_owned(),
        ]
    }
}

impl Tabular for Document {
    const HEADERS: &'static [&'static str] =
        &["id", "title", "folder", "external id", "updated", "version"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.folder_id.to_string(),
            self.external_id.clone().unwrap_or_default(),
            instant(self.updated_at),
            self.version.to_string(),
        ]
    }
}

impl Tabular for WorkspaceKey {
    const HEADERS: &'static [&'static str] = &[
        "id",
        "name",
        "role",
        "prefix",
        "created",
        "last used",
        "revoked",
    ];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            self.role.as_str().to_owned(),
            self.prefix.clone(),
            instant(self.created_at),
            self.last_used_at.map(instant).unwrap_or_default(),
            self.revoked_at.map(instant).unwrap_or_default(),
        ]
    }
}

/// The token of an invitation, given as the token itself or as the link mailed with it.
fn invitation_token(raw: &str) -> String {
    let raw = raw.trim();
    let token = raw.split_once("token=").map_or(raw, |(_, rest)| rest);
    token
        .split(['&', '#'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A folder's tier from the flags: `--min-role` alone means a `role` folder.
fn tier(
    visibility: Option<Visibility>,
    min_role: Option<MemberRole>,
) -> (Option<String>, Option<String>) {
    let visibility = visibility.or(min_role.map(|_| Visibility::Role));
    (
        visibility.map(|v| v.as_str().to_owned()),
        min_role.map(|r| r.as_str().to_owned()),
    )
}

pub async fn workspaces(ctx: &Ctx, cmd: WorkspacesCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        WorkspacesCmd::List => out.items(client.list_workspaces().await?)?,
        WorkspacesCmd::Show { id } => out.record(&client.get_workspace(id).await?)?,
        WorkspacesCmd::Create { name, plan } => {
            let body = CreateWorkspace {
                name,
                plan: plan.map(|p| p.as_str().to_owned()),
            };
            out.record(&client.create_workspace(&body).await?)?;
        }
        WorkspacesCmd::Rename { id, name } => {
            let body = UpdateWorkspace {
                name: Some(name),
                ..UpdateWorkspace::default()
            };
            out.record(&client.update_workspace(id, &body).await?)?;
        }
        WorkspacesCmd::Plan { id, plan } => {
            let body = UpdateWorkspace {
                plan: Some(plan.as_str().to_owned()),
                ..UpdateWorkspace::default()
            };
            out.record(&client.update_workspace(id, &body).await?)?;
        }
        WorkspacesCmd::Archive { id } => archive(ctx, id, true).await?,
        WorkspacesCmd::Restore { id } => archive(ctx, id, false).await?,

        WorkspacesCmd::Members { id } => out.items(client.list_workspace_members(id).await?)?,
        WorkspacesCmd::AddMember { id, user, role } => {
            out.record(&client.add_workspace_member(id, user, role.as_str()).await?)?;
        }
        WorkspacesCmd::SetRole { id, user, role } => {
            let body = UpdateMember {
                role: role.as_str().to_owned(),
            };
            out.record(&client.update_workspace_member(id, user, &body).await?)?;
        }
        WorkspacesCmd::RemoveMember { id, user } => {
            client.remove_workspace_member(id, user).await?;
            out.done(&format!("removed {user} from workspace {id}"));
        }
        WorkspacesCmd::Leave { id } => {
            let me = client.me().await?;
            client.remove_workspace_member(id, me.user_id).await?;
            out.done(&format!("you ({}) left workspace {id}", me.user_name));
        }
        WorkspacesCmd::Invite { id, email, role } => invite(ctx, id, email, role).await?,
        WorkspacesCmd::Invitations { id } => {
            out.items(client.list_workspace_invitations(id).await?)?;
        }
        WorkspacesCmd::RevokeInvitation { id, invitation_id } => {
            let v = client
                .revoke_workspace_invitation(id, invitation_id)
                .await?;
            if out.json {
                out.print_json(&v)?;
            } else {
                out.done(&format!(
                    "invitation {invitation_id} to {} revoked",
                    v.invitation.email
                ));
            }
        }
        WorkspacesCmd::AcceptInvitation { invitation } => {
            let body = AcceptWorkspaceInvitation {
                token: invitation_token(&invitation),
            };
            let view = client.accept_workspace_invitation(&body).await?;
            if out.json {
                out.print_json(&view)?;
            } else {
                out.done(&format!(
                    "you joined workspace `{}` ({}) as {}",
                    view.workspace.name,
                    view.workspace.id,
                    view.my_role.as_str()
                ));
            }
        }

        WorkspacesCmd::Teams { id } => out.items(client.list_teams(id).await?)?,
        WorkspacesCmd::TeamCreate {
            id,
            name,
            description,
        } => {
            let body = CreateTeam { name, description };
            out.record(&client.create_team(id, &body).await?)?;
        }
        WorkspacesCmd::TeamAdd { id, team, user } => {
            let view = client.add_team_member(id, team, user).await?;
            if out.json {
                out.print_json(&view)?;
            } else {
                out.done(&format!(
                    "{user} is in team `{}` ({} members)",
                    view.team.name,
                    view.members.len()
                ));
            }
        }
        WorkspacesCmd::TeamRemove { id, team, user } => {
            client.remove_team_member(id, team, user).await?;
            out.done(&format!("removed {user} from team {team}"));
        }
        WorkspacesCmd::TeamDelete { id, team } => {
            client.delete_team(id, team).await?;
            out.done(&format!("deleted team {team}"));
        }

        WorkspacesCmd::Folders { id } => out.items(client.list_folders(id).await?)?,
        WorkspacesCmd::FolderCreate(a) => folder_create(ctx, a).await?,
        WorkspacesCmd::FolderUpdate(a) => folder_update(ctx, a).await?,
        WorkspacesCmd::FolderDelete { id, folder } => {
            client.delete_folder(id, folder).await?;
            out.done(&format!("deleted folder {folder}"));
        }
        WorkspacesCmd::Documents(a) => documents(ctx, a).await?,
        WorkspacesCmd::DocumentCreate(a) => document_create(ctx, a).await?,
        WorkspacesCmd::DocumentShow { id, document } => {
            out.record(&client.get_document(id, document).await?)?;
        }
        WorkspacesCmd::DocumentDelete { id, document } => {
            client.delete_document(id, document).await?;
            out.done(&format!("deleted document {document}"));
        }

        WorkspacesCmd::ApiKeys { id } => out.items(client.list_workspace_keys(id).await?)?,
        WorkspacesCmd::ApiKeyCreate { id, name, role } => key_create(ctx, id, name, role).await?,
        WorkspacesCmd::ApiKeyRevoke { id, key } => {
            let revoked = client.revoke_workspace_key(id, key).await?;
            if out.json {
                out.print_json(&revoked)?;
            } else {
                out.done(&format!("revoked API key {} {key}", revoked.name));
            }
        }
    }
    success()
}

async fn archive(ctx: &Ctx, id: WorkspaceId, archived: bool) -> anyhow::Result<()> {
    let body = UpdateWorkspace {
        archived: Some(archived),
        ..UpdateWorkspace::default()
    };
    let view = ctx.client.update_workspace(id, &body).await?;
    if ctx.out.json {
        return ctx.out.print_json(&view);
    }
    let name = &view.workspace.name;
    ctx.out.done(&if archived {
        format!("workspace `{name}` archived: its content is read-only until an owner restores it")
    } else {
        format!("workspace `{name}` restored")
    });
    Ok(())
}

async fn invite(ctx: &Ctx, id: WorkspaceId, email: String, role: MemberRole) -> anyhow::Result<()> {
    let body = InviteToWorkspace {
        email,
        role: role.as_str().to_owned(),
    };
    let outcome = ctx.client.invite_to_workspace(id, &body).await?;
    if ctx.out.json {
        return ctx.out.print_json(&outcome);
    }
    match outcome {
        WorkspaceInviteOutcome::Invited(v) => ctx.out.done(&format!(
            "invitation {} to join as {} mailed to {}; it expires {}",
            v.invitation.id,
            v.invitation.role.as_str(),
            v.invitation.email,
            instant(v.invitation.expires_at)
        )),
        WorkspaceInviteOutcome::Updated(u) => ctx.out.done(&u.message),
    }
    Ok(())
}

async fn folder_create(ctx: &Ctx, a: FolderCreateArgs) -> anyhow::Result<()> {
    let (visibility, min_role) = tier(a.visibility, a.min_role);
    let body = CreateFolder {
        name: a.name,
        parent_id: a.parent,
        visibility,
        min_role,
    };
    ctx.out
        .record(&ctx.client.create_folder(a.id, &body).await?)
}

async fn folder_update(ctx: &Ctx, a: FolderUpdateArgs) -> anyhow::Result<()> {
    let (visibility, min_role) = tier(a.visibility, a.min_role);
    let parent_id = if a.top {
        Some(None)
    } else {
        a.parent.map(Some)
    };
    let body = UpdateFolder {
        name: a.name,
        parent_id,
        visibility,
        min_role,
    };
    if body == UpdateFolder::default() {
        bail!("nothing to update: give at least one field to change");
    }
    ctx.out
        .record(&ctx.client.update_folder(a.id, a.folder, &body).await?)
}

async fn documents(ctx: &Ctx, a: DocumentListArgs) -> anyhow::Result<()> {
    let filter = DocumentFilter {
        folder_id: a.folder,
        q: a.query,
        external_id: a.external_id,
    };
    let page = Page {
        limit: a.limit,
        cursor: a.cursor,
        order: None,
    };
    if a.all {
        ctx.out
            .items(ctx.client.list_all_documents(a.id, &filter, &page).await?)
    } else {
        ctx.out
            .page(&ctx.client.list_documents(a.id, &filter, &page).await?)
    }
}

async fn document_create(ctx: &Ctx, a: DocumentCreateArgs) -> anyhow::Result<()> {
    let body = match (a.body, a.body_file) {
        (Some(body), _) => body,
        (None, Some(path)) => std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the body file `{}`", path.display()))?,
        (None, None) => String::new(),
    };
    let request = CreateDocument {
        folder_id: a.folder,
        title: a.title,
        body,
        metadata: None,
        external_id: a.external_id,
    };
    ctx.out
        .record(&ctx.client.create_document(a.id, &request).await?)
}

async fn key_create(
    ctx: &Ctx,
    id: WorkspaceId,
    name: String,
    role: MemberRole,
) -> anyhow::Result<()> {
    let body = CreateWorkspaceKey {
        name,
        role: role.as_str().to_owned(),
    };
    let created = ctx.client.create_workspace_key(id, &body).await?;
    if ctx.out.json {
        return ctx.out.print_json(&created);
    }
    let key = &created.key;
    println!(
        "created API key {} {} (role {})",
        key.name,
        key.id,
        key.role.as_str()
    );
    println!("API key (shown once, keep it safe): {}", created.secret);
    Ok(())
}

/// `latchkey users access USER --workspace ID [--folder F]`.
pub async fn user_access(ctx: &Ctx, a: UserAccessArgs) -> anyhow::Result<ExitCode> {
    let access = ctx
        .client
        .workspace_access(a.id, a.workspace, a.folder)
        .await?;
    if ctx.out.json {
        ctx.out.print_json(&access)?;
    } else {
        print!("{}", access_text(&access));
    }
    success()
}

/// The access answer for people: a field/value table, then the explanation lines.
fn access_text(a: &WorkspaceAccess) -> String {
    let none = |items: &[String], empty: &str| {
        if items.is_empty() {
            empty.to_owned()
        } else {
            items.join(", ")
        }
    };
    let mut rows = vec![
        vec!["user".to_owned(), a.user_id.to_string()],
        vec!["workspace".to_owned(), a.workspace_id.to_string()],
        vec![
            "member role".to_owned(),
            a.member_role
                .map_or_else(|| "not a member".to_owned(), |r| r.as_str().to_owned()),
        ],
        vec!["teams".to_owned(), none(&a.teams, "none")],
        vec![
            "app permissions".to_owned(),
            none(&a.app_permissions, "none"),
        ],
    ];
    if let Some(f) = &a.folder {
        let name = f.name.as_ref().map_or_else(
            || f.folder_id.to_string(),
            |n| format!("{n} ({})", f.folder_id),
        );
        let tier = match f.min_role {
            Some(r) => format!("{} (min role {})", f.visibility.as_str(), r.as_str()),
            None => f.visibility.as_str().to_owned(),
        };
        rows.extend([
            vec!["folder".to_owned(), name],
            vec!["folder visibility".to_owned(), tier],
            vec![
                "folder needs".to_owned(),
                f.effective_min_role.as_str().to_owned(),
            ],
            vec![
                "sees the folder".to_owned(),
                if f.visible { "yes" } else { "no" }.to_owned(),
            ],
        ]);
    }
    let mut text = format!("{}\n", table(&[], rows.into_iter()));
    if !a.explanation.is_empty() {
        text.push_str("why:\n");
        for line in &a.explanation {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text
}

impl Tabular for latchkey_api::ItemView {
    const HEADERS: &'static [&'static str] =
        &["id", "kind", "name", "owner", "published", "collaborators"];
    fn row(&self) -> Vec<String> {
        let i = &self.item;
        vec![
            i.id.to_string(),
            i.kind.as_str().to_owned(),
            i.name.clone(),
            i.owner_id.to_string(),
            i.published_at.map(instant).unwrap_or_default(),
            self.collaborators.len().to_string(),
        ]
    }
}

/// `latchkey items …`.
pub async fn items(ctx: &Ctx, cmd: crate::cli::ItemsCmd) -> anyhow::Result<ExitCode> {
    use crate::cli::ItemsCmd;
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        ItemsCmd::List => out.items(client.items().await?)?,
        ItemsCmd::Show { id } => out.record(&client.item(id).await?)?,
        ItemsCmd::Create {
            kind,
            name,
            workspace,
        } => out.record(
            &client
                .create_item(&latchkey_api::CreateItem {
                    kind,
                    name,
                    workspace_id: workspace,
                })
                .await?,
        )?,
        ItemsCmd::Share { id, user } => out.record(&client.share_item(id, user).await?)?,
        ItemsCmd::Unshare { id, user } => {
            client.unshare_item(id, user).await?;
            out.done(&format!("item {id} is no longer shared with {user}"));
        }
        ItemsCmd::Publish { id } => out.record(&client.publish_item(id).await?)?,
        ItemsCmd::Withdraw { id } => out.record(&client.withdraw_item(id).await?)?,
        ItemsCmd::Sharing { set } => {
            if let Some(set) = set {
                client.set_sharing(set == "on").await?;
            }
            let now = client.sharing().await?;
            if out.json {
                out.print_json(&now)?;
            } else if now.unrestricted_sharing {
                println!("unrestricted sharing: on (owners share their items freely)");
            } else {
                println!(
                    "unrestricted sharing: off (sharing an orchestration needs orchestrations.share)"
                );
            }
        }
    }
    success()
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_api::FolderAccess;

    #[test]
    fn invitation_tokens_come_bare_or_in_their_link() {
        assert_eq!(invitation_token("lkwi_abc"), "lkwi_abc");
        assert_eq!(
            invitation_token(" https://lk.example/workspace-invite?token=lkwi_abc\n"),
            "lkwi_abc"
        );
        assert_eq!(
            invitation_token("https://lk.example/workspace-invite?token=lkwi_abc&x=1"),
            "lkwi_abc"
        );
    }

    #[test]
    fn a_min_role_alone_makes_a_role_folder() {
        assert_eq!(
            tier(None, Some(MemberRole::Editor)),
            (Some("role".to_owned()), Some("editor".to_owned()))
        );
        assert_eq!(
            tier(Some(Visibility::Workspace), None),
            (Some("workspace".to_owned()), None)
        );
        assert_eq!(tier(None, None), (None, None));
    }

    #[test]
    fn access_prints_roles_teams_permissions_the_folder_and_why() {
        let access = WorkspaceAccess {
            user_id: "0190a4b2-0000-7000-8000-000000000001".parse().unwrap(),
            workspace_id: "0190a4b2-0000-7000-8000-000000000002".parse().unwrap(),
            app_permissions: vec![],
            member_role: Some(MemberRole::Viewer),
            teams: vec!["Night shift".to_owned()],
            folder: Some(FolderAccess {
                folder_id: "0190a4b2-0000-7000-8000-000000000003".parse().unwrap(),
                name: None,
                visibility: Visibility::Role,
                min_role: Some(MemberRole::Editor),
                effective_min_role: MemberRole::Editor,
                visible: false,
            }),
            explanation: vec!["ana is a member".to_owned(), "folder hidden".to_owned()],
        };
        let text = access_text(&access);
        for part in [
            "member role",
            "viewer",
            "Night shift",
            "app permissions",
            "none",
            "role (min role editor)",
            "sees the folder",
            "no",
            "why:\n  ana is a member\n  folder hidden\n",
        ] {
            assert!(text.contains(part), "no `{part}` in\n{text}");
        }
    }
}
