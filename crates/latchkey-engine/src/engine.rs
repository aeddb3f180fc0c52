//! The [`Engine`]: the entitlement graph on dense `u32` slots with Vec-based adjacency, and the
//! exact ("slow") answers computed from it at an instant given as an argument: effective
//! roles with provenance, holders, permissions, and the structural checks writes need.
//!
//! Every id the engine hears of gets a slot, present or not, so that a reference to an object
//! that does not exist (yet) is kept and counts once the object arrives; absent objects take
//! part in nothing. The per-group caches that make [`Engine::check`] fast live in `cache.rs`,
//! and the incremental maintenance in `apply.rs`; both work on the records defined here.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use latchkey_model::{
    GrantId, Grantee, GroupId, MembershipId, Permission, RoleId, ScopeMapping, SystemId, UserId,
};
use time::OffsetDateTime;

use crate::cache::{Cache, Timeline};
use crate::closure::{RoleClosure, RoleGraph};
use crate::forest::{Forest, to_u32};
use crate::keys::{FastMap, Scopes, key, key_role};
use crate::output::{EffectiveRole, Holder, PermissionGrants, Provenance, Source};
use crate::snapshot::{Snapshot, in_window};

#[derive(Debug, Clone, Default)]
pub(crate) struct GroupRec {
    pub(crate) disabled: bool,
    pub(crate) active_since: Option<OffsetDateTime>,
    pub(crate) active_until: Option<OffsetDateTime>,
    /// Conferring grants to this group (grant slots).
    pub(crate) grants: Vec<u32>,
    /// Users with this group as primary group, and users of each secondary membership of it:
    /// a multiset (one entry per such link), present users or not.
    pub(crate) members: Vec<u32>,
}

