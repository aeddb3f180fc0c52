//! Conformance stories of the entitlement catalogue: information systems and their tree,
//! custom domains, roles (every `RoleDomain`), inheritance edges (every `ScopeMapping`) and
//! grants (both grantee kinds, every `GrantQuery` filter).

use latchkey_model::{
    DomainValue, GrantOrigin, GrantStatus, Grantee, Permission, RoleDomain, RoleId, ScopeMapping,
    SystemType, UserId,
};

use super::{
    at, begin, commit, conflict, domain_value, edge_value, grant_value, ok, org_with_group, read,
    refused, role_value, system_value, user_value,
};
use crate::{After, GrantQuery, Paging, RoleQuery, SortValue, Store, SystemQuery};

/// Systems: round-trip, name lookup, tree filters, uniqueness, delete rules.
pub async fn systems(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let owner = user_value(org.id, "owner", group.id);
    let mut erp = system_value(org.id, "ERP", None);
    erp.description = Some("Enterprise resource planning".to_owned());
    erp.system_type = SystemType::Container;
    erp.owner_id = Some(owner.id);
    erp.notification_emails = vec![
        "erp-admins@example.org".to_owned(),
        "audit@example.org".to_owned(),
    ];
    erp.approval_process = true;
    erp.single_role = true;
    erp.builtin = true;
    let mut finance = system_value(org.id, "erp-finance", Some(erp.id));
    finance.system_type = SystemType::Business;
    let ledger = system_value(org.id, "Ledger", Some(finance.id));
    let crm = system_value(org.id, "CRM", None);

    let mut tx = begin(store).await;
    ok(tx.insert_user(&owner).await, "owner");
    for s in [&erp, &finance, &ledger, &crm] {
        ok(tx.insert_system(s).await, "insert system");
    }
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_system(org.id, erp.id).await, "get"),
        Some(erp.clone()),
        "system round-trips"
    );
    assert_eq!(
        ok(tx.get_system_by_name(org.id, "Ledger").await, "by name"),
        Some(ledger.clone())
    );
    assert_eq!(
        ok(
            tx.get_system_by_name(org.id, "ledger").await,
            "by name, other case"
        ),
        None
    );
    let all: Vec<_> = ok(tx.all_systems(org.id).await, "all")
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        all,
        vec![erp.id, finance.id, ledger.id, crm.id],
        "all systems by id"
    );
    let mut check = async |query: SystemQuery, expected: &[&str], what: &str| {
        let page = ok(tx.list_systems(org.id, &query).await, what);
        let got: Vec<&str> = page.items.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(got, expected, "system filter: {what}");
    };
    check(
        SystemQuery::default(),
        &["CRM", "ERP", "Ledger", "erp-finance"],
        "none",
    )
    .await;
    check(
        SystemQuery {
            q: Some("erp".into()),
            ..Default::default()
        },
        &["ERP", "erp-finance"],
        "q",
    )
    .await;
    check(
        SystemQuery {
            parent: Some(None),
            ..Default::default()
        },
        &["CRM", "ERP"],
        "roots",
    )
    .await;
    check(
        SystemQuery {
            parent: Some(Some(finance.id)),
            ..Default::default()
        },
        &["Ledger"],
        "children",
    )
    .await;
    check(
        SystemQuery {
            under: Some(vec![erp.id]),
            ..Default::default()
        },
        &["ERP", "Ledger", "erp-finance"],
        "under",
    )
    .await;
    check(
        SystemQuery {
            under: Some(vec![finance.id, crm.id]),
            ..Default::default()
        },
        &["CRM", "Ledger", "erp-finance"],
        "under two",
    )
    .await;
    check(
        SystemQuery {
            under: Some(vec![]),
            ..Default::default()
        },
        &[],
        "under nothing",
    )
    .await;
    let page = ok(
        tx.list_systems(
            org.id,
            &SystemQuery {
                paging: Paging {
                    limit: 2,
                    after: Some(After {
                        key: SortValue::Text("CRM".into()),
                        id: crm.id.as_uuid(),
                    }),
                    descending: false,
                },
                ..Default::default()
            },
        )
        .await,
        "page",
    );
    let got: Vec<&str> = page.items.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(got, ["ERP", "Ledger"]);
    assert!(page.has_more);
    drop(tx);

    let mut changed = finance.clone();
    changed.name = "Finance".to_owned();
    changed.parent_id = None;
    changed.owner_id = Some(owner.id);
    changed
        .notification_emails
        .push("fin@example.org".to_owned());
    changed.stamps.touch(at(9), Some(owner.id));
    let mut tx = begin(store).await;
    ok(tx.update_system(&changed).await, "update");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_system(org.id, finance.id).await, "get updated"),
        Some(changed.clone())
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.insert_system(&system_value(org.id, "CRM", None)).await,
        "systems.name",
        "duplicate system name",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_system(org.id, changed.id).await,
        "foreign_key",
        "delete a system with a child",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_user(org.id, owner.id).await,
        "foreign_key",
        "delete the owner of a system",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(ok(tx.delete_system(org.id, ledger.id).await, "delete leaf"));
    assert!(!ok(
        tx.delete_system(org.id, ledger.id).await,
        "delete again"
    ));
    assert_eq!(
        ok(tx.get_system(org.id, ledger.id).await, "get deleted"),
        None
    );
    commit(tx).await;
}

