//! Conformance stories of the directory: API tokens, users (round-trips, uniqueness,
//! every `UserQuery` filter, sort orders and keyset paging), groups and memberships.

use latchkey_model::{Grantee, GroupId, ObjectType, User, UserId};
use serde_json::json;

use super::{
    at, attrs, begin, commit, conflict, group_value, membership_value, ok, org_with_group, read,
    refused, token_value, user_value,
};
use crate::{After, GroupQuery, MembershipQuery, Paging, SortValue, Store, UserQuery, UserSort};

/// Tokens: found by hash across organisations, listed per user, revoked once.
pub async fn tokens(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let user = user_value(org.id, "tokenholder", group.id);
    let first = token_value(org.id, user.id);
    let mut second = token_value(org.id, user.id);
    second.name = "deploy".to_owned();
    second.expires_at = Some(at(86_400));
    let mut tx = begin(store).await;
    ok(tx.insert_user(&user).await, "insert user");
    ok(tx.insert_token(&first).await, "insert token");
    ok(tx.insert_token(&second).await, "insert token");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.find_token_by_hash(&second.token_hash).await, "find"),
        Some(second.clone())
    );
    assert_eq!(
        ok(tx.find_token_by_hash("ffff").await, "find unknown"),
        None
    );
    assert_eq!(
        ok(tx.list_tokens(org.id, user.id).await, "list"),
        vec![first.clone(), second.clone()],
        "a user's tokens, in creation order"
    );
    drop(tx);

    let mut tx = begin(store).await;
    assert!(ok(
        tx.revoke_token(org.id, first.id, at(60)).await,
        "revoke"
    ));
    assert!(
        ok(
            tx.revoke_token(org.id, first.id, at(120)).await,
            "revoke again"
        ),
        "a revoked token still exists"
    );
    assert!(
        !ok(
            tx.revoke_token(
                org.id,
                latchkey_model::TokenId::from_uuid(super::uuid()),
                at(60)
            )
            .await,
            "revoke unknown"
        ),
        "revoking an unknown token says so"
    );
    commit(tx).await;

    let mut tx = read(store).await;
    let revoked = ok(
        tx.find_token_by_hash(&first.token_hash).await,
        "find revoked",
    )
    .expect("revoked token is found");
    assert_eq!(
        revoked.revoked_at,
        Some(at(60)),
        "the first revocation instant stays"
    );
    drop(tx);

    let mut dup = token_value(org.id, user.id);
    dup.token_hash.clone_from(&first.token_hash);
    let mut tx = begin(store).await;
    conflict(
        tx.insert_token(&dup).await,
        "api_tokens.token_hash",
        "duplicate token hash",
    );
    drop(tx);

    // Tokens go with their user.
    let mut tx = begin(store).await;
    assert!(ok(
        tx.delete_user(org.id, user.id).await,
        "delete token holder"
    ));
    assert_eq!(
        ok(
            tx.find_token_by_hash(&second.token_hash).await,
            "find after delete"
        ),
        None
    );
    commit(tx).await;
}

