//! [`Engine::apply`]: one directory change absorbed in place. Each change touches the records
//! it names and re-derives only the caches it can affect:
//!
//! - a grant to a group adds or subtracts its keys in the grantee's active subtree (no set
//!   is rebuilt); a grant to a user re-derives that user's own set;
//! - a membership or user change touches that user's links only (memberships are evaluated
//!   at question time);
//! - a group change (move, disable, window) re-derives the sets of its subtree, before and
//!   after;
//! - a role or inheritance change recomputes the closure of the roles that can reach it,
//!   then re-derives the sets of the groups and users holding grants of roles whose closure
//!   moved.

use latchkey_model::{GroupId, RoleId, SystemId};

use crate::change::Change;
use crate::engine::{Engine, RoleView, Target};
use crate::snapshot::{GrantEdge, GroupNode, RoleNode, UserNode};

impl Engine {
    /// Absorbs one change, leaving the engine as [`Engine::build`] would from a snapshot
    /// with the change made. Never panics: unknown ids are remembered, not rejected.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::UpsertGroup(g) => self.upsert_group(g),
            Change::RemoveGroup(id) => self.remove_group(*id),
            Change::UpsertSystem(s) => {
                self.systems.upsert(s.id, s.parent);
            }
            Change::RemoveSystem(id) => self.remove_system(*id),
            Change::UpsertUser(u) => self.upsert_user(u),
            Change::RemoveUser(id) => {
                if let Some(u) = self.present_user(*id) {
                    self.unset_user(u);
                }
            }
            Change::AddMembership(m) => {
                self.unlink_membership(m.id);
                self.link_membership(Some(m.id), &m.edge);
            }
            Change::RemoveMembership(id) => self.unlink_membership(*id),
            Change::UpsertRole(r) => self.upsert_role(r),
            Change::RemoveRole(id) => self.remove_role(*id),
            Change::AddInheritance(e) => {
                let p = self.role_slot(e.parent);
                let c = self.role_slot(e.child);
                let before = self.unlink_edges(p, c);
                self.link_edge(p, c, e.mandatory, &e.scope);
                let after: Vec<_> = self
                    .roles
                    .get(p as usize)
                    .map(|r| {
                        r.mandatory
                            .iter()
                            .filter(|(x, _)| *x == c)
                            .map(|(_, m)| m.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                if before != after {
                    self.roles_changed(p);
                }
            }
            Change::RemoveInheritance { parent, child } => {
                if let (Some(&p), Some(&c)) =
                    (self.role_index.get(parent), self.role_index.get(child))
                    && !self.unlink_edges(p, c).is_empty()
                {
                    self.roles_changed(p);
                }
            }
            Change::UpsertGrant(g) => self.upsert_grant(g),
            Change::RemoveGrant(id) => {
                if let Some(&slot) = self.grant_index.get(id) {
                    let mut dirty = Vec::new();
                    self.retire_grant(slot, &mut dirty);
                    self.rederive_users(dirty);
                }
            }
        }
        self.refresh_interval();
    }

    fn remove_system(&mut self, id: SystemId) {
        self.systems.remove(id);
    }

    fn upsert_group(&mut self, node: &GroupNode) {
        let n = self.group_slot(node.id);
        let was_present = self.groups.is_present(n);
        let at = self.cache.at;
        let mut old_subtree = Vec::new();
        let mut was_active = false;
        if was_present && let Some(rec) = self.group_recs.get(n as usize) {
            was_active = at.is_some_and(|t| rec.active_at(t));
            self.timeline
                .remove_group(n, rec.active_since, rec.active_until);
            old_subtree = self.groups.subtree(n);
        }
        if let Some(rec) = self.group_recs.get_mut(n as usize) {
            rec.disabled = node.disabled;
            rec.active_since = node.active_since;
            rec.active_until = node.active_until;
        }
        self.timeline
            .add_group(n, node.active_since, node.active_until);
        let (_, moved) = self.groups.upsert(node.id, node.parent);
        let is_active = at.is_some_and(|t| {
            self.group_recs
                .get(n as usize)
                .is_some_and(|r| r.active_at(t))
        });
        if moved || was_active != is_active {
            old_subtree.extend(self.groups.subtree(n));
            self.rederive_groups(old_subtree);
        }
    }

    fn remove_group(&mut self, id: GroupId) {
        let Some(n) = self.groups.index(id) else {
            return;
        };
        let subtree = self.groups.subtree(n);
        if let Some(rec) = self.group_recs.get(n as usize) {
            self.timeline
                .remove_group(n, rec.active_since, rec.active_until);
        }
        self.groups.remove(id);
        self.rederive_groups(subtree);
    }

    fn upsert_user(&mut self, node: &UserNode) {
        let u = self.user_slot(node.id);
        self.unset_user(u);
        self.set_user(u, node.primary_group, node.enabled);
        self.rederive_users(vec![u]);
    }

    fn upsert_role(&mut self, node: &RoleNode) {
        let r = self.role_slot(node.id);
        let (was_present, was_scoped) = self
            .roles
            .get(r as usize)
            .map_or((false, false), |rec| (rec.present, rec.scoped));
        self.set_role(r, node);
        if !was_present || was_scoped != node.scoped {
            self.roles_changed(r);
        }
    }

    fn remove_role(&mut self, id: RoleId) {
        let Some(r) = self.present_role(id) else {
            return;
        };
        self.unindex_permissions(r);
        if let Some(rec) = self.roles.get_mut(r as usize) {
            rec.present = false;
        }
        self.roles_changed(r);
    }

    /// Something about role `x` that the closure depends on changed (its presence, its scoped
    /// flag, its mandatory out-edges): recompute the closure of every role that can reach
    /// it over mandatory edges (present or not, a superset), then re-derive the caches of
    /// every grant of a role whose closure moved.
    fn roles_changed(&mut self, x: u32) {
        let slots = self.roles.len();
        let mut seen = vec![false; slots];
        let mut todo = vec![x];
        let mut affected = Vec::new();
        while let Some(r) = todo.pop() {
            match seen.get_mut(r as usize) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            affected.push(r);
            if let Some(rec) = self.roles.get(r as usize) {
                todo.extend_from_slice(&rec.mandatory_in);
            }
        }
        let mut moved = Vec::new();
        for r in affected {
            if self
                .closure
                .recompute(r, slots, &RoleView(&self.roles), &mut self.scopes)
            {
                moved.push(r);
            }
        }
        if self.cache.at.is_none() {
            return;
        }
        let mut dirty_groups = Vec::new();
        let mut dirty_users = Vec::new();
        for r in moved {
            let grants = self
                .roles
                .get(r as usize)
                .map(|rec| rec.grants.as_slice())
                .unwrap_or_default();
            for &g in grants {
                match self.grants.get(g as usize).map(|g| g.target) {
                    Some(Target::User(u)) => dirty_users.push(u),
                    Some(Target::Group(gr)) => dirty_groups.extend(self.groups.subtree(gr)),
                    None => {}
                }
            }
        }
        self.rederive_groups(dirty_groups);
        self.rederive_users(dirty_users);
    }

    fn upsert_grant(&mut self, edge: &GrantEdge) {
        let slot = self.grant_slot(edge.id);
        let mut dirty = Vec::new();
        self.retire_grant(slot, &mut dirty);
        self.set_grant(slot, edge);
        if self.in_force_now(slot) {
            match self.grants.get(slot as usize).map(|g| g.target) {
                Some(Target::User(u)) => dirty.push(u),
                Some(Target::Group(_)) => self.group_grant_delta(slot, true),
                None => {}
            }
        }
        self.rederive_users(dirty);
    }

    /// Takes a live grant out of the caches and the lists; users whose own set must be
    /// re-derived afterwards are pushed on `dirty`.
    fn retire_grant(&mut self, slot: u32, dirty: &mut Vec<u32>) {
        let Some(rec) = self.grants.get(slot as usize) else {
            return;
        };
        if !rec.live {
            return;
        }
        if self.in_force_now(slot) {
            match rec.target {
                Target::User(u) => dirty.push(u),
                Target::Group(_) => self.group_grant_delta(slot, false),
            }
        }
        self.unlink_grant(slot);
    }
}
