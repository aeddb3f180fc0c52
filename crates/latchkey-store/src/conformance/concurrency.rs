//! Concurrent writers, for the backends' tests to drive: they spawn many tasks that each
//! run `write` (begin, bump the revision, insert, commit) at once. Every writer must succeed
//! (SQLite queues them on its write lock, PostgreSQL on the organisation's row lock), and
//! the revisions handed out must be exactly the next ones, once each.

use latchkey_model::OrgId;

use super::{begin, commit, group_value, ok, org_with_group, read};
use crate::{GroupQuery, Paging, Store, StoreResult};

/// A committed organisation for the writers, at revision 0.
pub async fn prepare(store: &dyn Store) -> OrgId {
    let (org, _) = org_with_group(store).await;
    org.id
}

/// One writer: a transaction that bumps the revision and inserts the group `writer-<n>`.
/// Returns the revision it got.
pub async fn write(store: &dyn Store, org: OrgId, n: usize) -> StoreResult<i64> {
    let mut tx = store.begin().await?;
    let revision = tx.bump_revision(org, super::at(0)).await?;
    tx.insert_group(&group_value(org, &format!("writer-{n}"), None))
        .await?;
    tx.commit().await?;
    Ok(revision)
}

/// Checks the outcome of `writers` successful writers that got `revisions`.
pub async fn check(store: &dyn Store, org: OrgId, mut revisions: Vec<i64>, writers: usize) {
    revisions.sort_unstable();
    let expected: Vec<i64> = (1..=i64::try_from(writers).expect("count")).collect();
    assert_eq!(
        revisions, expected,
        "each writer got the next revision, once"
    );
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.revision(org).await, "revision"),
        Some(expected.len() as i64)
    );
    let query = GroupQuery {
        q: Some("writer-".into()),
        paging: Paging {
            limit: 1000,
            ..Paging::default()
        },
        ..GroupQuery::default()
    };
    let groups = ok(tx.list_groups(org, &query).await, "groups");
    assert_eq!(
        groups.items.len(),
        writers,
        "every writer's insert is there"
    );
    drop(tx);
    // The store still takes writes afterwards.
    let mut tx = begin(store).await;
    ok(
        tx.bump_revision(org, super::at(0)).await,
        "bump after the storm",
    );
    commit(tx).await;
}
