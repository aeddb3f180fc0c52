//! Access history commands: a group's members at an instant (`groups members --at`),
//! restoring an earlier state (`groups restore-members`, `users restore-grants`) and
//! access snapshots (`security snapshots …`). Effective roles and role holders take `--at`
//! on their own commands.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use latchkey_api::{CreateSnapshot, GroupMemberView, RestoreOutcome, RestoreRequest, RestoredItem};
use latchkey_model::{AccessSnapshot, GroupId, SnapshotId, UserId};
use time::OffsetDateTime;

use super::{Ctx, success};
use crate::output::{Tabular, table};
use crate::parse::parse_time;

#[derive(Debug, Subcommand)]
pub enum SnapshotsCmd {
    /// Access snapshots, newest first
    List,
    /// Show one snapshot
    Show { id: SnapshotId },
    /// Pin who held what now, or at a past instant (--at)
    Create {
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
        at: Option<OffsetDateTime>,
    },
    /// Download a snapshot as CSV (to standard output, or --output FILE)
    Csv {
        id: SnapshotId,
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub async fn group_members(
    ctx: &Ctx,
    id: GroupId,
    at: Option<OffsetDateTime>,
    limit: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let members = ctx.client.group_members(id, at, limit).await?;
    if ctx.out.json {
        ctx.out.print_json(&members)?;
        return success();
    }
    println!(
        "{} at {} (revision {})",
        members.group_name,
        crate::tree::instant(members.at),
        members.as_of_revision
    );
    println!(
        "{}",
        table(
            GroupMemberView::HEADERS,
            members.members.iter().map(Tabular::row)
        )
    );
    if members.truncated {
        eprintln!(
            "{} members in all; repeat with a higher --limit to see more",
            members.total
        );
    }
    success()
}

pub async fn restore_members(
    ctx: &Ctx,
    id: GroupId,
    at: OffsetDateTime,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let outcome = ctx
        .client
        .restore_group_members(id, &RestoreRequest { at, dry_run })
        .await?;
    print_outcome(ctx, &outcome)
}

pub async fn restore_grants(
    ctx: &Ctx,
    id: UserId,
    at: OffsetDateTime,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let outcome = ctx
        .client
        .restore_user_grants(id, &RestoreRequest { at, dry_run })
        .await?;
    print_outcome(ctx, &outcome)
}

fn print_outcome(ctx: &Ctx, outcome: &RestoreOutcome) -> anyhow::Result<ExitCode> {
    if ctx.out.json {
        ctx.out.print_json(outcome)?;
        return success();
    }
    let rows = [
        ("add", &outcome.added),
        ("remove", &outcome.removed),
        ("change dates", &outcome.changed),
    ]
    .into_iter()
    .flat_map(|(what, items)| items.iter().map(move |i| change_row(what, i)));
    println!(
        "{} the state of {} (revision {}):",
        if outcome.dry_run {
            "would restore"
        } else {
            "restored"
        },
        crate::tree::instant(outcome.at),
        outcome.as_of_revision
    );
    println!(
        "{}",
        table(
            &["change", "id", "who or what", "scope", "from", "until"],
            rows
        )
    );
    for note in &outcome.not_restored {
        println!("not restored: {note}");
    }
    success()
}

fn change_row(what: &str, i: &RestoredItem) -> Vec<String> {
    let who = i
        .user_name
        .clone()
        .or_else(|| i.role_name.clone())
        .unwrap_or_default();
    let at = |t: Option<OffsetDateTime>| t.map(crate::tree::instant).unwrap_or_default();
    vec![
        what.to_owned(),
        i.id.to_string(),
        who,
        i.scope.clone().unwrap_or_default(),
        at(i.starts_at),
        at(i.ends_at),
    ]
}

pub async fn snapshots(ctx: &Ctx, cmd: SnapshotsCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        SnapshotsCmd::List => out.items(client.list_snapshots().await?)?,
        SnapshotsCmd::Show { id } => out.record(&client.get_snapshot(id).await?)?,
        SnapshotsCmd::Create { name, at } => {
            out.record(&client.create_snapshot(&CreateSnapshot { name, at }).await?)?;
        }
        SnapshotsCmd::Csv { id, output } => {
            let csv = client.snapshot_csv(id).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, csv)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    out.done(&format!("wrote {}", path.display()));
                }
                None => print!("{csv}"),
            }
        }
    }
    success()
}

