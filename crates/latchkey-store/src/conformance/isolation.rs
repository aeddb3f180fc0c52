//! The conformance story of tenant isolation: with two organisations, every row of one is
//! invisible to, and cannot be updated, deleted, counted or referenced through, the other.

use latchkey_model::{Grantee, ObjectType, OrgId, ScopeMapping};

use super::{
    at, attribute_value, audit_value, begin, commit, conflict, domain_value, edge_value,
    grant_value, group_value, mail_domain_value, membership_value, ok, org_value, read, refused,
    role_value, system_value, token_value, user_type_value, user_value,
};
use crate::{
    AuditQuery, GrantQuery, GroupQuery, MembershipQuery, RoleQuery, Store, SystemQuery, UserQuery,
};

/// Organisation A holds one row of every aggregate; organisation B holds nothing. Through
/// B, none of A's rows can be read, listed, counted, updated or deleted, and B's rows
/// cannot point at A's.
pub async fn two_organisations(store: &dyn Store) {
    let a = org_value();
    let b = org_value();
    let group = group_value(a.id, "Everyone", None);
    let mut user = user_value(a.id, "shared-name", group.id);
    user.email = Some("shared@example.org".to_owned());
    user.user_type = Some("employee".to_owned());
    let membership = membership_value(a.id, user.id, group.id);
    let token = token_value(a.id, user.id);
    let system = system_value(a.id, "Shared", None);
    let domain = domain_value(a.id, system.id, "regions");
    let mut role = role_value(a.id, system.id, "admin");
    role.domain = latchkey_model::RoleDomain::Custom(domain.id);
    let child_role = role_value(a.id, system.id, "reader");
    let mut edge = edge_value(a.id, role.id, child_role.id);
    edge.scope = ScopeMapping::Same;
    let grant = grant_value(a.id, role.id, Grantee::User(user.id));
    let attribute = attribute_value(a.id, ObjectType::User, "badge", 1);
    let user_type = user_type_value(a.id, "employee");
    let mail_domain = mail_domain_value(a.id, "example.org");

    let mut tx = begin(store).await;
    ok(tx.insert_org(&a).await, "org a");
    ok(tx.insert_org(&b).await, "org b");
    ok(tx.insert_group(&group).await, "group");
    ok(tx.insert_user(&user).await, "user");
    ok(tx.insert_membership(&membership).await, "membership");
    ok(tx.insert_token(&token).await, "token");
    ok(tx.insert_system(&system).await, "system");
    ok(tx.insert_domain(&domain).await, "domain");
    ok(tx.insert_role(&role).await, "role");
    ok(tx.insert_role(&child_role).await, "role");
    ok(tx.insert_inheritance(&edge).await, "edge");
    ok(tx.insert_grant(&grant).await, "grant");
    ok(tx.insert_attribute(&attribute).await, "attribute");
    ok(tx.insert_user_type(&user_type).await, "user type");
    ok(tx.insert_mail_domain(&mail_domain).await, "mail domain");
    ok(
        tx.index_attributes(
            a.id,
            ObjectType::User,
            user.id.as_uuid(),
            &[("badge".into(), "42".into())],
        )
        .await,
        "index",
    );
    ok(
        tx.append_audit(&audit_value(
            a.id,
            "user.create",
            "user",
            &user.id.to_string(),
            0,
        ))
        .await,
        "audit",
    );
    commit(tx).await;

    // Reads through B.
    let mut tx = read(store).await;
    let b_id = b.id;
    assert_eq!(
        ok(tx.get_group(b_id, group.id).await, "group"),
        None,
        "group through B"
    );
    assert_eq!(
        ok(
            tx.get_group_by_name(b_id, &group.name).await,
            "group by name"
        ),
        None
    );
    assert_eq!(
        ok(tx.get_user(b_id, user.id).await, "user"),
        None,
        "user through B"
    );
    assert_eq!(
        ok(
            tx.get_user_by_name(b_id, &user.user_name).await,
            "user by name"
        ),
        None
    );
    assert_eq!(
        ok(
            tx.get_user_by_email(b_id, "shared@example.org").await,
            "user by email"
        ),
        None
    );
    assert_eq!(
        ok(tx.get_membership(b_id, membership.id).await, "membership"),
        None
    );
    assert_eq!(ok(tx.get_system(b_id, system.id).await, "system"), None);
    assert_eq!(
        ok(
            tx.get_system_by_name(b_id, &system.name).await,
            "system by name"
        ),
        None
    );
    assert_eq!(ok(tx.get_domain(b_id, domain.id).await, "domain"), None);
    assert_eq!(ok(tx.get_role(b_id, role.id).await, "role"), None);
    assert_eq!(
        ok(
            tx.get_role_by_name(b_id, system.id, &role.name).await,
            "role by name"
        ),
        None
    );
    assert_eq!(ok(tx.get_inheritance(b_id, edge.id).await, "edge"), None);
    assert_eq!(ok(tx.get_grant(b_id, grant.id).await, "grant"), None);
    assert_eq!(
        ok(tx.get_attribute(b_id, attribute.id).await, "attribute"),
        None
    );
    assert_eq!(
        ok(tx.get_user_type(b_id, user_type.id).await, "user type"),
        None
    );
    assert_eq!(
        ok(
            tx.get_user_type_by_code(b_id, &user_type.code).await,
            "user type by code"
        ),
        None
    );
    assert_eq!(
        ok(
            tx.get_mail_domain(b_id, mail_domain.id).await,
            "mail domain"
        ),
        None
    );
    assert_eq!(
        ok(
            tx.get_mail_domain_by_code(b_id, &mail_domain.code).await,
            "mail domain by code"
        ),
        None
    );

    assert!(
        ok(tx.list_users(b_id, &UserQuery::default()).await, "users")
            .items
            .is_empty(),
        "users listed through B"
    );
    assert!(
        ok(
            tx.list_users(
                b_id,
                &UserQuery {
                    member_of: Some(group.id),
                    ..Default::default()
                }
            )
            .await,
            "members"
        )
        .items
        .is_empty(),
        "A's group members through B"
    );
    assert!(
        ok(
            tx.list_users(
                b_id,
                &UserQuery {
                    attribute: Some(("badge".into(), "42".into())),
                    ..Default::default()
                }
            )
            .await,
            "attr"
        )
        .items
        .is_empty()
    );
    assert!(
        ok(
            tx.list_users(
                b_id,
                &UserQuery {
                    primary_group_under: Some(vec![group.id]),
                    ..Default::default()
                }
            )
            .await,
            "under"
        )
        .items
        .is_empty()
    );
    assert!(
        ok(tx.list_groups(b_id, &GroupQuery::default()).await, "groups")
            .items
            .is_empty()
    );
    assert!(
        ok(
            tx.list_groups(
                b_id,
                &GroupQuery {
                    under: Some(vec![group.id]),
                    ..Default::default()
                }
            )
            .await,
            "under"
        )
        .items
        .is_empty()
    );
    assert!(
        ok(
            tx.list_memberships(
                b_id,
                &MembershipQuery {
                    user: Some(user.id),
                    ..Default::default()
                }
            )
            .await,
            "ms"
        )
        .items
        .is_empty()
    );
    assert!(
        ok(
            tx.list_systems(b_id, &SystemQuery::default()).await,
            "systems"
        )
        .items
        .is_empty()
    );
    assert!(
        ok(
            tx.list_systems(
                b_id,
                &SystemQuery {
                    under: Some(vec![system.id]),
                    ..Default::default()
                }
            )
            .await,
            "under"
        )
        .items
        .is_empty()
    );
    assert!(ok(tx.list_domains(b_id, system.id).await, "domains").is_empty());
    assert!(
        ok(tx.list_roles(b_id, &RoleQuery::default()).await, "roles")
            .items
            .is_empty()
    );
    assert!(
        ok(
            tx.list_roles(
                b_id,
                &RoleQuery {
                    system: Some(system.id),
                    ..Default::default()
                }
            )
            .await,
            "roles"
        )
        .items
        .is_empty()
    );
    assert!(ok(tx.list_inheritance(b_id, role.id, true).await, "edges").is_empty());
    assert!(
        ok(
            tx.list_inheritance(b_id, child_role.id, false).await,
            "edges"
        )
        .is_empty()
    );
    assert!(
        ok(tx.list_grants(b_id, &GrantQuery::default()).await, "grants")
            .items
            .is_empty()
    );
    assert!(
        ok(
            tx.list_grants(
                b_id,
                &GrantQuery {
                    user: Some(user.id),
                    ..Default::default()
                }
            )
            .await,
            "grants"
        )
        .items
        .is_empty()
    );
    assert!(ok(tx.list_attributes(b_id, None).await, "attributes").is_empty());
    assert!(ok(tx.list_user_types(b_id).await, "user types").is_empty());
    assert!(ok(tx.list_mail_domains(b_id).await, "mail domains").is_empty());
    assert!(ok(tx.list_tokens(b_id, user.id).await, "tokens").is_empty());
    assert!(ok(tx.all_user_heads(b_id).await, "heads").is_empty());
    assert!(ok(tx.all_groups(b_id).await, "all groups").is_empty());
    assert!(ok(tx.all_memberships(b_id).await, "all memberships").is_empty());
    assert!(ok(tx.all_systems(b_id).await, "all systems").is_empty());
    assert!(ok(tx.all_roles(b_id).await, "all roles").is_empty());
    assert!(ok(tx.all_inheritance(b_id).await, "all edges").is_empty());
    assert!(ok(tx.all_grants(b_id).await, "all grants").is_empty());
    assert!(
        ok(
            tx.list_audit(
                b_id,
                &AuditQuery {
                    limit: 100,
                    ..Default::default()
                }
            )
            .await,
            "audit"
        )
        .items
        .is_empty()
    );
    assert!(ok(tx.audit_chain(b_id, 0, 100).await, "audit chain").is_empty());
    assert_eq!(
        ok(
            tx.count_users_in_primary_group(b_id, group.id).await,
            "count"
        ),
        0
    );
    assert_eq!(ok(tx.count_child_groups(b_id, group.id).await, "count"), 0);
    assert_eq!(
        ok(tx.count_roles_using_domain(b_id, domain.id).await, "count"),
        0
    );
    assert_eq!(
        ok(tx.count_users_of_type(b_id, "employee").await, "count"),
        0
    );
    assert_eq!(ok(tx.count_mail_domains(b_id).await, "count"), 0);
    assert!(
        !ok(
            tx.attribute_value_taken(b_id, ObjectType::User, "badge", "42", None)
                .await,
            "taken"
        ),
        "A's values through B"
    );
    drop(tx);

    // Updates through B are refused, each in its own transaction (a refused statement
    // may abort the transaction on PostgreSQL).
    macro_rules! refused_update {
        ($method:ident, $value:expr, $what:literal) => {{
            let mut moved = $value.clone();
            moved.org_id = b_id;
            moved.stamps.touch(at(99), None);
            let mut tx = begin(store).await;
            refused(
                tx.$method(&moved).await,
                concat!("update ", $what, " through B"),
            );
            drop(tx);
        }};
    }
    refused_update!(update_user, user, "user");
    refused_update!(update_group, group, "group");
    refused_update!(update_membership, membership, "membership");
    refused_update!(update_system, system, "system");
    refused_update!(update_domain, domain, "domain");
    refused_update!(update_role, role, "role");
    refused_update!(update_grant, grant, "grant");
    refused_update!(update_attribute, attribute, "attribute");
    refused_update!(update_user_type, user_type, "user type");
    refused_update!(update_mail_domain, mail_domain, "mail domain");

    // Deletes through B find nothing; tokens cannot be revoked through B.
    let mut tx = begin(store).await;
    assert!(
        !ok(tx.delete_user(b_id, user.id).await, "delete user"),
        "delete user through B"
    );
    assert!(!ok(tx.delete_group(b_id, group.id).await, "delete group"));
    assert!(!ok(
        tx.delete_membership(b_id, membership.id).await,
        "delete membership"
    ));
    assert_eq!(
        ok(
            tx.delete_memberships_of(b_id, Some(user.id), None).await,
            "delete memberships"
        ),
        0
    );
    assert_eq!(
        ok(
            tx.delete_memberships_of(b_id, None, Some(group.id)).await,
            "delete memberships"
        ),
        0
    );
    assert!(!ok(tx.delete_grant(b_id, grant.id).await, "delete grant"));
    assert!(!ok(
        tx.delete_inheritance(b_id, edge.id).await,
        "delete edge"
    ));
    assert!(!ok(
        tx.delete_role(b_id, child_role.id).await,
        "delete role"
    ));
    assert!(!ok(
        tx.delete_domain(b_id, domain.id).await,
        "delete domain"
    ));
    assert!(!ok(
        tx.delete_system(b_id, system.id).await,
        "delete system"
    ));
    assert!(!ok(
        tx.delete_attribute(b_id, attribute.id).await,
        "delete attribute"
    ));
    assert!(!ok(
        tx.delete_user_type(b_id, user_type.id).await,
        "delete user type"
    ));
    assert!(!ok(
        tx.delete_mail_domain(b_id, mail_domain.id).await,
        "delete mail domain"
    ));
    assert!(
        !ok(tx.revoke_token(b_id, token.id, at(5)).await, "revoke token"),
        "revoke through B"
    );
    ok(
        tx.index_attributes(b_id, ObjectType::User, user.id.as_uuid(), &[])
            .await,
        "index through B",
    );
    assert_eq!(ok(tx.bump_revision(b_id, super::at(0)).await, "bump b"), 1);
    commit(tx).await;

    // Everything of A is still there, unchanged.
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_user(a.id, user.id).await, "user"),
        Some(user.clone()),
        "A's user unchanged"
    );
    assert_eq!(
        ok(tx.get_group(a.id, group.id).await, "group"),
        Some(group.clone())
    );
    assert_eq!(
        ok(tx.get_membership(a.id, membership.id).await, "membership"),
        Some(membership.clone())
    );
    assert_eq!(
        ok(tx.get_system(a.id, system.id).await, "system"),
        Some(system.clone())
    );
    assert_eq!(
        ok(tx.get_domain(a.id, domain.id).await, "domain"),
        Some(domain.clone())
    );
    assert_eq!(
        ok(tx.get_role(a.id, role.id).await, "role"),
        Some(role.clone())
    );
    assert_eq!(
        ok(tx.get_role(a.id, child_role.id).await, "role"),
        Some(child_role.clone())
    );
    assert_eq!(
        ok(tx.get_inheritance(a.id, edge.id).await, "edge"),
        Some(edge.clone())
    );
    assert_eq!(
        ok(tx.get_grant(a.id, grant.id).await, "grant"),
        Some(grant.clone())
    );
    assert_eq!(
        ok(tx.get_attribute(a.id, attribute.id).await, "attribute"),
        Some(attribute.clone())
    );
    assert_eq!(
        ok(tx.get_user_type(a.id, user_type.id).await, "user type"),
        Some(user_type.clone())
    );
    assert_eq!(
        ok(
            tx.get_mail_domain(a.id, mail_domain.id).await,
            "mail domain"
        ),
        Some(mail_domain.clone())
    );
    assert_eq!(
        ok(tx.find_token_by_hash(&token.token_hash).await, "token"),
        Some(token.clone()),
        "token not revoked"
    );
    assert!(
        ok(
            tx.attribute_value_taken(a.id, ObjectType::User, "badge", "42", None)
                .await,
            "taken"
        ),
        "A's index untouched"
    );
    assert_eq!(
        ok(tx.revision(a.id).await, "revision a"),
        Some(0),
        "B's bump leaves A alone"
    );
    assert_eq!(ok(tx.audit_chain(a.id, 0, 10).await, "chain a").len(), 1);
    drop(tx);

    // B's rows cannot point into A.
    let b_group = group_value(b_id, "B", None);
    let mut tx = begin(store).await;
    ok(tx.insert_group(&b_group).await, "B's group");
    commit(tx).await;
    let b_user = user_value(b_id, "b-user", b_group.id);
    let mut tx = begin(store).await;
    ok(tx.insert_user(&b_user).await, "B's user");
    commit(tx).await;
    let attempts: [(&str, CrossWrite); 7] = [
        (
            "user in A's group",
            CrossWrite::User(user_value(b_id, "x", group.id)),
        ),
        (
            "membership of A's user",
            CrossWrite::Membership(membership_value(b_id, user.id, b_group.id)),
        ),
        (
            "membership in A's group",
            CrossWrite::Membership(membership_value(b_id, b_user.id, group.id)),
        ),
        (
            "child of A's group",
            CrossWrite::Group(group_value(b_id, "y", Some(group.id))),
        ),
        (
            "role in A's system",
            CrossWrite::Role(role_value(b_id, system.id, "z")),
        ),
        (
            "grant of A's role",
            CrossWrite::Grant(grant_value(b_id, role.id, Grantee::User(b_user.id))),
        ),
        (
            "token of A's user",
            CrossWrite::Token(token_value(b_id, user.id)),
        ),
    ];
    for (what, write) in attempts {
        let mut tx = begin(store).await;
        let result = match &write {
            CrossWrite::User(u) => tx.insert_user(u).await,
            CrossWrite::Membership(m) => tx.insert_membership(m).await,
            CrossWrite::Group(g) => tx.insert_group(g).await,
            CrossWrite::Role(r) => tx.insert_role(r).await,
            CrossWrite::Grant(g) => tx.insert_grant(g).await,
            CrossWrite::Token(t) => tx.insert_token(t).await,
        };
        conflict(result, "foreign_key", what);
        drop(tx);
    }
    let mut tx = begin(store).await;
    refused(
        tx.insert_user(&user_value(
            OrgId::from_uuid(super::uuid()),
            "nowhere",
            group.id,
        ))
        .await,
        "a user of no organisation",
    );
    drop(tx);
}

/// A write of B that references a row of A.
enum CrossWrite {
    User(latchkey_model::User),
    Membership(latchkey_model::Membership),
    Group(latchkey_model::Group),
    Role(latchkey_model::Role),
    Grant(latchkey_model::Grant),
    Token(latchkey_model::ApiToken),
}