impl GroupRec {
    #[inline]
    pub(crate) fn active_at(&self, at: OffsetDateTime) -> bool {
        !self.disabled && in_window(self.active_since, self.active_until, at)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MembershipRec {
    /// `None` for a membership loaded from a snapshot without ids.
    pub(crate) id: Option<MembershipId>,
    pub(crate) group: u32,
    pub(crate) starts_at: Option<OffsetDateTime>,
    pub(crate) ends_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub(crate) struct UserRec {
    pub(crate) id: UserId,
    pub(crate) present: bool,
    /// Slot of the primary group (present or not); `None` for an absent user.
    pub(crate) primary: Option<u32>,
    pub(crate) enabled: bool,
    pub(crate) memberships: Vec<MembershipRec>,
    /// Conferring grants to this user (grant slots).
    pub(crate) grants: Vec<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct RoleRec {
    pub(crate) id: RoleId,
    pub(crate) present: bool,
    pub(crate) system: Option<SystemId>,
    pub(crate) permissions: Box<[Permission]>,
    pub(crate) scoped: bool,
    /// Conferring grants of this role (grant slots).
    pub(crate) grants: Vec<u32>,
    /// The child of every inheritance edge out of this role, mandatory or not, present or
    /// not (a multiset).
    pub(crate) edges: Vec<u32>,
    /// Mandatory edges out of this role: `(child, mapping)`, without exact duplicates.
    pub(crate) mandatory: Vec<(u32, ScopeMapping)>,
    /// The parent of each mandatory edge into this role (a multiset).
    pub(crate) mandatory_in: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    User(u32),
    Group(u32),
}

#[derive(Debug, Clone)]
pub(crate) struct GrantRec {
    pub(crate) id: GrantId,
    /// Known and conferring; only live grants are linked into the lists above.
    pub(crate) live: bool,
    pub(crate) role: u32,
    pub(crate) target: Target,
    /// Interned scope value, 0 for none.
    pub(crate) scope: u32,
    pub(crate) starts_at: Option<OffsetDateTime>,
    pub(crate) ends_at: Option<OffsetDateTime>,
}

impl GrantRec {
    #[inline]
    pub(crate) fn in_force_at(&self, at: OffsetDateTime) -> bool {
        self.live && in_window(self.starts_at, self.ends_at, at)
    }
}

/// The closure's view of the role records.
pub(crate) struct RoleView<'a>(pub(crate) &'a [RoleRec]);

impl RoleGraph for RoleView<'_> {
    fn role_id(&self, role: u32) -> Option<RoleId> {
        self.0.get(role as usize).map(|r| r.id)
    }
    fn present(&self, role: u32) -> bool {
        self.0.get(role as usize).is_some_and(|r| r.present)
    }
    fn scoped(&self, role: u32) -> bool {
        self.0.get(role as usize).is_some_and(|r| r.scoped)
    }
    fn mandatory(&self, role: u32) -> &[(u32, ScopeMapping)] {
        self.0
            .get(role as usize)
            .map(|r| r.mandatory.as_slice())
            .unwrap_or_default()
    }
}

/// A user's standing as [`Engine::user_groups`] answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGroups {
    pub primary: Option<GroupId>,
    pub secondary: Vec<GroupId>,
}

/// The entitlement engine of one organisation. Pure: no I/O, no clock (every time-dependent
/// question takes its instant), no panic on any data. See the crate documentation for the
/// cache contract of [`Engine::check`].
#[derive(Debug, Clone, Default)]
pub struct Engine {
    pub(crate) groups: Forest<GroupId>,
    /// Parallel to the group forest's slots.
    pub(crate) group_recs: Vec<GroupRec>,
    pub(crate) systems: Forest<SystemId>,
    pub(crate) users: Vec<UserRec>,
    pub(crate) user_index: FastMap<UserId, u32>,
    pub(crate) roles: Vec<RoleRec>,
    pub(crate) role_index: FastMap<RoleId, u32>,
    pub(crate) grants: Vec<GrantRec>,
    pub(crate) grant_index: FastMap<GrantId, u32>,
    /// Membership id -> slot of its user.
    pub(crate) membership_index: FastMap<MembershipId, u32>,
    pub(crate) closure: RoleClosure,
    pub(crate) scopes: Scopes,
    /// For each permission (by position in `Permission::ALL`): present roles carrying it.
    pub(crate) permission_roles: Vec<Vec<u32>>,
    pub(crate) timeline: Timeline,
    pub(crate) cache: Cache,
}

pub(crate) fn permission_slot(p: Permission) -> Option<usize> {
    Permission::ALL.iter().position(|&q| q == p)
}

impl Engine {
    /// Compiles a snapshot. Never panics: an id that appears twice keeps its first
    /// occurrence; a reference to an unknown id is ignored (a parent makes a root, a primary
    /// group contributes nothing, a membership, grant or inheritance edge is dropped) until
    /// the object arrives through [`Engine::apply`]; cycles in parent links or inheritance
    /// edges are walked around, never looped on.
    ///
    /// The per-group caches behind [`Engine::check`] start cold: call
    /// [`Engine::advance_to`] with the current instant to warm them (until then `check`
    /// answers through the exact path).
    pub fn build(snapshot: &Snapshot) -> Engine {
        Self::build_with_membership_ids(snapshot, &[])
    }

