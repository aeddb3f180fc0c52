//! `latchkey reviews …`: access review campaigns (list, show, create, close), their items
//! (`items CAMPAIGN`, or `items --mine` / `items --overdue` across campaigns) and decisions
//! (`decide CAMPAIGN ITEM confirm|revoke`). The reviewer kind is sent as typed and checked
//! by the server, whose refusal is printed like any other.

use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use latchkey_api::{
    AccessReviewView, CreateAccessReview, DecideReviewItem, ReviewItemView, ReviewSelectionInput,
};
use latchkey_client::ReviewItemFilter;
use latchkey_model::{AccessReviewId, Grantee, GroupId, ReviewItemId, RoleId, SystemId};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Ctx, page_of, success};
use crate::cli::ListArgs;
use crate::output::Tabular;
use crate::parse::parse_time;

#[derive(Debug, Subcommand)]
pub enum ReviewsCmd {
    /// List campaigns with their counts (without reviews.manage: those you review in)
    List(ListArgs),
    /// Show one campaign with its counts
    Show { id: AccessReviewId },
    /// Create a campaign over one selection (--system, --role, --group or --privileged):
    /// one item per grant in force now
    Create(ReviewCreateArgs),
    /// List items: a campaign's (CAMPAIGN), your queue (--mine) or, with reviews.manage,
    /// every campaign's
    Items(ReviewItemsArgs),
    /// Confirm or revoke an item's grant
    Decide {
        campaign: AccessReviewId,
        item: ReviewItemId,
        /// confirm or revoke
        #[arg(value_parser = ["confirm", "revoke"])]
        decision: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Close a campaign; undecided items stay pending and are counted
    Close { id: AccessReviewId },
}

#[derive(Debug, Clone, Args)]
pub struct ReviewCreateArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub description: Option<String>,
    /// The grants of this system's roles (and its sub-systems')
    #[arg(long, value_name = "SYSTEM_ID", group = "selection")]
    pub system: Option<SystemId>,
    /// The grants of this role
    #[arg(long, value_name = "ROLE_ID", group = "selection")]
    pub role: Option<RoleId>,
    /// The grants to this group, its subtree and its members
    #[arg(long, value_name = "GROUP_ID", group = "selection")]
    pub group: Option<GroupId>,
    /// The grants of every privileged role
    #[arg(long, group = "selection")]
    pub privileged: bool,
    /// role_owner, system_owner or manager
    #[arg(long)]
    pub reviewer: String,
    /// When decisions are due (RFC 3339, or a date)
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub due: OffsetDateTime,
}

#[derive(Debug, Clone, Args)]
pub struct ReviewItemsArgs {
    /// The campaign (else across campaigns)
    pub campaign: Option<AccessReviewId>,
    /// Only the items you review
    #[arg(long)]
    pub mine: bool,
    /// Only pending items past their due date
    #[arg(long)]
    pub overdue: bool,
    /// pending, confirmed, revoked or not_reviewable
    #[arg(long)]
    pub decision: Option<String>,
    #[command(flatten)]
    pub page: ListArgs,
}

fn instant(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

impl Tabular for AccessReviewView {
    const HEADERS: &'static [&'static str] = &[
        "id",
        "name",
        "status",
        "due",
        "total",
        "pending",
        "confirmed",
        "revoked",
        "overdue",
    ];
    fn row(&self) -> Vec<String> {
        let c = &self.counts;
        vec![
            self.campaign.id.to_string(),
            self.campaign.name.clone(),
            self.campaign.status.as_str().to_owned(),
            instant(self.campaign.due_at),
            c.total.to_string(),
            c.pending.to_string(),
            c.confirmed.to_string(),
            c.revoked.to_string(),
            c.overdue.to_string(),
        ]
    }
}

impl Tabular for ReviewItemView {
    const HEADERS: &'static [&'static str] = &[
        "id", "campaign", "role", "grantee", "decision", "due", "overdue",
    ];
    fn row(&self) -> Vec<String> {
        let grantee = match self.item.grantee {
            Grantee::User(_) => format!("user {}", self.item.grantee_name),
            Grantee::Group(_) => format!("group {}", self.item.grantee_name),
        };
        vec![
            self.item.id.to_string(),
            self.campaign_name.clone(),
            self.item.role_name.clone(),
            grantee,
            self.item.decision.as_str().to_owned(),
            instant(self.due_at),
            if self.overdue { "yes" } else { "" }.to_owned(),
        ]
    }
}

pub async fn reviews(ctx: &Ctx, cmd: ReviewsCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        ReviewsCmd::List(a) => {
            let page = page_of(&a);
            if a.all {
                out.items(client.list_all_access_reviews(&page).await?)?;
            } else {
                out.page(&client.list_access_reviews(&page).await?)?;
            }
        }
        ReviewsCmd::Show { id } => out.record(&client.get_access_review(id).await?)?,
        ReviewsCmd::Create(a) => {
            let selection = ReviewSelectionInput {
                system_id: a.system,
                role_id: a.role,
                group_id: a.group,
                privileged: a.privileged.then_some(true),
            };
            if selection == ReviewSelectionInput::default() {
                bail!("give one of --system, --role, --group and --privileged");
            }
            let body = CreateAccessReview {
                name: a.name,
                description: a.description,
                selection,
                reviewer: a.reviewer,
                due_at: a.due,
            };
            let created = client.create_access_review(&body).await?;
            out.record(&created)?;
        }
        ReviewsCmd::Items(a) => {
            let filter = ReviewItemFilter {
                decision: a.decision,
                overdue: a.overdue,
                reviewer: a.mine.then(|| "me".to_owned()),
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(
                    client
                        .list_all_review_items(a.campaign, &filter, &page)
                        .await?,
                )?;
            } else {
                out.page(&client.list_review_items(a.campaign, &filter, &page).await?)?;
            }
        }
        ReviewsCmd::Decide {
            campaign,
            item,
            decision,
            comment,
        } => {
            let body = DecideReviewItem { decision, comment };
            let decided = client.decide_review_item(campaign, item, &body).await?;
            if out.json {
                out.print_json(&decided)?;
            } else {
                out.done(&format!(
                    "{} `{}` of {}: {}",
                    decided.item.decision.as_str(),
                    decided.item.role_name,
                    decided.item.grantee_name,
                    decided.campaign_name
                ));
            }
        }
        ReviewsCmd::Close { id } => {
            let closed = client.close_access_review(id).await?;
            if out.json {
                out.print_json(&closed)?;
            } else {
                out.done(&format!(
                    "closed `{}`: {} confirmed, {} revoked, {} left undecided",
                    closed.campaign.name,
                    closed.counts.confirmed,
                    closed.counts.revoked,
                    closed.counts.pending
                ));
            }
        }
    }
    success()
}