/// A user with every field set, read back, updated, deleted.
pub async fn users(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let other_group = group_value(org.id, "Staff", None);
    let mut user = user_value(org.id, "ada.lovelace", group.id);
    user.first_name = "Ada".to_owned();
    user.middle_name = Some("King".to_owned());
    user.full_name = User::derive_full_name("Ada", Some("King"), "Lovelace");
    user.email = Some("Ada.Lovelace@Example.org".to_owned());
    user.mail_aliases = vec![
        "ada@example.org".to_owned(),
        "countess@example.org".to_owned(),
    ];
    user.user_type = Some("employee".to_owned());
    user.multi_session = true;
    user.comments = Some("first programmer — «naïve» test ✓".to_owned());
    user.attributes = attrs(&[
        ("badge", json!(1815)),
        ("ratio", json!(0.1)),
        (
            "nested",
            json!({"z": [1, 2.5, null, true], "a": {"b": "c"}}),
        ),
    ]);
    user.installation_admin = true;
    user.stamps.created_by = Some(UserId::from_uuid(super::uuid()));
    user.stamps.updated_by = user.stamps.created_by;

    let mut tx = begin(store).await;
    ok(tx.insert_group(&other_group).await, "insert group");
    ok(tx.insert_user(&user).await, "insert user");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_user(org.id, user.id).await, "get"),
        Some(user.clone()),
        "user round-trips"
    );
    assert_eq!(
        ok(tx.get_user_by_name(org.id, "ada.lovelace").await, "by name"),
        Some(user.clone())
    );
    assert_eq!(
        ok(
            tx.get_user_by_name(org.id, "ADA.LOVELACE").await,
            "by name, other case"
        ),
        None,
        "user names are exact"
    );
    assert_eq!(
        ok(
            tx.get_user_by_email(org.id, "ada.LOVELACE@example.ORG")
                .await,
            "by email"
        ),
        Some(user.clone()),
        "email lookup ignores case"
    );
    assert_eq!(
        ok(
            tx.get_user_by_email(org.id, "nobody@example.org").await,
            "unknown email"
        ),
        None
    );
    assert_eq!(
        ok(
            tx.count_users_in_primary_group(org.id, group.id).await,
            "count"
        ),
        1
    );
    let heads = ok(tx.all_user_heads(org.id).await, "heads");
    assert_eq!(heads.len(), 1);
    assert_eq!(
        (
            heads[0].id,
            heads[0].org_id,
            heads[0].primary_group_id,
            heads[0].enabled
        ),
        (user.id, org.id, group.id, true)
    );
    drop(tx);

    let mut changed = user.clone();
    changed.user_name = "ada".to_owned();
    changed.middle_name = None;
    changed.email = None;
    changed.mail_aliases.clear();
    changed.user_type = None;
    changed.primary_group_id = other_group.id;
    changed.enabled = false;
    changed.comments = None;
    changed.attributes = attrs(&[("badge", json!("B-7"))]);
    changed.installation_admin = false;
    changed.stamps.touch(at(3_600), None);
    let mut tx = begin(store).await;
    ok(tx.update_user(&changed).await, "update");
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_user(org.id, user.id).await, "get updated"),
        Some(changed.clone()),
        "update replaces every column"
    );
    assert_eq!(
        ok(
            tx.get_user_by_name(org.id, "ada.lovelace").await,
            "old name"
        ),
        None
    );
    assert_eq!(
        ok(
            tx.count_users_in_primary_group(org.id, group.id).await,
            "count old group"
        ),
        0
    );
    drop(tx);

    let mut missing = user_value(org.id, "missing", group.id);
    missing.stamps.touch(at(1), None);
    let mut tx = begin(store).await;
    refused(
        tx.update_user(&missing).await,
        "update of a user that does not exist",
    );
    drop(tx);

    let mut tx = begin(store).await;
    assert!(ok(tx.delete_user(org.id, user.id).await, "delete"));
    assert!(
        !ok(tx.delete_user(org.id, user.id).await, "delete again"),
        "a second delete finds nothing"
    );
    assert_eq!(ok(tx.get_user(org.id, user.id).await, "get deleted"), None);
    commit(tx).await;
}

/// User names are unique per organisation, emails too (ignoring case); absent emails never
/// collide.
pub async fn user_uniqueness(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let (other_org, other_group) = org_with_group(store).await;
    let mut ada = user_value(org.id, "ada", group.id);
    ada.email = Some("ada@example.org".to_owned());
    let no_mail_1 = user_value(org.id, "nomail1", group.id);
    let no_mail_2 = user_value(org.id, "nomail2", group.id);
    let mut elsewhere = user_value(other_org.id, "ada", other_group.id);
    elsewhere.email = Some("ADA@example.org".to_owned());
    let mut tx = begin(store).await;
    ok(tx.insert_user(&ada).await, "insert");
    ok(tx.insert_user(&no_mail_1).await, "insert without email");
    ok(
        tx.insert_user(&no_mail_2).await,
        "insert another without email",
    );
    ok(
        tx.insert_user(&elsewhere).await,
        "same name and email in another organisation",
    );
    commit(tx).await;

    let same_name = user_value(org.id, "ada", group.id);
    let mut tx = begin(store).await;
    conflict(
        tx.insert_user(&same_name).await,
        "users.user_name",
        "duplicate user name",
    );
    drop(tx);

    let mut same_email = user_value(org.id, "ada2", group.id);
    same_email.email = Some("ADA@Example.Org".to_owned());
    let mut tx = begin(store).await;
    conflict(
        tx.insert_user(&same_email).await,
        "users.email",
        "duplicate email, other case",
    );
    drop(tx);

    let mut renamed = no_mail_1.clone();
    renamed.user_name = "nomail2".to_owned();
    let mut tx = begin(store).await;
    conflict(
        tx.update_user(&renamed).await,
        "users.user_name",
        "rename onto a taken name",
    );
    drop(tx);

    let mut dup_id = user_value(org.id, "fresh", group.id);
    dup_id.id = ada.id;
    let mut tx = begin(store).await;
    conflict(tx.insert_user(&dup_id).await, "users.id", "duplicate id");
    drop(tx);

    let stray = user_value(org.id, "stray", GroupId::from_uuid(super::uuid()));
    let mut tx = begin(store).await;
    conflict(
        tx.insert_user(&stray).await,
        "foreign_key",
        "primary group that does not exist",
    );
    drop(tx);

    let cross = user_value(org.id, "cross", other_group.id);
    let mut tx = begin(store).await;
    conflict(
        tx.insert_user(&cross).await,
        "foreign_key",
        "primary group of another organisation",
    );
    drop(tx);
}

