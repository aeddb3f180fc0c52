//! Previews of a change to a role or a group: who would gain and lose which effective role.

use axum::extract::State;
use latchkey_api::{AccessPreview, ChangeToPreview};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, Auth};
use crate::openapi::{ApiRouter, doc};

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.post(
        "/access-preview",
        preview,
        doc(
            "roles",
            "Who would gain and who would lose which effective role if a change were made (`kind`: add_granted_role, remove_granted_role, grant_to_group, revoke_grant, move_group); nothing is written",
        )
        .perm("the change's own permission, and users.view")
        .query(&["limit"])
        .body::<ChangeToPreview>()
        .ok::<AccessPreview>(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    #[serde(default)]
    limit: Option<u32>,
}

async fn preview(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<LimitQuery>,
    ApiJson(body): ApiJson<ChangeToPreview>,
) -> ApiResult<axum::Json<AccessPreview>> {
    Ok(axum::Json(
        s.services.preview_change(&p, body, q.limit).await?,
    ))
}
