//! Role assignment rules: managed with `rules.manage` for the whole organisation, read also
//! with `systems.view`; preview answers the exact diff, apply starts a run whose progress
//! the run's resource shows.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latchkey_api::{
    AssignmentRuleView, CheckExpression, CreateAssignmentRule, RuleDiff, UpdateAssignmentRule,
};
use latchkey_model::{AssignmentRuleId, RuleRun, RuleRunId};

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, IfMatch};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{Created, NoContent, Tagged};

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/assignment-rules",
        list,
        doc("assignment rules", "Every role assignment rule, with its latest run")
            .perm("rules.manage or systems.view")
            .ok_array::<AssignmentRuleView>(),
    )
    .post(
        "/assignment-rules",
        create,
        doc(
            "assignment rules",
            "Create a rule: a CEL `expression` over `user` that, while true, grants `role_ids` \
             (and the roles `roles_expression` names). Expressions are checked when saved; a \
             problem is a 422 naming the line and column. Saving does not apply the rule",
        )
        .perm("rules.manage")
        .body::<CreateAssignmentRule>()
        .created::<AssignmentRuleView>(),
    )
    .post(
        "/assignment-rules/check",
        check,
        doc(
            "assignment rules",
            "Check expressions against the organisation's attributes without saving (204, or 422)",
        )
        .perm("rules.manage")
        .body::<CheckExpression>()
        .no_content(),
    )
    .post(
        "/assignment-rules/preview",
        preview_draft,
        doc(
            "assignment rules",
            "The diff an unsaved rule would make if applied now: who gains and who loses which role",
        )
        .perm("rules.manage")
        .query(&["limit"])
        .body::<CreateAssignmentRule>()
        .ok::<RuleDiff>(),
    )
    .get(
        "/assignment-rules/{id}",
        get_one,
        doc("assignment rules", "One rule, with its latest run")
            .perm("rules.manage or systems.view")
            .ok::<AssignmentRuleView>(),
    )
    .patch(
        "/assignment-rules/{id}",
        update,
        doc(
            "assignment rules",
            "Change a rule (If-Match: its version). The change applies to users as they change, \
             and to everyone when the rule is applied",
        )
        .perm("rules.manage")
        .body::<UpdateAssignmentRule>()
        .ok::<AssignmentRuleView>(),
    )
    .delete(
        "/assignment-rules/{id}",
        delete,
        doc(
            "assignment rules",
            "Delete a rule and revoke every grant it made",
        )
        .perm("rules.manage")
        .no_content(),
    )
    .post(
        "/assignment-rules/{id}/preview",
        preview,
        doc(
            "assignment rules",
            "Exactly what applying the rule now would change, without writing: gains, losses, \
             and users whose data made the expression fail (lists cut at `limit`, default 1000; \
             totals count everything)",
        )
        .perm("rules.manage")
        .query(&["limit"])
        .ok::<RuleDiff>(),
    )
    .post(
        "/assignment-rules/{id}/apply",
        apply,
        doc(
            "assignment rules",
            "Apply the rule to every user now: 202 with the run, whose `done` of `total` grows \
             as pages of users are committed (GET the run to follow it); 409 `run_in_progress` \
             while another run of the rule goes on",
        )
        .perm("rules.manage")
        .status(409)
        .accepted::<RuleRun>(),
    )
    .get(
        "/assignment-rules/{id}/runs",
        runs,
        doc("assignment rules", "The rule's runs, latest first")
            .perm("rules.manage or systems.view")
            .ok_array::<RuleRun>(),
    )
    .get(
        "/assignment-rules/{id}/runs/{run}",
        run,
        doc("assignment rules", "One run of the rule, with its progress")
            .perm("rules.manage or systems.view")
            .ok::<RuleRun>(),
    )
}

#[derive(serde::Deserialize)]
struct PreviewQuery {
    #[serde(default)]
    limit: Option<usize>,
}

async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<axum::Json<Vec<AssignmentRuleView>>> {
    Ok(axum::Json(s.services.list_assignment_rules(&p).await?))
}

async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateAssignmentRule>,
) -> ApiResult<Created<AssignmentRuleView>> {
    Ok(Created(s.services.create_assignment_rule(&p, body).await?))
}

async fn check(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CheckExpression>,
) -> ApiResult<NoContent> {
    s.services.check_rule_expression(&p, body).await?;
    Ok(NoContent)
}

async fn preview_draft(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<PreviewQuery>,
    ApiJson(body): ApiJson<CreateAssignmentRule>,
) -> ApiResult<axum::Json<RuleDiff>> {
    Ok(axum::Json(
        s.services.preview_draft_rule(&p, body, q.limit).await?,
    ))
}

async fn get_one(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AssignmentRuleId>,
) -> ApiResult<Tagged<AssignmentRuleView>> {
    Ok(Tagged(s.services.get_assignment_rule(&p, id).await?))
}

async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AssignmentRuleId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateAssignmentRule>,
) -> ApiResult<Tagged<AssignmentRuleView>> {
    Ok(Tagged(
        s.services.update_assignment_rule(&p, id, body, v).await?,
    ))
}

async fn delete(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AssignmentRuleId>,
) -> ApiResult<NoContent> {
    s.services.delete_assignment_rule(&p, id).await?;
    Ok(NoContent)
}

async fn preview(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AssignmentRuleId>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> ApiResult<axum::Json<RuleDiff>> {
    Ok(axum::Json(
        s.services.preview_assignment_rule(&p, id, q.limit).await?,
    ))
}

async fn apply(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AssignmentRuleId>,
) -> ApiResult<Response> {
    let run = s.services.apply_assignment_rule(&p, id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(run)).into_response())
}

async fn runs(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AssignmentRuleId>,
) -> ApiResult<axum::Json<Vec<RuleRun>>> {
    Ok(axum::Json(s.services.list_rule_runs(&p, id).await?))
}

async fn run(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, run)): ApiPath<(AssignmentRuleId, RuleRunId)>,
) -> ApiResult<axum::Json<RuleRun>> {
    Ok(axum::Json(s.services.get_rule_run(&p, id, run).await?))
}
