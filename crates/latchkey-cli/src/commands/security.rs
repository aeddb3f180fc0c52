//! Signing in and out, sessions, passwords and the Security Center.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use latchkey_api::{AlertAction, PasswordSignIn, SetPassword};
use latchkey_client::{Client, SecurityAlertFilter, SecurityEventFilter};

use super::{Ctx, page_of, success};
use crate::cli::{
    GlobalArgs, InvitationsCmd, InviteArgs, PasskeysCmd, SecurityCmd, SessionsCmd, SetPasswordArgs,
    SignInArgs,
};
use crate::config::{self, DEFAULT_PROFILE, Profile};
use crate::output::Output;

/// The password from the first line of `file`, else from `LATCHKEY_PASSWORD`; never from
/// the command line, where other users of the machine could read it.
fn password(file: Option<&Path>) -> anyhow::Result<String> {
    let raw = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the password file `{}`", path.display()))?,
        None => std::env::var("LATCHKEY_PASSWORD")
            .context("give --password-file FILE or set LATCHKEY_PASSWORD")?,
    };
    let line = raw.lines().next().unwrap_or_default().to_owned();
    if line.is_empty() {
        bail!("the password is empty");
    }
    Ok(line)
}

/// Signs in and saves the session as the profile, like `login` does with a token.
pub async fn sign_in(
    global: &GlobalArgs,
    out: Output,
    args: SignInArgs,
) -> anyhow::Result<ExitCode> {
    let Some(url) = global.url.clone() else {
        bail!("sign-in needs --url (or LATCHKEY_URL)");
    };
    let request = PasswordSignIn {
        organisation: args.organisation,
        user_name: args.user_name,
        password: password(args.password_file.as_deref())?,
        totp_code: args.totp_code,
    };
    let signed = Client::new(url.clone(), "")
        .sign_in_password(&request)
        .await
        .with_context(|| format!("cannot sign in to `{url}`"))?;
    let name = global.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
    let dir = config::default_config_dir()?;
    let path = config::save_profile(
        &dir,
        name,
        Profile {
            url: url.clone(),
            token: signed.token.clone(),
        },
    )?;
    if out.json {
        // The secret is in the profile, not on the screen.
        let mut shown = serde_json::to_value(&signed)?;
        if let Some(o) = shown.as_object_mut() {
            o.remove("token");
        }
        out.print_json(&shown)?;
    } else {
        println!(
            "signed in to {url} as {} (organisation {}) until {}; profile `{name}` saved in {}",
            request.user_name,
            signed.organisation,
            signed.expires_at,
            path.display()
        );
        if signed.ended_sessions > 0 {
            println!("ended {} earlier session(s)", signed.ended_sessions);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn sign_out(ctx: &Ctx) -> anyhow::Result<ExitCode> {
    ctx.client.sign_out().await?;
    ctx.out.done("signed out: the session has ended");
    success()
}

pub async fn sessions(ctx: &Ctx, cmd: SessionsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SessionsCmd::List => ctx.out.items(ctx.client.list_sessions().await?)?,
        SessionsCmd::Revoke { id } => {
            ctx.client.revoke_session(id).await?;
            ctx.out.done(&format!("session {id} ended"));
        }
    }
    success()
}

pub async fn set_password(ctx: &Ctx, args: SetPasswordArgs) -> anyhow::Result<ExitCode> {
    let body = SetPassword {
        password: password(args.password_file.as_deref())?,
    };
    ctx.client.set_password(args.user_id, &body).await?;
    ctx.out.done(&format!(
        "password of {} set; their sessions have ended",
        args.user_id
    ));
    success()
}

pub async fn security(ctx: &Ctx, cmd: SecurityCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        SecurityCmd::Snapshots(cmd) => return super::history::snapshots(ctx, cmd).await,
        SecurityCmd::Events {
            kind,
            user_id,
            page,
        } => {
            let filter = SecurityEventFilter { kind, user_id };
            out.page(
                &client
                    .list_security_events(&filter, &page_of(&page))
                    .await?,
            )?;
        }
        SecurityCmd::Alerts { status, rule, page } => {
            let filter = SecurityAlertFilter { status, rule };
            out.page(
                &client
                    .list_security_alerts(&filter, &page_of(&page))
                    .await?,
            )?;
        }
        SecurityCmd::Acknowledge { id, note } => {
            let alert = client
                .move_alert(id, "acknowledge", &AlertAction { note })
                .await?;
            if out.json {
                out.print_json(&alert)?;
            } else {
                out.done(&format!("alert {id} acknowledged"));
            }
        }
        SecurityCmd::Resolve { id, note } => {
            let alert = client
                .move_alert(id, "resolve", &AlertAction { note })
                .await?;
            if out.json {
                out.print_json(&alert)?;
            } else {
                out.done(&format!("alert {id} resolved"));
            }
        }
    }
    success()
}

pub async fn invite(ctx: &Ctx, args: InviteArgs) -> anyhow::Result<ExitCode> {
    let body = latchkey_api::Invite {
        email: args.email,
        role_id: args.role,
        group_id: args.group,
    };
    let outcome = ctx.client.invite(&body).await?;
    if ctx.out.json {
        ctx.out.print_json(&outcome)?;
        return success();
    }
    match outcome {
        latchkey_api::InviteOutcome::Invited(v) => ctx.out.done(&format!(
            "invitation {} mailed to {}; it expires {}",
            v.invitation.id, v.invitation.email, v.invitation.expires_at
        )),
        latchkey_api::InviteOutcome::Updated(u) => ctx.out.done(&u.message),
    }
    success()
}

pub async fn invitations(ctx: &Ctx, cmd: InvitationsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        InvitationsCmd::List { email, status } => {
            let filter = latchkey_client::InvitationFilter { email, status };
            ctx.out.items(ctx.client.list_invitations(&filter).await?)?;
        }
        InvitationsCmd::Revoke { id } => {
            let v = ctx.client.revoke_invitation(id).await?;
            if ctx.out.json {
                ctx.out.print_json(&v)?;
            } else {
                ctx.out.done(&format!(
                    "invitation {id} to {} revoked",
                    v.invitation.email
                ));
            }
        }
    }
    success()
}

pub async fn passkeys(ctx: &Ctx, cmd: PasskeysCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        PasskeysCmd::List { user } => ctx.out.items(ctx.client.list_passkeys(user).await?)?,
        PasskeysCmd::Rename { id, name } => {
            let renamed = ctx.client.rename_passkey(id, &name).await?;
            if ctx.out.json {
                ctx.out.print_json(&renamed)?;
            } else {
                ctx.out
                    .done(&format!("passkey {id} is now `{}`", renamed.name));
            }
        }
        PasskeysCmd::Remove { id, user } => {
            ctx.client.remove_passkey(user, id).await?;
            ctx.out.done(&format!("passkey {id} removed"));
        }
    }
    success()
}
