//! Runs a parsed command line: `serve` and `login` first (they need no saved profile), then
//! every other command against a [`Client`] built from the flags and the profile. Each
//! resource's commands live in a submodule; they turn flags into API bodies and print the
//! answer through [`Output`].

mod access;
pub mod approvals;
mod directory;
pub mod history;
pub mod reviews;
mod rules;
mod security;
mod settings;
pub mod sod;
mod totp;
mod transfer;
mod workspaces;

use std::process::ExitCode;

use anyhow::{Context, bail};
use latchkey_client::{Client, Page};
use serde::Serialize;

use crate::cli::{Cli, Command, GlobalArgs, ListArgs};
use crate::config::{self, DEFAULT_PROFILE, Profile};
use crate::output::{Output, table};
use crate::tree;

/// What every command needs: the client and the printer.
pub struct Ctx {
    pub client: Client,
    pub out: Output,
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let Cli { global, command } = cli;
    let out = Output { json: global.json };
    match command {
        Command::Serve(args) => crate::serve::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Login => login(&global, out).await,
        Command::SignIn(args) => security::sign_in(&global, out, args).await,
        command => {
            let ctx = Ctx {
                client: connect(&global)?,
                out,
            };
            dispatch(&ctx, command).await
        }
    }
}

async fn dispatch(ctx: &Ctx, command: Command) -> anyhow::Result<ExitCode> {
    match command {
        // Handled in `run`; listed so that the match stays exhaustive.
        Command::Serve(_) | Command::Login | Command::SignIn(_) => {
            bail!("this command takes no connection")
        }
        Command::SignOut => security::sign_out(ctx).await,
        Command::Sessions(cmd) => security::sessions(ctx, cmd).await,
        Command::SetPassword(args) => security::set_password(ctx, args).await,
        Command::Security(cmd) => security::security(ctx, cmd).await,
        Command::Invite(args) => security::invite(ctx, args).await,
        Command::Invitations(cmd) => security::invitations(ctx, cmd).await,
        Command::Totp(cmd) => totp::totp(ctx, cmd).await,
        Command::Passkeys(cmd) => security::passkeys(ctx, cmd).await,
        Command::Whoami => whoami(ctx).await,
        Command::Permissions => {
            ctx.out.items(ctx.client.permissions().await?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Organisations(cmd) => settings::organisations(ctx, cmd).await,
        Command::Users(cmd) => directory::users(ctx, cmd).await,
        Command::Items(cmd) => workspaces::items(ctx, cmd).await,
        Command::Rules(cmd) => rules::rules(ctx, cmd).await,
        Command::Sod(cmd) => sod::sod(ctx, cmd).await,
        Command::Approvals(cmd) => approvals::approvals(ctx, cmd).await,
        Command::Reviews(cmd) => reviews::reviews(ctx, cmd).await,
        Command::Groups(cmd) => directory::groups(ctx, cmd).await,
        Command::Memberships(cmd) => directory::memberships(ctx, cmd).await,
        Command::Systems(cmd) => access::systems(ctx, cmd).await,
        Command::Roles(cmd) => access::roles(ctx, cmd).await,
        Command::Grants(cmd) => access::grants(ctx, cmd).await,
        Command::Metadata(cmd) => settings::metadata(ctx, cmd).await,
        Command::MailDomains(cmd) => settings::mail_domains(ctx, cmd).await,
        Command::Preview(args) => history::preview(ctx, args).await,
        Command::Check(args) => {
            let request = latchkey_api::CheckRequest {
                user: args.user_id,
                role: args.role,
                permission: args.permission,
                scope: args.scope,
                explain: args.explain,
                at: args.at,
            };
            let answer = ctx.client.check(&request).await?;
            if ctx.out.json {
                ctx.out.print_json(&answer)?;
            } else {
                println!("{}", if answer.allowed { "allowed" } else { "denied" });
                if let Some(reason) = &answer.reason {
                    println!("  {reason}");
                }
                if let Some(paths) = &answer.paths {
                    let held = request.permission.as_deref().unwrap_or("the role");
                    let nodes: Vec<tree::Node> =
                        paths.iter().map(|p| tree::path_node(p, held)).collect();
                    print!("{}", tree::render("granted by", &nodes, "no path"));
                }
            }
            Ok(if answer.allowed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::EffectiveRoles(args) => {
            let answer = ctx.client.effective_roles(args.user_id, args.at).await?;
            if ctx.out.json {
                ctx.out.print_json(&answer)?;
            } else {
                print!("{}", tree::render_effective_roles(&answer));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => transfer::import(ctx, args).await,
        Command::Export(args) => transfer::export(ctx, args).await,
        Command::Audit(cmd) => settings::audit(ctx, cmd).await,
        Command::Tokens(cmd) => settings::tokens(ctx, cmd).await,
        Command::Workspaces(cmd) => workspaces::workspaces(ctx, cmd).await,
    }
}

/// The client for the flags, the environment and the saved profile.
fn connect(global: &GlobalArgs) -> anyhow::Result<Client> {
    // With both flags and no profile named, the profile file is not needed (nor read, so a
    // broken one does not get in the way).
    let file = if global.url.is_some() && global.token.is_some() && global.profile.is_none() {
        config::ProfileFile::default()
    } else {
        config::load(&config::default_config_dir()?)?
    };
    let profile = config::resolve(
        global.url.as_deref(),
        global.token.as_deref(),
        global.profile.as_deref(),
        &file,
    )?;
    Ok(Client::new(profile.url, profile.token))
}

/// Checks the URL and token with `GET /me`, then saves them.
async fn login(global: &GlobalArgs, out: Output) -> anyhow::Result<ExitCode> {
    let (Some(url), Some(token)) = (global.url.clone(), global.token.clone()) else {
        bail!("login needs --url and --token (or LATCHKEY_URL and LATCHKEY_TOKEN)");
    };
    let me = Client::new(url.clone(), token.clone())
        .me()
        .await
        .with_context(|| format!("cannot log in to `{url}`"))?;
    let name = global.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
    let dir = config::default_config_dir()?;
    let path = config::save_profile(
        &dir,
        name,
        Profile {
            url: url.clone(),
            token,
        },
    )?;
    if out.json {
        out.print_json(&me)?;
    } else {
        println!(
            "logged in to {url} as {} (organisation {}); profile `{name}` saved in {}",
            me.user_name,
            me.org_slug,
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn whoami(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let me = ctx.client.me().await?;
    if ctx.out.json {
        ctx.out.print_json(&me)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        vec![
            "user".to_owned(),
            format!("{} ({})", me.user_name, me.user_id),
        ],
        vec![
            "organisation".to_owned(),
            format!("{} ({})", me.org_slug, me.org_id),
        ],
        vec!["server".to_owned(), ctx.client.base_url().to_owned()],
        vec!["permissions".to_owned(), me.permissions.join(", ")],
    ];
    if me.installation_admin {
        rows.push(vec!["installation admin".to_owned(), "yes".to_owned()]);
    }
    for (permission, scopes) in &me.scoped_permissions {
        rows.push(vec![format!("{permission} (scoped)"), scopes.join(", ")]);
    }
    println!("{}", table(&[], rows.into_iter()));
    Ok(ExitCode::SUCCESS)
}

/// The page a `list` asks for.
fn page_of(args: &ListArgs) -> Page {
    Page {
        limit: args.limit,
        cursor: args.cursor.clone(),
        order: args.order,
    }
}

/// Refuses an update that would change nothing, rather than sending an empty PATCH.
fn ensure_changes<T: Serialize>(body: &T) -> anyhow::Result<()> {
    let value = serde_json::to_value(body).context("cannot encode the update")?;
    if value.as_object().is_some_and(serde_json::Map::is_empty) {
        bail!("nothing to update: give at least one field to change");
    }
    Ok(())
}

/// `Some(list)` when values are given, `Some(vec![])` when cleared, else `None`.
fn replace_list<T>(values: Vec<T>, clear: bool) -> Option<Vec<T>> {
    if clear || !values.is_empty() {
        Some(values)
    } else {
        None
    }
}

fn success() -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_api::UpdateUser;

    #[test]
    fn empty_updates_are_refused() {
        assert!(ensure_changes(&UpdateUser::default()).is_err());
        let body = UpdateUser {
            email: Some(None),
            ..UpdateUser::default()
        };
        assert!(ensure_changes(&body).is_ok());
    }

    #[test]
    fn lists_are_replaced_only_when_asked() {
        assert_eq!(replace_list(Vec::<u8>::new(), false), None);
        assert_eq!(replace_list(Vec::<u8>::new(), true), Some(vec![]));
        assert_eq!(replace_list(vec![1], false), Some(vec![1]));
    }
}
