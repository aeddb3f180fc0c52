//! Property tests for incremental maintenance: a random directory is loaded, then random
//! changes (every kind, with removals, dangling references, cycles and dated rows) are applied
//! both to a plain model of the directory and, through [`Engine::apply`], to the engine, with
//! random moves of the cache instant in between. After every step the engine must answer
//! `check` exactly like a fresh [`Engine::build`] of the model answers `holds`, at every
//! instant (inside the cached interval and outside it); at the end `effective_roles`,
//! `holders`, `permissions` and `check_permission` must agree too.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers parse ids built from fixed formats"
)]

use std::collections::BTreeMap;

use latchkey_engine::{
    Change, Engine, GrantEdge, GroupNode, InheritanceEdge, Membership, MembershipEdge, RoleNode,
    Snapshot, SystemNode, UserNode,
};
use latchkey_model::{
    GrantId, Grantee, GroupId, MembershipId, Permission, RoleId, ScopeMapping, SystemId, UserId,
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

fn id<T: std::str::FromStr>(kind: u32, n: usize) -> T
where
    T::Err: std::fmt::Debug,
{
    format!("{kind:08x}-0000-7000-8000-{n:012x}")
        .parse()
        .unwrap()
}
fn user(n: usize) -> UserId {
    id(1, n)
}
fn group(n: usize) -> GroupId {
    id(2, n)
}
fn system(n: usize) -> SystemId {
    id(3, n)
}
fn role(n: usize) -> RoleId {
    id(4, n)
}
fn grant(n: usize) -> GrantId {
    id(5, n)
}
fn membership(n: usize) -> MembershipId {
    id(6, n)
}

const TIMES: u8 = 8;
const GROUPS: usize = 6;
const USERS: usize = 4;
const ROLES: usize = 6;
const SYSTEMS: usize = 3;

fn instant(t: u8) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::hours(i64::from(t))
}

fn window() -> impl Strategy<Value = (Option<OffsetDateTime>, Option<OffsetDateTime>)> {
    (
        prop::option::weighted(0.3, 0..TIMES),
        prop::option::weighted(0.3, 0..TIMES),
    )
        .prop_map(|(s, e)| (s.map(instant), e.map(instant)))
}

fn mapping() -> impl Strategy<Value = ScopeMapping> {
    prop_oneof![
        Just(ScopeMapping::None),
        Just(ScopeMapping::Same),
        prop::sample::select(vec!["x", "z"]).prop_map(|v| ScopeMapping::Fixed(v.to_owned())),
    ]
}

