//! `latchkey rules …`: role assignment rules. `apply` follows the run with a progress bar
//! on a terminal (and waits silently otherwise), then prints the run; it exits 1 when the
//! run failed.

use std::process::ExitCode;
use std::time::Duration;

use latchkey_api::{
    AssignmentRuleView, CheckExpression, CreateAssignmentRule, RuleChange, RuleDiff,
    UpdateAssignmentRule,
};
use latchkey_model::{RuleRun, RunStatus};

use super::Ctx;
use crate::cli::{RuleArgs, RuleChangeArgs, RulesCmd};
use crate::output::{Tabular, instant, table};

/// How often `apply` asks for the run's progress.
const POLL: Duration = Duration::from_millis(200);

pub async fn rules(ctx: &Ctx, cmd: RulesCmd) -> anyhow::Result<ExitCode> {
    let (client, out) = (&ctx.client, &ctx.out);
    match cmd {
        RulesCmd::List => out.items(client.rules().await?)?,
        RulesCmd::Show { id } => out.record(&client.rule(id).await?)?,
        RulesCmd::Create(args) => out.record(&client.create_rule(&create_body(args)).await?)?,
        RulesCmd::Update { id, rule } => {
            let if_match = rule.if_match;
            out.record(&client.update_rule(id, &update_body(rule), if_match).await?)?;
        }
        RulesCmd::Delete { id } => {
            client.delete_rule(id).await?;
            out.done(&format!(
                "rule {id} deleted; the grants it made are revoked"
            ));
        }
        RulesCmd::Check {
            expression,
            roles_expression,
        } => {
            client
                .check_rule(&CheckExpression {
                    expression,
                    roles_expression,
                })
                .await?;
            out.done("the expressions are valid");
        }
        RulesCmd::Preview { id, limit } => {
            let diff = client.preview_rule(id, limit).await?;
            if out.json {
                out.print_json(&diff)?;
            } else {
                print!("{}", render_diff(&diff));
            }
        }
        RulesCmd::Apply { id, no_wait } => {
            let run = client.apply_rule(id).await?;
            if no_wait {
                out.record(&run)?;
                return Ok(ExitCode::SUCCESS);
            }
            let run = follow(ctx, run).await?;
            out.record(&run)?;
            if run.status == RunStatus::Failed {
                eprintln!(
                    "error: the run failed: {}",
                    run.message.as_deref().unwrap_or("no reason given")
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        RulesCmd::Runs { id } => out.items(client.rule_runs(id).await?)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Polls the run until it ends, drawing its progress on a terminal.
async fn follow(ctx: &Ctx, mut run: RuleRun) -> anyhow::Result<RuleRun> {
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) && !ctx.out.json {
        let bar = indicatif::ProgressBar::new(u64::try_from(run.total.max(1)).unwrap_or(1));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} users, {msg} ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    while run.status == RunStatus::Running {
        tokio::time::sleep(POLL).await;
        run = ctx.client.rule_run(run.rule_id, run.id).await?;
        bar.set_length(u64::try_from(run.total.max(1)).unwrap_or(1));
        bar.set_position(u64::try_from(run.done).unwrap_or(0));
        bar.set_message(format!("{} granted, {} revoked", run.granted, run.revoked));
    }
    bar.finish_and_clear();
    Ok(run)
}

fn create_body(a: RuleArgs) -> CreateAssignmentRule {
    CreateAssignmentRule {
        name: a.name,
        description: a.description,
        expression: a.expression,
        roles_expression: a.roles_expression,
        role_ids: a.roles,
        enabled: a.disabled.then_some(false),
    }
}

fn update_body(a: RuleChangeArgs) -> UpdateAssignmentRule {
    let clearable = |v: Option<String>| v.map(|s| Some(s).filter(|s| !s.trim().is_empty()));
    UpdateAssignmentRule {
        name: a.name,
        description: clearable(a.description),
        expression: a.expression,
        roles_expression: clearable(a.roles_expression),
        role_ids: (!a.roles.is_empty()).then_some(a.roles),
        enabled: if a.enable {
            Some(true)
        } else if a.disable {
            Some(false)
        } else {
            None
        },
    }
}

/// A preview for people: the totals, then who gains, who loses and whose data failed.
pub fn render_diff(d: &RuleDiff) -> String {
    let mut s = format!(
        "{} users evaluated, {} match: {} gain, {} lose, {} evaluation problems\n",
        d.users, d.matching, d.gains_total, d.losses_total, d.errors_total
    );
    let changes = |list: &[RuleChange]| {
        table(
            &["user", "role", "system"],
            list.iter().map(|c| {
                vec![
                    c.user_name.clone(),
                    c.role_name.clone(),
                    c.system_name.clone(),
                ]
            }),
        )
    };
    if !d.gains.is_empty() {
        s.push_str(&format!("\ngain:\n{}\n", changes(&d.gains)));
    }
    if !d.losses.is_empty() {
        s.push_str(&format!("\nlose:\n{}\n", changes(&d.losses)));
    }
    if !d.errors.is_empty() {
        let t = table(
            &["user", "problem"],
            d.errors
                .iter()
                .map(|e| vec![e.user_name.clone(), e.message.clone()]),
        );
        s.push_str(&format!("\nproblems:\n{t}\n"));
    }
    if d.truncated {
        s.push_str("\n(lists cut; raise --limit to see more)\n");
    }
    s
}

impl Tabular for AssignmentRuleView {
    const HEADERS: &'static [&'static str] =
        &["id", "name", "enabled", "roles", "expression", "last run"];
    fn row(&self) -> Vec<String> {
        vec![
            self.rule.id.to_string(),
            self.rule.name.clone(),
            self.rule.enabled.to_string(),
            self.rule.role_ids.len().to_string(),
            self.rule.expression.clone(),
            self.last_run.as_ref().map_or_else(String::new, |r| {
                format!("{} {}", r.status.as_str(), instant(r.started_at))
            }),
        ]
    }
}

impl Tabular for RuleRun {
    const HEADERS: &'static [&'static str] = &[
        "id", "status", "done", "total", "granted", "revoked", "refused", "errors", "started",
    ];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.status.as_str().to_owned(),
            self.done.to_string(),
            self.total.to_string(),
            self.granted.to_string(),
            self.revoked.to_string(),
            self.refused.to_string(),
            self.errors.to_string(),
            instant(self.started_at),
        ]
    }
}