/// Custom domains: values round-trip, listed by name per system, unique per system.
pub async fn domains(store: &dyn Store) {
    let (org, _) = org_with_group(store).await;
    let app = system_value(org.id, "App", None);
    let other = system_value(org.id, "Other", None);
    let mut regions = domain_value(org.id, app.id, "regions");
    regions.description = Some("Sales regions".to_owned());
    regions.values = vec![
        DomainValue {
            value: "emea".to_owned(),
            description: Some("Europe, Middle East, Africa".to_owned()),
        },
        DomainValue {
            value: "apac".to_owned(),
            description: None,
        },
    ];
    let brands = domain_value(org.id, app.id, "Brands");
    let other_regions = domain_value(org.id, other.id, "regions");

    let mut tx = begin(store).await;
    ok(tx.insert_system(&app).await, "system");
    ok(tx.insert_system(&other).await, "system");
    for d in [&regions, &brands, &other_regions] {
        ok(
            tx.insert_domain(d).await,
            "insert domain (same name in another system is fine)",
        );
    }
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_domain(org.id, regions.id).await, "get"),
        Some(regions.clone()),
        "domain round-trips"
    );
    assert_eq!(
        ok(tx.list_domains(org.id, app.id).await, "list"),
        vec![brands.clone(), regions.clone()],
        "by name"
    );
    assert_eq!(
        ok(tx.list_domains(org.id, other.id).await, "list other"),
        vec![other_regions.clone()]
    );
    drop(tx);

    let mut changed = regions.clone();
    changed.values.push(DomainValue {
        value: "amer".to_owned(),
        description: None,
    });
    changed.name = "zones".to_owned();
    changed.stamps.touch(at(1), None);
    let mut role = role_value(org.id, app.id, "regional");
    role.domain = RoleDomain::Custom(regions.id);
    let mut tx = begin(store).await;
    ok(tx.update_domain(&changed).await, "update");
    ok(tx.insert_role(&role).await, "role on the domain");
    assert_eq!(
        ok(
            tx.count_roles_using_domain(org.id, regions.id).await,
            "count"
        ),
        1
    );
    assert_eq!(
        ok(
            tx.count_roles_using_domain(org.id, brands.id).await,
            "count unused"
        ),
        0
    );
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_domain(org.id, regions.id).await, "get updated"),
        Some(changed)
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.insert_domain(&domain_value(org.id, app.id, "Brands"))
            .await,
        "domains.name",
        "duplicate domain name",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_domain(org.id, regions.id).await,
        "foreign_key",
        "delete a domain in use",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_system(org.id, other.id).await,
        "foreign_key",
        "delete a system with domains",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(ok(tx.delete_domain(org.id, brands.id).await, "delete"));
    assert!(!ok(
        tx.delete_domain(org.id, brands.id).await,
        "delete again"
    ));
    commit(tx).await;
}

