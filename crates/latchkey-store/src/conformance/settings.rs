//! Conformance stories of organisation settings: custom attribute definitions and the
//! attribute-value index, user types and mail domains.

use latchkey_model::{AttributeType, ObjectType};

use super::{
    at, attribute_value, begin, commit, conflict, mail_domain_value, ok, org_with_group, read,
    user_type_value, user_value,
};
use crate::Store;

/// Attribute definitions (ordered by position then name, filtered by object type, unique
/// per object type) and the value index behind `unique` attributes.
pub async fn attributes(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let mut badge = attribute_value(org.id, ObjectType::User, "badge", 2);
    badge.label = Some("Badge number".to_owned());
    badge.data_type = AttributeType::Number;
    badge.required = true;
    badge.unique = true;
    let mut site = attribute_value(org.id, ObjectType::User, "site", 1);
    site.allowed_values = vec!["paris".to_owned(), "lyon".to_owned()];
    let cost = attribute_value(org.id, ObjectType::Group, "cost_center", 1);
    let also_site = attribute_value(org.id, ObjectType::Group, "site", 1);
    let alpha = attribute_value(org.id, ObjectType::User, "alpha", 2);

    let mut tx = begin(store).await;
    for d in [&badge, &site, &cost, &also_site, &alpha] {
        ok(
            tx.insert_attribute(d).await,
            "insert definition (same name on another object type is fine)",
        );
    }
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_attribute(org.id, badge.id).await, "get"),
        Some(badge.clone()),
        "definition round-trips"
    );
    assert_eq!(
        ok(tx.get_attribute(org.id, site.id).await, "get"),
        Some(site.clone())
    );
    assert_eq!(
        ok(
            tx.list_attributes(org.id, Some(ObjectType::User)).await,
            "list users'"
        ),
        vec![site.clone(), alpha.clone(), badge.clone()],
        "by position, then name"
    );
    assert_eq!(
        ok(tx.list_attributes(org.id, None).await, "list all"),
        vec![
            cost.clone(),
            site.clone(),
            also_site.clone(),
            alpha.clone(),
            badge.clone()
        ]
    );
    assert!(
        ok(
            tx.list_attributes(org.id, Some(ObjectType::Membership))
                .await,
            "none"
        )
        .is_empty()
    );
    drop(tx);

    let mut changed = badge.clone();
    changed.position = 0;
    changed.data_type = AttributeType::Reference;
    changed.required = false;
    changed.label = None;
    changed.stamps.touch(at(5), None);
    let mut tx = begin(store).await;
    ok(tx.update_attribute(&changed).await, "update");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_attribute(org.id, badge.id).await, "get updated"),
        Some(changed)
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.insert_attribute(&attribute_value(org.id, ObjectType::User, "site", 9))
            .await,
        "attribute_definitions.name",
        "duplicate definition",
    );
    drop(tx);

    // The value index.
    let u1 = user_value(org.id, "u1", group.id);
    let u2 = user_value(org.id, "u2", group.id);
    let v = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    let mut tx = begin(store).await;
    ok(tx.insert_user(&u1).await, "user");
    ok(tx.insert_user(&u2).await, "user");
    ok(
        tx.index_attributes(
            org.id,
            ObjectType::User,
            u1.id.as_uuid(),
            &v(&[("badge", "42"), ("site", "paris")]),
        )
        .await,
        "index",
    );
    ok(
        tx.index_attributes(
            org.id,
            ObjectType::Group,
            group.id.as_uuid(),
            &v(&[("site", "lyon")]),
        )
        .await,
        "index group",
    );
    commit(tx).await;

    let mut tx = begin(store).await;
    let taken = async |tx: &mut Box<dyn crate::Tx>,
                       t: ObjectType,
                       n: &str,
                       val: &str,
                       except: Option<uuid::Uuid>| {
        ok(
            tx.attribute_value_taken(org.id, t, n, val, except).await,
            "value taken",
        )
    };
    assert!(
        taken(&mut tx, ObjectType::User, "badge", "42", None).await,
        "a value held by u1"
    );
    assert!(
        taken(
            &mut tx,
            ObjectType::User,
            "badge",
            "42",
            Some(u2.id.as_uuid())
        )
        .await,
        "held by u1, asked for u2"
    );
    assert!(
        !taken(
            &mut tx,
            ObjectType::User,
            "badge",
            "42",
            Some(u1.id.as_uuid())
        )
        .await,
        "u1's own value"
    );
    assert!(
        !taken(&mut tx, ObjectType::User, "badge", "43", None).await,
        "a free value"
    );
    assert!(
        !taken(&mut tx, ObjectType::User, "site", "lyon", None).await,
        "held by a group, not a user"
    );
    assert!(
        taken(&mut tx, ObjectType::Group, "site", "lyon", None).await,
        "held by a group"
    );
    // Re-indexing replaces every value of the object.
    ok(
        tx.index_attributes(
            org.id,
            ObjectType::User,
            u1.id.as_uuid(),
            &v(&[("badge", "7")]),
        )
        .await,
        "re-index",
    );
    assert!(
        !taken(&mut tx, ObjectType::User, "badge", "42", None).await,
        "replaced value is free"
    );
    assert!(
        !taken(&mut tx, ObjectType::User, "site", "paris", None).await,
        "dropped value is free"
    );
    assert!(
        taken(&mut tx, ObjectType::User, "badge", "7", None).await,
        "new value is held"
    );
    ok(
        tx.index_attributes(
            org.id,
            ObjectType::User,
            u2.id.as_uuid(),
            &v(&[("badge", "8")]),
        )
        .await,
        "index u2",
    );
    assert!(ok(tx.delete_user(org.id, u2.id).await, "delete u2"));
    assert!(
        !taken(&mut tx, ObjectType::User, "badge", "8", None).await,
        "a deleted user's values go with it"
    );
    ok(
        tx.index_attributes(org.id, ObjectType::User, u1.id.as_uuid(), &[])
            .await,
        "index nothing",
    );
    assert!(
        !taken(&mut tx, ObjectType::User, "badge", "7", None).await,
        "cleared"
    );
    commit(tx).await;

    let mut tx = begin(store).await;
    assert!(ok(tx.delete_attribute(org.id, alpha.id).await, "delete"));
    assert!(!ok(
        tx.delete_attribute(org.id, alpha.id).await,
        "delete again"
    ));
    assert_eq!(
        ok(tx.get_attribute(org.id, alpha.id).await, "get deleted"),
        None
    );
    commit(tx).await;
}

