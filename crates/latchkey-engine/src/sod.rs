//! Segregation of duties: an index of an organisation's SoD rules by role
//! ([`SodIndex`]) that tells, for the roles a user holds and the roles a change would add,
//! which rules the change makes them trigger ([`SodIndex::violations`]); and the engine
//! questions the service asks to know both sets: the roles a user holds ([`Engine::held_roles`]),
//! what a role brings through mandatory inheritance ([`Engine::mandatory_closure`]), the
//! roles a user would hold after a membership, primary-group, group-move or group-grant
//! change ([`Engine::held_roles_if`]), and who a group's grants reach
//! ([`Engine::subtree_members`]).
//!
//! Roles count whatever their scope value: holding `approver` for `emea` and `payer` for
//! `apac` is holding both.
//!
//! A *violation* is a triggering combination the change takes part in: at least one of its
//! roles is gained (not held before). Combinations the user already had are not the
//! change's doing, so an unrelated grant is never refused because of them; they are what
//! [`SodIndex::standing`] reports (the risk shown on a user's roles, and previews).
//!
//! Evaluation is pure and allocation-light: the rules naming any gained role are looked up
//! by role, and only those are examined, each against the held set (sorted, searched by
//! bisection) and the gained roles.

use latchkey_model::{GroupId, Risk, RoleId, SodKind, SodRule, SodRuleId, SodViolation, UserId};
use time::OffsetDateTime;

use crate::engine::Engine;
use crate::keys::FastMap;
use crate::snapshot::in_window;

/// A set of role ids, sorted and without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSet(Vec<RoleId>);

impl RoleSet {
    pub fn new(mut roles: Vec<RoleId>) -> Self {
        roles.sort_unstable();
        roles.dedup();
        Self(roles)
    }

    #[inline]
    pub fn contains(&self, role: RoleId) -> bool {
        self.0.binary_search(&role).is_ok()
    }

    pub fn as_slice(&self) -> &[RoleId] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The roles of `other` not in `self`, sorted.
    pub fn missing_from(&self, other: &RoleSet) -> Vec<RoleId> {
        other
            .0
            .iter()
            .copied()
            .filter(|r| !self.contains(*r))
            .collect()
    }

    /// `self` with `more` added.
    pub fn with(&self, more: &[RoleId]) -> RoleSet {
        let mut v = self.0.clone();
        v.extend_from_slice(more);
        RoleSet::new(v)
    }
}

impl FromIterator<RoleId> for RoleSet {
    fn from_iter<I: IntoIterator<Item = RoleId>>(iter: I) -> Self {
        Self::new(iter.into_iter().collect())
    }
}

#[derive(Debug, Clone)]
enum Shape {
    All,
    /// No more than this many of the roles.
    Some(u32),
    /// Pairs as positions in the rule's role list, each with its risk (`None` pairs dropped).
    Matrix(Box<[(u16, u16, Risk)]>),
}

#[derive(Debug, Clone)]
struct Compiled {
    id: SodRuleId,
    risk: Risk,
    roles: Box<[RoleId]>,
    shape: Shape,
}

/// An organisation's SoD rules, indexed by the roles they name. Rules with risk `none` (and
/// matrix pairs with risk `none`) never trigger and are left out.
#[derive(Debug, Clone, Default)]
pub struct SodIndex {
    rules: Vec<Compiled>,
    by_role: FastMap<RoleId, Vec<u32>>,
}

