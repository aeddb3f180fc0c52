//! Property tests: random small organisations (forests with the odd bad parent link, random
//! inheritance including cycles and self-loops, memberships and grants with random windows,
//! dangling references) checked against a deliberately naive reference written here —
//! recursive, linear scans, no indices — and against laws that tie the engine's queries
//! together (holds, explain, holders and permissions agree with effective roles).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers parse ids built from fixed formats"
)]

use std::collections::{BTreeMap, BTreeSet};

use latchkey_engine::{
    EffectiveRole, Engine, GrantEdge, GroupNode, InheritanceEdge, MembershipEdge, PermissionGrants,
    Provenance, RoleNode, Snapshot, Source, SystemNode, UserNode,
};
use latchkey_model::{
    GrantId, Grantee, GroupId, Permission, RoleId, ScopeMapping, SystemId, UserId,
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

// ---------------------------------------------------------------------------------------------
// Generation. Small integers stand for ids and instants; indices past the declared count are
// dangling references.

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

fn instant(t: u8) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::hours(i64::from(t))
}

const TIMES: u8 = 8;

fn window() -> impl Strategy<Value = (Option<OffsetDateTime>, Option<OffsetDateTime>)> {
    (
        prop::option::weighted(0.4, 0..TIMES),
        prop::option::weighted(0.4, 0..TIMES),
    )
        .prop_map(|(s, e)| (s.map(instant), e.map(instant)))
}

fn scope_value() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(vec!["x", "y"]).prop_map(str::to_owned))
}

fn mapping() -> impl Strategy<Value = ScopeMapping> {
    prop_oneof![
        Just(ScopeMapping::None),
        Just(ScopeMapping::Same),
        prop::sample::select(vec!["x", "z"]).prop_map(|v| ScopeMapping::Fixed(v.to_owned())),
    ]
}

fn organisation() -> impl Strategy<Value = Snapshot> {
    (1..7_usize, 1..5_usize, 1..7_usize, 1..4_usize)
        .prop_flat_map(|(groups, users, roles, systems)| {
            // A forest: a parent with a lower index, rarely any index (cycles) or a dangling one.
            let group_nodes = (0..groups)
                .map(|i| {
                    let parent = prop_oneof![
                        6 => Just(None),
                        6 => (0..i.max(1)).prop_map(move |p| (i > 0).then_some(p)),
                        1 => (0..groups + 1).prop_map(Some),
                    ];
                    (parent, prop::bool::weighted(0.15), window()).prop_map(
                        move |(parent, disabled, (since, until))| GroupNode {
                            id: group(i),
                            parent: parent.map(group),
                            disabled,
                            active_since: since,
                            active_until: until,
                        },
                    )
                })
                .collect::<Vec<_>>();
            let system_nodes = (0..systems)
                .map(|i| {
                    prop::option::of(0..systems + 1).prop_map(move |p| SystemNode {
                        id: system(i),
                        parent: p.map(system),
                    })
                })
                .collect::<Vec<_>>();
            let user_nodes = (0..users)
                .map(|i| {
                    (0..groups + 1, prop::bool::ANY).prop_map(move |(g, enabled)| UserNode {
                        id: user(i),
                        primary_group: group(g),
                        enabled,
                    })
                })
                .collect::<Vec<_>>();
            let memberships = prop::collection::vec(
                (0..users + 1, 0..groups + 1, window()).prop_map(|(u, g, (s, e))| MembershipEdge {
                    user: user(u),
                    group: group(g),
                    starts_at: s,
                    ends_at: e,
                }),
                0..6,
            );
            let role_nodes = (0..roles)
                .map(|i| {
                    (
                        0..systems,
                        prop::bool::ANY,
                        prop::sample::subsequence(Permission::ALL.to_vec(), 0..3),
                    )
                        .prop_map(move |(s, scoped, permissions)| RoleNode {
                            id: role(i),
                            system: system(s),
                            permissions,
                            scoped,
                        })
                })
                .collect::<Vec<_>>();
            let inheritance = prop::collection::vec(
                (
                    0..roles + 1,
                    0..roles + 1,
                    prop::bool::weighted(0.7),
                    mapping(),
                )
                    .prop_map(|(p, c, mandatory, scope)| InheritanceEdge {
                        parent: role(p),
                        child: role(c),
                        mandatory,
                        scope,
                    }),
                0..9,
            );
            let grants = prop::collection::vec(
                (
                    0..roles + 1,
                    prop::bool::ANY,
                    0..users.max(groups) + 1,
                    scope_value(),
                    window(),
                    prop::bool::weighted(0.85),
                ),
                0..10,
            )
            .prop_map(|raw| {
                raw.into_iter()
                    .enumerate()
                    .map(|(n, (r, to_user, who, scope, (s, e), confers))| GrantEdge {
                        id: grant(n),
                        role: role(r),
                        grantee: if to_user {
                            Grantee::User(user(who))
                        } else {
                            Grantee::Group(group(who))
                        },
                        scope,
                        starts_at: s,
                        ends_at: e,
                        confers,
                    })
                    .collect::<Vec<_>>()
            });
            (
                group_nodes,
                system_nodes,
                user_nodes,
                memberships,
                role_nodes,
                inheritance,
                grants,
            )
        })
        .prop_map(
            |(groups, systems, users, memberships, roles, inheritance, grants)| Snapshot {
                groups,
                systems,
                users,
                memberships,
                roles,
                inheritance,
                grants,
            },
        )
}