    /// Like [`Engine::build`], with `membership_ids[i]` the id of `snapshot.memberships[i]`
    /// so that [`crate::Change::RemoveMembership`] can name it later. Memberships without an
    /// id (past the end of the slice) are kept but can only go with a rebuild; a repeated id
    /// keeps its first membership.
    pub fn build_with_membership_ids(
        snapshot: &Snapshot,
        membership_ids: &[MembershipId],
    ) -> Engine {
        let mut e = Engine {
            permission_roles: vec![Vec::new(); Permission::ALL.len()],
            ..Engine::default()
        };
        for g in &snapshot.groups {
            if e.groups.load(g.id, g.parent) {
                let n = e.group_slot(g.id);
                if let Some(rec) = e.group_recs.get_mut(n as usize) {
                    rec.disabled = g.disabled;
                    rec.active_since = g.active_since;
                    rec.active_until = g.active_until;
                }
                e.timeline.add_group(n, g.active_since, g.active_until);
            }
        }
        e.groups.relink_all();
        for s in &snapshot.systems {
            e.systems.load(s.id, s.parent);
        }
        e.systems.relink_all();
        for u in &snapshot.users {
            let slot = e.user_slot(u.id);
            if e.users.get(slot as usize).is_some_and(|r| r.present) {
                continue;
            }
            e.set_user(slot, u.primary_group, u.enabled);
        }
        for (i, m) in snapshot.memberships.iter().enumerate() {
            let id = membership_ids.get(i).copied();
            if id.is_some_and(|id| e.membership_index.contains_key(&id)) {
                continue;
            }
            e.link_membership(id, m);
        }
        for r in &snapshot.roles {
            let slot = e.role_slot(r.id);
            if e.roles.get(slot as usize).is_some_and(|r| r.present) {
                continue;
            }
            e.set_role(slot, r);
        }
        for edge in &snapshot.inheritance {
            let p = e.role_slot(edge.parent);
            let c = e.role_slot(edge.child);
            e.link_edge(p, c, edge.mandatory, &edge.scope);
        }
        for g in &snapshot.grants {
            if e.grant_index.contains_key(&g.id) {
                continue;
            }
            let slot = e.grant_slot(g.id);
            e.set_grant(slot, g);
        }
        let slots = e.roles.len();
        for r in 0..slots {
            e.closure
                .recompute(to_u32(r), slots, &RoleView(&e.roles), &mut e.scopes);
        }
        e
    }

    // -----------------------------------------------------------------------------------------
    // Slots and links, shared by the bulk load and by `apply`.

    pub(crate) fn group_slot(&mut self, id: GroupId) -> u32 {
        let n = self.groups.slot(id);
        if self.group_recs.len() < self.groups.slots() {
            self.group_recs
                .resize_with(self.groups.slots(), GroupRec::default);
        }
        n
    }

    pub(crate) fn user_slot(&mut self, id: UserId) -> u32 {
        if let Some(&u) = self.user_index.get(&id) {
            return u;
        }
        let u = to_u32(self.users.len());
        self.user_index.insert(id, u);
        self.users.push(UserRec {
            id,
            present: false,
            primary: None,
            enabled: false,
            memberships: Vec::new(),
            grants: Vec::new(),
        });
        u
    }

    pub(crate) fn role_slot(&mut self, id: RoleId) -> u32 {
        if let Some(&r) = self.role_index.get(&id) {
            return r;
        }
        let r = to_u32(self.roles.len());
        self.role_index.insert(id, r);
        self.roles.push(RoleRec {
            id,
            present: false,
            system: None,
            permissions: Box::new([]),
            scoped: false,
            grants: Vec::new(),
            edges: Vec::new(),
            mandatory: Vec::new(),
            mandatory_in: Vec::new(),
        });
        r
    }

    pub(crate) fn grant_slot(&mut self, id: GrantId) -> u32 {
        if let Some(&g) = self.grant_index.get(&id) {
            return g;
        }
        let g = to_u32(self.grants.len());
        self.grant_index.insert(id, g);
        self.grants.push(GrantRec {
            id,
            live: false,
            role: 0,
            target: Target::User(0),
            scope: 0,
            starts_at: None,
            ends_at: None,
        });
        g
    }

    /// Makes the user present with this primary group.
    pub(crate) fn set_user(&mut self, u: u32, primary: GroupId, enabled: bool) {
        let g = self.group_slot(primary);
        if let Some(rec) = self.group_recs.get_mut(g as usize) {
            rec.members.push(u);
        }
        if let Some(rec) = self.users.get_mut(u as usize) {
            rec.present = true;
            rec.primary = Some(g);
            rec.enabled = enabled;
        }
        self.refresh_hot(u);
    }

    /// Makes the user absent; memberships and grants naming it stay, as dangling rows would.
    pub(crate) fn unset_user(&mut self, u: u32) {
        let Some(rec) = self.users.get_mut(u as usize) else {
            return;
        };
        rec.present = false;
        if let Some(g) = rec.primary.take() {
            remove_one(
                self.group_recs.get_mut(g as usize).map(|r| &mut r.members),
                u,
            );
        }
        self.refresh_hot(u);
    }