impl SodIndex {
    /// Compiles `rules`. Never panics: a malformed rule (fewer than two roles, a threshold
    /// out of range, a pair naming a role outside the list) is read as leniently as it
    /// can be, and one that can never trigger is left out.
    pub fn build(rules: &[SodRule]) -> SodIndex {
        let mut index = SodIndex::default();
        for rule in rules {
            let mut roles: Vec<RoleId> = Vec::with_capacity(rule.role_ids.len());
            for &r in &rule.role_ids {
                if !roles.contains(&r) {
                    roles.push(r);
                }
            }
            let shape = match rule.kind {
                SodKind::All => Shape::All,
                SodKind::Some => Shape::Some(rule.threshold.unwrap_or(1)),
                SodKind::Matrix => {
                    let pos = |r: RoleId| {
                        roles
                            .iter()
                            .position(|&x| x == r)
                            .and_then(|p| u16::try_from(p).ok())
                    };
                    let pairs: Vec<(u16, u16, Risk)> = rule
                        .matrix
                        .iter()
                        .filter(|p| p.risk > Risk::None && p.a != p.b)
                        .filter_map(|p| Some((pos(p.a)?, pos(p.b)?, p.risk)))
                        .collect();
                    Shape::Matrix(pairs.into_boxed_slice())
                }
            };
            let risk = match &shape {
                Shape::Matrix(pairs) => pairs.iter().map(|p| p.2).max().unwrap_or(Risk::None),
                _ => rule.risk,
            };
            let never = risk == Risk::None
                || roles.len() < 2
                || matches!(shape, Shape::Some(n) if n as usize >= roles.len());
            if never {
                continue;
            }
            let slot = u32::try_from(index.rules.len()).unwrap_or(u32::MAX);
            for &r in &roles {
                index.by_role.entry(r).or_default().push(slot);
            }
            index.rules.push(Compiled {
                id: rule.id,
                risk,
                roles: roles.into_boxed_slice(),
                shape,
            });
        }
        index
    }

    /// Whether no rule can trigger.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether some rule names `role`.
    pub fn names(&self, role: RoleId) -> bool {
        self.by_role.contains_key(&role)
    }

    /// The combinations a user holding `held` would trigger after gaining `gained` that
    /// involve at least one gained role (one violation per rule, ordered by rule id).
    /// `gained` may overlap `held`; roles already held are not gains.
    pub fn violations(&self, held: &RoleSet, gained: &[RoleId]) -> Vec<SodViolation> {
        self.violations_of(|r| held.contains(r), gained)
    }

    /// [`SodIndex::violations`] with the held roles as a membership test (for instance
    /// [`HeldRoles::contains`], which needs no sorted set).
    pub fn violations_of(
        &self,
        held: impl Fn(RoleId) -> bool,
        gained: &[RoleId],
    ) -> Vec<SodViolation> {
        let mut candidates: Vec<u32> = Vec::new();
        let mut new: Vec<RoleId> = Vec::with_capacity(gained.len());
        for &g in gained {
            if held(g) || new.contains(&g) {
                continue;
            }
            new.push(g);
            if let Some(rules) = self.by_role.get(&g) {
                candidates.extend_from_slice(rules);
            }
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut out: Vec<SodViolation> = candidates
            .into_iter()
            .filter_map(|c| self.rules.get(c as usize))
            .filter_map(|rule| evaluate(rule, &held, |r| new.contains(&r)))
            .collect();
        out.sort_unstable_by_key(|v| v.rule_id);
        out
    }

    /// Every combination a user holding `held` triggers now (one per rule, by rule id).
    pub fn standing(&self, held: &RoleSet) -> Vec<SodViolation> {
        self.violations(&RoleSet::default(), held.as_slice())
    }
}

/// `rule` over the roles `held` or `new` says a user has; `None` unless it triggers with at
/// least one new role taking part.
fn evaluate(
    rule: &Compiled,
    held: impl Fn(RoleId) -> bool,
    new: impl Fn(RoleId) -> bool,
) -> Option<SodViolation> {
    let has = |r: RoleId| held(r) || new(r);
    match &rule.shape {
        Shape::All => {
            if rule.roles.iter().all(|&r| has(r)) && rule.roles.iter().any(|&r| new(r)) {
                Some(SodViolation {
                    rule_id: rule.id,
                    risk: rule.risk,
                    role_ids: rule.roles.to_vec(),
                })
            } else {
                None
            }
        }
        Shape::Some(n) => {
            let present: Vec<RoleId> = rule.roles.iter().copied().filter(|&r| has(r)).collect();
            (present.len() > *n as usize && present.iter().any(|&r| new(r))).then_some(
                SodViolation {
                    rule_id: rule.id,
                    risk: rule.risk,
                    role_ids: present,
                },
            )
        }
        Shape::Matrix(pairs) => {
            let mut worst = Risk::None;
            let mut roles: Vec<RoleId> = Vec::new();
            for &(a, b, risk) in pairs.iter() {
                let (Some(&ra), Some(&rb)) = (
                    rule.roles.get(usize::from(a)),
                    rule.roles.get(usize::from(b)),
                ) else {
                    continue;
                };
                if risk < worst || !(has(ra) && has(rb)) || !(new(ra) || new(rb)) {
                    continue;
                }
                if risk > worst {
                    worst = risk;
                    roles.clear();
                }
                for r in [ra, rb] {
                    if !roles.contains(&r) {
                        roles.push(r);
                    }
                }
            }
            (worst > Risk::None).then(|| {
                // In the rule's order, so that messages read the same every time.
                let role_ids = rule
                    .roles
                    .iter()
                    .copied()
                    .filter(|r| roles.contains(r))
                    .collect();
                SodViolation {
                    rule_id: rule.id,
                    risk: worst,
                    role_ids,
                }
            })
        }
    }
}

/// A change to the directory whose effect on a user's roles [`Engine::held_roles_if`]
/// computes without making it. Every part is optional; several combine.
#[derive(Debug, Clone, Copy, Default)]
pub struct WhatIf<'a> {
    /// The user's primary group becomes this group.
    pub primary: Option<GroupId>,
    /// The user joins this group (a secondary membership in force).
    pub join: Option<GroupId>,
    /// This group's parent becomes the second (`None`: a root).
    pub moved: Option<(GroupId, Option<GroupId>)>,
    /// This group is granted these roles (unscoped, in force).
    pub group_grant: Option<(GroupId, &'a [RoleId])>,
    /// This group becomes active (enabled and within its dates).
    pub activated: Option<GroupId>,
}

/// The roles a user holds, as bits over the engine's role slots: built without sorting,
/// asked a few roles at a time (what checking one grant against the rules needs).
#[derive(Debug)]
pub struct HeldRoles<'e> {
    engine: &'e Engine,
    bits: Vec<u64>,
}

