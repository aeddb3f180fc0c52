//! Access reviews: campaign rows, item rows (reviewers as JSON) with one reviewer row per
//! reviewer (the queue's index), decision counts, and the reads of the grants a new
//! campaign covers.

use async_trait::async_trait;
use latchkey_model::{
    AccessReview, AccessReviewId, Grant, GrantId, Grantee, GroupId, OrgId, ReviewDecision,
    ReviewItem, ReviewItemId, ReviewSelection, ReviewStatus, ReviewerKind, RoleId, UserId,
};
use latchkey_store::{
    Page, Paging, ReviewCounts, ReviewItemQuery, ReviewStore, StoreError, StoreResult,
};
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::catalog::{SELECT_GRANTS, grant};
use super::convert::{
    Cols, DbRow, Query, ROWS_PER_STATEMENT, bind_stamps, micros, opt_micros, to_json, values_sql,
};
use super::paging::{SortKey, page, push_page};
use super::{SqlTx, map_err, updated};
use crate::backend::Db;

macro_rules! review_cols {
    () => {
        concat!(
            "id, org_id, name, description, selection_kind, selection_id, reviewer_kind, ",
            "due_at, status, owner_id, closed_at, closed_by, ",
            stamp_cols!()
        )
    };
}

macro_rules! item_cols {
    () => {
        concat!(
            "id, org_id, campaign_id, grant_id, role_id, role_name, user_id, group_id, ",
            "grantee_name, scope, reviewer_ids, reviewer_fallback, decision, decided_at, ",
            "decided_by, comment, created_at"
        )
    };
}

fn review(row: &DbRow) -> StoreResult<AccessReview> {
    let c = Cols(row);
    let kind = c.text("selection_kind")?;
    let selection = ReviewSelection::from_parts(&kind, c.opt_uuid("selection_id")?)
        .ok_or_else(|| StoreError::Corrupt(format!("access review selection `{kind}`")))?;
    Ok(AccessReview {
        id: AccessReviewId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        name: c.text("name")?,
        description: c.opt_text("description")?,
        selection,
        reviewer: c.named("reviewer_kind", ReviewerKind::parse)?,
        due_at: c.instant("due_at")?,
        status: c.named("status", ReviewStatus::parse)?,
        owner_id: UserId::from_uuid(c.uuid("owner_id")?),
        closed_at: c.opt_instant("closed_at")?,
        closed_by: c.opt_uuid("closed_by")?.map(UserId::from_uuid),
        stamps: c.stamps()?,
    })
}

/// Binds `$1..$17` in `review_cols!()` order.
fn bind_review<'q>(q: Query<'q>, r: &AccessReview) -> Query<'q> {
    let q = q
        .bind(r.id.as_uuid())
        .bind(r.org_id.as_uuid())
        .bind(&r.name)
        .bind(&r.description)
        .bind(r.selection.kind())
        .bind(r.selection.object())
        .bind(r.reviewer.as_str())
        .bind(micros(r.due_at))
        .bind(r.status.as_str())
        .bind(r.owner_id.as_uuid())
        .bind(opt_micros(r.closed_at))
        .bind(r.closed_by.map(|u| u.as_uuid()));
    bind_stamps(q, &r.stamps)
}

fn item(row: &DbRow) -> StoreResult<ReviewItem> {
    let c = Cols(row);
    let grantee = match (c.opt_uuid("user_id")?, c.opt_uuid("group_id")?) {
        (Some(u), None) => Grantee::User(UserId::from_uuid(u)),
        (None, Some(g)) => Grantee::Group(GroupId::from_uuid(g)),
        _ => {
            return Err(StoreError::Corrupt(
                "review item without exactly one grantee".to_owned(),
            ));
        }
    };
    Ok(ReviewItem {
        id: ReviewItemId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        campaign_id: AccessReviewId::from_uuid(c.uuid("campaign_id")?),
        grant_id: GrantId::from_uuid(c.uuid("grant_id")?),
        role_id: RoleId::from_uuid(c.uuid("role_id")?),
        role_name: c.text("role_name")?,
        grantee,
        grantee_name: c.text("grantee_name")?,
        scope: c.opt_text("scope")?,
        reviewer_ids: c.json("reviewer_ids")?,
        reviewer_fallback: c.flag("reviewer_fallback")?,
        decision: c.named("decision", ReviewDecision::parse)?,
        decided_at: c.opt_instant("decided_at")?,
        decided_by: c.opt_uuid("decided_by")?.map(UserId::from_uuid),
        comment: c.opt_text("comment")?,
        created_at: c.instant("created_at")?,
    })
}

