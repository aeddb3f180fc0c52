//! The change log: every write to an engine-relevant table is logged, at the revision of
//! its transaction, in the same transaction (a rollback logs nothing), for its own
//! organisation only.

use latchkey_model::Grantee;

use super::{begin, commit, grant_value_for, group_value, ok, org_with_group, read, user_value};
use crate::{ChangeKind, Store};

pub async fn change_log(store: &dyn Store) {
    let (org, root) = org_with_group(store).await;
    let (other, _) = org_with_group(store).await;
    let start = {
        let mut tx = read(store).await;
        ok(tx.last_change_seq(org.id).await, "last seq")
    };
    let mut tx = begin(store).await;
    let revision = ok(tx.bump_revision(org.id, super::at(0)).await, "bump");
    let user = user_value(org.id, "logged", root.id);
    ok(tx.insert_user(&user).await, "insert user");
    let group = group_value(org.id, "Logged", Some(root.id));
    ok(tx.insert_group(&group).await, "insert group");
    commit(tx).await;

    let mut tx = begin(store).await;
    let second = ok(tx.bump_revision(org.id, super::at(0)).await, "bump");
    let mut changed = user.clone();
    changed.enabled = false;
    ok(tx.update_user(&changed).await, "update user");
    ok(tx.delete_group(org.id, group.id).await, "delete group");
    commit(tx).await;

    // A rolled-back write leaves nothing in the log.
    let mut tx = begin(store).await;
    ok(tx.bump_revision(org.id, super::at(0)).await, "bump");
    ok(
        tx.insert_group(&group_value(org.id, "Never", None)).await,
        "insert",
    );
    drop(tx);

    let mut tx = read(store).await;
    let entries = ok(tx.changes_after(org.id, start, 100).await, "changes after");
    let seen: Vec<(ChangeKind, uuid::Uuid, bool, i64)> = entries
        .iter()
        .map(|e| (e.kind, e.object_id, e.removed, e.revision))
        .collect();
    assert_eq!(
        seen,
        vec![
            (ChangeKind::User, user.id.as_uuid(), false, revision),
            (ChangeKind::Group, group.id.as_uuid(), false, revision),
            (ChangeKind::User, user.id.as_uuid(), false, second),
            (ChangeKind::Group, group.id.as_uuid(), true, second),
        ],
        "the log holds each write at its revision, and nothing rolled back"
    );
    assert!(
        entries.windows(2).all(|w| w[0].seq < w[1].seq),
        "seq increases"
    );
    let last = ok(tx.last_change_seq(org.id).await, "last seq");
    assert_eq!(Some(last), entries.last().map(|e| e.seq));
    let paged = ok(tx.changes_after(org.id, entries[1].seq, 1).await, "page");
    assert_eq!(paged.len(), 1);
    assert_eq!(
        paged[0].seq, entries[2].seq,
        "changes_after starts strictly after and honours the limit"
    );
    let foreign = ok(
        tx.changes_after(other.id, 0, 100).await,
        "other organisation",
    );
    assert!(
        foreign.iter().all(|e| e.object_id != user.id.as_uuid()),
        "each organisation reads its own log"
    );
    drop(tx);

    // Grants are logged too, with their grantee irrelevant to the entry.
    let mut tx = begin(store).await;
    ok(tx.bump_revision(org.id, super::at(0)).await, "bump");
    let g = grant_value_for(store, &mut *tx, org.id, Grantee::User(user.id)).await;
    commit(tx).await;
    let mut tx = read(store).await;
    let after = ok(
        tx.changes_after(org.id, last, 100).await,
        "changes after grant",
    );
    assert!(
        after
            .iter()
            .any(|e| e.kind == ChangeKind::Grant && e.object_id == g.as_uuid()),
        "{after:?}"
    );
    assert!(
        after.iter().any(|e| e.kind == ChangeKind::Role),
        "the grant's role was logged"
    );
    assert!(
        after.iter().any(|e| e.kind == ChangeKind::System),
        "the role's system was logged"
    );
}
