//! Segregation of duties: the index agrees with a naive evaluation written here (every rule
//! checked against every combination, no index), on random rules, held roles and gains; and
//! the engine's held roles agree with its effective roles, with and without a hypothetical
//! change, on a small organisation built by hand.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers parse ids built from fixed formats"
)]

use std::collections::BTreeSet;

use latchkey_engine::{
    Engine, GrantEdge, GroupNode, InheritanceEdge, MembershipEdge, RoleNode, RoleSet, Snapshot,
    SodIndex, SystemNode, UserNode, WhatIf,
};
use latchkey_model::{
    GrantId, Grantee, GroupId, OrgId, Risk, RoleId, ScopeMapping, SodKind, SodPair, SodRule,
    SodRuleId, SodViolation, Stamps, SystemId, UserId,
};
use proptest::prelude::*;
use time::OffsetDateTime;

fn id<T: std::str::FromStr>(kind: u32, n: usize) -> T
where
    T::Err: std::fmt::Debug,
{
    format!("{kind:08x}-0000-7000-8000-{n:012x}")
        .parse()
        .unwrap()
}
fn role(n: usize) -> RoleId {
    id(4, n)
}

const ROLES: usize = 8;

fn risk() -> impl Strategy<Value = Risk> {
    prop::sample::select(Risk::ALL.to_vec())
}

fn rule(n: usize) -> impl Strategy<Value = SodRule> {
    (
        prop::sample::select(SodKind::ALL.to_vec()),
        risk(),
        prop::collection::btree_set(0..ROLES, 2..5),
        0_u32..5,
        prop::collection::vec((0..5_usize, 0..5_usize, risk()), 0..6),
    )
        .prop_map(move |(kind, risk, roles, threshold, cells)| {
            let role_ids: Vec<RoleId> = roles.iter().map(|&r| role(r)).collect();
            let mut matrix: Vec<SodPair> = Vec::new();
            if kind == SodKind::Matrix {
                for (a, b, risk) in cells {
                    let (Some(&a), Some(&b)) = (role_ids.get(a), role_ids.get(b)) else {
                        continue;
                    };
                    if a == b
                        || matrix
                            .iter()
                            .any(|p| (p.a, p.b) == (a, b) || (p.a, p.b) == (b, a))
                    {
                        continue;
                    }
                    matrix.push(SodPair { a, b, risk });
                }
            }
            let threshold = (kind == SodKind::Some)
                .then(|| threshold.clamp(1, u32::try_from(role_ids.len()).unwrap() - 1));
            let risk = if kind == SodKind::Matrix {
                matrix.iter().map(|p| p.risk).max().unwrap_or(Risk::None)
            } else {
                risk
            };
            SodRule {
                id: id::<SodRuleId>(9, n),
                org_id: OrgId::from_uuid(uuid::Uuid::nil()),
                system_id: SystemId::from_uuid(uuid::Uuid::nil()),
                name: format!("rule {n}"),
                description: None,
                kind,
                risk,
                role_ids,
                threshold,
                matrix,
                stamps: Stamps::new(OffsetDateTime::UNIX_EPOCH, None),
            }
        })
}

fn rules() -> impl Strategy<Value = Vec<SodRule>> {
    (0..6_usize).prop_flat_map(|n| (0..n).map(rule).collect::<Vec<_>>())
}