// ---------------------------------------------------------------------------------------------
// The reference: the rules as written, with no cleverness.

type Held = BTreeMap<(RoleId, Option<String>), BTreeSet<Provenance>>;

fn in_window(s: Option<OffsetDateTime>, e: Option<OffsetDateTime>, at: OffsetDateTime) -> bool {
    s.is_none_or(|s| s <= at) && e.is_none_or(|e| at < e)
}

fn find_role(snap: &Snapshot, r: RoleId) -> Option<&RoleNode> {
    snap.roles.iter().find(|n| n.id == r)
}

fn reference(snap: &Snapshot, u: UserId, at: OffsetDateTime) -> Held {
    let mut held = Held::new();
    let Some(user) = snap.users.iter().find(|n| n.id == u) else {
        return held;
    };
    let conferring = |g: &&GrantEdge| {
        g.confers && in_window(g.starts_at, g.ends_at, at) && find_role(snap, g.role).is_some()
    };
    for g in snap.grants.iter().filter(conferring) {
        if g.grantee == Grantee::User(u) {
            let source = Source::Direct {
                grant: g.id,
                role: g.role,
            };
            give(snap, &mut held, g.role, g.scope.clone(), source, vec![]);
        }
    }
    let mut members = vec![(user.primary_group, true)];
    for m in &snap.memberships {
        if m.user == u && in_window(m.starts_at, m.ends_at, at) {
            members.push((m.group, false));
        }
    }
    for (member, primary) in members {
        let mut walked = Vec::new();
        let mut current = Some(member);
        while let Some(a) = current {
            let Some(node) = snap.groups.iter().find(|n| n.id == a) else {
                break;
            };
            if walked.contains(&a)
                || node.disabled
                || !in_window(node.active_since, node.active_until, at)
            {
                break;
            }
            walked.push(a);
            for g in snap.grants.iter().filter(conferring) {
                if g.grantee == Grantee::Group(a) {
                    let source = Source::Group {
                        grant: g.id,
                        role: g.role,
                        member_group: member,
                        ancestor: a,
                        primary,
                    };
                    give(snap, &mut held, g.role, g.scope.clone(), source, vec![]);
                }
            }
            current = node.parent;
        }
    }
    held
}

fn give(
    snap: &Snapshot,
    held: &mut Held,
    r: RoleId,
    scope: Option<String>,
    source: Source,
    chain: Vec<RoleId>,
) {
    held.entry((r, scope.clone()))
        .or_default()
        .insert(Provenance {
            source,
            chain: chain.clone(),
        });
    for e in &snap.inheritance {
        if e.parent != r || !e.mandatory || e.child == r || chain.contains(&e.child) {
            continue;
        }
        let Some(child) = find_role(snap, e.child) else {
            continue;
        };
        let child_scope = if child.scoped {
            e.scope.apply(scope.as_deref())
        } else {
            None
        };
        let mut longer = chain.clone();
        longer.push(r);
        give(snap, held, e.child, child_scope, source, longer);
    }
}

