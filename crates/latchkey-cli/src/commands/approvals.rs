//! `latchkey approvals …`: the queues of approval requests (to decide, requested by me,
//! all), one request, and decisions (approve, reject with a comment, cancel my own). Grants
//! and revokes that wait for approval are made with `latchkey grants create|revoke`, which
//! print the pending grant or the request.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use latchkey_client::ApprovalFilter;
use latchkey_model::{ApprovalId, ApprovalRequest, Grantee, SystemId};

use super::{Ctx, page_of, success};
use crate::cli::ListArgs;
use crate::output::Tabular;

#[derive(Debug, Subcommand)]
pub enum ApprovalsCmd {
    /// List approval requests: those you may decide (default), yours, or all
    List(ApprovalListArgs),
    /// Show one request
    Show { id: ApprovalId },
    /// Approve a pending request: the grant takes effect, or the revoke does
    Approve {
        id: ApprovalId,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject a pending request, saying why
    Reject {
        id: ApprovalId,
        #[arg(long)]
        comment: String,
    },
    /// Withdraw a pending request you made
    Cancel { id: ApprovalId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueArg {
    /// Pending requests you may decide
    ToDecide,
    /// Requests you made
    Requested,
    /// Every request (roles.grant org-wide or security.view)
    All,
}

#[derive(Debug, Clone, Args)]
pub struct ApprovalListArgs {
    #[arg(long, value_enum, default_value = "to-decide")]
    pub queue: QueueArg,
    /// pending, approved, rejected or cancelled
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long, value_name = "SYSTEM_ID")]
    pub system: Option<SystemId>,
    #[command(flatten)]
    pub page: ListArgs,
}

impl Tabular for ApprovalRequest {
    const HEADERS: &'static [&'static str] = &[
        "id",
        "action",
        "status",
        "role",
        "grantee",
        "requested by",
        "decided by",
        "comment",
    ];
    fn row(&self) -> Vec<String> {
        let grantee = match self.grantee {
            Grantee::User(id) => format!("user {id}"),
            Grantee::Group(id) => format!("group {id}"),
        };
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        vec![
            self.id.to_string(),
            self.action.as_str().to_owned(),
            self.status.as_str().to_owned(),
            self.role_id.to_string(),
            grantee,
            opt(self.requested_by.map(|u| u.to_string())),
            opt(self.decided_by.map(|u| u.to_string())),
            opt(self.comment.clone()),
        ]
    }
}

pub async fn approvals(ctx: &Ctx, cmd: ApprovalsCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        ApprovalsCmd::List(a) => {
            let filter = ApprovalFilter {
                queue: Some(
                    match a.queue {
                        QueueArg::ToDecide => "to_decide",
                        QueueArg::Requested => "requested",
                        QueueArg::All => "all",
                    }
                    .to_owned(),
                ),
                status: a.status,
                system_id: a.system,
                grant_id: None,
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_approvals(&filter, &page).await?)?;
            } else {
                out.page(&client.list_approvals(&filter, &page).await?)?;
            }
        }
        ApprovalsCmd::Show { id } => out.record(&client.get_approval(id).await?)?,
        ApprovalsCmd::Approve { id, comment } => out.record(&client.approve(id, comment).await?)?,
        ApprovalsCmd::Reject { id, comment } => out.record(&client.reject(id, comment).await?)?,
        ApprovalsCmd::Cancel { id } => out.record(&client.cancel_approval(id).await?)?,
    }
    success()
}
