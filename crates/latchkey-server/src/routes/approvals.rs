//! Approvals: the queues of approval requests, one request, and its decision (approve,
//! reject, cancel). Grants and revokes that wait for approval answer 202 from the grant
//! routes (`catalog.rs`).

use axum::extract::State;
use axum::response::Response;
use latchkey_api::ApprovalDecision;
use latchkey_model::{ApprovalId, ApprovalRequest};
use latchkey_service::ApprovalFilter;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, Format};
use crate::openapi::{ApiRouter, doc};
use crate::respond;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/approvals",
        list_approvals,
        doc(
            "approvals",
            "List approval requests: `queue=to_decide` (default, pending requests you may decide), `requested` (yours) or `all`",
        )
        .perm("an approver, the requester, or roles.grant org-wide / security.view for `all`")
        .page::<ApprovalRequest>(&["queue", "status", "system_id", "grant_id"]),
    )
    .get(
        "/approvals/{id}",
        get_approval,
        doc("approvals", "Read an approval request")
            .perm("its requester, an approver of its system, or roles.grant org-wide / security.view")
            .ok::<ApprovalRequest>(),
    )
    .post(
        "/approvals/{id}/approve",
        approve,
        doc(
            "approvals",
            "Approve a pending request: the grant takes effect, or the revoke does",
        )
        .perm("the system's owner or a holder of its approver role, not the requester")
        .body::<ApprovalDecision>()
        .ok::<ApprovalRequest>(),
    )
    .post(
        "/approvals/{id}/reject",
        reject,
        doc(
            "approvals",
            "Reject a pending request with a comment: a requested grant is removed, a revoked grant stays",
        )
        .perm("the system's owner or a holder of its approver role, not the requester")
        .body::<ApprovalDecision>()
        .ok::<ApprovalRequest>(),
    )
    .post(
        "/approvals/{id}/cancel",
        cancel,
        doc("approvals", "Withdraw your own pending request")
            .perm("its requester")
            .ok::<ApprovalRequest>(),
    )
}

async fn list_approvals(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<ApprovalFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_approvals(&p, &f).await }
    })
    .await
}

async fn get_approval(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<ApprovalId>,
) -> ApiResult<axum::Json<ApprovalRequest>> {
    Ok(axum::Json(s.services.get_approval(&p, id).await?))
}

async fn approve(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<ApprovalId>,
    ApiJson(body): ApiJson<ApprovalDecision>,
) -> ApiResult<axum::Json<ApprovalRequest>> {
    Ok(axum::Json(s.services.approve(&p, id, body).await?))
}

async fn reject(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<ApprovalId>,
    ApiJson(body): ApiJson<ApprovalDecision>,
) -> ApiResult<axum::Json<ApprovalRequest>> {
    Ok(axum::Json(s.services.reject(&p, id, body).await?))
}

async fn cancel(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<ApprovalId>,
) -> ApiResult<axum::Json<ApprovalRequest>> {
    Ok(axum::Json(s.services.cancel_approval(&p, id).await?))
}