fn change() -> impl Strategy<Value = Change> {
    let group_node = (
        0..GROUPS,
        prop::option::weighted(0.7, 0..GROUPS + 1),
        prop::bool::weighted(0.15),
        window(),
    )
        .prop_map(|(g, p, disabled, (since, until))| GroupNode {
            id: group(g),
            parent: p.map(group),
            disabled,
            active_since: since,
            active_until: until,
        });
    let user_node =
        (0..USERS, 0..GROUPS + 1, prop::bool::ANY).prop_map(|(u, g, enabled)| UserNode {
            id: user(u),
            primary_group: group(g),
            enabled,
        });
    let member =
        (0..8_usize, 0..USERS + 1, 0..GROUPS + 1, window()).prop_map(|(m, u, g, (s, e))| {
            Membership {
                id: membership(m),
                edge: MembershipEdge {
                    user: user(u),
                    group: group(g),
                    starts_at: s,
                    ends_at: e,
                },
            }
        });
    let role_node = (
        0..ROLES,
        0..SYSTEMS,
        prop::bool::ANY,
        prop::sample::subsequence(Permission::ALL.to_vec(), 0..3),
    )
        .prop_map(|(r, s, scoped, permissions)| RoleNode {
            id: role(r),
            system: system(s),
            permissions,
            scoped,
        });
    let edge = (
        0..ROLES + 1,
        0..ROLES + 1,
        prop::bool::weighted(0.7),
        mapping(),
    )
        .prop_map(|(p, c, mandatory, scope)| InheritanceEdge {
            parent: role(p),
            child: role(c),
            mandatory,
            scope,
        });
    let grant_edge = (
        0..10_usize,
        0..ROLES + 1,
        prop::bool::ANY,
        0..GROUPS + 1,
        prop::option::of(prop::sample::select(vec!["x", "y"]).prop_map(str::to_owned)),
        window(),
        prop::bool::weighted(0.85),
    )
        .prop_map(|(n, r, to_user, who, scope, (s, e), confers)| GrantEdge {
            id: grant(n),
            role: role(r),
            grantee: if to_user {
                Grantee::User(user(who % (USERS + 1)))
            } else {
                Grantee::Group(group(who))
            },
            scope,
            starts_at: s,
            ends_at: e,
            confers,
        });
    prop_oneof![
        4 => group_node.prop_map(Change::UpsertGroup),
        1 => (0..GROUPS).prop_map(|g| Change::RemoveGroup(group(g))),
        1 => (0..SYSTEMS, prop::option::of(0..SYSTEMS + 1)).prop_map(|(s, p)| {
            Change::UpsertSystem(SystemNode { id: system(s), parent: p.map(system) })
        }),
        1 => (0..SYSTEMS).prop_map(|s| Change::RemoveSystem(system(s))),
        3 => user_node.prop_map(Change::UpsertUser),
        1 => (0..USERS).prop_map(|u| Change::RemoveUser(user(u))),
        3 => member.prop_map(Change::AddMembership),
        1 => (0..8_usize).prop_map(|m| Change::RemoveMembership(membership(m))),
        3 => role_node.prop_map(Change::UpsertRole),
        1 => (0..ROLES).prop_map(|r| Change::RemoveRole(role(r))),
        3 => edge.prop_map(Change::AddInheritance),
        1 => (0..ROLES, 0..ROLES).prop_map(|(p, c)| Change::RemoveInheritance {
            parent: role(p),
            child: role(c),
        }),
        6 => grant_edge.prop_map(Change::UpsertGrant),
        2 => (0..10_usize).prop_map(|g| Change::RemoveGrant(grant(g))),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Apply(Change),
    Advance(u8),
    /// Re-upserts an existing group with the same parent but another state or window.
    EditGroup(
        usize,
        bool,
        (Option<OffsetDateTime>, Option<OffsetDateTime>),
    ),
    /// Re-upserts an existing role with its scoped flag flipped.
    FlipScoped(usize),
    /// Re-upserts an existing grant with another window.
    Redate(usize, (Option<OffsetDateTime>, Option<OffsetDateTime>)),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => change().prop_map(Step::Apply),
        2 => (0..TIMES).prop_map(Step::Advance),
        2 => (0..GROUPS, prop::bool::weighted(0.4), window())
            .prop_map(|(g, d, w)| Step::EditGroup(g, d, w)),
        1 => (0..ROLES).prop_map(Step::FlipScoped),
        2 => (0..10_usize, window()).prop_map(|(g, w)| Step::Redate(g, w)),
    ]
}

impl Step {
    /// The change this step makes to the model as it stands, if any.
    fn change(&self, model: &Model) -> Option<Change> {
        match self {
            Step::Apply(c) => Some(c.clone()),
            Step::Advance(_) => None,
            Step::EditGroup(g, disabled, (since, until)) => model.groups.get(&group(*g)).map(|n| {
                Change::UpsertGroup(GroupNode {
                    disabled: *disabled,
                    active_since: *since,
                    active_until: *until,
                    ..n.clone()
                })
            }),
            Step::FlipScoped(r) => model.roles.get(&role(*r)).map(|n| {
                Change::UpsertRole(RoleNode {
                    scoped: !n.scoped,
                    ..n.clone()
                })
            }),
            Step::Redate(g, (s, e)) => model.grants.get(&grant(*g)).map(|n| {
                Change::UpsertGrant(GrantEdge {
                    starts_at: *s,
                    ends_at: *e,
                    ..n.clone()
                })
            }),
        }
    }
}

/// The directory as plain rows keyed by id: what a snapshot at this revision would hold.
#[derive(Default, Debug)]
struct Model {
    groups: BTreeMap<GroupId, GroupNode>,
    systems: BTreeMap<SystemId, SystemNode>,
    users: BTreeMap<UserId, UserNode>,
    memberships: BTreeMap<MembershipId, MembershipEdge>,
    roles: BTreeMap<RoleId, RoleNode>,
    inheritance: BTreeMap<(RoleId, RoleId), InheritanceEdge>,
    grants: BTreeMap<GrantId, GrantEdge>,
}