    pub(crate) fn link_membership(
        &mut self,
        id: Option<MembershipId>,
        m: &crate::snapshot::MembershipEdge,
    ) {
        let u = self.user_slot(m.user);
        let g = self.group_slot(m.group);
        if let Some(rec) = self.users.get_mut(u as usize) {
            rec.memberships.push(MembershipRec {
                id,
                group: g,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
            });
        }
        if let Some(rec) = self.group_recs.get_mut(g as usize) {
            rec.members.push(u);
        }
        if let Some(id) = id {
            self.membership_index.insert(id, u);
        }
        self.timeline.add_membership(m.starts_at, m.ends_at);
        self.refresh_hot(u);
    }

    pub(crate) fn unlink_membership(&mut self, id: MembershipId) {
        let Some(u) = self.membership_index.remove(&id) else {
            return;
        };
        let Some(rec) = self.users.get_mut(u as usize) else {
            return;
        };
        let Some(i) = rec.memberships.iter().position(|m| m.id == Some(id)) else {
            return;
        };
        let m = rec.memberships.remove(i);
        remove_one(
            self.group_recs
                .get_mut(m.group as usize)
                .map(|r| &mut r.members),
            u,
        );
        self.timeline.remove_membership(m.starts_at, m.ends_at);
        self.refresh_hot(u);
    }

    /// Makes the role present with these attributes (does not touch the closure).
    pub(crate) fn set_role(&mut self, r: u32, node: &crate::snapshot::RoleNode) {
        self.unindex_permissions(r);
        if let Some(rec) = self.roles.get_mut(r as usize) {
            rec.present = true;
            rec.system = Some(node.system);
            rec.permissions = node.permissions.clone().into_boxed_slice();
            rec.scoped = node.scoped;
        }
        for p in &node.permissions {
            if let Some(list) = permission_slot(*p).and_then(|i| self.permission_roles.get_mut(i))
                && !list.contains(&r)
            {
                list.push(r);
            }
        }
    }

    pub(crate) fn unindex_permissions(&mut self, r: u32) {
        let Some(rec) = self.roles.get(r as usize) else {
            return;
        };
        if !rec.present {
            return;
        }
        for p in rec.permissions.iter() {
            if let Some(list) = permission_slot(*p).and_then(|i| self.permission_roles.get_mut(i)) {
                list.retain(|&x| x != r);
            }
        }
    }

    /// Adds an inheritance edge (does not touch the closure).
    pub(crate) fn link_edge(&mut self, p: u32, c: u32, mandatory: bool, scope: &ScopeMapping) {
        let mut added = false;
        if let Some(rec) = self.roles.get_mut(p as usize) {
            rec.edges.push(c);
            if mandatory && !rec.mandatory.iter().any(|(x, m)| *x == c && m == scope) {
                rec.mandatory.push((c, scope.clone()));
                added = true;
            }
        }
        if added && let Some(rec) = self.roles.get_mut(c as usize) {
            rec.mandatory_in.push(p);
        }
    }

    /// Removes every edge `p -> c`; returns the mandatory mappings it had.
    pub(crate) fn unlink_edges(&mut self, p: u32, c: u32) -> Vec<ScopeMapping> {
        let mut removed = Vec::new();
        if let Some(rec) = self.roles.get_mut(p as usize) {
            rec.edges.retain(|&e| e != c);
            rec.mandatory.retain(|(x, m)| {
                if *x == c {
                    removed.push(m.clone());
                    false
                } else {
                    true
                }
            });
        }
        if let Some(rec) = self.roles.get_mut(c as usize) {
            for _ in &removed {
                if let Some(i) = rec.mandatory_in.iter().position(|&x| x == p) {
                    rec.mandatory_in.swap_remove(i);
                }
            }
        }
        removed
    }

    /// Fills a grant slot from an edge and links it if it confers (does not touch caches).
    pub(crate) fn set_grant(&mut self, slot: u32, g: &crate::snapshot::GrantEdge) {
        let role = self.role_slot(g.role);
        let target = match g.grantee {
            Grantee::User(u) => Target::User(self.user_slot(u)),
            Grantee::Group(gr) => Target::Group(self.group_slot(gr)),
        };
        let scope = self.scopes.intern(g.scope.as_deref());
        if let Some(rec) = self.grants.get_mut(slot as usize) {
            rec.live = g.confers;
            rec.role = role;
            rec.target = target;
            rec.scope = scope;
            rec.starts_at = g.starts_at;
            rec.ends_at = g.ends_at;
        }
        if g.confers {
            self.link_grant(slot);
        }
    }

