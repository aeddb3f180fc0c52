//! Conformance story of the scheduler's questions: exactly the dated grants and memberships
//! a start or an end has come due for, each once, in id order, up to the limit; nothing
//! undated, not yet due, already applied or of another organisation.

use latchkey_model::{Grant, GrantStatus, Grantee, GroupId, Membership, OrgId, RoleId, UserId};
use time::OffsetDateTime;

use super::{
    at, begin, commit, group_value, ok, org_with_group, read, role_value, system_value, user_value,
};
use crate::{Edge, Store, Tx};

fn ids_of_grants(grants: &[Grant]) -> Vec<uuid::Uuid> {
    grants.iter().map(|g| g.id.as_uuid()).collect()
}

fn edges_of(found: &[(Membership, Edge)]) -> Vec<(uuid::Uuid, Edge)> {
    found.iter().map(|(m, e)| (m.id.as_uuid(), *e)).collect()
}

fn sorted(mut ids: Vec<uuid::Uuid>) -> Vec<uuid::Uuid> {
    ids.sort_unstable();
    ids
}

fn sorted_edges(mut edges: Vec<(uuid::Uuid, Edge)>) -> Vec<(uuid::Uuid, Edge)> {
    edges.sort_unstable_by_key(|(id, _)| *id);
    edges
}

/// A role and a user of `org` (whose primary group is `group`) to date grants with.
async fn role_and_user(tx: &mut dyn Tx, org: OrgId, group: GroupId) -> (RoleId, UserId) {
    let system = system_value(org, "dated", None);
    ok(tx.insert_system(&system).await, "insert system");
    let role = role_value(org, system.id, "dated");
    ok(tx.insert_role(&role).await, "insert role");
    let user = user_value(org, "dated.user", group);
    ok(tx.insert_user(&user).await, "insert user");
    (role.id, user.id)
}

/// A grant of `role` to `user` with `status` and a validity window.
fn dated_grant(
    org: OrgId,
    (role, user): (RoleId, UserId),
    status: GrantStatus,
    starts_at: Option<OffsetDateTime>,
    ends_at: Option<OffsetDateTime>,
) -> Grant {
    Grant {
        status,
        starts_at,
        ends_at,
        ..super::grant_value(org, role, Grantee::User(user))
    }
}