impl Model {
    fn apply(&mut self, c: &Change) {
        match c {
            Change::UpsertGroup(g) => {
                self.groups.insert(g.id, g.clone());
            }
            Change::RemoveGroup(id) => {
                self.groups.remove(id);
            }
            Change::UpsertSystem(s) => {
                self.systems.insert(s.id, s.clone());
            }
            Change::RemoveSystem(id) => {
                self.systems.remove(id);
            }
            Change::UpsertUser(u) => {
                self.users.insert(u.id, u.clone());
            }
            Change::RemoveUser(id) => {
                self.users.remove(id);
            }
            Change::AddMembership(m) => {
                self.memberships.insert(m.id, m.edge.clone());
            }
            Change::RemoveMembership(id) => {
                self.memberships.remove(id);
            }
            Change::UpsertRole(r) => {
                self.roles.insert(r.id, r.clone());
            }
            Change::RemoveRole(id) => {
                self.roles.remove(id);
            }
            Change::AddInheritance(e) => {
                self.inheritance.insert((e.parent, e.child), e.clone());
            }
            Change::RemoveInheritance { parent, child } => {
                self.inheritance.remove(&(*parent, *child));
            }
            Change::UpsertGrant(g) => {
                self.grants.insert(g.id, g.clone());
            }
            Change::RemoveGrant(id) => {
                self.grants.remove(id);
            }
        }
    }

    fn snapshot(&self) -> (Snapshot, Vec<MembershipId>) {
        let snap = Snapshot {
            groups: self.groups.values().cloned().collect(),
            systems: self.systems.values().cloned().collect(),
            users: self.users.values().cloned().collect(),
            memberships: self.memberships.values().cloned().collect(),
            roles: self.roles.values().cloned().collect(),
            inheritance: self.inheritance.values().cloned().collect(),
            grants: self.grants.values().cloned().collect(),
        };
        (snap, self.memberships.keys().copied().collect())
    }
}

const SCOPES: [Option<&str>; 4] = [None, Some("x"), Some("y"), Some("z")];

/// `check` of the incremental engine against `holds` of a fresh build, everywhere.
fn checks_agree(inc: &Engine, fresh: &Engine) -> Result<(), TestCaseError> {
    for t in 0..TIMES {
        let at = instant(t);
        for u in (0..=USERS).map(user) {
            for r in (0..=ROLES).map(role) {
                for s in SCOPES {
                    prop_assert_eq!(
                        inc.check(u, r, s, at),
                        fresh.holds(u, r, s, at),
                        "check {:?} {:?} {:?} at {} (cached at {:?}, covers: {})",
                        u,
                        r,
                        s,
                        t,
                        inc.cached_at(),
                        inc.caches_cover(at)
                    );
                }
            }
        }
    }
    Ok(())
}

