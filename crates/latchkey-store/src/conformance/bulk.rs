//! Conformance story of the bulk writes that `POST /bulk` uses: many users, memberships,
//! grants and audit entries in few statements (more rows than one statement takes), read
//! back by id; taken names and emails found; a bad row refuses the whole call; the audit
//! chain continues across single and bulk appends and verifies.

use latchkey_model::{GrantId, Grantee, MembershipId, UserId, verify_chain};

use super::{
    audit_value, begin, commit, conflict, grant_value, group_value, membership_value, ok,
    org_with_group, read, role_value, system_value, user_value,
};
use crate::Store;

/// More than one statement's worth (500 rows), so that chunking is exercised.
const MANY: usize = 1_203;

pub async fn bulk_writes(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let (other, other_group) = org_with_group(store).await;
    let second = group_value(org.id, "Second", Some(group.id));
    let system = system_value(org.id, "Bulk system", None);
    let role = role_value(org.id, system.id, "bulk-role");
    let mut tx = begin(store).await;
    ok(tx.insert_group(&second).await, "insert group");
    ok(tx.insert_system(&system).await, "insert system");
    ok(tx.insert_role(&role).await, "insert role");
    commit(tx).await;

    let users: Vec<_> = (0..MANY)
        .map(|i| {
            let mut u = user_value(org.id, &format!("bulk{i:05}"), group.id);
            if i % 3 == 0 {
                u.email = Some(format!("Bulk{i}@Example.org"));
            }
            u
        })
        .collect();
    let memberships: Vec<_> = users
        .iter()
        .map(|u| membership_value(org.id, u.id, second.id))
        .collect();
    let grants: Vec<_> = users
        .iter()
        .map(|u| grant_value(org.id, role.id, Grantee::User(u.id)))
        .collect();
    let entries: Vec<_> = (0..MANY)
        .map(|i| audit_value(org.id, "user.create", "user", &format!("u-{i}"), i as i64))
        .collect();

    let mut tx = begin(store).await;
    ok(
        tx.append_audit(&audit_value(org.id, "bulk.start", "bulk", "0", 0))
            .await,
        "single append before",
    );
    ok(tx.insert_users(&users).await, "insert users");
    ok(
        tx.insert_memberships(&memberships).await,
        "insert memberships",
    );
    ok(tx.insert_grants(&grants).await, "insert grants");
    ok(tx.append_audits(&entries).await, "append audits");
    let last = ok(
        tx.append_audit(&audit_value(org.id, "bulk.end", "bulk", "0", 0))
            .await,
        "single append after",
    );
    assert_eq!(
        last.seq,
        MANY as i64 + 2,
        "seq continues after a bulk append"
    );
    commit(tx).await;

    let mut tx = read(store).await;
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let mut back = ok(tx.get_users(org.id, &ids).await, "get users");
    back.sort_by_key(|u| u.id);
    assert_eq!(back, users, "users read back as written");
    assert!(
        ok(tx.get_users(other.id, &ids).await, "get users elsewhere").is_empty(),
        "another organisation's ids find nothing"
    );
    let m_ids: Vec<MembershipId> = memberships.iter().map(|m| m.id).collect();
    let mut m_back = ok(tx.get_memberships(org.id, &m_ids).await, "get memberships");
    m_back.sort_by_key(|m| m.id);
    assert_eq!(m_back, memberships, "memberships read back as written");
    let g_ids: Vec<GrantId> = grants.iter().map(|g| g.id).collect();
    let mut g_back = ok(tx.get_grants(org.id, &g_ids).await, "get grants");
    g_back.sort_by_key(|g| g.id);
    assert_eq!(g_back, grants, "grants read back as written");
    let missing = GrantId::from_uuid(super::uuid());
    assert!(
        ok(tx.get_grants(org.id, &[missing]).await, "get missing").is_empty(),
        "an unknown id finds nothing"
    );

    let asked = vec![
        "bulk00001".to_owned(),
        "nobody".to_owned(),
        "bulk01202".to_owned(),
    ];
    let mut taken = ok(tx.taken_user_names(org.id, &asked).await, "taken names");
    taken.sort();
    assert_eq!(taken, vec!["bulk00001", "bulk01202"]);
    assert!(
        ok(
            tx.taken_user_names(other.id, &asked).await,
            "names elsewhere"
        )
        .is_empty(),
        "names are per organisation"
    );
    let emails = vec![
        "bulk3@example.ORG".to_owned(),
        "bulk4@example.org".to_owned(),
    ];
    assert_eq!(
        ok(tx.taken_emails(org.id, &emails).await, "taken emails"),
        vec!["bulk3@example.org"],
        "emails compare without case and come back lowercased"
    );

    // The engine's views, read as streams, agree with the full rows.
    let heads = ok(tx.all_membership_heads(org.id).await, "membership heads");
    assert_eq!(heads.len(), MANY);
    assert!(
        heads.iter().zip(&memberships).all(|(h, m)| h.id == m.id
            && h.user_id == m.user_id
            && h.group_id == m.group_id
            && h.starts_at == m.starts_at
            && h.ends_at == m.ends_at),
        "membership heads match the rows, in id order"
    );
    let heads = ok(tx.all_grant_heads(org.id).await, "grant heads");
    assert_eq!(heads.len(), MANY);
    assert!(
        heads.iter().zip(&grants).all(|(h, g)| h.id == g.id
            && h.role_id == g.role_id
            && h.grantee == g.grantee
            && h.scope == g.scope
            && h.status == g.status),
        "grant heads match the rows, in id order"
    );
    assert!(
        ok(tx.all_grant_heads(other.id).await, "heads elsewhere").is_empty(),
        "heads are per organisation"
    );

    let chain = ok(tx.audit_chain(org.id, 0, 10_000).await, "chain");
    assert_eq!(chain.len(), MANY + 2);
    assert_eq!(
        ok(
            verify_chain(&chain).map_err(|b| crate::StoreError::Corrupt(format!("{b:?}"))),
            "verify"
        ),
        MANY as i64 + 2
    );
    drop(tx);

    // One bad row (a taken user name) refuses the whole call: nothing of it is written.
    let mut clash = vec![user_value(org.id, "fresh-one", group.id)];
    clash.push(user_value(org.id, "bulk00007", group.id));
    let mut tx = begin(store).await;
    conflict(
        tx.insert_users(&clash).await,
        "users.user_name",
        "clashing bulk insert",
    );
    drop(tx);
    let mut tx = read(store).await;
    assert!(
        ok(tx.get_user_by_name(org.id, "fresh-one").await, "lookup").is_none(),
        "a refused bulk insert writes nothing"
    );
    drop(tx);

    // A grant naming another organisation's group is refused as a foreign key.
    let stray = grant_value(org.id, role.id, Grantee::Group(other_group.id));
    let mut tx = begin(store).await;
    conflict(
        tx.insert_grants(&[stray]).await,
        "foreign_key",
        "grant to another organisation's group",
    );
}
