//! `latchkey sod …`: segregation-of-duties rules (list, show, create, update, delete) and
//! previews of the users a rule affects. Kinds and risks are sent as typed and checked by
//! the server, whose refusal (422 naming the field) is printed like any other.
//!
//! A matrix cell is given as `--pair A:B:RISK` (two role ids and a risk).

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use latchkey_api::{CreateSodRule, SodAffectedUser, SodPairInput, SodPreview, UpdateSodRule};
use latchkey_client::SodRuleFilter;
use latchkey_model::{RoleId, SodRule, SodRuleId, SystemId};

use super::{Ctx, ensure_changes, page_of, success};
use crate::cli::{IfMatch, ListArgs};
use crate::output::Tabular;
use crate::parse::clearable;

#[derive(Debug, Subcommand)]
pub enum SodCmd {
    /// List rules (by name)
    List(SodListArgs),
    /// Show one rule
    Show { id: SodRuleId },
    /// Create a rule; prints it with the number of users already breaking it
    Create(SodCreateArgs),
    /// Change a rule (only the fields given)
    Update {
        id: SodRuleId,
        #[command(flatten)]
        fields: SodEditArgs,
        #[command(flatten)]
        if_match: IfMatch,
    },
    /// Delete a rule
    Delete { id: SodRuleId },
    /// List the users a rule affects: a saved rule (ID), with the changes given applied, or
    /// a new one described by the flags (--name, --system, --kind, --role ...); nothing is
    /// saved
    Preview {
        id: Option<SodRuleId>,
        #[command(flatten)]
        fields: SodEditArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct SodListArgs {
    /// Rules filed under this information system
    #[arg(long, value_name = "SYSTEM_ID")]
    pub system: Option<SystemId>,
    /// Rules naming this role
    #[arg(long, value_name = "ROLE_ID")]
    pub role: Option<RoleId>,
    #[command(flatten)]
    pub page: ListArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SodCreateArgs {
    #[arg(long)]
    pub name: String,
    /// The information system the rule is filed under
    #[arg(long, value_name = "SYSTEM_ID")]
    pub system: SystemId,
    /// all, some or matrix
    #[arg(long)]
    pub kind: String,
    /// none, low, high or forbidden (a matrix rule's is its highest pair risk)
    #[arg(long)]
    pub risk: Option<String>,
    /// A role of the rule (at least two; repeat the flag)
    #[arg(long = "role", value_name = "ROLE_ID", required = true)]
    pub roles: Vec<RoleId>,
    /// kind some: no user may hold more than this many of the roles
    #[arg(long)]
    pub threshold: Option<u32>,
    /// kind matrix: a pair and its risk, `ROLE_ID:ROLE_ID:RISK` (repeat the flag)
    #[arg(long = "pair", value_name = "A:B:RISK", value_parser = parse_pair)]
    pub pairs: Vec<SodPairInput>,
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct SodEditArgs {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, value_name = "SYSTEM_ID")]
    pub system: Option<SystemId>,
    /// all, some or matrix
    #[arg(long)]
    pub kind: Option<String>,
    /// none, low, high or forbidden
    #[arg(long)]
    pub risk: Option<String>,
    /// Replaces the role list (repeat the flag)
    #[arg(long = "role", value_name = "ROLE_ID")]
    pub roles: Vec<RoleId>,
    #[arg(long, conflicts_with = "clear_threshold")]
    pub threshold: Option<u32>,
    #[arg(long)]
    pub clear_threshold: bool,
    /// Replaces the matrix: `ROLE_ID:ROLE_ID:RISK` (repeat the flag)
    #[arg(long = "pair", value_name = "A:B:RISK", value_parser = parse_pair)]
    pub pairs: Vec<SodPairInput>,
    #[arg(long, conflicts_with = "clear_description")]
    pub description: Option<String>,
    #[arg(long)]
    pub clear_description: bool,
}

impl SodEditArgs {
    fn update(self) -> UpdateSodRule {
        UpdateSodRule {
            name: self.name,
            system_id: self.system,
            description: clearable(self.description, self.clear_description),
            kind: self.kind,
            risk: self.risk,
            role_ids: (!self.roles.is_empty()).then_some(self.roles),
            threshold: clearable(self.threshold, self.clear_threshold),
            matrix: (!self.pairs.is_empty()).then_some(self.pairs),
        }
    }

    fn create(self) -> anyhow::Result<CreateSodRule> {
        let (Some(name), Some(system_id), Some(kind)) = (self.name, self.system, self.kind) else {
            bail!("a new rule needs --name, --system and --kind (or give the id of a saved rule)");
        };
        Ok(CreateSodRule {
            name,
            system_id,
            description: self.description,
            kind,
            risk: self.risk,
            role_ids: self.roles,
            threshold: self.threshold,
            matrix: (!self.pairs.is_empty()).then_some(self.pairs),
        })
    }
}

/// `ROLE_ID:ROLE_ID:RISK`.
fn parse_pair(raw: &str) -> Result<SodPairInput, String> {
    let mut parts = raw.splitn(3, ':');
    let (Some(a), Some(b), Some(risk)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected ROLE_ID:ROLE_ID:RISK".to_owned());
    };
    let role = |s: &str| {
        s.trim()
            .parse::<RoleId>()
            .map_err(|_| format!("`{s}` is not a role id"))
    };
    Ok(SodPairInput {
        a: role(a)?,
        b: role(b)?,
        risk: risk.trim().to_owned(),
    })
}

impl Tabular for SodRule {
    const HEADERS: &'static [&'static str] = &["id", "name", "system", "kind", "risk", "roles"];
    fn row(&self) -> Vec<String> {
        let kind = match self.threshold {
            Some(n) => format!("{} (> {n})", self.kind.as_str()),
            None => self.kind.as_str().to_owned(),
        };
        vec![
            self.id.to_string(),
            self.name.clone(),
            self.system_id.to_string(),
            kind,
            self.risk.as_str().to_owned(),
            self.role_ids.len().to_string(),
        ]
    }
}

impl Tabular for SodAffectedUser {
    const HEADERS: &'static [&'static str] = &["user id", "user", "risk", "roles"];
    fn row(&self) -> Vec<String> {
        let roles: Vec<&str> = self.roles.iter().map(|r| r.name.as_str()).collect();
        vec![
            self.user_id.to_string(),
            self.user_name.clone(),
            self.risk.as_str().to_owned(),
            roles.join(", "),
        ]
    }
}