    fn grant_lists(&mut self, slot: u32) -> Option<(&mut Vec<u32>, &mut Vec<u32>)> {
        let rec = self.grants.get(slot as usize)?;
        let (role, target) = (rec.role, rec.target);
        let role_list = &mut self.roles.get_mut(role as usize)?.grants;
        let target_list = match target {
            Target::User(u) => &mut self.users.get_mut(u as usize)?.grants,
            Target::Group(g) => &mut self.group_recs.get_mut(g as usize)?.grants,
        };
        Some((role_list, target_list))
    }

    pub(crate) fn link_grant(&mut self, slot: u32) {
        if let Some((by_role, by_target)) = self.grant_lists(slot) {
            by_role.push(slot);
            by_target.push(slot);
        }
        if let Some(rec) = self.grants.get(slot as usize) {
            self.timeline.add_grant(slot, rec.starts_at, rec.ends_at);
        }
    }

    /// Unlinks a live grant from every list and marks it not live.
    pub(crate) fn unlink_grant(&mut self, slot: u32) {
        if let Some((by_role, by_target)) = self.grant_lists(slot) {
            remove_one(Some(by_role), slot);
            remove_one(Some(by_target), slot);
        }
        if let Some(rec) = self.grants.get_mut(slot as usize) {
            rec.live = false;
            self.timeline.remove_grant(slot, rec.starts_at, rec.ends_at);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Lookups.

    #[inline]
    pub(crate) fn present_user(&self, id: UserId) -> Option<u32> {
        let &u = self.user_index.get(&id)?;
        self.users.get(u as usize).filter(|r| r.present).map(|_| u)
    }

    #[inline]
    pub(crate) fn present_role(&self, id: RoleId) -> Option<u32> {
        let &r = self.role_index.get(&id)?;
        self.roles.get(r as usize).filter(|r| r.present).map(|_| r)
    }

    fn role_id(&self, role: u32) -> Option<RoleId> {
        self.roles.get(role as usize).map(|r| r.id)
    }

    // -----------------------------------------------------------------------------------------
    // Exact answers.

    /// Everything `user` holds at `at`, sorted by (role, scope), each with every path that
    /// gives it. An unknown user holds nothing. A disabled user is computed like any other:
    /// whether a disabled user may act is the caller's decision.
    pub fn effective_roles(&self, user: UserId, at: OffsetDateTime) -> Vec<EffectiveRole> {
        let Some(u) = self.present_user(user) else {
            return Vec::new();
        };
        // Every path as a small record first — its key, the index of its source (a grant
        // reaching the user; a few dozen at most) and its chain in the closure — so that the
        // one sort moves 32-byte records and compares integers. The answer's allocations
        // happen once per held role and path, at the end, in the answer's order.
        let mut sources: Vec<Source> = Vec::with_capacity(32);
        let mut raw: Vec<RawPath<'_>> = Vec::with_capacity(128);
        let _ = self.visit_grants(u, at, &mut |source, grant| {
            let i = to_u32(sources.len());
            sources.push(source);
            raw.extend(
                self.closure
                    .reach(grant.role)
                    .iter()
                    .map(|r| (key(r.role, r.scope.apply(grant.scope)), i, &*r.chain)),
            );
            ControlFlow::Continue(())
        });
        // Each source's rank in `Source` order (equal sources share one), so that paths sort
        // in the answer's order (`Provenance`'s) by comparing integers and short chains, and
        // duplicates end up side by side.
        let mut order: Vec<u32> = (0..to_u32(sources.len())).collect();
        order.sort_unstable_by(|&a, &b| sources[a as usize].cmp(&sources[b as usize]));
        let mut rank = vec![0_u32; sources.len()];
        let mut next = 0_u32;
        for (pos, &i) in order.iter().enumerate() {
            if pos > 0 && sources[order[pos - 1] as usize] != sources[i as usize] {
                next += 1;
            }
            rank[i as usize] = next;
        }
        raw.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| rank[a.1 as usize].cmp(&rank[b.1 as usize]))
                .then_with(|| a.2.cmp(b.2))
        });
        // One entry per held (role, scope): its role id, scope name, system and paths, put
        // in the answer's order (role id, then scope name) before anything is allocated.
        let mut held: Vec<(RoleId, Option<&str>, SystemId, &[RawPath<'_>])> = raw
            .chunk_by(|a, b| a.0 == b.0)
            .filter_map(|run| {
                let &(k, _, _) = run.first()?;
                let rec = self.roles.get(key_role(k) as usize)?;
                Some((rec.id, self.scopes.name(k as u32), rec.system?, run))
            })
            .collect();
        held.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        held.into_iter()
            .map(|(role, scope, system, run)| {
                // Already in order; equal paths are adjacent.
                let mut paths: Vec<Provenance> = Vec::with_capacity(run.len());
                let mut last: Option<(u32, &[RoleId])> = None;
                for &(_, i, chain) in run {
                    let (Some(&source), Some(&r)) = (sources.get(i as usize), rank.get(i as usize))
                    else {
                        continue;
                    };
                    if last == Some((r, chain)) {
                        continue;
                    }
                    last = Some((r, chain));
                    paths.push(Provenance {
                        source,
                        chain: chain.to_vec(),
                    });
                }
                EffectiveRole {
                    role,
                    system,
                    scope: scope.map(str::to_owned),
                    paths,
                }
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
        if self.cache.covers(at) && !self.check(user, role, scope, at) {
            return None;
        }
        let u = self.present_user(user)?;
        let r = self.present_role(role)?;
        let s = self.scopes.get(scope)?;
        let system = self.roles.get(r as usize)?.system?;
        let mut paths = Vec::new();
        let _ = self.visit(u, at, &mut |held, held_scope, source, chain| {
            if held == r && held_scope == s {
                paths.push(Provenance {
                    source,
                    chain: chain.to_vec(),
                });
            }
            ControlFlow::Continue(())
        });
        (!paths.is_empty()).then(|| EffectiveRole {
            role,
            system,
            scope: scope.map(str::to_owned),
            paths: tidy(paths),
        })
    }

    /// Whether `user` holds `role` with exactly `scope` at `at`, by walking the graph (the
    /// exact path; [`Engine::check`] answers the same from the caches). Stops at the first
    /// path.
    pub fn holds(
        &self,
        user: UserId,
        role: RoleId,
        scope: Option<&str>,
        at: OffsetDateTime,
    ) -> bool {
        let (Some(u), Some(r), Some(s)) = (
            self.present_user(user),
            self.present_role(role),
            self.scopes.get(scope),
        ) else {
            return false;
        };
        self.visit(u, at, &mut |held, held_scope, _, _| {
            if held == r && held_scope == s {
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
        let Some(r) = self.present_role(role) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for u in self.holder_candidates(r, at) {
            self.holdings_of(u, r, at, &mut out);
        }
        out
    }

    /// The `(user, scope)` of every entry [`Engine::holders`] answers, in the same order,
    /// without tracing the paths: a grant counts only when its role leads to `role`, so
    /// each candidate costs a walk over its grants rather than over every role they give.
    /// What a page of holders counts and cuts before asking [`Engine::holdings`] for the
    /// paths of its own users.
    pub fn holder_keys(&self, role: RoleId, at: OffsetDateTime) -> Vec<(UserId, Option<String>)> {
        let Some(r) = self.present_role(role) else {
            return Vec::new();
        };
        let mut leads = vec![false; self.roles.len()];
        for &g in self.closure.reached_by(r) {
            if let Some(x) = leads.get_mut(g as usize) {
                *x = true;
            }
        }
        let mut out = Vec::new();
        let mut scopes: Vec<Option<&str>> = Vec::new();
        for u in self.holder_candidates(r, at) {
            let Some(user) = self.users.get(u as usize).filter(|u| u.present) else {
                continue;
            };
            scopes.clear();
            let _ = self.visit_grants(u, at, &mut |_, grant| {
                if leads.get(grant.role as usize).copied().unwrap_or(false) {
                    for reach in self.closure.reach(grant.role) {
                        if reach.role == r {
                            let s = self.scopes.name(reach.scope.apply(grant.scope));
                            if !scopes.contains(&s) {
                                scopes.push(s);
                            }
                        }
                    }
                }
                ControlFlow::Continue(())
            });
            scopes.sort_unstable();
            out.extend(scopes.iter().map(|s| (user.id, s.map(str::to_owned))));
        }
        out
    }

    /// The entries of [`Engine::holders`] for one user: how `user` holds `role` at `at`,
    /// once per scope value, with the paths.
    pub fn holdings(&self, role: RoleId, user: UserId, at: OffsetDateTime) -> Vec<Holder> {
        let mut out = Vec::new();
        if let (Some(r), Some(u)) = (self.present_role(role), self.present_user(user)) {
            self.holdings_of(u, r, at, &mut out);
        }
        out
    }

    /// The user slots a grant of role slot `r` (or of a role mandatorily leading to it) in
    /// force at `at` reaches, directly or through a group and its subtree, sorted by user id
    /// and without repeats.
    fn holder_candidates(&self, r: u32, at: OffsetDateTime) -> Vec<u32> {
        let mut candidates: Vec<u32> = Vec::new();
        for &granted in self.closure.reached_by(r) {
            let grant_slots = self
                .roles
                .get(granted as usize)
                .map(|g| &g.grants[..])
                .unwrap_or_default();
            for grant in grant_slots
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
        candidates
    }

    /// Appends how user slot `u` holds role slot `r` at `at`: an entry per scope value.
    fn holdings_of(&self, u: u32, r: u32, at: OffsetDateTime, out: &mut Vec<Holder>) {
        let Some(user) = self.users.get(u as usize).filter(|u| u.present) else {
            return;
        };
        let mut by_scope: BTreeMap<Option<&str>, Vec<Provenance>> = BTreeMap::new();
        let _ = self.visit(u, at, &mut |held, scope, source, chain| {
            if held == r {
                by_scope
                    .entry(self.scopes.name(scope))
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
            scope: scope.map(str::to_owned),
            paths: tidy(paths),
        }));
    }

    /// The product permissions of every role `user` holds at `at`. An unscoped role's
    /// permissions apply everywhere; a scoped role's apply to its scope value, and a scoped
    /// role held without a value gives nothing.
    pub fn permissions(&self, user: UserId, at: OffsetDateTime) -> PermissionGrants {
        let mut out = PermissionGrants::default();
        let Some(u) = self.present_user(user) else {
            return out;
        };
        let _ = self.visit(u, at, &mut |role, scope, _, _| {
            let Some(rec) = self.roles.get(role as usize) else {
                return ControlFlow::Continue(());
            };
            if !rec.scoped {
                out.unscoped.extend(rec.permissions.iter().copied());
            } else if let Some(s) = self.scopes.name(scope) {
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
        let p = self.present_role(parent)?;
        let c = self.present_role(child)?;
        // Breadth-first from `child` looking for `parent`; children are visited by id, so the
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
            let mut kids: Vec<u32> = self
                .roles
                .get(n as usize)
                .map(|r| {
                    r.edges
                        .iter()
                        .copied()
                        .filter(|&k| self.roles.get(k as usize).is_some_and(|k| k.present))
                        .collect()
                })
                .unwrap_or_default();
            kids.sort_unstable_by_key(|&k| self.role_id(k));
            kids.dedup();
            for k in kids {
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

    /// The present users whose primary group, or a group of one of their secondary
    /// memberships (whatever its window), is one of `groups`: who a change to those
    /// groups can reach. Unknown groups match no one.
    pub fn users_in_groups(&self, groups: &[GroupId]) -> Vec<UserId> {
        let slots: std::collections::HashSet<u32> = groups
            .iter()
            .filter_map(|g| self.groups.index(*g))
            .collect();
        if slots.is_empty() {
            return Vec::new();
        }
        self.users
            .iter()
            .filter(|u| u.present)
            .filter(|u| {
                u.primary.is_some_and(|g| slots.contains(&g))
                    || u.memberships.iter().any(|m| slots.contains(&m.group))
            })
            .map(|u| u.id)
            .collect()
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
        let r = self.present_role(role)?;
        self.roles.get(r as usize).and_then(|r| r.system)
    }

    /// How many users the organisation has.
    pub fn user_count(&self) -> usize {
        self.users.iter().filter(|u| u.present).count()
    }

    /// Whether the user is enabled; unknown -> `None`. The engine itself ignores this flag.
    pub fn user_enabled(&self, user: UserId) -> Option<bool> {
        let u = self.present_user(user)?;
        self.users.get(u as usize).map(|u| u.enabled)
    }

    /// The groups a present user is in at `at`: the primary group (as given,
    /// present or not) and the group of each secondary membership in force at `at`, in the
    /// order they were added; unknown or absent user -> `None`. What rule expressions read
    /// of a user besides the user's own attributes.
    pub fn user_groups(&self, user: UserId, at: OffsetDateTime) -> Option<UserGroups> {
        let u = self.present_user(user)?;
        let rec = self.users.get(u as usize)?;
        Some(UserGroups {
            primary: rec.primary.and_then(|g| self.groups.id(g)),
            secondary: rec
                .memberships
                .iter()
                .filter(|m| in_window(m.starts_at, m.ends_at, at))
                .filter_map(|m| self.groups.id(m.group))
                .collect(),
        })
    }

    /// Calls `f(role, scope, source, chain)` for every path giving user `u` a role at `at`:
    /// each grant in force reaching the user (direct, or through a member group and an active
    /// ancestor walk), expanded over the mandatory closure of its role. Scopes are interned
    /// ids. The same path may be reported twice (e.g. two overlapping memberships of one
    /// group); callers deduplicate.
    pub(crate) fn visit<'s, F>(&'s self, u: u32, at: OffsetDateTime, f: &mut F) -> ControlFlow<()>
    where
        F: FnMut(u32, u32, Source, &'s [RoleId]) -> ControlFlow<()>,
    {
        self.visit_grants(u, at, &mut |source, grant| {
            for reach in self.closure.reach(grant.role) {
                f(
                    reach.role,
                    reach.scope.apply(grant.scope),
                    source,
                    &reach.chain,
                )?;
            }
            ControlFlow::Continue(())
        })
    }

    /// Calls `f(source, grant)` for every grant in force reaching user `u` at `at` (direct,
    /// or through a member group and an active ancestor walk), before expansion over the
    /// closure of its role. The same source may come twice (see [`Engine::visit`]).
    pub(crate) fn visit_grants<'s, F>(
        &'s self,
        u: u32,
        at: OffsetDateTime,
        f: &mut F,
    ) -> ControlFlow<()>
    where
        F: FnMut(Source, &'s GrantRec) -> ControlFlow<()>,
    {
        let Some(user) = self.users.get(u as usize).filter(|u| u.present) else {
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
            f(
                Source::Direct {
                    grant: grant.id,
                    role,
                },
                grant,
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
    fn walk_group<'s, F>(
        &'s self,
        member: u32,
        primary: bool,
        at: OffsetDateTime,
        f: &mut F,
    ) -> ControlFlow<()>
    where
        F: FnMut(Source, &'s GrantRec) -> ControlFlow<()>,
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
                f(source, grant)?;
            }
        }
        ControlFlow::Continue(())
    }
}

/// One path while effective roles are gathered: `key(role, scope)` of the held role, the index
/// of its source, and its chain in the closure.
type RawPath<'a> = (u64, u32, &'a [RoleId]);

/// Removes one occurrence of `x` (order is not kept).
pub(crate) fn remove_one(list: Option<&mut Vec<u32>>, x: u32) {
    if let Some(list) = list
        && let Some(i) = list.iter().position(|&y| y == x)
    {
        list.swap_remove(i);
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
