//! Access reviews: campaigns, their items (one per grant reviewed) and each item's
//! reviewers (kept as rows too, so a reviewer's queue is found by index), and the reads
//! that pick the grants a new campaign covers.

use async_trait::async_trait;
use latchkey_model::{
    AccessReview, AccessReviewId, Grant, GroupId, OrgId, ReviewDecision, ReviewItem, ReviewItemId,
    RoleId, UserId,
};
use time::OffsetDateTime;

use crate::{Page, Paging, StoreResult};

/// Which items a list returns, in id order (creation order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReviewItemQuery {
    pub paging: Paging,
    /// Items of this campaign.
    pub campaign: Option<AccessReviewId>,
    /// Items this user reviews.
    pub reviewer: Option<UserId>,
    pub decision: Option<ReviewDecision>,
    /// Pending items of open campaigns whose due date is before this instant.
    pub overdue_at: Option<OffsetDateTime>,
}

/// A campaign's items by decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReviewCounts {
    pub pending: u64,
    pub confirmed: u64,
    pub revoked: u64,
    pub not_reviewable: u64,
}

#[async_trait]
pub trait ReviewStore {
    async fn insert_access_review(&mut self, campaign: &AccessReview) -> StoreResult<()>;
    /// Replaces the campaign's status, closing fields and stamps.
    async fn update_access_review(&mut self, campaign: &AccessReview) -> StoreResult<()>;
    async fn get_access_review(
        &mut self,
        org: OrgId,
        id: AccessReviewId,
    ) -> StoreResult<Option<AccessReview>>;
    /// Campaigns in id order; with `reviewer`, only those where the user reviews an item.
    async fn list_access_reviews(
        &mut self,
        org: OrgId,
        paging: &Paging,
        reviewer: Option<UserId>,
    ) -> StoreResult<Page<AccessReview>>;
    /// The items of each campaign of `ids` by decision (campaigns without items are absent).
    async fn count_review_items(
        &mut self,
        org: OrgId,
        ids: &[AccessReviewId],
    ) -> StoreResult<Vec<(AccessReviewId, ReviewCounts)>>;

    /// Inserts items with their reviewer rows, in few statements.
    async fn insert_review_items(&mut self, items: &[ReviewItem]) -> StoreResult<()>;
    async fn get_review_item(
        &mut self,
        org: OrgId,
        id: ReviewItemId,
    ) -> StoreResult<Option<ReviewItem>>;
    /// Records a decision: the item's decision, `decided_at`, `decided_by` and `comment`.
    async fn decide_review_item(&mut self, item: &ReviewItem) -> StoreResult<()>;
    async fn list_review_items(
        &mut self,
        org: OrgId,
        query: &ReviewItemQuery,
    ) -> StoreResult<Page<ReviewItem>>;

    /// Grants of any of `roles`, by id.
    async fn grants_of_roles(&mut self, org: OrgId, roles: &[RoleId]) -> StoreResult<Vec<Grant>>;
    /// Grants to any of `users` or `groups`, by id.
    async fn grants_to(
        &mut self,
        org: OrgId,
        users: &[UserId],
        groups: &[GroupId],
    ) -> StoreResult<Vec<Grant>>;
}