/// Binds the 17 columns of `item_cols!()` in order.
fn bind_item<'q>(q: Query<'q>, i: &'q ReviewItem) -> StoreResult<Query<'q>> {
    let (user, group) = match i.grantee {
        Grantee::User(u) => (Some(u.as_uuid()), None),
        Grantee::Group(g) => (None, Some(g.as_uuid())),
    };
    Ok(q.bind(i.id.as_uuid())
        .bind(i.org_id.as_uuid())
        .bind(i.campaign_id.as_uuid())
        .bind(i.grant_id.as_uuid())
        .bind(i.role_id.as_uuid())
        .bind(&i.role_name)
        .bind(user)
        .bind(group)
        .bind(&i.grantee_name)
        .bind(&i.scope)
        .bind(to_json(&i.reviewer_ids)?)
        .bind(i.reviewer_fallback)
        .bind(i.decision.as_str())
        .bind(opt_micros(i.decided_at))
        .bind(i.decided_by.map(|u| u.as_uuid()))
        .bind(&i.comment)
        .bind(micros(i.created_at)))
}

/// `qb` followed by ` col IN (v1, v2, ...)`.
fn push_in(qb: &mut QueryBuilder<Db>, col: &str, ids: &[uuid::Uuid]) {
    qb.push(format!("{col} IN ("));
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    list.push_unseparated(")");
}

