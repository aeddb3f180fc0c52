//! Role assignment rules: the list, the form to create or change a rule (its expressions
//! checked by the service when saved, a problem shown next to the field with its line and
//! column), the preview of exactly what applying a rule now would change (who gains and who
//! loses which role, lists capped with their totals), and "apply now", whose run's progress
//! the run's page follows (htmx polls its figures; without JavaScript, a refresh link).
//! Everything goes through the same service functions as `/api/v1/assignment-rules`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use latchkey_api::{AssignmentRuleView, CreateAssignmentRule, RuleDiff, UpdateAssignmentRule};
use latchkey_model::{AssignmentRuleId, RoleId, RuleRun, RuleRunId, RunStatus};
use latchkey_service::ServiceError;
use serde_json::{Value, json};

use super::users::{role_choices, role_choices_with};
use super::view::{Console, ConsoleForm, Form, Page, Problem, parse_id, redirect};
use crate::app::AppState;

/// Most entries each list of a preview shows; the totals count everything.
pub(super) const PREVIEW_LIMIT: usize = 100;
/// Runs shown on a rule's page, latest first.
const RUNS_SHOWN: usize = 10;

/// What a successful form says when the rule's page shows again.
fn notice(done: &str) -> Option<&'static str> {
    match done {
        "created" => Some("Rule saved. It is not applied yet: preview it, then apply it."),
        "saved" => Some(
            "Rule saved. Users are re-evaluated as they change; apply it to re-evaluate everyone now.",
        ),
        _ => None,
    }
}

/// Role names by id (with their system), from the choices the selects offer.
fn role_names(roles: &[Value]) -> HashMap<String, String> {
    roles
        .iter()
        .filter_map(|r| Some((r["id"].as_str()?.to_owned(), r["name"].as_str()?.to_owned())))
        .collect()
}

/// `GET /rules`.
pub(super) async fn list(State(s): State<AppState>, c: Console) -> Response {
    let rules = match s.services.list_assignment_rules(&c.p).await {
        Ok(rules) => rules,
        Err(e) => return Problem::from(e).page(&c),
    };
    let names = role_names(&role_choices(&s, &c).await);
    let rows: Vec<_> = rules
        .iter()
        .map(|v| {
            let roles: Vec<String> = v
                .rule
                .role_ids
                .iter()
                .map(|r| {
                    names
                        .get(&r.to_string())
                        .cloned()
                        .unwrap_or_else(|| r.to_string())
                })
                .collect();
            json!({
                "id": v.rule.id,
                "name": v.rule.name,
                "expression": v.rule.expression,
                "roles": roles,
                "roles_expression": v.rule.roles_expression,
                "enabled": v.rule.enabled,
                "last_run": v.last_run.as_ref().map(run_view),
            })
        })
        .collect();
    Page::signed_in("rules.html", &c, "rules")
        .set("rules", rows)
        .render()
}

/// A run as its page and the rule list show it.
fn run_view(run: &RuleRun) -> Value {
    let percent = if run.total > 0 {
        (run.done.saturating_mul(100) / run.total).clamp(0, 100)
    } else {
        100
    };
    json!({
        "id": run.id,
        "rule_id": run.rule_id,
        "status": run.status.as_str(),
        "running": run.status == RunStatus::Running,
        "total": run.total,
        "done": run.done,
        "percent": percent,
        "granted": run.granted,
        "revoked": run.revoked,
        "refused": run.refused,
        "errors": run.errors,
        "message": run.message,
        "started_at": run.started_at.to_string(),
        "finished_at": run.finished_at.map(|t| t.to_string()),
    })
}

/// The form's fields as a rule; the roles chosen must be ids from the list.
fn draft(form: &Form) -> Result<CreateAssignmentRule, Problem> {
    let mut role_ids = Vec::new();
    for raw in form.all("role_ids") {
        let id = raw
            .parse::<RoleId>()
            .map_err(|_| Problem::invalid("role_ids", "choose the roles from the list"))?;
        role_ids.push(id);
    }
    Ok(CreateAssignmentRule {
        name: form.get("name").to_owned(),
        description: form.opt("description"),
        expression: form.get("expression").to_owned(),
        roles_expression: form.opt("roles_expression"),
        role_ids,
        enabled: Some(form.checked("enabled")),
    })
}

/// The rule form's page: a new rule (`rule` None) or a saved one with its runs.
struct RulePage<'a> {
    rule: Option<&'a AssignmentRuleView>,
    runs: Vec<RuleRun>,
    values: Value,
    chosen: Vec<String>,
    failed: Option<(&'a Problem, &'a Form)>,
    diff: Option<RuleDiff>,
    notice: Option<&'static str>,
}