fn names(page: &crate::Page<User>) -> Vec<&str> {
    page.items.iter().map(|u| u.user_name.as_str()).collect()
}

/// Every `UserQuery` filter, alone and combined.
pub async fn user_filters(store: &dyn Store) {
    let (org, root) = org_with_group(store).await;
    let child = group_value(org.id, "Child", Some(root.id));
    let grandchild = group_value(org.id, "Grandchild", Some(child.id));
    let other_root = group_value(org.id, "Other", None);

    let mut alice = user_value(org.id, "alice", root.id);
    alice.full_name = "Alice Liddell".to_owned();
    alice.email = Some("alice@wonder.land".to_owned());
    alice.user_type = Some("employee".to_owned());
    let mut bob = user_value(org.id, "bob", child.id);
    bob.full_name = "Bob 100% Real".to_owned();
    bob.email = Some("BOB@Example.org".to_owned());
    bob.user_type = Some("contractor".to_owned());
    bob.enabled = false;
    let mut carol = user_value(org.id, "carol_x", grandchild.id);
    carol.full_name = "Carol Xu".to_owned();
    carol.user_type = Some("employee".to_owned());
    let mut dave = user_value(org.id, "dave", other_root.id);
    dave.full_name = "Dave Alison".to_owned();

    let mut tx = begin(store).await;
    for g in [&child, &grandchild, &other_root] {
        ok(tx.insert_group(g).await, "insert group");
    }
    for u in [&alice, &bob, &carol, &dave] {
        ok(tx.insert_user(u).await, "insert user");
    }
    ok(
        tx.insert_membership(&membership_value(org.id, dave.id, child.id))
            .await,
        "membership",
    );
    ok(
        tx.insert_membership(&membership_value(org.id, alice.id, child.id))
            .await,
        "membership",
    );
    ok(
        tx.insert_membership(&membership_value(org.id, alice.id, other_root.id))
            .await,
        "membership",
    );
    ok(
        tx.index_attributes(
            org.id,
            ObjectType::User,
            alice.id.as_uuid(),
            &[("site".to_owned(), "paris".to_owned())],
        )
        .await,
        "index",
    );
    ok(
        tx.index_attributes(
            org.id,
            ObjectType::User,
            bob.id.as_uuid(),
            &[
                ("site".to_owned(), "lyon".to_owned()),
                ("floor".to_owned(), "3".to_owned()),
            ],
        )
        .await,
        "index",
    );
    ok(
        tx.index_attributes(
            org.id,
            ObjectType::Group,
            child.id.as_uuid(),
            &[("site".to_owned(), "paris".to_owned())],
        )
        .await,
        "index",
    );
    commit(tx).await;

    let mut tx = read(store).await;
    let mut check = async |query: UserQuery, expected: &[&str], what: &str| {
        let page = ok(tx.list_users(org.id, &query).await, what);
        assert_eq!(names(&page), expected, "filter: {what}");
        assert!(!page.has_more, "filter {what}: one page");
    };
    check(
        UserQuery::default(),
        &["alice", "bob", "carol_x", "dave"],
        "none",
    )
    .await;
    check(
        UserQuery {
            q: Some("ALI".into()),
            ..Default::default()
        },
        &["alice", "dave"],
        "q over user name and full name",
    )
    .await;
    check(
        UserQuery {
            q: Some("example.ORG".into()),
            ..Default::default()
        },
        &["bob"],
        "q over email",
    )
    .await;
    check(
        UserQuery {
            q: Some("0%".into()),
            ..Default::default()
        },
        &["bob"],
        "q with a literal %",
    )
    .await;
    check(
        UserQuery {
            q: Some("%".into()),
            ..Default::default()
        },
        &["bob"],
        "q of a lone %",
    )
    .await;
    check(
        UserQuery {
            q: Some("l_x".into()),
            ..Default::default()
        },
        &["carol_x"],
        "q with a literal _",
    )
    .await;
    check(
        UserQuery {
            q: Some("zzz".into()),
            ..Default::default()
        },
        &[],
        "q without match",
    )
    .await;
    check(
        UserQuery {
            user_name: Some("bob".into()),
            ..Default::default()
        },
        &["bob"],
        "user name",
    )
    .await;
    check(
        UserQuery {
            user_name: Some("BOB".into()),
            ..Default::default()
        },
        &[],
        "user name is exact",
    )
    .await;
    check(
        UserQuery {
            email: Some("bob@example.org".into()),
            ..Default::default()
        },
        &["bob"],
        "email ignores case",
    )
    .await;
    check(
        UserQuery {
            enabled: Some(false),
            ..Default::default()
        },
        &["bob"],
        "disabled",
    )
    .await;
    check(
        UserQuery {
            enabled: Some(true),
            ..Default::default()
        },
        &["alice", "carol_x", "dave"],
        "enabled",
    )
    .await;
    check(
        UserQuery {
            user_type: Some("employee".into()),
            ..Default::default()
        },
        &["alice", "carol_x"],
        "user type",
    )
    .await;
    check(
        UserQuery {
            primary_group: Some(child.id),
            ..Default::default()
        },
        &["bob"],
        "primary group",
    )
    .await;
    check(
        UserQuery {
            primary_group_under: Some(vec![root.id]),
            ..Default::default()
        },
        &["alice", "bob", "carol_x"],
        "primary group under the root",
    )
    .await;
    check(
        UserQuery {
            primary_group_under: Some(vec![child.id, other_root.id]),
            ..Default::default()
        },
        &["bob", "carol_x", "dave"],
        "primary group under two roots",
    )
    .await;
    check(
        UserQuery {
            primary_group_under: Some(vec![]),
            ..Default::default()
        },
        &[],
        "primary group under nothing",
    )
    .await;
    check(
        UserQuery {
            member_of: Some(child.id),
            ..Default::default()
        },
        &["alice", "dave"],
        "member of",
    )
    .await;
    check(
        UserQuery {
            member_of: Some(grandchild.id),
            ..Default::default()
        },
        &[],
        "member of, no members",
    )
    .await;
    check(
        UserQuery {
            attribute: Some(("site".into(), "paris".into())),
            ..Default::default()
        },
        &["alice"],
        "attribute (a group with the same value does not count)",
    )
    .await;
    check(
        UserQuery {
            attribute: Some(("floor".into(), "3".into())),
            ..Default::default()
        },
        &["bob"],
        "attribute",
    )
    .await;
    check(
        UserQuery {
            user_type: Some("employee".into()),
            enabled: Some(true),
            primary_group_under: Some(vec![child.id]),
            ..Default::default()
        },
        &["carol_x"],
        "combined",
    )
    .await;
    check(
        UserQuery {
            member_of: Some(child.id),
            q: Some("liddell".into()),
            ..Default::default()
        },
        &["alice"],
        "member of and q",
    )
    .await;
}