pub async fn due_rows(store: &dyn Store) {
    let (org, group) = org_with_group(store).await;
    let (other, other_group) = org_with_group(store).await;
    let now = at(1_000);
    let mut tx = begin(store).await;
    let held = role_and_user(&mut *tx, org.id, group.id).await;
    let user = held.1;
    let grant = |status, starts_at, ends_at| dated_grant(org.id, held, status, starts_at, ends_at);
    use GrantStatus::{Active, Expired, Scheduled};
    let started = grant(Scheduled, Some(at(500)), None);
    let ended = grant(Active, Some(at(100)), Some(at(900)));
    let both = grant(Scheduled, Some(at(100)), Some(at(200)));
    let not_yet = grant(Scheduled, Some(at(2_000)), None);
    let running = grant(Active, Some(at(100)), Some(at(5_000)));
    let expired = grant(Expired, Some(at(100)), Some(at(200)));
    let undated = grant(Active, None, None);
    for g in [
        &started, &ended, &both, &not_yet, &running, &expired, &undated,
    ] {
        ok(tx.insert_grant(g).await, "insert grant");
    }

    let membership = |group, starts_at, ends_at| Membership {
        starts_at,
        ends_at,
        ..super::membership_value(org.id, user, group)
    };
    let mut groups = Vec::new();
    for n in 0..5 {
        let g = group_value(org.id, &format!("dated-{n}"), Some(group.id));
        ok(tx.insert_group(&g).await, "insert group");
        groups.push(g.id);
    }
    let joins = membership(groups[0], Some(at(500)), None);
    let leaves = membership(groups[1], None, Some(at(900)));
    let passes = membership(groups[2], Some(at(100)), Some(at(200)));
    let later = membership(groups[3], Some(at(2_000)), Some(at(3_000)));
    let open = membership(groups[4], None, None);
    for m in [&joins, &leaves, &passes, &later, &open] {
        ok(tx.insert_membership(m).await, "insert membership");
    }
    commit(tx).await;

    // Another organisation's due rows never show.
    let mut tx = begin(store).await;
    let other_held = role_and_user(&mut *tx, other.id, other_group.id).await;
    let g = dated_grant(other.id, other_held, Scheduled, Some(at(1)), Some(at(2)));
    ok(tx.insert_grant(&g).await, "insert other grant");
    let other_team = group_value(other.id, "dated", Some(other_group.id));
    ok(tx.insert_group(&other_team).await, "insert other group");
    let mut m = super::membership_value(other.id, other_held.1, other_team.id);
    m.ends_at = Some(at(2));
    ok(tx.insert_membership(&m).await, "insert other membership");
    commit(tx).await;

    let mut tx = read(store).await;
    let due = ok(tx.due_grants(org.id, now, 100).await, "due grants");
    assert_eq!(
        ids_of_grants(&due),
        sorted(vec![
            started.id.as_uuid(),
            ended.id.as_uuid(),
            both.id.as_uuid()
        ]),
        "a started scheduled grant, an ended active one and one both started and ended \
         (once), in id order; nothing not yet due, running, expired or undated"
    );
    let first_two = ok(tx.due_grants(org.id, now, 2).await, "due grants, two");
    assert_eq!(ids_of_grants(&first_two), ids_of_grants(&due)[..2]);
    assert!(
        ok(tx.due_grants(org.id, at(50), 100).await, "due grants early").is_empty(),
        "nothing is due before the first start"
    );

    let due = ok(
        tx.due_memberships(org.id, now, 100).await,
        "due memberships",
    );
    let expected = sorted_edges(vec![
        (joins.id.as_uuid(), Edge::Start),
        (leaves.id.as_uuid(), Edge::End),
        (passes.id.as_uuid(), Edge::Start),
    ]);
    assert_eq!(
        edges_of(&due),
        expected,
        "a start come, an end come, and a start and end both come (its start first)"
    );
    drop(tx);

    // Recorded edges are no longer due; the passed membership's end is due next.
    let mut tx = begin(store).await;
    for (m, edge, due) in [
        (&joins, Edge::Start, at(500)),
        (&leaves, Edge::End, at(900)),
        (&passes, Edge::Start, at(100)),
    ] {
        let id = m.id.as_uuid();
        assert!(
            ok(tx.record_edge(org.id, id, edge, due, now).await, "record"),
            "first record of an edge"
        );
        assert!(
            !ok(tx.record_edge(org.id, id, edge, due, now).await, "again"),
            "a second record of the same edge (another replica's) is refused"
        );
    }
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        edges_of(&ok(tx.due_memberships(org.id, now, 100).await, "due again")),
        vec![(passes.id.as_uuid(), Edge::End)]
    );
    drop(tx);

    // Dates moved later than a recorded edge make it due again when they come; moved
    // earlier, the record stands.
    let mut tx = begin(store).await;
    let extended = Membership {
        ends_at: Some(at(1_500)),
        ..leaves.clone()
    };
    ok(tx.update_membership(&extended).await, "extend");
    let earlier = Membership {
        starts_at: Some(at(400)),
        ..joins.clone()
    };
    ok(tx.update_membership(&earlier).await, "start earlier");
    commit(tx).await;
    let mut tx = begin(store).await;
    assert_eq!(
        edges_of(&ok(tx.due_memberships(org.id, now, 100).await, "moved")),
        vec![(passes.id.as_uuid(), Edge::End)],
        "the extended end has not come yet; the earlier start was recorded"
    );
    let due = ok(tx.due_memberships(org.id, at(1_500), 100).await, "new end");
    let expected = sorted_edges(vec![
        (passes.id.as_uuid(), Edge::End),
        (leaves.id.as_uuid(), Edge::End),
    ]);
    assert_eq!(edges_of(&due), expected, "the moved end is due once more");
    let id = leaves.id.as_uuid();
    assert!(
        ok(
            tx.record_edge(org.id, id, Edge::End, at(1_500), at(1_500))
                .await,
            "record new end"
        ),
        "a record of earlier dates is replaced"
    );
    assert!(
        !ok(
            tx.record_edge(org.id, id, Edge::End, at(1_500), at(1_600))
                .await,
            "again"
        ),
        "and then stands"
    );
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        edges_of(&ok(
            tx.due_memberships(org.id, at(1_500), 100).await,
            "after"
        )),
        vec![(passes.id.as_uuid(), Edge::End)]
    );
    drop(tx);

    // Edges at or before the organisation's mark are no longer looked for; the mark only
    // moves forward, and is the organisation's own.
    let mut tx = begin(store).await;
    ok(tx.mark_edges_through(org.id, at(300)).await, "mark");
    ok(tx.mark_edges_through(org.id, at(150)).await, "mark back");
    commit(tx).await;
    let mut tx = read(store).await;
    assert!(
        ok(tx.due_memberships(org.id, at(1_500), 100).await, "marked").is_empty(),
        "the passed membership's end (200) is at or before the mark (300)"
    );
    assert_eq!(
        edges_of(&ok(
            tx.due_memberships(org.id, at(2_000), 100).await,
            "later"
        )),
        vec![(later.id.as_uuid(), Edge::Start)],
        "an edge after the mark still comes"
    );
    assert_eq!(
        ok(tx.due_memberships(other.id, now, 100).await, "other org").len(),
        1,
        "another organisation's mark is its own"
    );
}
