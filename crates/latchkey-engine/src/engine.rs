//! The [`Engine`]: a snapshot compiled into dense integer indices and Vec-based adjacency,
//! answering entitlement questions at an instant given as an argument.
//!
//! What is precomputed at build time is proportional to the organisation (groups, roles,
//! grants, the mandatory-inheritance closure); what depends on a user and an instant (member
//! groups in force, active groups, grants in force) is evaluated per query, so no table of
//! users × roles ever exists.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use latchkey_model::{
    GrantId, Grantee, GroupId, Permission, RoleId, ScopeMapping, SystemId, UserId,
};
use time::OffsetDateTime;

use crate::closure::RoleClosure;
use crate::forest::Forest;
use crate::output::{EffectiveRole, Holder, PermissionGrants, Provenance, Source};
use crate::snapshot::{GroupNode, Snapshot, in_window};

#[derive(Debug)]
struct GroupRec {
    disabled: bool,
    active_since: Option<OffsetDateTime>,
    active_until: Option<OffsetDateTime>,
    /// Grants to this group (indices into `Engine::grants`).
    grants: Vec<u32>,
    /// Users with this group as primary group or in a secondary membership, sorted, unique.
    members: Vec<u32>,
}

impl GroupRec {
    fn active_at(&self, at: OffsetDateTime) -> bool {
        !self.disabled && in_window(self.active_since, self.active_until, at)
    }
}

#[derive(Debug)]
struct MembershipRec {
    group: u32,
    starts_at: Option<OffsetDateTime>,
    ends_at: Option<OffsetDateTime>,
}

#[derive(Debug)]
struct UserRec {
    id: UserId,
    /// `None` when the primary group is not in the snapshot.
    primary: Option<u32>,
    enabled: bool,
    memberships: Vec<MembershipRec>,
    /// Grants to this user (indices into `Engine::grants`).
    grants: Vec<u32>,
}

#[derive(Debug)]
struct RoleRec {
    id: RoleId,
    system: SystemId,
    permissions: Box<[Permission]>,
    scoped: bool,
    /// Grants of this role (indices into `Engine::grants`).
    grants: Vec<u32>,
    /// Children over every inheritance edge, mandatory or not, sorted by id, unique.
    children: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    User(u32),
    Group(u32),
}

/// A grant that confers its role, resolved to indices. Non-conferring grants and grants whose
/// role or grantee is unknown are dropped at build time.
#[derive(Debug)]
struct GrantRec {
    id: GrantId,
    role: u32,
    target: Target,
    scope: Option<String>,
    starts_at: Option<OffsetDateTime>,
    ends_at: Option<OffsetDateTime>,
}

impl GrantRec {
    fn in_force_at(&self, at: OffsetDateTime) -> bool {
        in_window(self.starts_at, self.ends_at, at)
    }
}

/// The entitlement engine of one organisation. Pure: no I/O, no clock (every time-dependent
/// question takes its instant), no panic on any data.
#[derive(Debug)]
pub struct Engine {
    groups: Forest<GroupId>,
    group_recs: Vec<GroupRec>,
    systems: Forest<SystemId>,
    users: Vec<UserRec>,
    user_index: HashMap<UserId, u32>,
    roles: Vec<RoleRec>,
    role_index: HashMap<RoleId, u32>,
    grants: Vec<GrantRec>,
    closure: RoleClosure,
}