/// Roles: every domain kind round-trips; filters; unique per system.
pub async fn roles(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let owner = user_value(org.id, "owner", group.id);
    let parent = system_value(org.id, "Suite", None);
    let child = system_value(org.id, "Suite Mail", Some(parent.id));
    let lone = system_value(org.id, "Lone", None);
    let domain = domain_value(org.id, child.id, "mailboxes");
    let mut admin = role_value(org.id, parent.id, "admin");
    admin.description = Some("Everything".to_owned());
    admin.category = Some("ops".to_owned());
    admin.external_id = Some("ext-42".to_owned());
    admin.owner_id = Some(owner.id);
    admin.privileged = true;
    admin.permissions = vec![Permission::UsersManage, Permission::AuditView];
    admin.system_role = true;
    let mut by_group = role_value(org.id, child.id, "Group reader");
    by_group.domain = RoleDomain::Groups;
    let mut by_system = role_value(org.id, child.id, "system-reader");
    by_system.domain = RoleDomain::Systems;
    let mut custom = role_value(org.id, child.id, "mailbox owner");
    custom.domain = RoleDomain::Custom(domain.id);
    let lone_admin = role_value(org.id, lone.id, "admin");

    let mut tx = begin(store).await;
    ok(tx.insert_user(&owner).await, "owner");
    for s in [&parent, &child, &lone] {
        ok(tx.insert_system(s).await, "system");
    }
    ok(tx.insert_domain(&domain).await, "domain");
    for r in [&admin, &by_group, &by_system, &custom, &lone_admin] {
        ok(
            tx.insert_role(r).await,
            "insert role (same name in another system is fine)",
        );
    }
    commit(tx).await;

    let mut tx = read(store).await;
    for r in [&admin, &by_group, &by_system, &custom] {
        assert_eq!(
            ok(tx.get_role(org.id, r.id).await, "get"),
            Some(r.clone()),
            "role `{}` round-trips",
            r.name
        );
    }
    assert_eq!(
        ok(
            tx.get_role_by_name(org.id, lone.id, "admin").await,
            "by name"
        ),
        Some(lone_admin.clone())
    );
    assert_eq!(
        ok(
            tx.get_role_by_name(org.id, child.id, "admin").await,
            "by name, wrong system"
        ),
        None
    );
    let all: Vec<RoleId> = ok(tx.all_roles(org.id).await, "all")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        all,
        vec![
            admin.id,
            by_group.id,
            by_system.id,
            custom.id,
            lone_admin.id
        ]
    );
    let mut check = async |query: RoleQuery, expected: &[RoleId], what: &str| {
        let page = ok(tx.list_roles(org.id, &query).await, what);
        let got: Vec<RoleId> = page.items.iter().map(|r| r.id).collect();
        assert_eq!(got, expected, "role filter: {what}");
    };
    // By name, then id: "Group reader" < "admin" (twice, by id) < "mailbox owner" < "system-reader".
    check(
        RoleQuery::default(),
        &[
            by_group.id,
            admin.id,
            lone_admin.id,
            custom.id,
            by_system.id,
        ],
        "none",
    )
    .await;
    check(
        RoleQuery {
            q: Some("READER".into()),
            ..Default::default()
        },
        &[by_group.id, by_system.id],
        "q",
    )
    .await;
    check(
        RoleQuery {
            system: Some(lone.id),
            ..Default::default()
        },
        &[lone_admin.id],
        "system",
    )
    .await;
    check(
        RoleQuery {
            privileged: Some(true),
            ..Default::default()
        },
        &[admin.id],
        "privileged",
    )
    .await;
    check(
        RoleQuery {
            systems_under: Some(vec![parent.id]),
            ..Default::default()
        },
        &[by_group.id, admin.id, custom.id, by_system.id],
        "systems under",
    )
    .await;
    check(
        RoleQuery {
            systems_under: Some(vec![child.id]),
            privileged: Some(false),
            ..Default::default()
        },
        &[by_group.id, custom.id, by_system.id],
        "combined",
    )
    .await;
    check(
        RoleQuery {
            paging: Paging {
                limit: 2,
                after: Some(After {
                    key: SortValue::Text("admin".into()),
                    id: admin.id.as_uuid(),
                }),
                descending: false,
            },
            ..Default::default()
        },
        &[lone_admin.id, custom.id],
        "page after a tie",
    )
    .await;
    drop(tx);

    let mut changed = custom.clone();
    changed.domain = RoleDomain::None;
    changed.permissions = vec![Permission::GroupsView];
    changed.privileged = true;
    changed.owner_id = Some(owner.id);
    changed.stamps.touch(at(3), None);
    let mut tx = begin(store).await;
    ok(tx.update_role(&changed).await, "update");
    assert_eq!(
        ok(
            tx.count_roles_using_domain(org.id, domain.id).await,
            "count"
        ),
        0
    );
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_role(org.id, custom.id).await, "get updated"),
        Some(changed)
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.insert_role(&role_value(org.id, parent.id, "admin"))
            .await,
        "roles.name",
        "duplicate role name",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_system(org.id, lone.id).await,
        "foreign_key",
        "delete a system with roles",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(ok(tx.delete_role(org.id, lone_admin.id).await, "delete"));
    assert!(!ok(
        tx.delete_role(org.id, lone_admin.id).await,
        "delete again"
    ));
    commit(tx).await;
}