impl Tabular for GroupMemberView {
    const HEADERS: &'static [&'static str] = &["user id", "user", "membership", "from", "until"];
    fn row(&self) -> Vec<String> {
        let at = |t: Option<OffsetDateTime>| t.map(crate::tree::instant).unwrap_or_default();
        vec![
            self.user_id.to_string(),
            self.user_name.clone(),
            self.membership.clone(),
            at(self.starts_at),
            at(self.ends_at),
        ]
    }
}

impl Tabular for AccessSnapshot {
    const HEADERS: &'static [&'static str] = &["id", "name", "at", "revision", "users", "entries"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            crate::tree::instant(self.at),
            self.revision.to_string(),
            self.users.to_string(),
            self.entries.to_string(),
        ]
    }
}

/// What `latchkey preview` judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PreviewKind {
    AddGrantedRole,
    RemoveGrantedRole,
    GrantToGroup,
    RevokeGrant,
    MoveGroup,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PreviewArgs {
    #[arg(value_enum)]
    pub kind: PreviewKind,
    /// The parent role (granted roles) or the role to grant (grant-to-group)
    #[arg(long, value_name = "ROLE_ID")]
    pub role: Option<latchkey_model::RoleId>,
    /// The granted (child) role
    #[arg(long, value_name = "ROLE_ID")]
    pub child: Option<latchkey_model::RoleId>,
    /// The group granted to, or moved
    #[arg(long, value_name = "GROUP_ID")]
    pub group: Option<GroupId>,
    /// The new parent of a moved group, or `root`
    #[arg(long, value_name = "GROUP_ID|root")]
    pub parent: Option<String>,
    #[arg(long, value_name = "GRANT_ID")]
    pub grant: Option<latchkey_model::GrantId>,
    #[arg(long)]
    pub scope: Option<String>,
    /// A granted role that is not mandatory (its holders do not hold it by that alone)
    #[arg(long)]
    pub optional: bool,
    #[arg(long)]
    pub limit: Option<u32>,
}

fn needed<T>(value: Option<T>, flag: &str, kind: &str) -> anyhow::Result<T> {
    value.ok_or_else(|| anyhow::anyhow!("`preview {kind}` needs {flag}"))
}

pub async fn preview(ctx: &Ctx, a: PreviewArgs) -> anyhow::Result<ExitCode> {
    use latchkey_api::ChangeToPreview as C;
    let change = match a.kind {
        PreviewKind::AddGrantedRole => C::AddGrantedRole {
            role_id: needed(a.role, "--role", "add-granted-role")?,
            child_role_id: needed(a.child, "--child", "add-granted-role")?,
            mandatory: !a.optional,
        },
        PreviewKind::RemoveGrantedRole => C::RemoveGrantedRole {
            role_id: needed(a.role, "--role", "remove-granted-role")?,
            child_role_id: needed(a.child, "--child", "remove-granted-role")?,
        },
        PreviewKind::GrantToGroup => C::GrantToGroup {
            role_id: needed(a.role, "--role", "grant-to-group")?,
            group_id: needed(a.group, "--group", "grant-to-group")?,
            scope: a.scope,
        },
        PreviewKind::RevokeGrant => C::RevokeGrant {
            grant_id: needed(a.grant, "--grant", "revoke-grant")?,
        },
        PreviewKind::MoveGroup => C::MoveGroup {
            group_id: needed(a.group, "--group", "move-group")?,
            parent_id: match needed(a.parent, "--parent (a group id or root)", "move-group")?
                .as_str()
            {
                "root" => None,
                id => Some(
                    id.parse()
                        .map_err(|_| anyhow::anyhow!("--parent is a group id or `root`"))?,
                ),
            },
        },
    };
    let answer = ctx.client.preview_change(&change, a.limit).await?;
    if ctx.out.json {
        ctx.out.print_json(&answer)?;
        return success();
    }
    let rows = |side: &'static str, list: &[latchkey_api::PreviewEntry]| -> Vec<Vec<String>> {
        list.iter()
            .map(|e| {
                vec![
                    side.to_owned(),
                    e.user_name.clone(),
                    format!("{}/{}", e.system_name, e.role_name),
                    e.scope.clone().unwrap_or_default(),
                ]
            })
            .collect()
    };
    let mut all = rows("gains", &answer.gains);
    all.extend(rows("loses", &answer.losses));
    println!(
        "{} users considered: {} gains, {} losses",
        answer.users_considered, answer.gains_total, answer.losses_total
    );
    println!("{}", table(&["", "user", "role", "scope"], all.into_iter()));
    success()
}