#[cfg(test)]
mod tests {
    use latchkey_api::RuleError;
    use latchkey_model::{AssignmentRuleId, RoleId, UserId};

    use super::*;

    fn id<T: std::str::FromStr>(n: u8) -> T
    where
        T::Err: std::fmt::Debug,
    {
        format!("0190a4b2-0000-7000-8000-0000000000{n:02}")
            .parse()
            .unwrap()
    }

    #[test]
    fn a_preview_reads_as_totals_then_lists() {
        let diff = RuleDiff {
            rule_id: id::<AssignmentRuleId>(1),
            users: 3,
            matching: 1,
            gains_total: 1,
            losses_total: 0,
            refused_total: 0,
            errors_total: 1,
            gains: vec![RuleChange {
                user_id: id::<UserId>(2),
                user_name: "ana".into(),
                role_id: id::<RoleId>(3),
                role_name: "Author".into(),
                system_name: "Docs".into(),
            }],
            losses: Vec::new(),
            refused: Vec::new(),
            errors: vec![RuleError {
                user_id: id::<UserId>(4),
                user_name: "bea".into(),
                message: "the expression failed".into(),
            }],
            truncated: false,
        };
        let text = render_diff(&diff);
        assert!(
            text.starts_with("3 users evaluated, 1 match: 1 gain, 0 lose, 1 evaluation problems\n")
        );
        assert!(text.contains("gain:") && text.contains("Author") && text.contains("ana"));
        assert!(!text.contains("lose:"));
        assert!(text.contains("problems:") && text.contains("bea"));
        assert!(!text.contains("lists cut"));
    }
}