fn as_held(roles: &[EffectiveRole]) -> Held {
    roles
        .iter()
        .map(|r| ((r.role, r.scope.clone()), r.paths.iter().cloned().collect()))
        .collect()
}

fn reference_permissions(snap: &Snapshot, held: &Held) -> PermissionGrants {
    let mut out = PermissionGrants::default();
    for (r, scope) in held.keys() {
        let Some(node) = find_role(snap, *r) else {
            continue;
        };
        for &p in &node.permissions {
            match (node.scoped, scope) {
                (false, _) => {
                    out.unscoped.insert(p);
                }
                (true, Some(s)) => {
                    out.scoped.entry(p).or_default().insert(s.clone());
                }
                (true, None) => {}
            }
        }
    }
    out
}

fn all_users(snap: &Snapshot) -> impl Iterator<Item = UserId> + '_ {
    // Declared users plus one unknown id.
    snap.users.iter().map(|u| u.id).chain([user(99)])
}

fn role_ids(snap: &Snapshot) -> Vec<RoleId> {
    let mut ids: Vec<RoleId> = snap.roles.iter().map(|r| r.id).collect();
    ids.push(role(99));
    ids
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn effective_roles_match_the_reference(snap in organisation(), t in 0..TIMES) {
        let engine = Engine::build(&snap);
        let at = instant(t);
        for u in all_users(&snap) {
            let got = engine.effective_roles(u, at);
            prop_assert!(
                got.windows(2).all(|w| (w[0].role, &w[0].scope) < (w[1].role, &w[1].scope)),
                "not sorted by (role, scope)"
            );
            for r in &got {
                prop_assert!(!r.paths.is_empty());
                prop_assert!(r.paths.windows(2).all(|w| w[0] < w[1]), "paths not sorted and unique");
                prop_assert_eq!(Some(r.system), find_role(&snap, r.role).map(|n| n.system));
            }
            prop_assert_eq!(as_held(&got), reference(&snap, u, at), "user {:?}", u);
        }
    }

    #[test]
    fn holds_and_explain_agree_with_effective_roles(snap in organisation(), t in 0..TIMES) {
        let engine = Engine::build(&snap);
        let at = instant(t);
        for u in all_users(&snap) {
            let got = engine.effective_roles(u, at);
            for r in role_ids(&snap) {
                for scope in [None, Some("x"), Some("y"), Some("z")] {
                    let entry = got.iter().find(|e| e.role == r && e.scope.as_deref() == scope);
                    prop_assert_eq!(engine.holds(u, r, scope, at), entry.is_some());
                    let explained = engine.explain(u, r, scope, at);
                    prop_assert_eq!(explained.as_ref(), entry);
                }
            }
        }
    }

    #[test]
    fn holders_agree_with_effective_roles(snap in organisation(), t in 0..TIMES) {
        let engine = Engine::build(&snap);
        let at = instant(t);
        for r in role_ids(&snap) {
            let holders = engine.holders(r, at);
            prop_assert!(
                holders.windows(2).all(|w| (w[0].user, &w[0].scope) < (w[1].user, &w[1].scope)),
                "holders not sorted by (user, scope)"
            );
            // The keys alone, and one user's entries, answer the same as the whole list.
            let keys: Vec<_> = holders.iter().map(|h| (h.user, h.scope.clone())).collect();
            prop_assert_eq!(engine.holder_keys(r, at), keys);
            for h in &holders {
                let own: Vec<_> = holders.iter().filter(|o| o.user == h.user).cloned().collect();
                prop_assert_eq!(engine.holdings(r, h.user, at), own);
            }
            // Every holder holds the role with that scope and those paths ...
            for h in &holders {
                let explained = engine.explain(h.user, r, h.scope.as_deref(), at);
                prop_assert_eq!(explained.map(|e| e.paths), Some(h.paths.clone()));
            }
            // ... and every user holding the role is listed, once per scope.
            for u in all_users(&snap) {
                for e in engine.effective_roles(u, at).iter().filter(|e| e.role == r) {
                    prop_assert!(
                        holders.iter().any(|h| h.user == u && h.scope == e.scope),
                        "{:?} holds {:?}@{:?} but is not listed", u, r, e.scope
                    );
                }
            }
        }
    }

    #[test]
    fn permissions_match_the_reference(snap in organisation(), t in 0..TIMES) {
        let engine = Engine::build(&snap);
        let at = instant(t);
        for u in all_users(&snap) {
            let want = reference_permissions(&snap, &reference(&snap, u, at));
            prop_assert_eq!(engine.permissions(u, at), want);
        }
    }

    #[test]
    fn inheritance_cycle_paths_are_real(snap in organisation()) {
        let engine = Engine::build(&snap);
        let known: BTreeSet<RoleId> = snap.roles.iter().map(|r| r.id).collect();
        let edge = |p: RoleId, c: RoleId| {
            known.contains(&p) && known.contains(&c)
                && snap.inheritance.iter().any(|e| e.parent == p && e.child == c)
        };
        for p in role_ids(&snap) {
            for c in role_ids(&snap) {
                match engine.inheritance_cycle(p, c) {
                    Some(path) => {
                        prop_assert!(path.len() >= 2);
                        prop_assert_eq!(path[0], p);
                        prop_assert_eq!(path[path.len() - 1], p);
                        if p != c {
                            prop_assert_eq!(path[1], c);
                            prop_assert!(path[1..].windows(2).all(|w| edge(w[0], w[1])), "{:?}", path);
                        }
                    }
                    None => {
                        // No path from c back to p over existing edges.
                        prop_assert!(p != c);
                        let mut seen = BTreeSet::from([c]);
                        let mut todo = vec![c];
                        while let Some(n) = todo.pop() {
                            prop_assert!(n != p, "missed a cycle {:?} -> {:?}", p, c);
                            for e in &snap.inheritance {
                                if e.parent == n && edge(e.parent, e.child) && seen.insert(e.child) {
                                    todo.push(e.child);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn group_queries_agree(snap in organisation()) {
        let engine = Engine::build(&snap);
        let ids: Vec<GroupId> = (0..8).map(group).collect();
        for &g in &ids {
            let ancestors = engine.group_ancestors(g);
            let subtree = engine.group_subtree(g);
            let unique: BTreeSet<_> = ancestors.iter().collect();
            prop_assert_eq!(unique.len(), ancestors.len(), "an ancestor repeats");
            prop_assert_eq!(subtree.first().copied(), ancestors.first().copied());
            for &r in &ids {
                let inside = engine.group_in_subtree(g, r);
                prop_assert_eq!(inside, ancestors.contains(&r));
                prop_assert_eq!(inside, engine.group_subtree(r).contains(&g));
                prop_assert_eq!(engine.group_move_creates_cycle(r, g), r == g || inside);
            }
        }
    }
}

#[test]
fn the_reference_is_not_trivially_empty() {
    // Guards the generator: a fixed organisation where the reference must find something.
    let snap = Snapshot {
        groups: vec![GroupNode {
            id: group(0),
            parent: None,
            disabled: false,
            active_since: None,
            active_until: None,
        }],
        users: vec![UserNode {
            id: user(0),
            primary_group: group(0),
            enabled: true,
        }],
        roles: vec![RoleNode {
            id: role(0),
            system: system(0),
            permissions: vec![],
            scoped: false,
        }],
        grants: vec![GrantEdge {
            id: grant(0),
            role: role(0),
            grantee: Grantee::Group(group(0)),
            scope: None,
            starts_at: None,
            ends_at: None,
            confers: true,
        }],
        ..Snapshot::default()
    };
    let at = instant(0);
    assert_eq!(reference(&snap, user(0), at).len(), 1);
    assert_eq!(
        as_held(&Engine::build(&snap).effective_roles(user(0), at)),
        reference(&snap, user(0), at)
    );
}
