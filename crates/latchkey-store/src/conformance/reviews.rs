//! Conformance story of access reviews: campaigns and items round-trip exactly (selection,
//! reviewers, grantee, decision), lists filter by campaign, reviewer, decision and
//! overdue-at with keyset paging, counts by decision, decisions and closing are written,
//! `grants.last_recertified_at` round-trips, the selection reads find the right grants,
//! and isolation: another organisation reads nothing and writes nothing.

use latchkey_model::{
    AccessReview, AccessReviewId, GrantId, Grantee, OrgId, ReviewDecision, ReviewItem,
    ReviewItemId, ReviewSelection, ReviewStatus, ReviewerKind, RoleId, UserId,
};

use super::{
    at, begin, commit, grant_value, ok, org_with_group, read, refused, role_value, stamps,
    system_value, user_value, uuid,
};
use crate::{Paging, ReviewCounts, ReviewItemQuery, Store};

fn campaign_value(org: OrgId, role: RoleId, owner: UserId) -> AccessReview {
    AccessReview {
        id: AccessReviewId::from_uuid(uuid()),
        org_id: org,
        name: "Q4".to_owned(),
        description: Some("quarterly".to_owned()),
        selection: ReviewSelection::Role { role_id: role },
        reviewer: ReviewerKind::RoleOwner,
        due_at: at(3600),
        status: ReviewStatus::Open,
        owner_id: owner,
        closed_at: None,
        closed_by: None,
        stamps: stamps(),
    }
}

fn item_value(
    c: &AccessReview,
    grant: GrantId,
    grantee: Grantee,
    reviewers: &[UserId],
) -> ReviewItem {
    ReviewItem {
        id: ReviewItemId::from_uuid(uuid()),
        org_id: c.org_id,
        campaign_id: c.id,
        grant_id: grant,
        role_id: RoleId::from_uuid(uuid()),
        role_name: "approver".to_owned(),
        grantee,
        grantee_name: "ana".to_owned(),
        scope: Some("EMEA".to_owned()),
        reviewer_ids: reviewers.to_vec(),
        reviewer_fallback: false,
        decision: ReviewDecision::Pending,
        decided_at: None,
        decided_by: None,
        comment: None,
        created_at: at(0),
    }
}

fn query(limit: u32) -> ReviewItemQuery {
    ReviewItemQuery {
        paging: Paging {
            limit,
            ..Default::default()
        },
        ..Default::default()
    }
}