#[async_trait]
impl ReviewStore for SqlTx {
    async fn insert_access_review(&mut self, r: &AccessReview) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "INSERT INTO access_reviews (",
            review_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ));
        bind_review(q, r)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn update_access_review(&mut self, r: &AccessReview) -> StoreResult<()> {
        let q = sqlx::query(concat!(
            "UPDATE access_reviews SET name = $3, description = $4, selection_kind = $5, ",
            "selection_id = $6, reviewer_kind = $7, due_at = $8, status = $9, owner_id = $10, ",
            "closed_at = $11, closed_by = $12, created_at = $13, created_by = $14, ",
            "updated_at = $15, updated_by = $16, version = $17 WHERE id = $1 AND org_id = $2"
        ));
        updated(
            bind_review(q, r)
                .execute(self.conn())
                .await
                .map_err(map_err)?,
        )
    }

    async fn get_access_review(
        &mut self,
        org: OrgId,
        id: AccessReviewId,
    ) -> StoreResult<Option<AccessReview>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            review_cols!(),
            " FROM access_reviews WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(review).transpose()
    }

    async fn list_access_reviews(
        &mut self,
        org: OrgId,
        paging: &Paging,
        reviewer: Option<UserId>,
    ) -> StoreResult<Page<AccessReview>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            review_cols!(),
            " FROM access_reviews WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(reviewer) = reviewer {
            qb.push(" AND id IN (SELECT i.campaign_id FROM access_review_items i JOIN ");
            qb.push("access_review_reviewers r ON r.org_id = i.org_id AND r.item_id = i.id ");
            qb.push("WHERE r.org_id = ");
            qb.push_bind(org.as_uuid());
            qb.push(" AND r.reviewer_id = ");
            qb.push_bind(reviewer.as_uuid());
            qb.push(")");
        }
        push_page(&mut qb, SortKey::Id, "id", paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, paging.limit, review)
    }

    async fn count_review_items(
        &mut self,
        org: OrgId,
        ids: &[AccessReviewId],
    ) -> StoreResult<Vec<(AccessReviewId, ReviewCounts)>> {
        let mut out: Vec<(AccessReviewId, ReviewCounts)> = Vec::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT campaign_id, decision, COUNT(*) AS n FROM access_review_items WHERE org_id = ",
            );
            qb.push_bind(org.as_uuid());
            qb.push(" AND ");
            let uuids: Vec<uuid::Uuid> = chunk.iter().map(|c| c.as_uuid()).collect();
            push_in(&mut qb, "campaign_id", &uuids);
            qb.push(" GROUP BY campaign_id, decision");
            for row in qb.build().fetch_all(self.conn()).await.map_err(map_err)? {
                let c = Cols(&row);
                let id = AccessReviewId::from_uuid(c.uuid("campaign_id")?);
                let decision = c.named("decision", ReviewDecision::parse)?;
                let n = u64::try_from(c.int("n")?).unwrap_or(0);
                let at = match out.iter().position(|(c, _)| *c == id) {
                    Some(at) => at,
                    None => {
                        out.push((id, ReviewCounts::default()));
                        out.len() - 1
                    }
                };
                let counts = &mut out[at].1;
                match decision {
                    ReviewDecision::Pending => counts.pending += n,
                    ReviewDecision::Confirmed => counts.confirmed += n,
                    ReviewDecision::Revoked => counts.revoked += n,
                    ReviewDecision::NotReviewable => counts.not_reviewable += n,
                }
            }
        }
        Ok(out)
    }

    async fn insert_review_items(&mut self, items: &[ReviewItem]) -> StoreResult<()> {
        for chunk in items.chunks(ROWS_PER_STATEMENT) {
            let sql = values_sql(
                concat!(
                    "INSERT INTO access_review_items (",
                    item_cols!(),
                    ") VALUES "
                ),
                17,
                chunk.len(),
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for i in chunk {
                q = bind_item(q, i)?;
            }
            q.execute(self.conn()).await.map_err(map_err)?;
            let rows: Vec<(&ReviewItem, UserId)> = chunk
                .iter()
                .flat_map(|i| {
                    let mut reviewers = i.reviewer_ids.clone();
                    reviewers.sort_unstable();
                    reviewers.dedup();
                    reviewers.into_iter().map(move |r| (i, r))
                })
                .collect();
            for rows in rows.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO access_review_reviewers (org_id, item_id, reviewer_id) ",
                );
                qb.push_values(rows, |mut b, (i, reviewer)| {
                    b.push_bind(i.org_id.as_uuid())
                        .push_bind(i.id.as_uuid())
                        .push_bind(reviewer.as_uuid());
                });
                qb.build().execute(self.conn()).await.map_err(map_err)?;
            }
        }
        Ok(())
    }

    async fn get_review_item(
        &mut self,
        org: OrgId,
        id: ReviewItemId,
    ) -> StoreResult<Option<ReviewItem>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            item_cols!(),
            " FROM access_review_items WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.as_ref().map(item).transpose()
    }

    async fn decide_review_item(&mut self, i: &ReviewItem) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE access_review_items SET decision = $3, decided_at = $4, decided_by = $5, \
             comment = $6 WHERE id = $1 AND org_id = $2",
        )
        .bind(i.id.as_uuid())
        .bind(i.org_id.as_uuid())
        .bind(i.decision.as_str())
        .bind(opt_micros(i.decided_at))
        .bind(i.decided_by.map(|u| u.as_uuid()))
        .bind(&i.comment)
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        updated(done)
    }

    async fn list_review_items(
        &mut self,
        org: OrgId,
        query: &ReviewItemQuery,
    ) -> StoreResult<Page<ReviewItem>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            item_cols!(),
            " FROM access_review_items WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(campaign) = query.campaign {
            qb.push(" AND campaign_id = ");
            qb.push_bind(campaign.as_uuid());
        }
        if let Some(reviewer) = query.reviewer {
            qb.push(" AND id IN (SELECT item_id FROM access_review_reviewers WHERE org_id = ");
            qb.push_bind(org.as_uuid());
            qb.push(" AND reviewer_id = ");
            qb.push_bind(reviewer.as_uuid());
            qb.push(")");
        }
        if let Some(decision) = query.decision {
            qb.push(" AND decision = ");
            qb.push_bind(decision.as_str());
        }
        if let Some(now) = query.overdue_at {
            qb.push(" AND decision = 'pending' AND campaign_id IN (SELECT id FROM access_reviews ");
            qb.push("WHERE org_id = ");
            qb.push_bind(org.as_uuid());
            qb.push(" AND status = 'open' AND due_at < ");
            qb.push_bind(micros(now));
            qb.push(")");
        }
        push_page(&mut qb, SortKey::Id, "id", &query.paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        page(rows, query.paging.limit, item)
    }

    async fn grants_of_roles(&mut self, org: OrgId, roles: &[RoleId]) -> StoreResult<Vec<Grant>> {
        let uuids: Vec<uuid::Uuid> = roles.iter().map(|r| r.as_uuid()).collect();
        self.grants_matching(org, &[("role_id", &uuids)]).await
    }

    async fn grants_to(
        &mut self,
        org: OrgId,
        users: &[UserId],
        groups: &[GroupId],
    ) -> StoreResult<Vec<Grant>> {
        let users: Vec<uuid::Uuid> = users.iter().map(|u| u.as_uuid()).collect();
        let groups: Vec<uuid::Uuid> = groups.iter().map(|g| g.as_uuid()).collect();
        self.grants_matching(org, &[("user_id", &users), ("group_id", &groups)])
            .await
    }
}

impl SqlTx {
    /// Grants whose column is one of its ids, for each `(column, ids)`, by id without
    /// duplicates; a few hundred ids a statement.
    async fn grants_matching(
        &mut self,
        org: OrgId,
        lists: &[(&str, &[uuid::Uuid])],
    ) -> StoreResult<Vec<Grant>> {
        let mut out: Vec<Grant> = Vec::new();
        for (col, ids) in lists {
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(SELECT_GRANTS);
                qb.push(" WHERE org_id = ");
                qb.push_bind(org.as_uuid());
                qb.push(" AND ");
                push_in(&mut qb, col, chunk);
                for row in qb.build().fetch_all(self.conn()).await.map_err(map_err)? {
                    out.push(grant(&row)?);
                }
            }
        }
        out.sort_by_key(|g| g.id);
        out.dedup_by_key(|g| g.id);
        Ok(out)
    }
}