/// User types: round-trip, by code, ordered by code, counted users, unique code.
pub async fn user_types(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let mut employee = user_type_value(org.id, "employee");
    employee.description = Some("On the payroll".to_owned());
    let contractor = user_type_value(org.id, "contractor");
    let mut user = user_value(org.id, "worker", group.id);
    user.user_type = Some("employee".to_owned());
    let mut tx = begin(store).await;
    ok(tx.insert_user_type(&employee).await, "insert");
    ok(tx.insert_user_type(&contractor).await, "insert");
    ok(tx.insert_user(&user).await, "user");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_user_type(org.id, employee.id).await, "get"),
        Some(employee.clone())
    );
    assert_eq!(
        ok(
            tx.get_user_type_by_code(org.id, "contractor").await,
            "by code"
        ),
        Some(contractor.clone())
    );
    assert_eq!(
        ok(
            tx.get_user_type_by_code(org.id, "intern").await,
            "unknown code"
        ),
        None
    );
    assert_eq!(
        ok(tx.list_user_types(org.id).await, "list"),
        vec![contractor.clone(), employee.clone()]
    );
    assert_eq!(
        ok(tx.count_users_of_type(org.id, "employee").await, "count"),
        1
    );
    assert_eq!(
        ok(tx.count_users_of_type(org.id, "contractor").await, "count"),
        0
    );
    drop(tx);

    let mut changed = contractor.clone();
    changed.code = "freelance".to_owned();
    changed.description = Some("External".to_owned());
    changed.stamps.touch(at(1), None);
    let mut tx = begin(store).await;
    ok(tx.update_user_type(&changed).await, "update");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_user_type(org.id, contractor.id).await, "get updated"),
        Some(changed.clone())
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.insert_user_type(&user_type_value(org.id, "employee"))
            .await,
        "user_types.code",
        "duplicate code",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(ok(tx.delete_user_type(org.id, changed.id).await, "delete"));
    assert!(!ok(
        tx.delete_user_type(org.id, changed.id).await,
        "delete again"
    ));
    commit(tx).await;
}

/// Mail domains: round-trip, by code, ordered by code, counted, unique code.
pub async fn mail_domains(store: &dyn Store) {
    let (org, _) = org_with_group(store).await;
    let mut old = mail_domain_value(org.id, "old.example.org");
    old.obsolete = true;
    old.description = Some("Before the merger".to_owned());
    let main = mail_domain_value(org.id, "example.org");
    let mut tx = begin(store).await;
    ok(tx.insert_mail_domain(&old).await, "insert");
    ok(tx.insert_mail_domain(&main).await, "insert");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_mail_domain(org.id, old.id).await, "get"),
        Some(old.clone())
    );
    assert_eq!(
        ok(
            tx.get_mail_domain_by_code(org.id, "example.org").await,
            "by code"
        ),
        Some(main.clone())
    );
    assert_eq!(
        ok(
            tx.get_mail_domain_by_code(org.id, "other.org").await,
            "unknown"
        ),
        None
    );
    assert_eq!(
        ok(tx.list_mail_domains(org.id).await, "list"),
        vec![main.clone(), old.clone()]
    );
    assert_eq!(ok(tx.count_mail_domains(org.id).await, "count"), 2);
    drop(tx);

    let mut changed = old.clone();
    changed.obsolete = false;
    changed.stamps.touch(at(2), None);
    let mut tx = begin(store).await;
    ok(tx.update_mail_domain(&changed).await, "update");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_mail_domain(org.id, old.id).await, "get updated"),
        Some(changed.clone())
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.insert_mail_domain(&mail_domain_value(org.id, "example.org"))
            .await,
        "mail_domains.code",
        "duplicate code",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(ok(
        tx.delete_mail_domain(org.id, changed.id).await,
        "delete"
    ));
    assert!(!ok(
        tx.delete_mail_domain(org.id, changed.id).await,
        "delete again"
    ));
    assert_eq!(ok(tx.count_mail_domains(org.id).await, "count"), 1);
    commit(tx).await;
}