fn dense(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Engine {
    /// Compiles a snapshot. Never panics: an id that appears twice keeps its first
    /// occurrence; a reference to an unknown id is ignored (a parent makes a root, a primary
    /// group contributes nothing, a membership, grant or inheritance edge is dropped); cycles
    /// in parent links or inheritance edges are walked around, never looped on.
    pub fn build(snapshot: &Snapshot) -> Engine {
        let (groups, kept) = Forest::build(snapshot.groups.iter().map(|g| (g.id, g.parent)));
        let mut group_recs: Vec<GroupRec> = kept
            .iter()
            .filter_map(|&i| snapshot.groups.get(i))
            .map(|g: &GroupNode| GroupRec {
                disabled: g.disabled,
                active_since: g.active_since,
                active_until: g.active_until,
                grants: Vec::new(),
                members: Vec::new(),
            })
            .collect();

        let (systems, _) = Forest::build(snapshot.systems.iter().map(|s| (s.id, s.parent)));

        let mut users = Vec::new();
        let mut user_index = HashMap::new();
        for u in &snapshot.users {
            if user_index.contains_key(&u.id) {
                continue;
            }
            let ui = dense(users.len());
            user_index.insert(u.id, ui);
            let primary = groups.index(u.primary_group);
            if let Some(rec) = primary.and_then(|g| group_recs.get_mut(g as usize)) {
                rec.members.push(ui);
            }
            users.push(UserRec {
                id: u.id,
                primary,
                enabled: u.enabled,
                memberships: Vec::new(),
                grants: Vec::new(),
            });
        }
        for m in &snapshot.memberships {
            let (Some(ui), Some(gi)) = (user_index.get(&m.user), groups.index(m.group)) else {
                continue;
            };
            if let Some(user) = users.get_mut(*ui as usize) {
                user.memberships.push(MembershipRec {
                    group: gi,
                    starts_at: m.starts_at,
                    ends_at: m.ends_at,
                });
            }
            if let Some(rec) = group_recs.get_mut(gi as usize) {
                rec.members.push(*ui);
            }
        }
        for rec in &mut group_recs {
            rec.members.sort_unstable();
            rec.members.dedup();
        }

        let mut roles = Vec::new();
        let mut role_index = HashMap::new();
        for r in &snapshot.roles {
            if role_index.contains_key(&r.id) {
                continue;
            }
            role_index.insert(r.id, dense(roles.len()));
            roles.push(RoleRec {
                id: r.id,
                system: r.system,
                permissions: r.permissions.clone().into_boxed_slice(),
                scoped: r.scoped,
                grants: Vec::new(),
                children: Vec::new(),
            });
        }

        let mut mandatory: Vec<Vec<(u32, ScopeMapping)>> = vec![Vec::new(); roles.len()];
        for e in &snapshot.inheritance {
            let (Some(&p), Some(&c)) = (role_index.get(&e.parent), role_index.get(&e.child)) else {
                continue;
            };
            if let Some(rec) = roles.get_mut(p as usize) {
                rec.children.push(c);
            }
            if e.mandatory
                && let Some(list) = mandatory.get_mut(p as usize)
            {
                let edge = (c, e.scope.clone());
                if !list.contains(&edge) {
                    list.push(edge);
                }
            }
        }
        let role_ids: Vec<RoleId> = roles.iter().map(|r| r.id).collect();
        for rec in &mut roles {
            rec.children
                .sort_unstable_by_key(|&c| role_ids.get(c as usize).copied());
            rec.children.dedup();
        }
        let scoped: Vec<bool> = roles.iter().map(|r| r.scoped).collect();
        let closure = RoleClosure::build(&role_ids, &scoped, &mandatory);

        let mut grants = Vec::new();
        let mut seen_grants = std::collections::HashSet::new();
        for g in &snapshot.grants {
            if !seen_grants.insert(g.id) || !g.confers {
                continue;
            }
            let Some(&role) = role_index.get(&g.role) else {
                continue;
            };
            let target = match g.grantee {
                Grantee::User(u) => user_index.get(&u).map(|&u| Target::User(u)),
                Grantee::Group(gr) => groups.index(gr).map(Target::Group),
            };
            let Some(target) = target else {
                continue;
            };
            let gi = dense(grants.len());
            match target {
                Target::User(u) => {
                    if let Some(user) = users.get_mut(u as usize) {
                        user.grants.push(gi);
                    }
                }
                Target::Group(g) => {
                    if let Some(rec) = group_recs.get_mut(g as usize) {
                        rec.grants.push(gi);
                    }
                }
            }
            if let Some(rec) = roles.get_mut(role as usize) {
                rec.grants.push(gi);
            }
            grants.push(GrantRec {
                id: g.id,
                role,
                target,
                scope: g.scope.clone(),
                starts_at: g.starts_at,
                ends_at: g.ends_at,
            });
        }

        Engine {
            groups,
            group_recs,
            systems,
            users,
            user_index,
            roles,
            role_index,
            grants,
            closure,
        }
    }

    /// Everything `user` holds at `at`, sorted by (role, scope), each with every path that
    /// gives it. An unknown user holds nothing. A disabled user is computed like any other:
    /// whether a disabled user may act is the caller's decision.
    pub fn effective_roles(&self, user: UserId, at: OffsetDateTime) -> Vec<EffectiveRole> {
        let Some(&u) = self.user_index.get(&user) else {
            return Vec::new();
        };
        let mut held: BTreeMap<(RoleId, Option<String>), (SystemId, Vec<Provenance>)> =
            BTreeMap::new();
        let _ = self.visit(u, at, &mut |role, scope, source, chain| {
            if let Some(r) = self.roles.get(role as usize) {
                held.entry((r.id, scope.map(str::to_owned)))
                    .or_insert_with(|| (r.system, Vec::new()))
                    .1
                    .push(Provenance {
                        source,
                        chain: chain.to_vec(),
                    });
            }
            ControlFlow::Continue(())
        });
        held.into_iter()
            .map(|((role, scope), (system, paths))| EffectiveRole {
                role,
                system,
                scope,
                paths: tidy(paths),
            })
            .collect()
    }

    /// Why `user` holds `role` with exactly `scope` at `at`, or `None` when they do not.
    pub fn explain(
        &self,
        user: UserId,
        role: RoleId,
        scope: Option<&str>,
        at: OffsetDateTime,
    ) -> Option<EffectiveRole> {
        let &u = self.user_index.get(&user)?;
        let &r = self.role_index.get(&role)?;
        let rec = self.roles.get(r as usize)?;
        let mut paths = Vec::new();
        let _ = self.visit(u, at, &mut |held, held_scope, source, chain| {
            if held == r && held_scope == scope {
                paths.push(Provenance {
                    source,
                    chain: chain.to_vec(),
                });
            }
            ControlFlow::Continue(())
        });
        (!paths.is_empty()).then(|| EffectiveRole {
            role,
            system: rec.system,
            scope: scope.map(str::to_owned),
            paths: tidy(paths),
        })
    }

    /// Whether `user` holds `role` with exactly `scope` at `at`. Stops at the first path.
    pub fn holds(
        &self,
        user: UserId,
        role: RoleId,
        scope: Option<&str>,
        at: OffsetDateTime,
    ) -> bool {
        let (Some(&u), Some(&r)) = (self.user_index.get(&user), self.role_index.get(&role)) else {
            return false;
        };
        self.visit(u, at, &mut |held, held_scope, _, _| {
            if held == r && held_scope == scope {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .is_break()
    }

    /// Every user holding `role` at `at`, one entry per scope value, sorted by user id then
    /// scope. Only users a grant of `role` (or of a role mandatorily leading to it) can reach
    /// are examined.
    pub fn holders(&self, role: RoleId, at: OffsetDateTime) -> Vec<Holder> {
        let Some(&r) = self.role_index.get(&role) else {
            return Vec::new();
        };
        let mut candidates: Vec<u32> = Vec::new();
        for &granted in self.closure.reached_by(r) {
            let grant_ids = self
                .roles
                .get(granted as usize)
                .map(|g| &g.grants[..])
                .unwrap_or_default();
            for grant in grant_ids
                .iter()
                .filter_map(|&g| self.grants.get(g as usize))
            {
                if !grant.in_force_at(at) {
                    continue;
                }
                match grant.target {
                    Target::User(u) => candidates.push(u),
                    Target::Group(g) => {
                        for d in self.groups.subtree(g) {
                            if let Some(rec) = self.group_recs.get(d as usize) {
                                candidates.extend_from_slice(&rec.members);
                            }
                        }
                    }
                }
            }
        }
        candidates.sort_unstable_by_key(|&u| self.users.get(u as usize).map(|u| u.id));
        candidates.dedup();

        let mut out = Vec::new();
        for u in candidates {
            let Some(user) = self.users.get(u as usize) else {
                continue;
            };
            let mut by_scope: BTreeMap<Option<String>, Vec<Provenance>> = BTreeMap::new();
            let _ = self.visit(u, at, &mut |held, scope, source, chain| {
                if held == r {
                    by_scope
                        .entry(scope.map(str::to_owned))
                        .or_default()
                        .push(Provenance {
                            source,
                            chain: chain.to_vec(),
                        });
                }
                ControlFlow::Continue(())
            });
            out.extend(by_scope.into_iter().map(|(scope, paths)| Holder {
                user: user.id,
                scope,
                paths: tidy(paths),
            }));
        }
        out
    }

    /// The product permissions of every role `user` holds at `at`. An unscoped role's
    /// permissions apply everywhere; a scoped role's apply to its scope value, and a scoped
    /// role held without a value gives nothing.
    pub fn permissions(&self, user: UserId, at: OffsetDateTime) -> PermissionGrants {
        let mut out = PermissionGrants::default();
        let Some(&u) = self.user_index.get(&user) else {
            return out;
        };
        let _ = self.visit(u, at, &mut |role, scope, _, _| {
            let Some(rec) = self.roles.get(role as usize) else {
                return ControlFlow::Continue(());
            };
            if !rec.scoped {
                out.unscoped.extend(rec.permissions.iter().copied());
            } else if let Some(s) = scope {
                for &p in &rec.permissions {
                    let values = out.scoped.entry(p).or_default();
                    if !values.contains(s) {
                        values.insert(s.to_owned());
                    }
                }
            }
            ControlFlow::Continue(())
        });
        out
    }

    /// Whether adding the edge `parent -> child` would close a cycle, considering every
    /// existing edge, mandatory or not. If so, the shortest closing path: `parent`, `child`,
    /// ..., `parent`. `parent == child` gives `[parent, parent]`.
    pub fn inheritance_cycle(&self, parent: RoleId, child: RoleId) -> Option<Vec<RoleId>> {
        if parent == child {
            return Some(vec![parent, parent]);
        }
        let &p = self.role_index.get(&parent)?;
        let &c = self.role_index.get(&child)?;
        // Breadth-first from `child` looking for `parent`; children are sorted by id, so the
        // answer is deterministic.
        let mut prev: Vec<Option<u32>> = vec![None; self.roles.len()];
        let mut seen = vec![false; self.roles.len()];
        let mut queue = std::collections::VecDeque::from([c]);
        if let Some(s) = seen.get_mut(c as usize) {
            *s = true;
        }
        while let Some(n) = queue.pop_front() {
            if n == p {
                let mut path = vec![parent];
                let mut back = vec![n];
                let mut cur = n;
                while let Some(before) = prev.get(cur as usize).copied().flatten() {
                    back.push(before);
                    cur = before;
                }
                path.extend(back.iter().rev().filter_map(|&i| self.role_id(i)));
                return Some(path);
            }
            let kids = self
                .roles
                .get(n as usize)
                .map(|r| &r.children[..])
                .unwrap_or_default();
            for &k in kids {
                if let Some(s) = seen.get_mut(k as usize)
                    && !*s
                {
                    *s = true;
                    if let Some(slot) = prev.get_mut(k as usize) {
                        *slot = Some(n);
                    }
                    queue.push_back(k);
                }
            }
        }
        None
    }

    /// The group itself, then its parent, ... up to the root; unknown -> empty.
    pub fn group_ancestors(&self, group: GroupId) -> Vec<GroupId> {
        self.groups.ancestor_ids(group)
    }

    /// The group and every descendant (preorder, siblings by id); unknown -> empty.
    pub fn group_subtree(&self, group: GroupId) -> Vec<GroupId> {
        self.groups.subtree_ids(group)
    }

    /// Whether `group` is `root` or below it. Unknown groups are in no subtree.
    pub fn group_in_subtree(&self, group: GroupId, root: GroupId) -> bool {
        self.groups.id_in_subtree(group, root)
    }

    /// Whether moving `group` under `new_parent` would close a cycle: `new_parent` is `group`
    /// or below it.
    pub fn group_move_creates_cycle(&self, group: GroupId, new_parent: GroupId) -> bool {
        self.groups.move_creates_cycle(group, new_parent)
    }

    /// The system and every descendant (preorder, siblings by id); unknown -> empty.
    pub fn system_subtree(&self, system: SystemId) -> Vec<SystemId> {
        self.systems.subtree_ids(system)
    }

    /// Whether `system` is `root` or below it. Unknown systems are in no subtree.
    pub fn system_in_subtree(&self, system: SystemId, root: SystemId) -> bool {
        self.systems.id_in_subtree(system, root)
    }

    /// Whether moving `system` under `new_parent` would close a cycle.
    pub fn system_move_creates_cycle(&self, system: SystemId, new_parent: SystemId) -> bool {
        self.systems.move_creates_cycle(system, new_parent)
    }

    /// The information system a role belongs to, as given in the snapshot (even when that
    /// system is not in the snapshot); unknown role -> `None`.
    pub fn role_system(&self, role: RoleId) -> Option<SystemId> {
        let &r = self.role_index.get(&role)?;
        self.roles.get(r as usize).map(|r| r.system)
    }

    /// Whether the user is enabled; unknown -> `None`. The engine itself ignores this flag.
    pub fn user_enabled(&self, user: UserId) -> Option<bool> {
        let &u = self.user_index.get(&user)?;
        self.users.get(u as usize).map(|u| u.enabled)
    }

    fn role_id(&self, role: u32) -> Option<RoleId> {
        self.roles.get(role as usize).map(|r| r.id)
    }

    /// Calls `f(role, scope, source, chain)` for every path giving user `u` a role at `at`:
    /// each grant in force reaching the user (direct, or through a member group and an active
    /// ancestor walk), expanded over the mandatory closure of its role. The same path may be
    /// reported twice (e.g. two overlapping memberships of one group); callers deduplicate.
    fn visit<F>(&self, u: u32, at: OffsetDateTime, f: &mut F) -> ControlFlow<()>
    where
        F: FnMut(u32, Option<&str>, Source, &[RoleId]) -> ControlFlow<()>,
    {
        let Some(user) = self.users.get(u as usize) else {
            return ControlFlow::Continue(());
        };
        for grant in user
            .grants
            .iter()
            .filter_map(|&g| self.grants.get(g as usize))
        {
            if !grant.in_force_at(at) {
                continue;
            }
            let Some(role) = self.role_id(grant.role) else {
                continue;
            };
            self.expand(
                grant,
                Source::Direct {
                    grant: grant.id,
                    role,
                },
                f,
            )?;
        }
        if let Some(primary) = user.primary {
            self.walk_group(primary, true, at, f)?;
        }
        for m in &user.memberships {
            if in_window(m.starts_at, m.ends_at, at) {
                self.walk_group(m.group, false, at, f)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// Grants reaching a member of `member` through `member` and its active ancestors. The
    /// walk stops at the first inactive group: it passes on nothing from above itself.
    fn walk_group<F>(
        &self,
        member: u32,
        primary: bool,
        at: OffsetDateTime,
        f: &mut F,
    ) -> ControlFlow<()>
    where
        F: FnMut(u32, Option<&str>, Source, &[RoleId]) -> ControlFlow<()>,
    {
        let Some(member_group) = self.groups.id(member) else {
            return ControlFlow::Continue(());
        };
        for a in self.groups.ancestors(member) {
            let (Some(rec), Some(ancestor)) = (self.group_recs.get(a as usize), self.groups.id(a))
            else {
                break;
            };
            if !rec.active_at(at) {
                break;
            }
            for grant in rec
                .grants
                .iter()
                .filter_map(|&g| self.grants.get(g as usize))
            {
                if !grant.in_force_at(at) {
                    continue;
                }
                let Some(role) = self.role_id(grant.role) else {
                    continue;
                };
                let source = Source::Group {
                    grant: grant.id,
                    role,
                    member_group,
                    ancestor,
                    primary,
                };
                self.expand(grant, source, f)?;
            }
        }
        ControlFlow::Continue(())
    }

    fn expand<F>(&self, grant: &GrantRec, source: Source, f: &mut F) -> ControlFlow<()>
    where
        F: FnMut(u32, Option<&str>, Source, &[RoleId]) -> ControlFlow<()>,
    {
        for reach in self.closure.reach(grant.role) {
            f(
                reach.role,
                reach.scope.apply(grant.scope.as_deref()),
                source,
                &reach.chain,
            )?;
        }
        ControlFlow::Continue(())
    }
}

/// Sorted and deduplicated, so that equal answers compare equal.
fn tidy(mut paths: Vec<Provenance>) -> Vec<Provenance> {
    paths.sort_unstable();
    paths.dedup();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
    }

    #[test]
    fn empty_snapshot_answers_nothing() {
        let e = Engine::build(&Snapshot::default());
        let u = UserId::from_uuid(Default::default());
        let at = OffsetDateTime::UNIX_EPOCH;
        assert!(e.effective_roles(u, at).is_empty());
        assert_eq!(e.permissions(u, at), PermissionGrants::default());
        assert!(
            e.group_ancestors(GroupId::from_uuid(Default::default()))
                .is_empty()
        );
        assert_eq!(e.user_enabled(u), None);
    }
}