pub async fn access_reviews(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let (other, _) = org_with_group(store).await;
    let olga = user_value(org.id, "olga", group.id);
    let ana = user_value(org.id, "ana", group.id);
    let system = system_value(org.id, "Books", None);
    let approver = role_value(org.id, system.id, "approver");
    let payer = role_value(org.id, system.id, "payer");
    let g_ana = grant_value(org.id, approver.id, Grantee::User(ana.id));
    let g_group = grant_value(org.id, payer.id, Grantee::Group(group.id));
    let mut tx = begin(store).await;
    ok(tx.insert_user(&olga).await, "user");
    ok(tx.insert_user(&ana).await, "user");
    ok(tx.insert_system(&system).await, "system");
    ok(tx.insert_role(&approver).await, "role");
    ok(tx.insert_role(&payer).await, "role");
    ok(tx.insert_grant(&g_ana).await, "grant");
    ok(tx.insert_grant(&g_group).await, "grant");
    commit(tx).await;

    // The selection reads.
    let mut tx = read(store).await;
    let of_roles = ok(
        tx.grants_of_roles(org.id, &[approver.id, payer.id]).await,
        "of roles",
    );
    assert_eq!(
        of_roles,
        vec![g_ana.clone(), g_group.clone()],
        "both, by id"
    );
    let to = ok(tx.grants_to(org.id, &[ana.id], &[group.id]).await, "to");
    assert_eq!(to.len(), 2);
    let to_group = ok(tx.grants_to(org.id, &[], &[group.id]).await, "to group");
    assert_eq!(to_group, vec![g_group.clone()]);
    assert!(ok(tx.grants_of_roles(org.id, &[]).await, "none").is_empty());
    assert!(
        ok(tx.grants_of_roles(other.id, &[approver.id]).await, "other").is_empty(),
        "another organisation's grants are never read"
    );
    drop(tx);

    // last_recertified_at round-trips on the grant.
    let mut recertified = g_ana.clone();
    recertified.last_recertified_at = Some(at(60));
    recertified.stamps.version = 2;
    let mut tx = begin(store).await;
    ok(tx.update_grant(&recertified).await, "recertify");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_grant(org.id, g_ana.id).await, "get grant"),
        Some(recertified.clone())
    );
    drop(tx);

    // Campaigns and items.
    let c = campaign_value(org.id, approver.id, olga.id);
    let mut c2 = campaign_value(org.id, approver.id, olga.id);
    c2.selection = ReviewSelection::Privileged;
    c2.description = None;
    c2.reviewer = ReviewerKind::Manager;
    let i1 = item_value(&c, g_ana.id, Grantee::User(ana.id), &[olga.id]);
    let mut i2 = item_value(&c, g_group.id, Grantee::Group(group.id), &[olga.id, ana.id]);
    i2.scope = None;
    i2.reviewer_fallback = true;
    let mut i3 = item_value(&c2, g_ana.id, Grantee::User(ana.id), &[ana.id]);
    i3.decision = ReviewDecision::NotReviewable;
    let mut tx = begin(store).await;
    ok(tx.insert_access_review(&c).await, "campaign");
    ok(tx.insert_access_review(&c2).await, "campaign 2");
    ok(
        tx.insert_review_items(&[i1.clone(), i2.clone(), i3.clone()])
            .await,
        "items",
    );
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_access_review(org.id, c.id).await, "get"),
        Some(c.clone())
    );
    assert_eq!(
        ok(tx.get_access_review(org.id, c2.id).await, "get"),
        Some(c2.clone())
    );
    assert_eq!(
        ok(tx.get_review_item(org.id, i2.id).await, "get item"),
        Some(i2.clone())
    );
    let page = ok(
        tx.list_access_reviews(org.id, &Paging::default(), None)
            .await,
        "list",
    );
    assert_eq!(page.items, vec![c.clone(), c2.clone()]);
    let mine = ok(
        tx.list_access_reviews(org.id, &Paging::default(), Some(olga.id))
            .await,
        "list as reviewer",
    );
    assert_eq!(
        mine.items,
        vec![c.clone()],
        "olga reviews in the first only"
    );
    let first = ok(
        tx.list_access_reviews(
            org.id,
            &Paging {
                limit: 1,
                ..Default::default()
            },
            None,
        )
        .await,
        "page",
    );
    assert!(first.has_more && first.items == vec![c.clone()]);

    let mut by_campaign = query(100);
    by_campaign.campaign = Some(c.id);
    let items = ok(tx.list_review_items(org.id, &by_campaign).await, "items");
    assert_eq!(items.items, vec![i1.clone(), i2.clone()]);
    let mut by_reviewer = query(100);
    by_reviewer.reviewer = Some(ana.id);
    let items = ok(tx.list_review_items(org.id, &by_reviewer).await, "queue");
    assert_eq!(items.items, vec![i2.clone(), i3.clone()]);
    let mut by_decision = query(100);
    by_decision.decision = Some(ReviewDecision::NotReviewable);
    let items = ok(tx.list_review_items(org.id, &by_decision).await, "decision");
    assert_eq!(items.items, vec![i3.clone()]);
    let mut overdue = query(100);
    overdue.overdue_at = Some(at(3600));
    assert!(
        ok(tx.list_review_items(org.id, &overdue).await, "not yet")
            .items
            .is_empty(),
        "due at the instant itself is not overdue"
    );
    overdue.overdue_at = Some(at(3601));
    let late = ok(tx.list_review_items(org.id, &overdue).await, "overdue");
    assert_eq!(
        late.items,
        vec![i1.clone(), i2.clone()],
        "pending items only"
    );
    let one = ok(tx.list_review_items(org.id, &query(1)).await, "paged");
    assert!(one.has_more && one.items == vec![i1.clone()]);
    let mut counts = ok(
        tx.count_review_items(org.id, &[c.id, c2.id]).await,
        "counts",
    );
    counts.sort_by_key(|(id, _)| *id);
    assert_eq!(
        counts,
        vec![
            (
                c.id,
                ReviewCounts {
                    pending: 2,
                    ..Default::default()
                }
            ),
            (
                c2.id,
                ReviewCounts {
                    not_reviewable: 1,
                    ..Default::default()
                }
            ),
        ]
    );
    drop(tx);

    // Another organisation reads nothing and writes nothing.
    let mut tx = begin(store).await;
    assert_eq!(
        ok(tx.get_access_review(other.id, c.id).await, "other"),
        None
    );
    assert_eq!(ok(tx.get_review_item(other.id, i1.id).await, "other"), None);
    assert!(
        ok(
            tx.list_access_reviews(other.id, &Paging::default(), None)
                .await,
            "other"
        )
        .items
        .is_empty()
    );
    assert!(
        ok(tx.list_review_items(other.id, &query(100)).await, "other")
            .items
            .is_empty()
    );
    assert!(ok(tx.count_review_items(other.id, &[c.id]).await, "other").is_empty());
    let mut stolen = i1.clone();
    stolen.org_id = other.id;
    stolen.decision = ReviewDecision::Revoked;
    refused(
        tx.decide_review_item(&stolen).await,
        "decide in another organisation",
    );
    let mut closed_elsewhere = c.clone();
    closed_elsewhere.org_id = other.id;
    closed_elsewhere.status = ReviewStatus::Closed;
    refused(
        tx.update_access_review(&closed_elsewhere).await,
        "close in another organisation",
    );
    drop(tx);

    // Deciding and closing.
    let mut decided = i1.clone();
    decided.decision = ReviewDecision::Confirmed;
    decided.decided_at = Some(at(120));
    decided.decided_by = Some(olga.id);
    decided.comment = Some("still needed".to_owned());
    let mut closed = c.clone();
    closed.status = ReviewStatus::Closed;
    closed.closed_at = Some(at(7200));
    closed.closed_by = Some(olga.id);
    closed.stamps.version = 2;
    let mut tx = begin(store).await;
    ok(tx.decide_review_item(&decided).await, "decide");
    ok(tx.update_access_review(&closed).await, "close");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_review_item(org.id, i1.id).await, "decided"),
        Some(decided)
    );
    assert_eq!(
        ok(tx.get_access_review(org.id, c.id).await, "closed"),
        Some(closed)
    );
    assert!(
        ok(tx.list_review_items(org.id, &overdue).await, "closed")
            .items
            .is_empty(),
        "a closed campaign has nothing overdue"
    );
    let counts = ok(tx.count_review_items(org.id, &[c.id]).await, "counts");
    assert_eq!(
        counts,
        vec![(
            c.id,
            ReviewCounts {
                pending: 1,
                confirmed: 1,
                ..Default::default()
            }
        )]
    );
}