/// Sort orders and keyset paging: pages joined are the full sorted list, without repeats
/// or gaps, both directions; text sorts bytewise (upper case before lower case).
pub async fn user_paging(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let specs: [(&str, &str, i64); 9] = [
        ("mallory", "Zed", 40),
        ("Zoe", "adams", 10),
        ("alice", "Brown", 10),
        ("bob", "Brown", 30),
        ("Carl", "brown", 20),
        ("dan", "Adams", 10),
        ("erin", "Brown", 50),
        ("frank", "Ng", 0),
        ("grace", "Ng", 20),
    ];
    let mut users = Vec::new();
    let mut tx = begin(store).await;
    for (name, last, secs) in specs {
        let mut u = user_value(org.id, name, group.id);
        u.last_name = last.to_owned();
        u.full_name = User::derive_full_name(&u.first_name, None, last);
        u.stamps = latchkey_model::Stamps::new(at(secs), None);
        ok(tx.insert_user(&u).await, "insert user");
        users.push(u);
    }
    commit(tx).await;

    type Key = fn(&User) -> SortValue;
    let orders: [(UserSort, Key); 3] = [
        (UserSort::UserName, |u| SortValue::Text(u.user_name.clone())),
        (UserSort::LastName, |u| SortValue::Text(u.last_name.clone())),
        (UserSort::CreatedAt, |u| {
            SortValue::Int(
                i64::try_from(u.stamps.created_at.unix_timestamp_nanos() / 1000).expect("micros"),
            )
        }),
    ];
    let mut tx = read(store).await;
    for (sort, key) in orders {
        for descending in [false, true] {
            let mut expected: Vec<&User> = users.iter().collect();
            expected.sort_by(|a, b| sort_cmp(&key(a), &key(b)).then(a.id.cmp(&b.id)));
            if descending {
                expected.reverse();
            }
            let expected: Vec<UserId> = expected.iter().map(|u| u.id).collect();

            let everything = ok(
                tx.list_users(
                    org.id,
                    &UserQuery {
                        sort,
                        paging: Paging {
                            limit: 100,
                            after: None,
                            descending,
                        },
                        ..Default::default()
                    },
                )
                .await,
                "list",
            );
            let got: Vec<UserId> = everything.items.iter().map(|u| u.id).collect();
            assert_eq!(
                got, expected,
                "{sort:?} descending={descending}: one page in order"
            );
            assert!(!everything.has_more);

            for limit in [1, 2, 4] {
                let mut seen = Vec::new();
                let mut after = None;
                let mut pages = 0;
                loop {
                    let query = UserQuery {
                        sort,
                        paging: Paging {
                            limit,
                            after: after.clone(),
                            descending,
                        },
                        ..Default::default()
                    };
                    let page = ok(tx.list_users(org.id, &query).await, "page");
                    pages += 1;
                    assert!(
                        page.items.len() <= limit as usize,
                        "a page holds at most `limit` rows"
                    );
                    seen.extend(page.items.iter().map(|u| u.id));
                    match page.items.last() {
                        Some(last) if page.has_more => {
                            after = Some(After {
                                key: key(last),
                                id: last.id.as_uuid(),
                            })
                        }
                        _ => break,
                    }
                    assert!(pages <= users.len(), "{sort:?}: paging terminates");
                }
                assert_eq!(
                    seen, expected,
                    "{sort:?} descending={descending} limit={limit}: pages join up"
                );
            }
        }
    }

    let one = ok(
        tx.list_users(
            org.id,
            &UserQuery {
                paging: Paging {
                    limit: 0,
                    after: None,
                    descending: false,
                },
                ..Default::default()
            },
        )
        .await,
        "limit 0",
    );
    assert_eq!(one.items.len(), 1, "a limit of 0 is raised to 1");
    assert!(one.has_more);
    let all = ok(
        tx.list_users(
            org.id,
            &UserQuery {
                paging: Paging {
                    limit: 100_000,
                    after: None,
                    descending: false,
                },
                ..Default::default()
            },
        )
        .await,
        "huge limit",
    );
    assert_eq!(
        all.items.len(),
        users.len(),
        "a huge limit is capped, not refused"
    );

    let wrong_cursor = UserQuery {
        sort: UserSort::CreatedAt,
        paging: Paging {
            limit: 2,
            after: Some(After {
                key: SortValue::Text("x".into()),
                id: users[0].id.as_uuid(),
            }),
            descending: false,
        },
        ..Default::default()
    };
    refused(
        tx.list_users(org.id, &wrong_cursor).await,
        "a text cursor on a numeric sort",
    );
}