impl<'a> RulePage<'a> {
    fn new(rule: Option<&'a AssignmentRuleView>) -> Self {
        let (values, chosen) = match rule {
            Some(v) => (
                json!({
                    "name": v.rule.name,
                    "description": v.rule.description,
                    "expression": v.rule.expression,
                    "roles_expression": v.rule.roles_expression,
                    "enabled": v.rule.enabled,
                }),
                v.rule.role_ids.iter().map(ToString::to_string).collect(),
            ),
            None => (json!({ "enabled": true }), Vec::new()),
        };
        Self {
            rule,
            runs: Vec::new(),
            values,
            chosen,
            failed: None,
            diff: None,
            notice: None,
        }
    }

    /// What the user typed, shown again (a failed save, or a preview of a new rule).
    fn typed(mut self, form: &Form) -> Self {
        let mut values = serde_json::to_value(form.values()).unwrap_or(Value::Null);
        values["enabled"] = json!(form.checked("enabled"));
        self.values = values;
        self.chosen = form
            .all("role_ids")
            .into_iter()
            .map(str::to_owned)
            .collect();
        self
    }

    async fn render(self, s: &AppState, c: &Console) -> Response {
        let mut named = self.chosen.clone();
        if let Some(v) = self.rule {
            named.extend(v.rule.role_ids.iter().map(ToString::to_string));
        }
        let roles = role_choices_with(s, c, &named).await;
        let names = role_names(&roles);
        let mut page = Page::signed_in("rule.html", c, "rules")
            .set("roles", roles)
            .set("values", &self.values)
            .set("chosen", &self.chosen)
            .set("notice", self.notice)
            .set("limit", PREVIEW_LIMIT);
        if let Some(v) = self.rule {
            let roles: Vec<String> = v
                .rule
                .role_ids
                .iter()
                .map(|r| {
                    names
                        .get(&r.to_string())
                        .cloned()
                        .unwrap_or_else(|| r.to_string())
                })
                .collect();
            page = page
                .set("rule", &v.rule)
                .set("rule_roles", roles)
                .set("runs", self.runs.iter().map(run_view).collect::<Vec<_>>());
        }
        if let Some(diff) = &self.diff {
            page = page.set("diff", diff);
        }
        if let Some((problem, _)) = self.failed {
            page = page
                .status(problem.status)
                .set("problem", &problem.message)
                .set("errors", &problem.fields);
        }
        page.render()
    }
}

/// `GET /rules/new`.
pub(super) async fn new_form(State(s): State<AppState>, c: Console) -> Response {
    RulePage::new(None).render(&s, &c).await
}

/// `POST /rules`: `action=preview` shows what the rule would change if it were saved and
/// applied now, saving nothing; otherwise the rule is saved and its page opens.
pub(super) async fn create(State(s): State<AppState>, f: ConsoleForm) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let req = match draft(&form) {
        Ok(req) => req,
        Err(problem) => {
            return RulePage::new(None)
                .typed(&form)
                .failed_with(&problem, &form)
                .render(&s, &c)
                .await;
        }
    };
    if form.get("action") == "preview" {
        return match s
            .services
            .preview_draft_rule(&c.p, req, Some(PREVIEW_LIMIT))
            .await
        {
            Ok(diff) => {
                let mut page = RulePage::new(None).typed(&form);
                page.diff = Some(diff);
                page.render(&s, &c).await
            }
            Err(e) => {
                let problem = Problem::from(e);
                RulePage::new(None)
                    .typed(&form)
                    .failed_with(&problem, &form)
                    .render(&s, &c)
                    .await
            }
        };
    }
    match s.services.create_assignment_rule(&c.p, req).await {
        Ok(v) => redirect(&headers, &format!("/rules/{}?done=created", v.rule.id)),
        Err(e) => {
            let problem = Problem::from(e);
            RulePage::new(None)
                .typed(&form)
                .failed_with(&problem, &form)
                .render(&s, &c)
                .await
        }
    }
}

impl<'a> RulePage<'a> {
    fn failed_with(mut self, problem: &'a Problem, form: &'a Form) -> Self {
        self.failed = Some((problem, form));
        self
    }
}

/// The saved rule and its latest runs.
async fn saved(
    s: &AppState,
    c: &Console,
    id: AssignmentRuleId,
) -> Result<(AssignmentRuleView, Vec<RuleRun>), Response> {
    let rule = s
        .services
        .get_assignment_rule(&c.p, id)
        .await
        .map_err(|e| Problem::from(e).page(c))?;
    let mut runs = s
        .services
        .list_rule_runs(&c.p, id)
        .await
        .map_err(|e| Problem::from(e).page(c))?;
    runs.truncate(RUNS_SHOWN);
    Ok((rule, runs))
}