/// The reference: whether a set of roles triggers a rule, judged from scratch; a violation
/// of a change is a rule triggered after it whose triggering roles include a gained one.
fn naive(rules: &[SodRule], held: &BTreeSet<RoleId>, gained: &[RoleId]) -> Vec<SodViolation> {
    let new: BTreeSet<RoleId> = gained
        .iter()
        .copied()
        .filter(|r| !held.contains(r))
        .collect();
    let has = |r: &RoleId| held.contains(r) || new.contains(r);
    let mut out = Vec::new();
    for rule in rules {
        let present: Vec<RoleId> = rule.role_ids.iter().copied().filter(|r| has(r)).collect();
        let touched = present.iter().any(|r| new.contains(r));
        let found = match rule.kind {
            SodKind::All => {
                (rule.risk > Risk::None && present.len() == rule.role_ids.len() && touched)
                    .then(|| (rule.risk, present.clone()))
            }
            SodKind::Some => (rule.risk > Risk::None
                && present.len() > rule.threshold.unwrap() as usize
                && touched)
                .then(|| (rule.risk, present.clone())),
            SodKind::Matrix => {
                let hits: Vec<&SodPair> = rule
                    .matrix
                    .iter()
                    .filter(|p| p.risk > Risk::None && has(&p.a) && has(&p.b))
                    .filter(|p| new.contains(&p.a) || new.contains(&p.b))
                    .collect();
                hits.iter().map(|p| p.risk).max().map(|worst| {
                    let at: BTreeSet<RoleId> = hits
                        .iter()
                        .filter(|p| p.risk == worst)
                        .flat_map(|p| [p.a, p.b])
                        .collect();
                    (
                        worst,
                        rule.role_ids
                            .iter()
                            .copied()
                            .filter(|r| at.contains(r))
                            .collect(),
                    )
                })
            }
        };
        if let Some((risk, role_ids)) = found {
            out.push(SodViolation {
                rule_id: rule.id,
                risk,
                role_ids,
            });
        }
    }
    out.sort_by_key(|v| v.rule_id);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_index_agrees_with_a_naive_evaluation(
        rules in rules(),
        held in prop::collection::btree_set(0..ROLES + 2, 0..6),
        gained in prop::collection::vec(0..ROLES + 2, 0..4),
    ) {
        let held: BTreeSet<RoleId> = held.into_iter().map(role).collect();
        let gained: Vec<RoleId> = gained.into_iter().map(role).collect();
        let index = SodIndex::build(&rules);
        let set: RoleSet = held.iter().copied().collect();
        prop_assert_eq!(index.violations(&set, &gained), naive(&rules, &held, &gained));
        // Standing combinations are the violations of gaining everything from nothing.
        let all: Vec<RoleId> = held.iter().copied().collect();
        prop_assert_eq!(index.standing(&set), naive(&rules, &BTreeSet::new(), &all));
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + time::Duration::days(100)
}

fn user(n: usize) -> UserId {
    id(1, n)
}
fn group(n: usize) -> GroupId {
    id(2, n)
}

/// Groups 0 <- 1 <- 2 and 3 (a root); roles 0..6, 0 mandatorily brings 1, which brings 2;
/// group 0 holds role 3, group 3 holds role 4; user 0 (primary 2, member of nothing)
/// holds role 0 directly; user 1 (primary 3) holds role 5 and is a member of group 1.
fn org() -> Engine {
    let sys: SystemId = id(3, 0);
    let g = |n: usize, parent: Option<usize>| GroupNode {
        id: group(n),
        parent: parent.map(group),
        disabled: false,
        active_since: None,
        active_until: None,
    };
    let grant = |n: usize, r: usize, grantee: Grantee| GrantEdge {
        id: id::<GrantId>(5, n),
        role: role(r),
        grantee,
        scope: None,
        starts_at: None,
        ends_at: None,
        confers: true,
    };
    let edge = |p: usize, c: usize| InheritanceEdge {
        parent: role(p),
        child: role(c),
        mandatory: true,
        scope: ScopeMapping::None,
    };
    Engine::build(&Snapshot {
        groups: vec![g(0, None), g(1, Some(0)), g(2, Some(1)), g(3, None)],
        systems: vec![SystemNode {
            id: sys,
            parent: None,
        }],
        users: vec![
            UserNode {
                id: user(0),
                primary_group: group(2),
                enabled: true,
            },
            UserNode {
                id: user(1),
                primary_group: group(3),
                enabled: true,
            },
        ],
        memberships: vec![MembershipEdge {
            user: user(1),
            group: group(1),
            starts_at: None,
            ends_at: None,
        }],
        roles: (0..7)
            .map(|r| RoleNode {
                id: role(r),
                system: sys,
                permissions: Vec::new(),
                scoped: false,
            })
            .collect(),
        inheritance: vec![edge(0, 1), edge(1, 2)],
        grants: vec![
            grant(0, 3, Grantee::Group(group(0))),
            grant(1, 4, Grantee::Group(group(3))),
            grant(2, 0, Grantee::User(user(0))),
            grant(3, 5, Grantee::User(user(1))),
        ],
    })
}

fn roles(ns: &[usize]) -> RoleSet {
    ns.iter().map(|&n| role(n)).collect()
}

#[test]
fn held_roles_are_the_effective_roles() {
    let e = org();
    for u in [user(0), user(1), user(9)] {
        let effective: RoleSet = e.effective_roles(u, now()).iter().map(|r| r.role).collect();
        assert_eq!(e.held_roles(u, now()), effective);
        let bits = e.held_role_bits(u, now());
        for r in 0..9 {
            assert_eq!(
                bits.contains(role(r)),
                effective.contains(role(r)),
                "role {r}"
            );
        }
        assert_eq!(e.held_roles_if(u, now(), &WhatIf::default()), effective);
    }
    assert_eq!(e.held_roles(user(0), now()), roles(&[0, 1, 2, 3]));
    assert_eq!(e.held_roles(user(1), now()), roles(&[3, 4, 5]));
    assert_eq!(
        e.mandatory_closure(role(0)),
        vec![role(0), role(1), role(2)]
    );
    assert_eq!(e.mandatory_closure(role(6)), vec![role(6)]);
}

#[test]
fn what_if_follows_the_change() {
    let e = org();
    let at = now();
    // A new primary group drops the old one's roles.
    let primary = WhatIf {
        primary: Some(group(3)),
        ..WhatIf::default()
    };
    assert_eq!(e.held_roles_if(user(0), at, &primary), roles(&[0, 1, 2, 4]));
    let join = WhatIf {
        join: Some(group(3)),
        ..WhatIf::default()
    };
    assert_eq!(e.held_roles_if(user(0), at, &join), roles(&[0, 1, 2, 3, 4]));
    // Group 2 moved under group 3: its members lose group 0's role and gain group 3's.
    let moved = WhatIf {
        moved: Some((group(2), Some(group(3)))),
        ..WhatIf::default()
    };
    assert_eq!(e.held_roles_if(user(0), at, &moved), roles(&[0, 1, 2, 4]));
    let top = WhatIf {
        moved: Some((group(2), None)),
        ..WhatIf::default()
    };
    assert_eq!(e.held_roles_if(user(0), at, &top), roles(&[0, 1, 2]));
    let granted = [role(1), role(6)];
    let grant = WhatIf {
        group_grant: Some((group(1), &granted)),
        ..WhatIf::default()
    };
    assert_eq!(
        e.held_roles_if(user(0), at, &grant),
        roles(&[0, 1, 2, 3, 6])
    );
    assert_eq!(
        e.held_roles_if(user(1), at, &grant),
        roles(&[1, 2, 3, 4, 5, 6])
    );
    assert_eq!(e.subtree_members(group(1), at), vec![user(0), user(1)]);
    // Group 0 disabled: nothing passes from it; activating it (as if) gives role 3 back.
    let mut off = org();
    off.apply(&latchkey_engine::Change::UpsertGroup(GroupNode {
        id: group(0),
        parent: None,
        disabled: true,
        active_since: None,
        active_until: None,
    }));
    assert_eq!(off.held_roles(user(0), at), roles(&[0, 1, 2]));
    let on = WhatIf {
        activated: Some(group(0)),
        ..WhatIf::default()
    };
    assert_eq!(off.held_roles_if(user(0), at, &on), roles(&[0, 1, 2, 3]));
    assert_eq!(e.subtree_members(group(3), at), vec![user(1)]);
    assert_eq!(e.subtree_members(group(0), at), vec![user(0), user(1)]);
}