fn sort_cmp(a: &SortValue, b: &SortValue) -> std::cmp::Ordering {
    match (a, b) {
        (SortValue::Text(a), SortValue::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        (SortValue::Int(a), SortValue::Int(b)) => a.cmp(b),
        _ => std::cmp::Ordering::Equal,
    }
}

/// Groups: round-trip, lookups, the tree filters, paging by name, delete rules.
pub async fn groups(store: &dyn Store) {
    let (org, root) = org_with_group(store).await;
    let mut sales = group_value(org.id, "Sales", Some(root.id));
    sales.description = Some("Those who sell".to_owned());
    sales.group_type = Some("department".to_owned());
    sales.active_since = Some(at(-86_400));
    sales.active_until = Some(at(86_400 * 365));
    sales.attributes = attrs(&[("cost_center", json!("CC-12")), ("budget", json!(1.5e6))]);
    let mut emea = group_value(org.id, "sales-emea", Some(sales.id));
    emea.group_type = Some("team".to_owned());
    let mut paris = group_value(org.id, "Sales Paris", Some(emea.id));
    paris.disabled = true;
    let it = group_value(org.id, "IT", None);

    let mut tx = begin(store).await;
    for g in [&sales, &emea, &paris, &it] {
        ok(tx.insert_group(g).await, "insert group");
    }
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_group(org.id, sales.id).await, "get"),
        Some(sales.clone()),
        "group round-trips"
    );
    assert_eq!(
        ok(tx.get_group_by_name(org.id, "sales-emea").await, "by name"),
        Some(emea.clone())
    );
    assert_eq!(
        ok(
            tx.get_group_by_name(org.id, "SALES-EMEA").await,
            "by name, other case"
        ),
        None
    );
    assert_eq!(
        ok(tx.count_child_groups(org.id, sales.id).await, "children"),
        1
    );
    assert_eq!(
        ok(
            tx.count_child_groups(org.id, paris.id).await,
            "children of a leaf"
        ),
        0
    );
    let all: Vec<GroupId> = ok(tx.all_groups(org.id).await, "all")
        .iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(
        all,
        vec![root.id, sales.id, emea.id, paris.id, it.id],
        "all groups by id"
    );

    let mut check = async |query: GroupQuery, expected: &[&str], what: &str| {
        let page = ok(tx.list_groups(org.id, &query).await, what);
        let got: Vec<&str> = page.items.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(got, expected, "group filter: {what}");
    };
    check(
        GroupQuery::default(),
        &["Everyone", "IT", "Sales", "Sales Paris", "sales-emea"],
        "none, bytewise by name",
    )
    .await;
    check(
        GroupQuery {
            q: Some("SALES".into()),
            ..Default::default()
        },
        &["Sales", "Sales Paris", "sales-emea"],
        "q",
    )
    .await;
    check(
        GroupQuery {
            parent: Some(None),
            ..Default::default()
        },
        &["Everyone", "IT"],
        "roots",
    )
    .await;
    check(
        GroupQuery {
            parent: Some(Some(sales.id)),
            ..Default::default()
        },
        &["sales-emea"],
        "children",
    )
    .await;
    check(
        GroupQuery {
            disabled: Some(true),
            ..Default::default()
        },
        &["Sales Paris"],
        "disabled",
    )
    .await;
    check(
        GroupQuery {
            group_type: Some("team".into()),
            ..Default::default()
        },
        &["sales-emea"],
        "type",
    )
    .await;
    check(
        GroupQuery {
            under: Some(vec![sales.id]),
            ..Default::default()
        },
        &["Sales", "Sales Paris", "sales-emea"],
        "under",
    )
    .await;
    check(
        GroupQuery {
            under: Some(vec![emea.id, it.id]),
            ..Default::default()
        },
        &["IT", "Sales Paris", "sales-emea"],
        "under two",
    )
    .await;
    check(
        GroupQuery {
            under: Some(vec![]),
            ..Default::default()
        },
        &[],
        "under nothing",
    )
    .await;
    check(
        GroupQuery {
            under: Some(vec![root.id]),
            disabled: Some(false),
            q: Some("E".into()),
            ..Default::default()
        },
        &["Everyone", "Sales", "sales-emea"],
        "combined",
    )
    .await;

    let first = ok(
        tx.list_groups(
            org.id,
            &GroupQuery {
                paging: Paging {
                    limit: 2,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await,
        "page 1",
    );
    assert!(first.has_more);
    let last = first.items.last().expect("a row");
    let second = ok(
        tx.list_groups(
            org.id,
            &GroupQuery {
                paging: Paging {
                    limit: 2,
                    after: Some(After {
                        key: SortValue::Text(last.name.clone()),
                        id: last.id.as_uuid(),
                    }),
                    descending: false,
                },
                ..Default::default()
            },
        )
        .await,
        "page 2",
    );
    let got: Vec<&str> = second.items.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(got, ["Sales", "Sales Paris"], "second page by name");
    assert!(second.has_more);
    let desc = ok(
        tx.list_groups(
            org.id,
            &GroupQuery {
                paging: Paging {
                    limit: 2,
                    after: None,
                    descending: true,
                },
                ..Default::default()
            },
        )
        .await,
        "desc",
    );
    let got: Vec<&str> = desc.items.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(got, ["sales-emea", "Sales Paris"], "descending by name");
    drop(tx);

    let mut moved = paris.clone();
    moved.name = "Paris".to_owned();
    moved.parent_id = Some(it.id);
    moved.disabled = false;
    moved.active_since = Some(at(5));
    moved
        .stamps
        .touch(at(10), Some(UserId::from_uuid(super::uuid())));
    let mut tx = begin(store).await;
    ok(tx.update_group(&moved).await, "update");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_group(org.id, paris.id).await, "get updated"),
        Some(moved.clone())
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.insert_group(&group_value(org.id, "Sales", None)).await,
        "groups.name",
        "duplicate group name",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_group(org.id, sales.id).await,
        "foreign_key",
        "delete a group that has children",
    );
    drop(tx);
    let mut tx = begin(store).await;
    conflict(
        tx.delete_group(org.id, root.id).await,
        "foreign_key",
        "delete a group that has children and members",
    );
    drop(tx);
    let user = user_value(org.id, "member", root.id);
    let mut tx = begin(store).await;
    ok(tx.insert_user(&user).await, "insert user");
    ok(
        tx.insert_membership(&membership_value(org.id, user.id, it.id))
            .await,
        "membership",
    );
    let role = role_for(org.id, &mut *tx).await;
    ok(
        tx.insert_grant(&super::grant_value(org.id, role, Grantee::Group(emea.id)))
            .await,
        "grant",
    );
    commit(tx).await;
    let mut tx = begin(store).await;
    conflict(
        tx.delete_group(org.id, emea.id).await,
        "foreign_key",
        "delete a group that holds a grant",
    );
    drop(tx);

    let mut tx = begin(store).await;
    assert!(ok(tx.delete_group(org.id, moved.id).await, "delete leaf"));
    assert!(!ok(tx.delete_group(org.id, moved.id).await, "delete again"));
    commit(tx).await;
}