/// `GET /rules/{id}`: the rule's form, its runs and the preview and apply buttons.
pub(super) async fn show(
    State(s): State<AppState>,
    c: Console,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = Form::from_pairs(pairs);
    let id = match parse_id::<AssignmentRuleId>("role assignment rule", &id).map_err(|p| p.page(&c))
    {
        Ok(id) => id,
        Err(page) => return page,
    };
    let (rule, runs) = match saved(&s, &c, id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let mut page = RulePage::new(Some(&rule));
    page.runs = runs;
    page.notice = notice(q.get("done"));
    page.render(&s, &c).await
}

/// `POST /rules/{id}`: saves the changes (the form carries the version it was read at, so
/// a change made meanwhile by someone else is refused rather than overwritten).
pub(super) async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, form, headers } = f;
    let id = match parse_id::<AssignmentRuleId>("role assignment rule", &id).map_err(|p| p.page(&c))
    {
        Ok(id) => id,
        Err(page) => return page,
    };
    let (rule, runs) = match saved(&s, &c, id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let result = match draft(&form) {
        Err(problem) => Err(problem),
        Ok(req) => {
            let change = UpdateAssignmentRule {
                name: Some(req.name),
                description: Some(req.description),
                expression: Some(req.expression),
                roles_expression: Some(req.roles_expression),
                role_ids: Some(req.role_ids),
                enabled: req.enabled,
            };
            let version = form.get("version").parse::<i64>().ok();
            s.services
                .update_assignment_rule(&c.p, id, change, version)
                .await
                .map_err(Problem::from)
        }
    };
    match result {
        Ok(_) => redirect(&headers, &format!("/rules/{id}?done=saved")),
        Err(problem) => {
            let mut page = RulePage::new(Some(&rule))
                .typed(&form)
                .failed_with(&problem, &form);
            page.runs = runs;
            page.render(&s, &c).await
        }
    }
}

/// `POST /rules/{id}/preview`: exactly what applying the saved rule now would change;
/// nothing is written. The page then offers to apply it.
pub(super) async fn preview(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let c = f.c;
    let id = match parse_id::<AssignmentRuleId>("role assignment rule", &id).map_err(|p| p.page(&c))
    {
        Ok(id) => id,
        Err(page) => return page,
    };
    let (rule, runs) = match saved(&s, &c, id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let diff = match s
        .services
        .preview_assignment_rule(&c.p, id, Some(PREVIEW_LIMIT))
        .await
    {
        Ok(diff) => diff,
        Err(e) => return Problem::from(e).page(&c),
    };
    let mut page = RulePage::new(Some(&rule));
    page.runs = runs;
    page.diff = Some(diff);
    page.render(&s, &c).await
}

/// `POST /rules/{id}/apply`: starts a run and opens its page.
pub(super) async fn apply(
    State(s): State<AppState>,
    Path(id): Path<String>,
    f: ConsoleForm,
) -> Response {
    let ConsoleForm { c, headers, .. } = f;
    let id = match parse_id::<AssignmentRuleId>("role assignment rule", &id).map_err(|p| p.page(&c))
    {
        Ok(id) => id,
        Err(page) => return page,
    };
    match s.services.apply_assignment_rule(&c.p, id).await {
        Ok(run) => redirect(&headers, &format!("/rules/{id}/runs/{}", run.id)),
        Err(e) => Problem::from(e).page(&c),
    }
}

/// `GET /rules/{id}/runs/{run}`: the run's progress. An htmx request (the page polling
/// itself while the run goes on) gets the figures only.
pub(super) async fn run(
    State(s): State<AppState>,
    c: Console,
    headers: HeaderMap,
    Path((id, run)): Path<(String, String)>,
) -> Response {
    let id = match parse_id::<AssignmentRuleId>("role assignment rule", &id).map_err(|p| p.page(&c))
    {
        Ok(id) => id,
        Err(page) => return page,
    };
    let Ok(run_id) = run.parse::<RuleRunId>() else {
        return Problem::from(ServiceError::not_found("rule run", &run)).page(&c);
    };
    let run = match s.services.get_rule_run(&c.p, id, run_id).await {
        Ok(run) => run,
        Err(e) => return Problem::from(e).page(&c),
    };
    let fragment = headers.contains_key("hx-request");
    let template = if fragment {
        "rule_run_progress.html"
    } else {
        "rule_run.html"
    };
    let mut page = Page::signed_in(template, &c, "rules").set("run", run_view(&run));
    if !fragment {
        match s.services.get_assignment_rule(&c.p, id).await {
            Ok(rule) => page = page.set("rule", &rule.rule),
            Err(e) => return Problem::from(e).page(&c),
        }
    }
    page.render()
}
