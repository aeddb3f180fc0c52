//! The access review endpoints (`/api/v1/access-reviews…`): campaigns, their items, a
//! reviewer's queue, decisions and closing.

use latchkey_api::{
    AccessReviewView, CreateAccessReview, DecideReviewItem, ListResponse, ReviewItemView,
};
use latchkey_model::{AccessReviewId, ReviewItemId};
use serde::Serialize;

use crate::query::{NoFilter, Page};
use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

/// Filters of `GET /api/v1/access-reviews/{id}/items` and `GET /api/v1/access-reviews/items`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReviewItemFilter {
    /// `pending`, `confirmed`, `revoked` or `not_reviewable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// Only pending items past their campaign's due date.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
    /// `me` or a user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
}

impl Client {
    pub async fn list_access_reviews(&self, page: &Page) -> Result<ListResponse<AccessReviewView>> {
        self.list("/api/v1/access-reviews", &NoFilter {}, page)
            .await
    }

    pub async fn list_all_access_reviews(&self, page: &Page) -> Result<Vec<AccessReviewView>> {
        self.list_all("/api/v1/access-reviews", &NoFilter {}, page)
            .await
    }

    pub async fn get_access_review(&self, id: AccessReviewId) -> Result<AccessReviewView> {
        self.get(&format!("/api/v1/access-reviews/{id}")).await
    }

    /// Creates a campaign and its items.
    pub async fn create_access_review(
        &self,
        body: &CreateAccessReview,
    ) -> Result<AccessReviewView> {
        self.create("/api/v1/access-reviews", body).await
    }

    /// Items of one campaign, or (`None`) across campaigns.
    pub async fn list_review_items(
        &self,
        campaign: Option<AccessReviewId>,
        filter: &ReviewItemFilter,
        page: &Page,
    ) -> Result<ListResponse<ReviewItemView>> {
        self.list(&items_path(campaign), filter, page).await
    }

    pub async fn list_all_review_items(
        &self,
        campaign: Option<AccessReviewId>,
        filter: &ReviewItemFilter,
        page: &Page,
    ) -> Result<Vec<ReviewItemView>> {
        self.list_all(&items_path(campaign), filter, page).await
    }

    pub async fn decide_review_item(
        &self,
        campaign: AccessReviewId,
        item: ReviewItemId,
        body: &DecideReviewItem,
    ) -> Result<ReviewItemView> {
        self.create(
            &format!("/api/v1/access-reviews/{campaign}/items/{item}/decide"),
            body,
        )
        .await
    }

    /// Closes a campaign; the answer counts the items left undecided.
    pub async fn close_access_review(&self, id: AccessReviewId) -> Result<AccessReviewView> {
        self.create(
            &format!("/api/v1/access-reviews/{id}/close"),
            &serde_json::json!({}),
        )
        .await
    }
}

fn items_path(campaign: Option<AccessReviewId>) -> String {
    match campaign {
        Some(id) => format!("/api/v1/access-reviews/{id}/items"),
        None => "/api/v1/access-reviews/items".to_owned(),
    }
}
