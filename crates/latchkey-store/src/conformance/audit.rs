//! Conformance stories of the audit trail: the store numbers entries and chains their
//! hashes per organisation, stored entries verify with `latchkey_model::verify_chain`, and
//! `list_audit` filters and pages by `seq`.

use latchkey_model::{AuditEntry, AuditHash, UserId, verify_chain};
use serde_json::json;
use time::macros::datetime;

use super::{at, audit_value, begin, commit, ok, org_with_group, read, refused};
use crate::{AuditQuery, Store};

/// Appending assigns `seq`, `prev_hash` and `hash`; what is read back verifies, including
/// awkward JSON (floats, unicode, nesting) and instants with offsets or nanoseconds.
pub async fn chain(store: &dyn Store) {
    let (org, _) = org_with_group(store).await;
    let (other, _) = org_with_group(store).await;
    let actor = UserId::from_uuid(super::uuid());

    let mut first = audit_value(org.id, "user.create", "user", "u-1", 0);
    first.actor_id = Some(actor);
    first.after = Some(json!({
        "user_name": "zoë", "z": 1, "a": [0.1, 1e-7, 123456.789e10, -0.0, 1.7976931348623157e308, 5e-324],
        "nested": {"b": null, "a": true, "big": 18446744073709551615u64, "neg": -9223372036854775808i64},
        "text": "line\nbreak \"quoted\" \\ tab\t \u{1F512}"
    }));
    first.request_id = Some("req-1".to_owned());
    let mut second = audit_value(org.id, "user.update", "user", "u-1", 10);
    second.before = first.after.clone();
    second.after = Some(json!({"user_name": "zoe"}));
    // Finer than a microsecond and not in UTC: stored as the same instant, truncated.
    second.at = datetime!(2026-03-01 11:00:10.123456789 +02:00);
    let third = audit_value(org.id, "user.delete", "user", "u-1", 20);
    let elsewhere = audit_value(other.id, "group.create", "group", "g-1", 0);

    let mut tx = begin(store).await;
    let e1 = ok(tx.append_audit(&first).await, "append");
    let e2 = ok(tx.append_audit(&second).await, "append");
    commit(tx).await;
    let mut tx = begin(store).await;
    let e3 = ok(
        tx.append_audit(&third).await,
        "append in a later transaction",
    );
    let o1 = ok(
        tx.append_audit(&elsewhere).await,
        "append in another organisation",
    );
    commit(tx).await;

    assert_eq!((e1.seq, e2.seq, e3.seq), (1, 2, 3), "seq counts from 1");
    assert_eq!(o1.seq, 1, "each organisation has its own chain");
    assert_eq!(e1.prev_hash, AuditHash::GENESIS);
    assert_eq!(o1.prev_hash, AuditHash::GENESIS);
    assert_eq!(e2.prev_hash, e1.hash);
    assert_eq!(e3.prev_hash, e2.hash);
    assert_eq!(
        e1.entry, first,
        "an entry at whole microseconds in UTC is stored as given"
    );
    assert_eq!(
        e2.entry.at,
        datetime!(2026-03-01 09:00:10.123456 UTC),
        "the stored instant is truncated"
    );
    assert_eq!(
        verify_chain([&e1, &e2, &e3]),
        Ok(3),
        "the returned entries verify"
    );

    let mut tx = read(store).await;
    let stored = ok(tx.audit_chain(org.id, 0, 100).await, "chain");
    assert_eq!(
        stored,
        vec![e1.clone(), e2.clone(), e3.clone()],
        "stored entries are the returned ones"
    );
    assert_eq!(verify_chain(&stored), Ok(3), "the stored chain verifies");
    assert_eq!(
        ok(tx.audit_chain(org.id, 1, 1).await, "chain window"),
        vec![e2.clone()]
    );
    assert!(ok(tx.audit_chain(org.id, 3, 10).await, "chain end").is_empty());
    assert!(ok(tx.audit_chain(org.id, 0, 0).await, "limit 0").is_empty());
    assert_eq!(
        ok(tx.audit_chain(other.id, 0, 10).await, "other chain"),
        vec![o1]
    );
    drop(tx);

    let mut tx = begin(store).await;
    refused(
        tx.append_audit(&audit_value(
            latchkey_model::OrgId::from_uuid(super::uuid()),
            "x",
            "x",
            "x",
            0,
        ))
        .await,
        "append to an unknown organisation",
    );
    drop(tx);
}

