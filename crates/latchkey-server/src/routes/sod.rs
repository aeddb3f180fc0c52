//! Segregation-of-duties rules: CRUD, and previews of the users a rule (saved or not)
//! affects.

use axum::extract::State;
use axum::response::Response;
use latchkey_api::{CreateSodRule, SodPreview, SodRuleSaved, UpdateSodRule};
use latchkey_model::{SodRule, SodRuleId};
use latchkey_service::SodRuleFilter;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, Format, IfMatch};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{self, Created, NoContent, Tagged, Versioned};

impl Versioned for SodRule {
    fn version(&self) -> i64 {
        self.stamps.version
    }
}

impl Versioned for SodRuleSaved {
    fn version(&self) -> i64 {
        self.rule.stamps.version
    }
}

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/sod-rules",
        list_sod_rules,
        doc("sod", "List segregation-of-duties rules")
            .perm("sod.manage or systems.view")
            .page::<SodRule>(&["system_id", "role_id"]),
    )
    .post(
        "/sod-rules",
        create_sod_rule,
        doc(
            "sod",
            "Create a segregation-of-duties rule (the answer counts users already breaking it)",
        )
        .perm("sod.manage")
        .body::<CreateSodRule>()
        .created::<SodRuleSaved>(),
    )
    .post(
        "/sod-rules/preview",
        preview_sod_rule,
        doc("sod", "List the users a rule not yet saved would affect")
            .perm("sod.manage")
            .body::<CreateSodRule>()
            .ok::<SodPreview>(),
    )
    .get(
        "/sod-rules/{id}",
        get_sod_rule,
        doc("sod", "Read a segregation-of-duties rule")
            .perm("sod.manage or systems.view")
            .ok::<SodRule>(),
    )
    .patch(
        "/sod-rules/{id}",
        update_sod_rule,
        doc("sod", "Change a segregation-of-duties rule")
            .perm("sod.manage")
            .body::<UpdateSodRule>()
            .ok::<SodRuleSaved>(),
    )
    .delete(
        "/sod-rules/{id}",
        delete_sod_rule,
        doc("sod", "Delete a segregation-of-duties rule")
            .perm("sod.manage")
            .no_content(),
    )
    .post(
        "/sod-rules/{id}/preview",
        preview_saved_sod_rule,
        doc(
            "sod",
            "List the users a saved rule affects, with the changes in the body applied (`{}`: as saved)",
        )
        .perm("sod.manage")
        .body::<UpdateSodRule>()
        .ok::<SodPreview>(),
    )
}

async fn list_sod_rules(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<SodRuleFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_sod_rules(&p, &f).await }
    })
    .await
}

async fn create_sod_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateSodRule>,
) -> ApiResult<Created<SodRuleSaved>> {
    Ok(Created(s.services.create_sod_rule(&p, body).await?))
}

async fn preview_sod_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateSodRule>,
) -> ApiResult<axum::Json<SodPreview>> {
    Ok(axum::Json(s.services.preview_sod_rule(&p, body).await?))
}

async fn get_sod_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SodRuleId>,
) -> ApiResult<Tagged<SodRule>> {
    Ok(Tagged(s.services.get_sod_rule(&p, id).await?))
}

async fn update_sod_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SodRuleId>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<UpdateSodRule>,
) -> ApiResult<Tagged<SodRuleSaved>> {
    Ok(Tagged(s.services.update_sod_rule(&p, id, body, v).await?))
}

async fn delete_sod_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SodRuleId>,
    IfMatch(v): IfMatch,
) -> ApiResult<NoContent> {
    s.services.delete_sod_rule(&p, id, v).await?;
    Ok(NoContent)
}

async fn preview_saved_sod_rule(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<SodRuleId>,
    ApiJson(body): ApiJson<UpdateSodRule>,
) -> ApiResult<axum::Json<SodPreview>> {
    Ok(axum::Json(
        s.services.preview_saved_sod_rule(&p, id, body).await?,
    ))
}
