//! The directory's commands: `users`, `groups` and `memberships`, each with list, show,
//! create, update and delete.

use std::process::ExitCode;

use latchkey_api::{
    CreateGroup, CreateMembership, CreateUser, UpdateGroup, UpdateMembership, UpdateUser,
};
use latchkey_client::{GroupFilter, MembershipFilter, UserFilter};

use super::{Ctx, ensure_changes, page_of, replace_list, success};
use crate::cli::{GroupsCmd, MembershipsCmd, UsersCmd};
use crate::parse::{attributes, clearable};

pub async fn users(ctx: &Ctx, cmd: UsersCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        UsersCmd::List(a) => {
            let filter = UserFilter {
                q: a.query,
                user_name: a.user_name,
                email: a.email,
                enabled: a.enabled,
                user_type: a.user_type,
                primary_group_id: a.primary_group,
                member_of: a.member_of,
                attribute: a.attribute,
                sort: a.sort.map(|s| s.as_str().to_owned()),
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_users(&filter, &page).await?)?;
            } else {
                out.page(&client.list_users(&filter, &page).await?)?;
            }
        }
        UsersCmd::Show { id } => out.record(&client.get_user(id).await?)?,
        UsersCmd::Create(a) => {
            let body = CreateUser {
                user_name: a.user_name,
                first_name: a.first_name,
                middle_name: a.middle_name,
                last_name: a.last_name,
                email: a.email,
                mail_aliases: a.mail_aliases,
                user_type: a.user_type,
                primary_group_id: a.primary_group,
                enabled: a.enabled,
                multi_session: a.multi_session,
                comments: a.comments,
                attributes: attributes(&a.attrs),
            };
            out.record(&client.create_user(&body).await?)?;
        }
        UsersCmd::Update(a) => {
            let body = UpdateUser {
                user_name: a.user_name,
                first_name: a.first_name,
                middle_name: clearable(a.middle_name, a.clear_middle_name),
                last_name: a.last_name,
                email: clearable(a.email, a.clear_email),
                mail_aliases: replace_list(a.mail_aliases, a.clear_mail_aliases),
                user_type: clearable(a.user_type, a.clear_user_type),
                primary_group_id: a.primary_group,
                enabled: a.enabled,
                multi_session: a.multi_session,
                comments: clearable(a.comments, a.clear_comments),
                attributes: (!a.attrs.is_empty()).then(|| attributes(&a.attrs)),
            };
            ensure_changes(&body)?;
            out.record(&client.update_user(a.id, &body, a.if_match.if_match).await?)?;
        }
        UsersCmd::Delete { id, reassign_to } => match reassign_to {
            Some(to) => {
                client.delete_user_reassigning(id, to).await?;
                out.done(&format!(
                    "deleted user {id}; what they owned now belongs to {to}"
                ));
            }
            None => {
                client.delete_user(id).await?;
                out.done(&format!("deleted user {id}"));
            }
        },
        UsersCmd::Owned { id } => {
            let owned = client.owned(id).await?;
            if out.json {
                out.print_json(&owned)?;
            } else if owned.owned.is_empty() {
                println!("user {id} owns nothing that a deletion would hand over");
            } else {
                let rows = owned.owned.iter().map(|o| {
                    vec![
                        o.what.clone(),
                        o.id.clone(),
                        o.name.clone(),
                        o.detail.clone().unwrap_or_default(),
                    ]
                });
                println!(
                    "{}",
                    crate::output::table(&["what", "id", "name", "kind or workspace"], rows)
                );
            }
        }
        UsersCmd::Deleted => {
            let gone = client.deleted_users().await?;
            if out.json {
                out.print_json(&gone)?;
            } else {
                let rows = gone.iter().map(|d| {
                    vec![
                        d.id.to_string(),
                        d.user_name.clone(),
                        d.full_name.clone(),
                        crate::output::instant(d.deleted_at),
                        d.reassigned_to.map(|u| u.to_string()).unwrap_or_default(),
                    ]
                });
                println!(
                    "{}",
                    crate::output::table(
                        &["id", "user name", "full name", "deleted", "reassigned to"],
                        rows
                    )
                );
            }
        }
        UsersCmd::Access(a) => return super::workspaces::user_access(ctx, a).await,
        UsersCmd::RestoreGrants { id, at, dry_run } => {
            return super::history::restore_grants(ctx, id, at, dry_run).await;
        }
    }
    success()
}