fn seqs(entries: &[AuditEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.seq).collect()
}

/// `list_audit`: every filter, both directions, `after_seq` paging, `has_more`.
pub async fn lists(store: &dyn Store) {
    let (org, _) = org_with_group(store).await;
    let alice = UserId::from_uuid(super::uuid());
    let bob = UserId::from_uuid(super::uuid());
    let specs = [
        ("user.create", "user", "u-1", Some(alice), 0),
        ("user.update", "user", "u-1", Some(bob), 60),
        ("group.create", "group", "g-1", Some(alice), 120),
        ("user.create", "user", "u-2", None, 180),
        ("grant.create", "grant", "x-1", Some(bob), 240),
        ("user.update", "user", "u-2", Some(alice), 300),
    ];
    let mut tx = begin(store).await;
    for (action, object_type, object_id, actor, secs) in specs {
        let mut e = audit_value(org.id, action, object_type, object_id, secs);
        e.actor_id = actor;
        ok(tx.append_audit(&e).await, "append");
    }
    commit(tx).await;

    let mut tx = read(store).await;
    let mut check = async |query: AuditQuery, expected: &[i64], more: bool, what: &str| {
        let page = ok(tx.list_audit(org.id, &query).await, what);
        assert_eq!(seqs(&page.items), expected, "audit list: {what}");
        assert_eq!(page.has_more, more, "audit list {what}: has_more");
    };
    let all = AuditQuery {
        limit: 100,
        ..Default::default()
    };
    check(all.clone(), &[1, 2, 3, 4, 5, 6], false, "all").await;
    check(
        AuditQuery {
            descending: true,
            ..all.clone()
        },
        &[6, 5, 4, 3, 2, 1],
        false,
        "descending",
    )
    .await;
    check(
        AuditQuery {
            object_type: Some("user".into()),
            object_id: Some("u-2".into()),
            ..all.clone()
        },
        &[4, 6],
        false,
        "object",
    )
    .await;
    check(
        AuditQuery {
            object_type: Some("user".into()),
            ..all.clone()
        },
        &[1, 2, 4, 6],
        false,
        "object type",
    )
    .await;
    check(
        AuditQuery {
            actor: Some(alice),
            ..all.clone()
        },
        &[1, 3, 6],
        false,
        "actor",
    )
    .await;
    check(
        AuditQuery {
            action: Some("user.update".into()),
            ..all.clone()
        },
        &[2, 6],
        false,
        "action",
    )
    .await;
    check(
        AuditQuery {
            from: Some(at(60)),
            to: Some(at(240)),
            ..all.clone()
        },
        &[2, 3, 4],
        false,
        "from inclusive, to exclusive",
    )
    .await;
    check(
        AuditQuery {
            from: Some(at(61)),
            ..all.clone()
        },
        &[3, 4, 5, 6],
        false,
        "from",
    )
    .await;
    check(
        AuditQuery {
            to: Some(at(1)),
            ..all.clone()
        },
        &[1],
        false,
        "to",
    )
    .await;
    check(
        AuditQuery {
            limit: 2,
            ..all.clone()
        },
        &[1, 2],
        true,
        "first page",
    )
    .await;
    check(
        AuditQuery {
            limit: 2,
            after_seq: Some(2),
            ..all.clone()
        },
        &[3, 4],
        true,
        "second page",
    )
    .await;
    check(
        AuditQuery {
            limit: 2,
            after_seq: Some(4),
            ..all.clone()
        },
        &[5, 6],
        false,
        "last page",
    )
    .await;
    check(
        AuditQuery {
            limit: 2,
            descending: true,
            ..all.clone()
        },
        &[6, 5],
        true,
        "first page descending",
    )
    .await;
    check(
        AuditQuery {
            limit: 2,
            descending: true,
            after_seq: Some(3),
            ..all.clone()
        },
        &[2, 1],
        false,
        "last page descending",
    )
    .await;
    check(
        AuditQuery {
            limit: 0,
            ..all.clone()
        },
        &[1],
        true,
        "limit 0 is raised to 1",
    )
    .await;
    check(
        AuditQuery {
            limit: 1,
            descending: true,
            actor: Some(bob),
            after_seq: Some(5),
            ..all.clone()
        },
        &[2],
        false,
        "filter, descending, after",
    )
    .await;
}
