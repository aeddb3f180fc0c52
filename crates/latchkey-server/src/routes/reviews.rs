//! Access reviews: campaigns (create, list, read, close), their items, a reviewer's queue
//! and overdue items across campaigns, and decisions.

use axum::extract::State;
use axum::response::Response;
use latchkey_api::{AccessReviewView, CreateAccessReview, DecideReviewItem, ReviewItemView};
use latchkey_model::{AccessReviewId, ReviewItemId};
use latchkey_service::{AccessReviewFilter, ReviewItemFilter};

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, Format};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{self, Created, Tagged, Versioned};

impl Versioned for AccessReviewView {
    fn version(&self) -> i64 {
        self.campaign.stamps.version
    }
}

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/access-reviews",
        list_access_reviews,
        doc(
            "reviews",
            "List access review campaigns (without reviews.manage: those you review in)",
        )
        .page::<AccessReviewView>(&[]),
    )
    .post(
        "/access-reviews",
        create_access_review,
        doc(
            "reviews",
            "Create an access review campaign: one item per grant of the selection in force now",
        )
        .perm("reviews.manage")
        .body::<CreateAccessReview>()
        .created::<AccessReviewView>(),
    )
    .get(
        "/access-reviews/items",
        list_items_across,
        doc(
            "reviews",
            "Items across campaigns: `reviewer=me` is your queue; otherwise reviews.manage",
        )
        .page::<ReviewItemView>(&["decision", "overdue", "reviewer"]),
    )
    .get(
        "/access-reviews/{id}",
        get_access_review,
        doc("reviews", "Read a campaign with its counts").ok::<AccessReviewView>(),
    )
    .get(
        "/access-reviews/{id}/items",
        list_campaign_items,
        doc(
            "reviews",
            "A campaign's items (without reviews.manage: those you review)",
        )
        .page::<ReviewItemView>(&["decision", "overdue", "reviewer"]),
    )
    .post(
        "/access-reviews/{id}/items/{item}/decide",
        decide_item,
        doc(
            "reviews",
            "Confirm or revoke an item's grant (its reviewers, or reviews.manage)",
        )
        .body::<DecideReviewItem>()
        .ok::<ReviewItemView>(),
    )
    .post(
        "/access-reviews/{id}/close",
        close_access_review,
        doc(
            "reviews",
            "Close a campaign; undecided items stay pending and are counted",
        )
        .perm("reviews.manage")
        .ok::<AccessReviewView>(),
    )
}

async fn list_access_reviews(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<AccessReviewFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_access_reviews(&p, &f).await }
    })
    .await
}

async fn create_access_review(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateAccessReview>,
) -> ApiResult<Created<AccessReviewView>> {
    Ok(Created(s.services.create_access_review(&p, body).await?))
}

async fn get_access_review(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AccessReviewId>,
) -> ApiResult<Tagged<AccessReviewView>> {
    Ok(Tagged(s.services.get_access_review(&p, id).await?))
}

async fn items(
    s: AppState,
    p: latchkey_service::Principal,
    format: Format,
    campaign: Option<AccessReviewId>,
    mut f: ReviewItemFilter,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_review_items(&p, campaign, &f).await }
    })
    .await
}

async fn list_items_across(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(f): ApiQuery<ReviewItemFilter>,
) -> ApiResult<Response> {
    items(s, p, format, None, f).await
}

async fn list_campaign_items(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiPath(id): ApiPath<AccessReviewId>,
    ApiQuery(f): ApiQuery<ReviewItemFilter>,
) -> ApiResult<Response> {
    items(s, p, format, Some(id), f).await
}

async fn decide_item(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath((id, item)): ApiPath<(AccessReviewId, ReviewItemId)>,
    ApiJson(body): ApiJson<DecideReviewItem>,
) -> ApiResult<axum::Json<ReviewItemView>> {
    Ok(axum::Json(
        s.services.decide_review_item(&p, id, item, body).await?,
    ))
}

async fn close_access_review(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<AccessReviewId>,
) -> ApiResult<Tagged<AccessReviewView>> {
    Ok(Tagged(s.services.close_access_review(&p, id).await?))
}