fn everything_agrees(inc: &Engine, fresh: &Engine) -> Result<(), TestCaseError> {
    checks_agree(inc, fresh)?;
    for t in 0..TIMES {
        let at = instant(t);
        for u in (0..=USERS).map(user) {
            prop_assert_eq!(inc.effective_roles(u, at), fresh.effective_roles(u, at));
            let perms = fresh.permissions(u, at);
            prop_assert_eq!(inc.permissions(u, at), perms.clone());
            for &p in Permission::ALL {
                for s in SCOPES {
                    let want = perms.has_unscoped(p)
                        || s.is_some_and(|s| perms.scopes(p).is_some_and(|v| v.contains(s)));
                    prop_assert_eq!(inc.check_permission(u, p, s, at), want, "{:?} {:?}", p, s);
                }
            }
            for r in (0..=ROLES).map(role) {
                for s in SCOPES {
                    prop_assert_eq!(inc.explain(u, r, s, at), fresh.explain(u, r, s, at));
                }
            }
        }
        for r in (0..=ROLES).map(role) {
            prop_assert_eq!(inc.holders(r, at), fresh.holders(r, at));
            for p in (0..=ROLES).map(role) {
                prop_assert_eq!(inc.inheritance_cycle(p, r), fresh.inheritance_cycle(p, r));
            }
        }
    }
    for g in (0..=GROUPS).map(group) {
        prop_assert_eq!(inc.group_ancestors(g), fresh.group_ancestors(g));
        prop_assert_eq!(inc.group_subtree(g), fresh.group_subtree(g));
    }
    for s in (0..=SYSTEMS).map(system) {
        prop_assert_eq!(inc.system_subtree(s), fresh.system_subtree(s));
    }
    for u in (0..=USERS).map(user) {
        prop_assert_eq!(inc.user_enabled(u), fresh.user_enabled(u));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn applied_changes_match_a_fresh_build(
        initial in prop::collection::vec(change(), 0..25),
        warm_at in prop::option::weighted(0.8, 0..TIMES),
        steps in prop::collection::vec(step(), 1..30),
    ) {
        let mut model = Model::default();
        for c in &initial {
            model.apply(c);
        }
        let (snap, ids) = model.snapshot();
        let mut inc = Engine::build_with_membership_ids(&snap, &ids);
        if let Some(t) = warm_at {
            inc.advance_to(instant(t));
        }
        for s in &steps {
            if let Step::Advance(t) = s {
                inc.advance_to(instant(*t));
            } else if let Some(c) = s.change(&model) {
                model.apply(&c);
                inc.apply(&c);
            }
            let fresh = Engine::build(&model.snapshot().0);
            checks_agree(&inc, &fresh)?;
        }
        let fresh = Engine::build(&model.snapshot().0);
        everything_agrees(&inc, &fresh)?;
    }

    #[test]
    fn an_engine_built_from_changes_alone_matches(
        changes in prop::collection::vec(change(), 0..40),
        t in 0..TIMES,
    ) {
        let mut model = Model::default();
        let mut inc = Engine::build(&Snapshot::default());
        inc.advance_to(instant(t));
        for c in &changes {
            model.apply(c);
            inc.apply(c);
        }
        let fresh = Engine::build(&model.snapshot().0);
        everything_agrees(&inc, &fresh)?;
    }

    #[test]
    fn next_transition_is_the_next_boundary(
        changes in prop::collection::vec(change(), 0..30),
        t in 0..TIMES,
    ) {
        let mut model = Model::default();
        let mut inc = Engine::build(&Snapshot::default());
        for c in &changes {
            model.apply(c);
            inc.apply(c);
        }
        let mut bounds: Vec<OffsetDateTime> = Vec::new();
        for g in model.grants.values() {
            if g.confers {
                bounds.extend(g.starts_at.into_iter().chain(g.ends_at));
            }
        }
        for g in model.groups.values() {
            bounds.extend(g.active_since.into_iter().chain(g.active_until));
        }
        for m in model.memberships.values() {
            bounds.extend(m.starts_at.into_iter().chain(m.ends_at));
        }
        let at = instant(t);
        let want = bounds.into_iter().filter(|b| *b > at).min();
        prop_assert_eq!(inc.next_transition_after(at), want);
        // Walking the transitions one by one keeps the caches right at each of them.
        inc.advance_to(at);
        let fresh = Engine::build(&model.snapshot().0);
        let mut now = at;
        while let Some(next) = inc.next_transition_after(now) {
            inc.advance_to(next);
            prop_assert!(inc.caches_cover(next));
            now = next;
        }
        checks_agree(&inc, &fresh)?;
    }
}

#[test]
fn a_group_grant_reaches_the_subtree_and_leaves_it() {
    let at = instant(1);
    let mut e = Engine::build(&Snapshot::default());
    e.advance_to(at);
    let changes = [
        Change::UpsertGroup(GroupNode {
            id: group(0),
            parent: None,
            disabled: false,
            active_since: None,
            active_until: None,
        }),
        Change::UpsertGroup(GroupNode {
            id: group(1),
            parent: Some(group(0)),
            disabled: false,
            active_since: None,
            active_until: None,
        }),
        Change::UpsertUser(UserNode {
            id: user(0),
            primary_group: group(1),
            enabled: true,
        }),
        Change::UpsertRole(RoleNode {
            id: role(0),
            system: system(0),
            permissions: vec![],
            scoped: false,
        }),
    ];
    for c in &changes {
        e.apply(c);
    }
    assert!(!e.check(user(0), role(0), None, at));
    let g = GrantEdge {
        id: grant(0),
        role: role(0),
        grantee: Grantee::Group(group(0)),
        scope: None,
        starts_at: None,
        ends_at: Some(instant(5)),
        confers: true,
    };
    e.apply(&Change::UpsertGrant(g));
    assert!(e.check(user(0), role(0), None, at));
    assert_eq!(e.next_transition_after(at), Some(instant(5)));
    // Past the end of the grant: outside the cached interval, answered exactly.
    assert!(!e.caches_cover(instant(5)));
    assert!(!e.check(user(0), role(0), None, instant(5)));
    e.advance_to(instant(6));
    assert!(e.caches_cover(instant(6)));
    assert!(!e.check(user(0), role(0), None, instant(6)));
    e.apply(&Change::RemoveGrant(grant(0)));
    e.advance_to(at);
    assert!(!e.check(user(0), role(0), None, at));
}
