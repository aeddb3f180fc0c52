//! Organisation-level commands: `organisations`, `metadata` (attribute definitions and user
//! types), `mail-domains`, `audit` and `tokens`. Secrets the server shows once (a new
//! organisation's admin token, a new API token) are printed with a warning to keep them.

use std::process::ExitCode;

use latchkey_api::{
    CreateAttribute, CreateMailDomain, CreateOrganisation, CreateToken, CreateUserType,
    UpdateAttribute, UpdateMailDomain, UpdateUserType,
};
use latchkey_client::{AttributeFilter, AuditFilter};

use super::{Ctx, ensure_changes, page_of, replace_list, success};
use crate::cli::{
    AttributesCmd, AuditCmd, MailDomainsCmd, MetadataCmd, OrganisationsCmd, TokensCmd, UserTypesCmd,
};
use crate::output::instant;
use crate::parse::clearable;

pub async fn organisations(ctx: &Ctx, cmd: OrganisationsCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        OrganisationsCmd::List(a) => {
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_organisations(&page).await?)?;
            } else {
                out.page(&client.list_organisations(&page).await?)?;
            }
        }
        OrganisationsCmd::Create { name, slug } => {
            let created = client
                .create_organisation(&CreateOrganisation { name, slug })
                .await?;
            if out.json {
                out.print_json(&created)?;
            } else {
                let org = &created.organisation;
                println!(
                    "created organisation {} ({}) {}",
                    org.name, org.slug, org.id
                );
                println!(
                    "administrator: {} {}",
                    created.admin_user_name, created.admin_user_id
                );
                println!(
                    "administrator token (shown once, keep it safe): {}",
                    created.admin_token
                );
            }
        }
    }
    success()
}

pub async fn metadata(ctx: &Ctx, cmd: MetadataCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        MetadataCmd::Attributes(cmd) => attributes(ctx, cmd).await,
        MetadataCmd::UserTypes(cmd) => user_types(ctx, cmd).await,
    }
}

async fn attributes(ctx: &Ctx, cmd: AttributesCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        AttributesCmd::List {
            object_type,
            page: args,
        } => {
            let filter = AttributeFilter { object_type };
            let page = page_of(&args);
            if args.all {
                out.items(client.list_all_attributes(&filter, &page).await?)?;
            } else {
                out.page(&client.list_attributes(&filter, &page).await?)?;
            }
        }
        AttributesCmd::Show { id } => out.record(&client.get_attribute(id).await?)?,
        AttributesCmd::Create(a) => {
            let body = CreateAttribute {
                object_type: a.object_type.as_str().to_owned(),
                name: a.name,
                label: a.label,
                data_type: a.data_type.as_str().to_owned(),
                required: a.required,
                unique: a.unique,
                allowed_values: a.allowed_values,
                position: a.position,
            };
            out.record(&client.create_attribute(&body).await?)?;
        }
        AttributesCmd::Update(a) => {
            let body = UpdateAttribute {
                label: clearable(a.label, a.clear_label),
                required: a.required,
                unique: a.unique,
                allowed_values: replace_list(a.allowed_values, a.clear_allowed_values),
                position: a.position,
            };
            ensure_changes(&body)?;
            out.record(
                &client
                    .update_attribute(a.id, &body, a.if_match.if_match)
                    .await?,
            )?;
        }
        AttributesCmd::Delete { id } => {
            client.delete_attribute(id).await?;
            out.done(&format!("deleted attribute definition {id}"));
        }
    }
    success()
}

async fn user_types(ctx: &Ctx, cmd: UserTypesCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        UserTypesCmd::List(a) => {
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_user_types(&page).await?)?;
            } else {
                out.page(&client.list_user_types(&page).await?)?;
            }
        }
        UserTypesCmd::Create { code, description } => {
            out.record(
                &client
                    .create_user_type(&CreateUserType { code, description })
                    .await?,
            )?;
        }
        UserTypesCmd::Update {
            id,
            description,
            clear_description,
            if_match,
        } => {
            let body = UpdateUserType {
                description: clearable(description, clear_description),
            };
            ensure_changes(&body)?;
            out.record(
                &client
                    .update_user_type(id, &body, if_match.if_match)
                    .await?,
            )?;
        }
        UserTypesCmd::Delete { id } => {
            client.delete_user_type(id).await?;
            out.done(&format!("deleted user type {id}"));
        }
    }
    success()
}

pub async fn mail_domains(ctx: &Ctx, cmd: MailDomainsCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        MailDomainsCmd::List(a) => {
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_mail_domains(&page).await?)?;
            } else {
                out.page(&client.list_mail_domains(&page).await?)?;
            }
        }
        MailDomainsCmd::Show { id } => out.record(&client.get_mail_domain(id).await?)?,
        MailDomainsCmd::Create {
            code,
            description,
            obsolete,
        } => {
            out.record(
                &client
                    .create_mail_domain(&CreateMailDomain {
                        code,
                        description,
                        obsolete,
                    })
                    .await?,
            )?;
        }
        MailDomainsCmd::Update {
            id,
            description,
            clear_description,
            obsolete,
            if_match,
        } => {
            let body = UpdateMailDomain {
                description: clearable(description, clear_description),
                obsolete,
            };
            ensure_changes(&body)?;
            out.record(
                &client
                    .update_mail_domain(id, &body, if_match.if_match)
                    .await?,
            )?;
        }
        MailDomainsCmd::Delete { id } => {
            client.delete_mail_domain(id).await?;
            out.done(&format!("deleted mail domain {id}"));
        }
    }
    success()
}

pub async fn audit(ctx: &Ctx, cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        AuditCmd::List(a) => {
            let filter = AuditFilter {
                object_type: a.object_type,
                object_id: a.object_id,
                actor_id: a.actor,
                action: a.action,
                from: a.from,
                to: a.to,
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_audit(&filter, &page).await?)?;
            } else {
                out.page(&client.list_audit(&filter, &page).await?)?;
            }
            success()
        }
        AuditCmd::Verify => {
            let answer = client.verify_audit().await?;
            if out.json {
                out.print_json(&answer)?;
            }
            if answer.ok {
                out.done(&format!(
                    "audit chain intact: {} entries checked",
                    answer.entries
                ));
                return success();
            }
            let at = answer
                .broken_at_seq
                .map(|s| format!(" at entry {s}"))
                .unwrap_or_default();
            let reason = answer.reason.as_deref().unwrap_or("no reason given");
            eprintln!(
                "error: the audit chain is broken{at}: {reason} ({} entries checked); the audit trail has been altered",
                answer.entries
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

pub async fn tokens(ctx: &Ctx, cmd: TokensCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        TokensCmd::List(a) => {
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_tokens(&page).await?)?;
            } else {
                out.page(&client.list_tokens(&page).await?)?;
            }
        }
        TokensCmd::Create { name, expires_at } => {
            let created = client
                .create_token(&CreateToken { name, expires_at })
                .await?;
            if out.json {
                out.print_json(&created)?;
            } else {
                let expires = created
                    .expires_at
                    .map_or_else(|| "never".to_owned(), instant);
                println!(
                    "created token {} {} (expires: {expires})",
                    created.name, created.id
                );
                println!("token (shown once, keep it safe): {}", created.token);
            }
        }
        TokensCmd::Revoke { id } => {
            client.revoke_token(id).await?;
            out.done(&format!("revoked token {id}"));
        }
    }
    success()
}