/// A role to grant, in a system created on the way.
async fn role_for(org: latchkey_model::OrgId, tx: &mut dyn crate::Tx) -> latchkey_model::RoleId {
    let system = super::system_value(org, &format!("app-{}", super::next()), None);
    let role = super::role_value(org, system.id, "viewer");
    ok(tx.insert_system(&system).await, "insert system");
    ok(tx.insert_role(&role).await, "insert role");
    role.id
}

/// Memberships: round-trip, update, lists by user and group, bulk deletes.
pub async fn memberships(store: &dyn Store) {
    let (org, root) = org_with_group(store).await;
    let a = group_value(org.id, "A", None);
    let b = group_value(org.id, "B", None);
    let ann = user_value(org.id, "ann", root.id);
    let ben = user_value(org.id, "ben", root.id);
    let mut ann_a = membership_value(org.id, ann.id, a.id);
    ann_a.starts_at = Some(at(0));
    ann_a.ends_at = Some(at(3_600));
    ann_a.comments = Some("temporary".to_owned());
    ann_a.attributes = attrs(&[("role", json!("lead"))]);
    let ann_b = membership_value(org.id, ann.id, b.id);
    let ben_a = membership_value(org.id, ben.id, a.id);

    let mut tx = begin(store).await;
    ok(tx.insert_group(&a).await, "group");
    ok(tx.insert_group(&b).await, "group");
    ok(tx.insert_user(&ann).await, "user");
    ok(tx.insert_user(&ben).await, "user");
    for m in [&ann_a, &ann_b, &ben_a] {
        ok(tx.insert_membership(m).await, "insert membership");
    }
    ok(
        tx.index_attributes(
            org.id,
            ObjectType::Membership,
            ann_a.id.as_uuid(),
            &[("role".into(), "lead".into())],
        )
        .await,
        "index",
    );
    commit(tx).await;

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_membership(org.id, ann_a.id).await, "get"),
        Some(ann_a.clone()),
        "membership round-trips"
    );
    let ids = |p: crate::Page<latchkey_model::Membership>| {
        p.items.iter().map(|m| m.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(ok(
            tx.list_memberships(
                org.id,
                &MembershipQuery {
                    user: Some(ann.id),
                    ..Default::default()
                }
            )
            .await,
            "by user"
        )),
        vec![ann_a.id, ann_b.id]
    );
    assert_eq!(
        ids(ok(
            tx.list_memberships(
                org.id,
                &MembershipQuery {
                    group: Some(a.id),
                    ..Default::default()
                }
            )
            .await,
            "by group"
        )),
        vec![ann_a.id, ben_a.id]
    );
    assert_eq!(
        ids(ok(
            tx.list_memberships(
                org.id,
                &MembershipQuery {
                    user: Some(ben.id),
                    group: Some(a.id),
                    ..Default::default()
                }
            )
            .await,
            "both"
        )),
        vec![ben_a.id]
    );
    let first = ok(
        tx.list_memberships(
            org.id,
            &MembershipQuery {
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
    assert!(first.has_more);
    let after = After {
        key: SortValue::None,
        id: first.items[1].id.as_uuid(),
    };
    let rest = ok(
        tx.list_memberships(
            org.id,
            &MembershipQuery {
                paging: Paging {
                    limit: 2,
                    after: Some(after.clone()),
                    descending: false,
                },
                ..Default::default()
            },
        )
        .await,
        "page 2",
    );
    assert_eq!(ids(rest.clone()), vec![ben_a.id]);
    assert!(!rest.has_more);
    let back = ok(
        tx.list_memberships(
            org.id,
            &MembershipQuery {
                paging: Paging {
                    limit: 5,
                    after: Some(after),
                    descending: true,
                },
                ..Default::default()
            },
        )
        .await,
        "descending",
    );
    assert_eq!(ids(back), vec![ann_a.id]);
    assert_eq!(ok(tx.all_memberships(org.id).await, "all").len(), 3);
    drop(tx);

    let mut changed = ann_a.clone();
    changed.group_id = b.id;
    changed.ends_at = None;
    changed.comments = None;
    changed.attributes.clear();
    changed.stamps.touch(at(20), None);
    let mut tx = begin(store).await;
    ok(tx.update_membership(&changed).await, "update");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_membership(org.id, ann_a.id).await, "get updated"),
        Some(changed)
    );
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.delete_user(org.id, ann.id).await,
        "foreign_key",
        "delete a user who has memberships",
    );
    drop(tx);

    let mut tx = begin(store).await;
    assert_eq!(
        ok(
            tx.delete_memberships_of(org.id, None, None).await,
            "neither"
        ),
        0,
        "no filter deletes nothing"
    );
    assert!(ok(
        tx.attribute_value_taken(org.id, ObjectType::Membership, "role", "lead", None)
            .await,
        "taken"
    ));
    assert_eq!(
        ok(
            tx.delete_memberships_of(org.id, Some(ann.id), None).await,
            "of user"
        ),
        2
    );
    assert!(
        !ok(
            tx.attribute_value_taken(org.id, ObjectType::Membership, "role", "lead", None)
                .await,
            "taken after delete"
        ),
        "a deleted membership's indexed values go with it"
    );
    assert!(ok(tx.delete_user(org.id, ann.id).await, "delete user"));
    assert_eq!(
        ok(
            tx.delete_memberships_of(org.id, None, Some(b.id)).await,
            "of group b"
        ),
        0
    );
    assert!(ok(
        tx.delete_membership(org.id, ben_a.id).await,
        "delete one"
    ));
    assert!(!ok(
        tx.delete_membership(org.id, ben_a.id).await,
        "delete again"
    ));
    assert!(ok(tx.all_memberships(org.id).await, "all").is_empty());
    commit(tx).await;
}