/// Inheritance edges: every scope mapping round-trips; listed per parent and per child.
pub async fn inheritance(store: &dyn Store) {
    let (org, _) = org_with_group(store).await;
    let app = system_value(org.id, "App", None);
    let roles: Vec<_> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| role_value(org.id, app.id, n))
        .collect();
    let a_b = edge_value(org.id, roles[0].id, roles[1].id);
    let mut a_c = edge_value(org.id, roles[0].id, roles[2].id);
    a_c.mandatory = false;
    a_c.scope = ScopeMapping::Same;
    let mut d_c = edge_value(org.id, roles[3].id, roles[2].id);
    d_c.scope = ScopeMapping::Fixed("emea".to_owned());
    d_c.stamps.created_by = Some(UserId::from_uuid(super::uuid()));

    let mut tx = begin(store).await;
    ok(tx.insert_system(&app).await, "system");
    for r in &roles {
        ok(tx.insert_role(r).await, "role");
    }
    for e in [&a_b, &a_c, &d_c] {
        ok(tx.insert_inheritance(e).await, "insert edge");
    }
    commit(tx).await;

    let mut tx = read(store).await;
    for e in [&a_b, &a_c, &d_c] {
        assert_eq!(
            ok(tx.get_inheritance(org.id, e.id).await, "get"),
            Some(e.clone()),
            "edge round-trips"
        );
    }
    assert_eq!(
        ok(
            tx.list_inheritance(org.id, roles[0].id, true).await,
            "as parent"
        ),
        vec![a_b.clone(), a_c.clone()]
    );
    assert_eq!(
        ok(
            tx.list_inheritance(org.id, roles[2].id, false).await,
            "as child"
        ),
        vec![a_c.clone(), d_c.clone()]
    );
    assert!(
        ok(
            tx.list_inheritance(org.id, roles[2].id, true).await,
            "c as parent"
        )
        .is_empty()
    );
    assert_eq!(
        ok(tx.all_inheritance(org.id).await, "all"),
        vec![a_b.clone(), a_c.clone(), d_c.clone()]
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.insert_inheritance(&edge_value(org.id, roles[0].id, roles[1].id))
            .await,
        "role_inheritance.child_role_id",
        "duplicate edge",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_role(org.id, roles[1].id).await,
        "foreign_key",
        "delete a role that is inherited",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(ok(tx.delete_inheritance(org.id, a_b.id).await, "delete"));
    assert!(!ok(
        tx.delete_inheritance(org.id, a_b.id).await,
        "delete again"
    ));
    assert!(ok(
        tx.delete_role(org.id, roles[1].id).await,
        "delete the role now free"
    ));
    commit(tx).await;
}