pub async fn sod(ctx: &Ctx, cmd: SodCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        SodCmd::List(a) => {
            let filter = SodRuleFilter {
                system_id: a.system,
                role_id: a.role,
            };
            let page = page_of(&a.page);
            if a.page.all {
                out.items(client.list_all_sod_rules(&filter, &page).await?)?;
            } else {
                out.page(&client.list_sod_rules(&filter, &page).await?)?;
            }
        }
        SodCmd::Show { id } => out.record(&client.get_sod_rule(id).await?)?,
        SodCmd::Create(a) => {
            let body = CreateSodRule {
                name: a.name,
                system_id: a.system,
                description: a.description,
                kind: a.kind,
                risk: a.risk,
                role_ids: a.roles,
                threshold: a.threshold,
                matrix: (!a.pairs.is_empty()).then_some(a.pairs),
            };
            out.record(&client.create_sod_rule(&body).await?)?;
        }
        SodCmd::Update {
            id,
            fields,
            if_match,
        } => {
            let body = fields.update();
            ensure_changes(&body)?;
            out.record(&client.update_sod_rule(id, &body, if_match.if_match).await?)?;
        }
        SodCmd::Delete { id } => {
            client.delete_sod_rule(id).await?;
            out.done(&format!("deleted segregation-of-duties rule {id}"));
        }
        SodCmd::Preview { id, fields } => {
            let preview = match id {
                Some(id) => client.preview_saved_sod_rule(id, &fields.update()).await?,
                None => client.preview_sod_rule(&fields.create()?).await?,
            };
            print_preview(ctx, &preview)?;
        }
    }
    success()
}

fn print_preview(ctx: &Ctx, preview: &SodPreview) -> anyhow::Result<()> {
    if ctx.out.json {
        return ctx.out.print_json(preview);
    }
    ctx.out
        .items(preview.users.clone())
        .context("cannot print the users")?;
    println!(
        "{} user{} affected by `{}` ({} risk at most)",
        preview.total,
        if preview.total == 1 { "" } else { "s" },
        preview.rule.name,
        preview.rule.risk
    );
    Ok(())
}