pub async fn groups(ctx: &Ctx, cmd: GroupsCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        GroupsCmd::List(a) => {
            let filter = GroupFilter {
                q: a.query,
                parent_id: a.parent,
                disabled: a.disabled,
                group_type: a.group_type,
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_groups(&filter, &page).await?)?;
            } else {
                out.page(&client.list_groups(&filter, &page).await?)?;
            }
        }
        GroupsCmd::Show { id } => out.record(&client.get_group(id).await?)?,
        GroupsCmd::Create(a) => {
            let body = CreateGroup {
                name: a.name,
                description: a.description,
                group_type: a.group_type,
                parent_id: a.parent,
                disabled: a.disabled,
                active_since: a.active_since,
                active_until: a.active_until,
                attributes: attributes(&a.attrs),
            };
            out.record(&client.create_group(&body).await?)?;
        }
        GroupsCmd::Update(a) => {
            let body = UpdateGroup {
                name: a.name,
                description: clearable(a.description, a.clear_description),
                group_type: clearable(a.group_type, a.clear_group_type),
                parent_id: clearable(a.parent, a.clear_parent),
                disabled: a.disabled,
                active_since: clearable(a.active_since, a.clear_active_since),
                active_until: clearable(a.active_until, a.clear_active_until),
                attributes: (!a.attrs.is_empty()).then(|| attributes(&a.attrs)),
            };
            ensure_changes(&body)?;
            out.record(
                &client
                    .update_group(a.id, &body, a.if_match.if_match)
                    .await?,
            )?;
        }
        GroupsCmd::Delete { id } => {
            client.delete_group(id).await?;
            out.done(&format!("deleted group {id}"));
        }
        GroupsCmd::Members { id, at, limit } => {
            return super::history::group_members(ctx, id, at, limit).await;
        }
        GroupsCmd::RestoreMembers { id, at, dry_run } => {
            return super::history::restore_members(ctx, id, at, dry_run).await;
        }
    }
    success()
}

pub async fn memberships(ctx: &Ctx, cmd: MembershipsCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        MembershipsCmd::List(a) => {
            let filter = MembershipFilter {
                user_id: a.user,
                group_id: a.group,
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_memberships(&filter, &page).await?)?;
            } else {
                out.page(&client.list_memberships(&filter, &page).await?)?;
            }
        }
        MembershipsCmd::Show { id } => out.record(&client.get_membership(id).await?)?,
        MembershipsCmd::Create(a) => {
            let body = CreateMembership {
                user_id: a.user,
                group_id: a.group,
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                comments: a.comments,
                attributes: attributes(&a.attrs),
            };
            out.record(&client.create_membership(&body).await?)?;
        }
        MembershipsCmd::Update(a) => {
            let body = UpdateMembership {
                starts_at: clearable(a.starts_at, a.clear_starts_at),
                ends_at: clearable(a.ends_at, a.clear_ends_at),
                comments: clearable(a.comments, a.clear_comments),
                attributes: (!a.attrs.is_empty()).then(|| attributes(&a.attrs)),
            };
            ensure_changes(&body)?;
            out.record(
                &client
                    .update_membership(a.id, &body, a.if_match.if_match)
                    .await?,
            )?;
        }
        MembershipsCmd::Delete { id } => {
            client.delete_membership(id).await?;
            out.done(&format!("deleted membership {id}"));
        }
    }
    success()
}