/// Grants: both grantee kinds, every field, every filter, paging by id.
pub async fn grants(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let user = user_value(org.id, "grantee", group.id);
    let app = system_value(org.id, "App", None);
    let viewer = role_value(org.id, app.id, "viewer");
    let editor = role_value(org.id, app.id, "editor");
    let mut to_user = grant_value(org.id, editor.id, Grantee::User(user.id));
    to_user.scope = Some(group.id.to_string());
    to_user.starts_at = Some(at(0));
    to_user.ends_at = Some(at(86_400));
    to_user.status = GrantStatus::PendingApproval;
    to_user.stamps.created_by = Some(user.id);
    let mut to_group = grant_value(org.id, viewer.id, Grantee::Group(group.id));
    to_group.origin = GrantOrigin::Rule;
    let mut inherited = grant_value(org.id, viewer.id, Grantee::User(user.id));
    inherited.origin = GrantOrigin::Inheritance;
    inherited.parent_grant_id = Some(to_user.id);
    inherited.status = GrantStatus::Scheduled;

    let mut tx = begin(store).await;
    ok(tx.insert_user(&user).await, "user");
    ok(tx.insert_system(&app).await, "system");
    ok(tx.insert_role(&viewer).await, "role");
    ok(tx.insert_role(&editor).await, "role");
    for g in [&to_user, &to_group, &inherited] {
        ok(tx.insert_grant(g).await, "insert grant");
    }
    commit(tx).await;

    let mut tx = read(store).await;
    for g in [&to_user, &to_group, &inherited] {
        assert_eq!(
            ok(tx.get_grant(org.id, g.id).await, "get"),
            Some(g.clone()),
            "grant round-trips"
        );
    }
    assert_eq!(
        ok(tx.all_grants(org.id).await, "all"),
        vec![to_user.clone(), to_group.clone(), inherited.clone()]
    );
    let mut check = async |query: GrantQuery, expected: &[&latchkey_model::Grant], what: &str| {
        let page = ok(tx.list_grants(org.id, &query).await, what);
        let expected: Vec<_> = expected.iter().map(|g| g.id).collect();
        let got: Vec<_> = page.items.iter().map(|g| g.id).collect();
        assert_eq!(got, expected, "grant filter: {what}");
    };
    check(
        GrantQuery::default(),
        &[&to_user, &to_group, &inherited],
        "none",
    )
    .await;
    check(
        GrantQuery {
            role: Some(viewer.id),
            ..Default::default()
        },
        &[&to_group, &inherited],
        "role",
    )
    .await;
    check(
        GrantQuery {
            user: Some(user.id),
            ..Default::default()
        },
        &[&to_user, &inherited],
        "user",
    )
    .await;
    check(
        GrantQuery {
            group: Some(group.id),
            ..Default::default()
        },
        &[&to_group],
        "group",
    )
    .await;
    check(
        GrantQuery {
            status: Some(GrantStatus::Active),
            ..Default::default()
        },
        &[&to_group],
        "status",
    )
    .await;
    check(
        GrantQuery {
            origin: Some(GrantOrigin::Inheritance),
            ..Default::default()
        },
        &[&inherited],
        "origin",
    )
    .await;
    check(
        GrantQuery {
            parent_grant: Some(to_user.id),
            ..Default::default()
        },
        &[&inherited],
        "parent grant",
    )
    .await;
    check(
        GrantQuery {
            user: Some(user.id),
            role: Some(editor.id),
            ..Default::default()
        },
        &[&to_user],
        "combined",
    )
    .await;
    check(
        GrantQuery {
            paging: Paging {
                limit: 1,
                after: Some(After {
                    key: SortValue::None,
                    id: to_group.id.as_uuid(),
                }),
                descending: true,
            },
            ..Default::default()
        },
        &[&to_user],
        "descending after",
    )
    .await;
    let page = ok(
        tx.list_grants(
            org.id,
            &GrantQuery {
                paging: Paging {
                    limit: 2,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await,
        "page",
    );
    assert!(page.has_more);
    drop(tx);

    let mut changed = to_user.clone();
    changed.status = GrantStatus::Active;
    changed.ends_at = None;
    changed.scope = None;
    changed.grantee = Grantee::Group(group.id);
    changed.stamps.touch(at(60), Some(user.id));
    let mut tx = begin(store).await;
    ok(tx.update_grant(&changed).await, "update");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_grant(org.id, to_user.id).await, "get updated"),
        Some(changed.clone())
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.delete_grant(org.id, to_user.id).await,
        "foreign_key",
        "delete a grant another one derives from",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_role(org.id, viewer.id).await,
        "foreign_key",
        "delete a granted role",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_user(org.id, user.id).await,
        "foreign_key",
        "delete a user holding grants",
    );
    drop(tx);
    let mut dangling = grant_value(
        org.id,
        viewer.id,
        Grantee::User(UserId::from_uuid(super::uuid())),
    );
    dangling.status = GrantStatus::Expired;
    let mut tx = begin(store).await;
    conflict(
        tx.insert_grant(&dangling).await,
        "foreign_key",
        "grant to an unknown user",
    );
    drop(tx);
    let mut tx = begin(store).await;
    refused(
        tx.update_grant(&dangling).await,
        "update of a grant that does not exist",
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(ok(tx.delete_grant(org.id, inherited.id).await, "delete"));
    assert!(ok(
        tx.delete_grant(org.id, to_user.id).await,
        "delete the parent now free"
    ));
    assert!(!ok(
        tx.delete_grant(org.id, to_user.id).await,
        "delete again"
    ));
    commit(tx).await;
}