impl HeldRoles<'_> {
    #[inline]
    pub fn contains(&self, role: RoleId) -> bool {
        self.engine.present_role(role).is_some_and(|s| {
            self.bits
                .get(s as usize / 64)
                .is_some_and(|w| w & (1 << (s % 64)) != 0)
        })
    }
}

impl Engine {
    /// The roles `user` holds at `at` (any scope value, any path) as a [`HeldRoles`];
    /// nothing for an unknown user. The same set as [`Engine::held_roles`], cheaper to make.
    pub fn held_role_bits(&self, user: UserId, at: OffsetDateTime) -> HeldRoles<'_> {
        let mut bits = vec![0_u64; self.roles.len().div_ceil(64)];
        if let Some(u) = self.present_user(user) {
            let _ = self.visit_grants(u, at, &mut |_, grant| {
                for r in self.closure.reach(grant.role) {
                    if let Some(w) = bits.get_mut(r.role as usize / 64) {
                        *w |= 1 << (r.role % 64);
                    }
                }
                std::ops::ControlFlow::Continue(())
            });
        }
        HeldRoles { engine: self, bits }
    }

    /// The roles `user` holds at `at`, any scope value, any path; empty for an unknown user.
    pub fn held_roles(&self, user: UserId, at: OffsetDateTime) -> RoleSet {
        let Some(u) = self.present_user(user) else {
            return RoleSet::default();
        };
        let mut slots: Vec<u32> = Vec::with_capacity(64);
        let _ = self.visit_grants(u, at, &mut |_, grant| {
            slots.extend(self.closure.reach(grant.role).iter().map(|r| r.role));
            std::ops::ControlFlow::Continue(())
        });
        self.role_set(slots)
    }

    /// `role` and every role it brings through mandatory inheritance, sorted; empty for an
    /// unknown role.
    pub fn mandatory_closure(&self, role: RoleId) -> Vec<RoleId> {
        let Some(r) = self.present_role(role) else {
            return Vec::new();
        };
        let slots = self.closure.reach(r).iter().map(|x| x.role).collect();
        self.role_set(slots).0
    }

    /// The roles `user` would hold at `at` once `change` is made (any scope value); empty
    /// for an unknown user. Grants, memberships and group windows are honoured as
    /// [`Engine::effective_roles`] honours them; a group that is (or would be) inactive
    /// passes on nothing from above itself.
    pub fn held_roles_if(&self, user: UserId, at: OffsetDateTime, change: &WhatIf<'_>) -> RoleSet {
        let Some(u) = self.present_user(user) else {
            return RoleSet::default();
        };
        let Some(rec) = self.users.get(u as usize) else {
            return RoleSet::default();
        };
        let mut slots: Vec<u32> = Vec::with_capacity(64);
        let mut extra: Vec<RoleId> = Vec::new();
        for grant in rec
            .grants
            .iter()
            .filter_map(|&g| self.grants.get(g as usize))
        {
            if grant.in_force_at(at) {
                slots.extend(self.closure.reach(grant.role).iter().map(|r| r.role));
            }
        }
        let primary = match change.primary {
            Some(g) => self.groups.index(g),
            None => rec.primary,
        };
        let mut starts: Vec<u32> = primary.into_iter().collect();
        starts.extend(
            rec.memberships
                .iter()
                .filter(|m| in_window(m.starts_at, m.ends_at, at))
                .map(|m| m.group),
        );
        if let Some(g) = change.join.and_then(|g| self.groups.index(g)) {
            starts.push(g);
        }
        let moved = change
            .moved
            .and_then(|(g, p)| Some((self.groups.index(g)?, p.and_then(|p| self.groups.index(p)))));
        let granted = change
            .group_grant
            .and_then(|(g, roles)| Some((self.groups.index(g)?, roles)));
        let activated = change.activated.and_then(|g| self.groups.index(g));
        starts.sort_unstable();
        starts.dedup();
        for start in starts {
            self.walk_as_if(start, at, moved, activated, &mut |a| {
                if let Some(rec) = self.group_recs.get(a as usize) {
                    for grant in rec
                        .grants
                        .iter()
                        .filter_map(|&g| self.grants.get(g as usize))
                    {
                        if grant.in_force_at(at) {
                            slots.extend(self.closure.reach(grant.role).iter().map(|r| r.role));
                        }
                    }
                }
                if let Some((g, roles)) = granted
                    && g == a
                {
                    for &role in roles {
                        match self.present_role(role) {
                            Some(r) => {
                                slots.extend(self.closure.reach(r).iter().map(|x| x.role));
                            }
                            None => extra.push(role),
                        }
                    }
                }
            });
        }
        let mut set = self.role_set(slots).0;
        set.extend(extra);
        RoleSet::new(set)
    }

    /// Users whose primary group, or a secondary membership in force at `at` or later, lies
    /// in `group`'s subtree: everyone a grant to `group` reaches now or will. Sorted by id.
    pub fn subtree_members(&self, group: GroupId, at: OffsetDateTime) -> Vec<UserId> {
        let Some(root) = self.groups.index(group) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for g in self.groups.subtree(root) {
            let Some(rec) = self.group_recs.get(g as usize) else {
                continue;
            };
            for &u in &rec.members {
                let Some(user) = self.users.get(u as usize).filter(|u| u.present) else {
                    continue;
                };
                let reaches = user.primary == Some(g)
                    || user
                        .memberships
                        .iter()
                        .any(|m| m.group == g && m.ends_at.is_none_or(|e| at < e));
                if reaches {
                    out.push(user.id);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Calls `f` for `start`, its parent, ... while groups are active at `at`, as if
    /// `moved.0`'s parent were `moved.1` and `activated` were active.
    fn walk_as_if(
        &self,
        start: u32,
        at: OffsetDateTime,
        moved: Option<(u32, Option<u32>)>,
        activated: Option<u32>,
        f: &mut impl FnMut(u32),
    ) {
        let mut next = Some(start);
        // A walk visits each group at most once, whatever the (hypothetical) links say.
        let mut seen: Vec<u32> = Vec::with_capacity(8);
        while let Some(a) = next {
            if seen.contains(&a) || !self.groups.is_present(a) {
                break;
            }
            seen.push(a);
            let Some(rec) = self.group_recs.get(a as usize) else {
                break;
            };
            if !rec.active_at(at) && activated != Some(a) {
                break;
            }
            f(a);
            next = match moved {
                Some((m, parent)) if m == a => parent,
                _ => self.groups.ancestors(a).nth(1),
            };
        }
    }

    fn role_set(&self, mut slots: Vec<u32>) -> RoleSet {
        slots.sort_unstable();
        slots.dedup();
        RoleSet::new(
            slots
                .into_iter()
                .filter_map(|s| {
                    self.roles
                        .get(s as usize)
                        .filter(|r| r.present)
                        .map(|r| r.id)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use latchkey_model::{OrgId, SodPair, Stamps, SystemId};

    use super::*;

    fn role(n: u32) -> RoleId {
        format!("00000004-0000-7000-8000-{n:012x}").parse().unwrap()
    }

    fn rule(n: u32, kind: SodKind, risk: Risk, roles: &[u32]) -> SodRule {
        SodRule {
            id: format!("00000009-0000-7000-8000-{n:012x}").parse().unwrap(),
            org_id: OrgId::from_uuid(uuid::Uuid::nil()),
            system_id: SystemId::from_uuid(uuid::Uuid::nil()),
            name: format!("rule {n}"),
            description: None,
            kind,
            risk,
            role_ids: roles.iter().map(|&r| role(r)).collect(),
            threshold: None,
            matrix: Vec::new(),
            stamps: Stamps::new(OffsetDateTime::UNIX_EPOCH, None),
        }
    }

    fn set(roles: &[u32]) -> RoleSet {
        roles.iter().map(|&r| role(r)).collect()
    }

    fn gain(roles: &[u32]) -> Vec<RoleId> {
        roles.iter().map(|&r| role(r)).collect()
    }

    #[test]
    fn all_triggers_on_the_last_role_only() {
        let index = SodIndex::build(&[rule(1, SodKind::All, Risk::Forbidden, &[1, 2, 3])]);
        assert!(index.violations(&set(&[1]), &gain(&[2])).is_empty());
        let v = index.violations(&set(&[1, 2]), &gain(&[3]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].risk, Risk::Forbidden);
        assert_eq!(v[0].role_ids, gain(&[1, 2, 3]));
        // Already all held: nothing new.
        assert!(
            index
                .violations(&set(&[1, 2, 3]), &gain(&[3, 4]))
                .is_empty()
        );
        assert_eq!(index.standing(&set(&[1, 2, 3, 4])).len(), 1);
    }

    #[test]
    fn some_counts_past_the_threshold() {
        let mut r = rule(1, SodKind::Some, Risk::High, &[1, 2, 3, 4]);
        r.threshold = Some(2);
        let index = SodIndex::build(&[r]);
        assert!(index.violations(&set(&[1]), &gain(&[2])).is_empty());
        let v = index.violations(&set(&[1, 2]), &gain(&[4]));
        assert_eq!(v[0].role_ids, gain(&[1, 2, 4]));
        assert_eq!(v[0].risk, Risk::High);
        // Over the threshold already, one more is still a violation the change takes part in.
        assert_eq!(index.violations(&set(&[1, 2, 3]), &gain(&[4])).len(), 1);
        assert!(index.violations(&set(&[1, 2, 3]), &gain(&[9])).is_empty());
    }

    #[test]
    fn matrix_reports_the_worst_pair() {
        let mut r = rule(1, SodKind::Matrix, Risk::None, &[1, 2, 3]);
        r.matrix = vec![
            SodPair {
                a: role(1),
                b: role(2),
                risk: Risk::Low,
            },
            SodPair {
                a: role(1),
                b: role(3),
                risk: Risk::Forbidden,
            },
            SodPair {
                a: role(2),
                b: role(3),
                risk: Risk::None,
            },
        ];
        let index = SodIndex::build(&[r]);
        let v = index.violations(&set(&[1]), &gain(&[2]));
        assert_eq!(
            (v[0].risk, v[0].role_ids.clone()),
            (Risk::Low, gain(&[1, 2]))
        );
        let v = index.violations(&set(&[1, 2]), &gain(&[3]));
        assert_eq!(
            (v[0].risk, v[0].role_ids.clone()),
            (Risk::Forbidden, gain(&[1, 3]))
        );
        assert!(index.violations(&set(&[2]), &gain(&[3])).is_empty());
    }

    #[test]
    fn none_rules_and_malformed_rules_never_trigger() {
        let mut bad = rule(2, SodKind::Some, Risk::Forbidden, &[1, 2]);
        bad.threshold = Some(2);
        let index = SodIndex::build(&[
            rule(1, SodKind::All, Risk::None, &[1, 2]),
            bad,
            rule(3, SodKind::All, Risk::Forbidden, &[1, 1]),
        ]);
        assert!(index.is_empty());
        assert!(index.violations(&set(&[1]), &gain(&[2])).is_empty());
    }
}
