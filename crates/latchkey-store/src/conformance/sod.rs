//! Conformance story of segregation-of-duties rules: exact round trips of every kind
//! (role lists in their order, thresholds, matrices), names unique per system, lists by
//! name with the system and role filters and keyset paging, updates that rewrite the role
//! rows, roles that cannot be deleted while a rule names them, and isolation: an id of
//! another organisation reads as nothing and writes nothing.

use latchkey_model::{OrgId, Risk, RoleId, SodKind, SodPair, SodRule, SodRuleId, SystemId};

use super::{
    at, begin, commit, conflict, ok, org_with_group, read, role_value, stamps, system_value, uuid,
};
use crate::{Paging, SodRuleQuery, Store};

fn rule_value(org: OrgId, system: SystemId, name: &str, roles: &[RoleId]) -> SodRule {
    SodRule {
        id: SodRuleId::from_uuid(uuid()),
        org_id: org,
        system_id: system,
        name: name.to_owned(),
        description: None,
        kind: SodKind::All,
        risk: Risk::Forbidden,
        role_ids: roles.to_vec(),
        threshold: None,
        matrix: Vec::new(),
        stamps: stamps(),
    }
}

fn query(system: Option<SystemId>, role: Option<RoleId>, limit: u32) -> SodRuleQuery {
    SodRuleQuery {
        paging: Paging {
            limit,
            ..Default::default()
        },
        system,
        role,
    }
}

pub async fn sod_rules(store: &dyn Store) {
    let (org, _) = org_with_group(store).await;
    let books = system_value(org.id, "Books", None);
    let bank = system_value(org.id, "Bank", None);
    let roles: Vec<_> = ["clerk", "approver", "payer", "auditor"]
        .iter()
        .map(|n| role_value(org.id, books.id, n))
        .collect();
    let r = |i: usize| roles[i].id;

    let mut all = rule_value(org.id, books.id, "Pay what you approve", &[r(2), r(1)]);
    all.description = Some("approvers do not pay".to_owned());
    let mut some = rule_value(org.id, books.id, "At most two", &[r(0), r(1), r(2), r(3)]);
    some.kind = SodKind::Some;
    some.risk = Risk::High;
    some.threshold = Some(2);
    let mut matrix = rule_value(org.id, bank.id, "Matrix", &[r(0), r(1), r(3)]);
    matrix.kind = SodKind::Matrix;
    matrix.matrix = vec![
        SodPair {
            a: r(0),
            b: r(1),
            risk: Risk::Low,
        },
        SodPair {
            a: r(1),
            b: r(3),
            risk: Risk::Forbidden,
        },
    ];

    let mut tx = begin(store).await;
    ok(tx.insert_system(&books).await, "system");
    ok(tx.insert_system(&bank).await, "system");
    for role in &roles {
        ok(tx.insert_role(role).await, "role");
    }
    for rule in [&all, &some, &matrix] {
        ok(tx.insert_sod_rule(rule).await, "insert rule");
    }
    commit(tx).await;
    let mut tx = begin(store).await;
    conflict(
        tx.insert_sod_rule(&rule_value(org.id, books.id, "At most two", &[r(0), r(1)]))
            .await,
        "sod_rules.name",
        "a second rule of the same name in the system",
    );
    drop(tx);
    let mut tx = begin(store).await;
    ok(
        tx.insert_sod_rule(&rule_value(org.id, bank.id, "At most two", &[r(0), r(1)]))
            .await,
        "the same name in another system is fine",
    );
    // Not committed: dropped.
    drop(tx);

    let mut tx = read(store).await;
    for rule in [&all, &some, &matrix] {
        assert_eq!(
            ok(tx.get_sod_rule(org.id, rule.id).await, "get"),
            Some(rule.clone()),
            "a rule round-trips, role order and matrix included"
        );
    }
    let page = ok(
        tx.list_sod_rules(org.id, &query(None, None, 100)).await,
        "list",
    );
    let names: Vec<&str> = page.items.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(
        names,
        ["At most two", "Matrix", "Pay what you approve"],
        "by name"
    );
    let page = ok(
        tx.list_sod_rules(org.id, &query(Some(bank.id), None, 100))
            .await,
        "by system",
    );
    assert_eq!(page.items, vec![matrix.clone()]);
    let page = ok(
        tx.list_sod_rules(org.id, &query(None, Some(r(2)), 100))
            .await,
        "by role",
    );
    let ids: Vec<SodRuleId> = page.items.iter().map(|x| x.id).collect();
    assert_eq!(ids, vec![some.id, all.id], "rules naming payer, by name");
    let first = ok(
        tx.list_sod_rules(org.id, &query(None, None, 2)).await,
        "page 1",
    );
    assert!(first.has_more && first.items.len() == 2);
    let last = first.items.last().unwrap();
    let mut next = query(None, None, 2);
    next.paging.after = Some(crate::After {
        key: crate::SortValue::Text(last.name.clone()),
        id: last.id.as_uuid(),
    });
    let second = ok(tx.list_sod_rules(org.id, &next).await, "page 2");
    assert_eq!(second.items, vec![all.clone()]);
    assert!(!second.has_more);
    let everything = ok(tx.all_sod_rules(org.id).await, "all");
    assert_eq!(
        everything,
        vec![all.clone(), some.clone(), matrix.clone()],
        "by id"
    );
    drop(tx);

    // An update rewrites the role rows: payer is no longer named by `all`.
    let mut changed = all.clone();
    changed.role_ids = vec![r(1), r(3)];
    changed.name = "Approve or audit".to_owned();
    changed.stamps.touch(at(1), None);
    let mut tx = begin(store).await;
    ok(tx.update_sod_rule(&changed).await, "update");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_sod_rule(org.id, all.id).await, "get updated"),
        Some(changed.clone())
    );
    let page = ok(
        tx.list_sod_rules(org.id, &query(None, Some(r(2)), 100))
            .await,
        "by role after update",
    );
    assert_eq!(page.items, vec![some.clone()]);
    drop(tx);

    // A role named by a rule stays; once no rule names it, it may go.
    let mut tx = begin(store).await;
    conflict(
        tx.delete_role(org.id, r(3)).await,
        "foreign_key",
        "deleting a role a rule names",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(ok(tx.delete_sod_rule(org.id, some.id).await, "delete"));
    assert!(!ok(
        tx.delete_sod_rule(org.id, some.id).await,
        "delete again"
    ));
    assert!(ok(tx.delete_role(org.id, r(2)).await, "payer is free"));
    commit(tx).await;

    // Another organisation sees nothing and changes nothing.
    let (other, _) = org_with_group(store).await;
    let mut tx = begin(store).await;
    assert_eq!(ok(tx.get_sod_rule(other.id, matrix.id).await, "get"), None);
    assert!(
        ok(
            tx.list_sod_rules(other.id, &query(None, None, 100)).await,
            "list"
        )
        .items
        .is_empty()
    );
    assert!(ok(tx.all_sod_rules(other.id).await, "all").is_empty());
    assert!(!ok(
        tx.delete_sod_rule(other.id, matrix.id).await,
        "delete elsewhere"
    ));
    let mut moved = matrix.clone();
    moved.org_id = other.id;
    assert!(
        tx.update_sod_rule(&moved).await.is_err(),
        "an update naming another organisation is refused"
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(
        tx.insert_sod_rule(&rule_value(other.id, books.id, "Borrowed", &[r(0), r(1)]))
            .await
            .is_err(),
        "a rule cannot point at another organisation's system or roles"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_sod_rule(org.id, matrix.id).await, "still there"),
        Some(matrix.clone())
    );
}
