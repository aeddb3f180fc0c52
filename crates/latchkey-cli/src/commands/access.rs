//! Access commands: `systems` (with their custom domains), `roles` (with granted roles and
//! holders) and `grants`.

use std::process::ExitCode;

use latchkey_api::{
    CreateDomain, CreateGrant, CreateGrantedRole, CreateRole, CreateSystem, UpdateDomain,
    UpdateGrant, UpdateRole, UpdateSystem,
};
use latchkey_client::{GrantFilter, RoleFilter, SystemFilter};

use super::{Ctx, ensure_changes, page_of, replace_list, success};
use crate::cli::{GrantsCmd, RolesCmd, SystemsCmd};
use crate::parse::clearable;
use crate::tree;

pub async fn systems(ctx: &Ctx, cmd: SystemsCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        SystemsCmd::List(a) => {
            let filter = SystemFilter {
                q: a.query,
                parent_id: a.parent,
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_systems(&filter, &page).await?)?;
            } else {
                out.page(&client.list_systems(&filter, &page).await?)?;
            }
        }
        SystemsCmd::Show { id } => out.record(&client.get_system(id).await?)?,
        SystemsCmd::Create(a) => {
            let body = CreateSystem {
                name: a.name,
                description: a.description,
                system_type: a.system_type.map(|t| t.as_str().to_owned()),
                parent_id: a.parent,
                owner_id: a.owner,
                notification_emails: a.notification_emails,
                approval_process: a.approval_process,
                single_role: a.single_role,
                approver_role_id: a.approver_role,
            };
            out.record(&client.create_system(&body).await?)?;
        }
        SystemsCmd::Update(a) => {
            let body = UpdateSystem {
                name: a.name,
                description: clearable(a.description, a.clear_description),
                system_type: a.system_type.map(|t| t.as_str().to_owned()),
                parent_id: clearable(a.parent, a.clear_parent),
                owner_id: clearable(a.owner, a.clear_owner),
                notification_emails: replace_list(
                    a.notification_emails,
                    a.clear_notification_emails,
                ),
                approval_process: a.approval_process,
                single_role: a.single_role,
                approver_role_id: clearable(a.approver_role, a.clear_approver_role),
            };
            ensure_changes(&body)?;
            out.record(
                &client
                    .update_system(a.id, &body, a.if_match.if_match)
                    .await?,
            )?;
        }
        SystemsCmd::Delete { id } => {
            client.delete_system(id).await?;
            out.done(&format!("deleted information system {id}"));
        }
        SystemsCmd::Domains { system_id } => out.items(client.list_domains(system_id).await?)?,
        SystemsCmd::AddDomain(a) => {
            let body = CreateDomain {
                name: a.name,
                description: a.description,
                values: a.values,
            };
            out.record(&client.create_domain(a.system_id, &body).await?)?;
        }
        SystemsCmd::UpdateDomain(a) => {
            let body = UpdateDomain {
                name: a.name,
                description: clearable(a.description, a.clear_description),
                values: replace_list(a.values, false),
            };
            ensure_changes(&body)?;
            out.record(
                &client
                    .update_domain(a.id, &body, a.if_match.if_match)
                    .await?,
            )?;
        }
        SystemsCmd::DeleteDomain { id } => {
            client.delete_domain(id).await?;
            out.done(&format!("deleted domain {id}"));
        }
    }
    success()
}

pub async fn roles(ctx: &Ctx, cmd: RolesCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        RolesCmd::List(a) => {
            let filter = RoleFilter {
                q: a.query,
                system_id: a.system,
                privileged: a.privileged,
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_roles(&filter, &page).await?)?;
            } else {
                out.page(&client.list_roles(&filter, &page).await?)?;
            }
        }
        RolesCmd::Show { id } => out.record(&client.get_role(id).await?)?,
        RolesCmd::Create(a) => {
            let body = CreateRole {
                name: a.name,
                system_id: a.system,
                description: a.description,
                category: a.category,
                domain_type: a.domain_type.map(|t| t.as_str().to_owned()),
                domain_id: a.domain,
                external_id: a.external_id,
                owner_id: a.owner,
                privileged: a.privileged,
                permissions: a.permissions,
            };
            out.record(&client.create_role(&body).await?)?;
        }
        RolesCmd::Update(a) => {
            let body = UpdateRole {
                name: a.name,
                description: clearable(a.description, a.clear_description),
                category: clearable(a.category, a.clear_category),
                external_id: clearable(a.external_id, a.clear_external_id),
                owner_id: clearable(a.owner, a.clear_owner),
                privileged: a.privileged,
                permissions: replace_list(a.permissions, a.clear_permissions),
            };
            ensure_changes(&body)?;
            out.record(&client.update_role(a.id, &body, a.if_match.if_match).await?)?;
        }
        RolesCmd::Delete { id } => {
            client.delete_role(id).await?;
            out.done(&format!("deleted role {id}"));
        }
        RolesCmd::GrantedRoles { id } => out.items(client.granted_roles(id).await?)?,
        RolesCmd::GrantRole(a) => {
            let body = CreateGrantedRole {
                role_id: a.child,
                mandatory: a.mandatory,
                scope_mode: a.scope_mode.map(|m| m.as_str().to_owned()),
                scope_value: a.scope_value,
            };
            out.record(&client.grant_role(a.parent, &body).await?)?;
        }
        RolesCmd::RemoveGrantedRole { parent, edge } => {
            client.remove_granted_role(parent, edge).await?;
            out.done(&format!("removed granted role {edge} from role {parent}"));
        }
        RolesCmd::Holders { id, at } => {
            let answer = client.role_holders(id, at).await?;
            if out.json {
                out.print_json(&answer)?;
            } else {
                print!("{}", tree::render_role_holders(&answer));
            }
        }
    }
    success()
}

pub async fn grants(ctx: &Ctx, cmd: GrantsCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        GrantsCmd::List(a) => {
            let filter = GrantFilter {
                role_id: a.role,
                user_id: a.user,
                group_id: a.group,
                status: a.status,
                origin: a.origin,
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_grants(&filter, &page).await?)?;
            } else {
                out.page(&client.list_grants(&filter, &page).await?)?;
            }
        }
        GrantsCmd::Show { id } => out.record(&client.get_grant(id).await?)?,
        GrantsCmd::Create(a) => {
            let body = CreateGrant {
                role_id: a.role,
                user_id: a.user,
                group_id: a.group,
                scope: a.scope,
                starts_at: a.starts_at,
                ends_at: a.ends_at,
            };
            // A grant that waits for approval answers 202 with its request, printed too.
            let answer: serde_json::Value = client.create("/api/v1/grants", &body).await?;
            out.record(&answer)?;
        }
        GrantsCmd::Update(a) => {
            let body = UpdateGrant {
                starts_at: clearable(a.starts_at, a.clear_starts_at),
                ends_at: clearable(a.ends_at, a.clear_ends_at),
            };
            ensure_changes(&body)?;
            out.record(
                &client
                    .update_grant(a.id, &body, a.if_match.if_match)
                    .await?,
            )?;
        }
        GrantsCmd::Revoke { id } => match client.revoke_or_request(id).await? {
            None => out.done(&format!("revoked grant {id}")),
            Some(request) => out.record(&request)?,
        },
    }
    success()
}
