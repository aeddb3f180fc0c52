//! Conformance story of the access history: each write's revision is stamped with its
//! instant, every version of a row is kept with the revisions it was in force, a row
//! changed twice in one revision keeps its last version only, reads as of a revision see
//! exactly the versions in force then (deleted rows included), and another organisation's
//! history reads as nothing.

use latchkey_model::{AccessSnapshot, Grantee, Group, MembershipId, SnapshotId};

use super::{
    at, begin, commit, edge_value, grant_value, group_value, membership_value, ok, org_with_group,
    read, role_value, system_value, user_value, uuid,
};
use crate::{MembershipsOf, Store};

pub async fn history(store: &dyn Store) {
    let (org, root) = org_with_group(store).await;
    let (other, _) = org_with_group(store).await;

    // Revision 1, at 10 s: a user in the root group and a secondary group, a role that
    // grants another, a grant to the user.
    let mut tx = begin(store).await;
    assert_eq!(ok(tx.bump_revision(org.id, at(10)).await, "bump"), 1);
    let team: Group = group_value(org.id, "Team", Some(root.id));
    ok(tx.insert_group(&team).await, "insert group");
    let mut user = user_value(org.id, "hist", root.id);
    ok(tx.insert_user(&user).await, "insert user");
    let first = user.clone();
    let mut membership = membership_value(org.id, user.id, team.id);
    ok(tx.insert_membership(&membership).await, "insert membership");
    let system = system_value(org.id, "History system", None);
    ok(tx.insert_system(&system).await, "insert system");
    let parent = role_value(org.id, system.id, "parent");
    let child = role_value(org.id, system.id, "child");
    ok(tx.insert_role(&parent).await, "insert role");
    ok(tx.insert_role(&child).await, "insert role");
    ok(
        tx.insert_inheritance(&edge_value(org.id, parent.id, child.id))
            .await,
        "insert edge",
    );
    let direct = grant_value(org.id, parent.id, Grantee::User(user.id));
    ok(tx.insert_grant(&direct).await, "insert grant");
    commit(tx).await;

    // Revision 2, at 20 s: the user renamed, the direct grant revoked, a group grant made,
    // the membership given an end.
    let mut tx = begin(store).await;
    assert_eq!(ok(tx.bump_revision(org.id, at(20)).await, "bump"), 2);
    user.first_name = "Augusta".to_owned();
    user.stamps.version += 1;
    ok(tx.update_user(&user).await, "update user");
    ok(tx.delete_grant(org.id, direct.id).await, "delete grant");
    let to_team = grant_value(org.id, child.id, Grantee::Group(team.id));
    ok(tx.insert_grant(&to_team).await, "insert group grant");
    membership.ends_at = Some(at(1_000));
    membership.stamps.version += 1;
    ok(tx.update_membership(&membership).await, "update membership");
    commit(tx).await;

    // Revision 3, at 30 s: two changes of the user in one revision, the membership removed.
    let mut tx = begin(store).await;
    assert_eq!(ok(tx.bump_revision(org.id, at(30)).await, "bump"), 3);
    user.first_name = "Ada B.".to_owned();
    ok(tx.update_user(&user).await, "update user");
    user.first_name = "Ada Byron".to_owned();
    ok(tx.update_user(&user).await, "update user again");
    ok(
        tx.delete_membership(org.id, membership.id).await,
        "delete membership",
    );
    commit(tx).await;

    let mut tx = read(store).await;
    // Instants map to the last revision written at or before them.
    assert_eq!(ok(tx.revision_at(org.id, at(9)).await, "before"), None);
    assert_eq!(ok(tx.revision_at(org.id, at(10)).await, "at 10"), Some(1));
    assert_eq!(ok(tx.revision_at(org.id, at(19)).await, "at 19"), Some(1));
    assert_eq!(ok(tx.revision_at(org.id, at(20)).await, "at 20"), Some(2));
    assert_eq!(ok(tx.revision_at(org.id, at(99)).await, "later"), Some(3));
    assert_eq!(
        ok(tx.history_begins(org.id).await, "begins"),
        Some((1, at(10)))
    );
    assert_eq!(ok(tx.history_begins(other.id).await, "begins"), None);

    // Users: one version per revision, the last of revision 3.
    let names = |users: Vec<latchkey_model::User>| -> Vec<String> {
        users.into_iter().map(|u| u.first_name).collect()
    };
    for (rev, want) in [(1, "Ada"), (2, "Augusta"), (3, "Ada Byron")] {
        let got = ok(tx.users_as_of(org.id, rev, &[user.id]).await, "users as of");
        assert_eq!(names(got), vec![want.to_owned()], "user at revision {rev}");
    }
    let members = ok(
        tx.primary_members_as_of(org.id, 1, root.id).await,
        "primary members",
    );
    assert_eq!(members.len(), 1);
    assert_eq!(members[0], first, "the user as first written");

    // Groups written before the first stamped revision are in force from revision 0.
    let groups = ok(
        tx.groups_as_of(org.id, 1, &[root.id, team.id]).await,
        "groups as of",
    );
    assert_eq!(groups.len(), 2);

    // Memberships: open, then dated, then gone.
    let ids =
        |ms: Vec<latchkey_model::Membership>| -> Vec<(MembershipId, Option<time::OffsetDateTime>)> {
            ms.into_iter().map(|m| (m.id, m.ends_at)).collect()
        };
    for of in [MembershipsOf::User(user.id), MembershipsOf::Group(team.id)] {
        let m1 = ok(tx.memberships_as_of(org.id, 1, of).await, "memberships 1");
        assert_eq!(ids(m1), vec![(membership.id, None)], "{of:?} at 1");
        let m2 = ok(tx.memberships_as_of(org.id, 2, of).await, "memberships 2");
        assert_eq!(
            ids(m2),
            vec![(membership.id, Some(at(1_000)))],
            "{of:?} at 2"
        );
        let m3 = ok(tx.memberships_as_of(org.id, 3, of).await, "memberships 3");
        assert!(m3.is_empty(), "{of:?} at 3: {m3:?}");
    }

    // Grants: the direct one until revision 2, the group one from then.
    let g1 = ok(
        tx.grants_to_as_of(org.id, 1, &[user.id], &[team.id]).await,
        "grants 1",
    );
    assert_eq!(g1, vec![direct.clone()]);
    let g2 = ok(
        tx.grants_to_as_of(org.id, 2, &[user.id], &[team.id]).await,
        "grants 2",
    );
    assert_eq!(g2, vec![to_team.clone()]);
    let only_user = ok(
        tx.grants_to_as_of(org.id, 2, &[user.id], &[]).await,
        "grants to the user alone",
    );
    assert!(only_user.is_empty());

    let edges = ok(
        tx.inheritance_from_as_of(org.id, 1, &[parent.id]).await,
        "edges",
    );
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].child_role_id, child.id);
    let roles = ok(
        tx.roles_as_of(org.id, 3, &[parent.id, child.id]).await,
        "roles",
    );
    assert_eq!(roles.len(), 2);
    assert_eq!(
        ok(tx.systems_as_of(org.id, 1).await, "systems"),
        vec![system.clone()]
    );

    let whole = ok(tx.organisation_as_of(org.id, 2).await, "whole");
    assert_eq!(whole.users.len(), 1);
    assert_eq!(whole.groups.len(), 2);
    assert_eq!(whole.memberships.len(), 1);
    assert_eq!(whole.roles.len(), 2);
    assert_eq!(whole.inheritance.len(), 1);
    assert_eq!(whole.grants, vec![to_team]);
    assert_eq!(whole.systems.len(), 1);

    // Another organisation's ids read as nothing.
    assert!(
        ok(tx.users_as_of(other.id, 3, &[user.id]).await, "other org").is_empty(),
        "a user read through another organisation"
    );
    let nothing = ok(tx.organisation_as_of(other.id, 3).await, "other whole");
    assert!(nothing.users.is_empty() && nothing.grants.is_empty());
    assert_eq!(
        nothing.groups.len(),
        1,
        "the other organisation's own root group"
    );

    drop(tx);

    // Snapshots: exact round trip, newest first, another organisation sees none.
    let snapshot = AccessSnapshot {
        id: SnapshotId::from_uuid(uuid()),
        org_id: org.id,
        name: "Quarter end".to_owned(),
        at: at(25),
        revision: 2,
        users: 1,
        entries: 2,
        created_at: at(40),
        created_by: Some(user.id),
    };
    let later = AccessSnapshot {
        id: SnapshotId::from_uuid(uuid()),
        name: "Later".to_owned(),
        created_at: at(50),
        created_by: None,
        ..snapshot.clone()
    };
    let mut tx = begin(store).await;
    ok(tx.insert_snapshot(&snapshot).await, "insert snapshot");
    ok(tx.insert_snapshot(&later).await, "insert snapshot");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_snapshot(org.id, snapshot.id).await, "get snapshot"),
        Some(snapshot.clone())
    );
    assert_eq!(
        ok(tx.get_snapshot(other.id, snapshot.id).await, "other org"),
        None
    );
    assert_eq!(
        ok(tx.list_snapshots(org.id, 10).await, "list"),
        vec![later.clone(), snapshot]
    );
    assert_eq!(
        ok(tx.list_snapshots(org.id, 1).await, "list one"),
        vec![later]
    );
    assert!(ok(tx.list_snapshots(other.id, 10).await, "other list").is_empty());
}
