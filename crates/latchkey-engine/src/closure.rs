//! The closure of roles over mandatory inheritance: for every role, each role a holder of it
//! also holds, with the chain of roles leading there and how the scope value is carried along.
//! A query expands a grant with one slice lookup instead of walking the inheritance graph per
//! user. It is computed per root role, so a change to the graph recomputes only the roots
//! that can reach the change.
//!
//! Paths are simple (no role twice on one path), which is what makes cyclic data terminate.
//! Every simple path is kept because each is a distinct explanation; on sane data (an acyclic
//! graph a few levels deep) that is a handful per role.

use latchkey_model::{RoleId, ScopeMapping};

use crate::keys::Scopes;

/// How the scope value of the held role follows from the scope of the grant. Scope values are
/// interned ids, 0 standing for none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ScopeFn {
    /// The grant's own scope value (every step mapped the scope with `Same`).
    Keep,
    /// A value fixed by some step (0 for an unscoped role or mapping).
    Fixed(u32),
}

impl ScopeFn {
    #[inline]
    pub(crate) const fn apply(self, granted: u32) -> u32 {
        match self {
            Self::Keep => granted,
            Self::Fixed(v) => v,
        }
    }

    /// This function followed by one inheritance step into a child role.
    fn then(self, mapping: &ScopeMapping, child_scoped: bool, scopes: &mut Scopes) -> Self {
        if !child_scoped {
            return Self::Fixed(0);
        }
        match mapping {
            ScopeMapping::None => Self::Fixed(0),
            ScopeMapping::Same => self,
            ScopeMapping::Fixed(v) => Self::Fixed(scopes.intern(Some(v))),
        }
    }
}

/// A role reached from a granted role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Reach {
    /// Slot of the held role.
    pub(crate) role: u32,
    /// The roles from the granted one down to, not including, `role`.
    pub(crate) chain: Box<[RoleId]>,
    pub(crate) scope: ScopeFn,
}

/// What the closure needs to know about one role slot.
pub(crate) trait RoleGraph {
    fn role_id(&self, role: u32) -> Option<RoleId>;
    fn present(&self, role: u32) -> bool;
    fn scoped(&self, role: u32) -> bool;
    /// Mandatory out-edges `(child, mapping)`, children present or not.
    fn mandatory(&self, role: u32) -> &[(u32, ScopeMapping)];
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RoleClosure {
    /// For each role slot: itself (empty chain, `Keep`) and every role reached by mandatory
    /// edges; empty for an absent role.
    reach: Vec<Box<[Reach]>>,
    /// For each role: the roles whose closure contains it (itself included), sorted, unique.
    reached_by: Vec<Vec<u32>>,
}

impl RoleClosure {
    fn ensure(&mut self, slots: usize) {
        if self.reach.len() < slots {
            self.reach.resize_with(slots, Default::default);
            self.reached_by.resize_with(slots, Vec::new);
        }
    }

    /// Recomputes the closure of `root`; returns whether it changed.
    pub(crate) fn recompute(
        &mut self,
        root: u32,
        slots: usize,
        graph: &impl RoleGraph,
        scopes: &mut Scopes,
    ) -> bool {
        self.ensure(slots);
        let new = compute(root, slots, graph, scopes);
        let Some(old) = self.reach.get(root as usize) else {
            return false;
        };
        if **old == *new {
            return false;
        }
        let mut old_roles: Vec<u32> = old.iter().map(|r| r.role).collect();
        old_roles.dedup();
        let mut new_roles: Vec<u32> = new.iter().map(|r| r.role).collect();
        new_roles.dedup();
        for r in &old_roles {
            if new_roles.binary_search(r).is_err()
                && let Some(list) = self.reached_by.get_mut(*r as usize)
                && let Ok(i) = list.binary_search(&root)
            {
                list.remove(i);
            }
        }
        for r in &new_roles {
            if old_roles.binary_search(r).is_err()
                && let Some(list) = self.reached_by.get_mut(*r as usize)
                && let Err(i) = list.binary_search(&root)
            {
                list.insert(i, root);
            }
        }
        if let Some(slot) = self.reach.get_mut(root as usize) {
            *slot = new;
        }
        true
    }

    #[inline]
    pub(crate) fn reach(&self, role: u32) -> &[Reach] {
        self.reach
            .get(role as usize)
            .map(|r| &r[..])
            .unwrap_or_default()
    }

    pub(crate) fn reached_by(&self, role: u32) -> &[u32] {
        self.reached_by
            .get(role as usize)
            .map(|r| &r[..])
            .unwrap_or_default()
    }
}

/// Depth-first over simple paths from `root`, sorted by role slot (so that reaches of one
/// role are adjacent).
fn compute(root: u32, slots: usize, graph: &impl RoleGraph, scopes: &mut Scopes) -> Box<[Reach]> {
    if !graph.present(root) {
        return Box::new([]);
    }
    let mut out = vec![Reach {
        role: root,
        chain: Box::new([]),
        scope: ScopeFn::Keep,
    }];
    let mut on_path = vec![false; slots];
    // The current path: (role, next edge to try, scope function at that role).
    let mut path: Vec<(u32, usize, ScopeFn)> = vec![(root, 0, ScopeFn::Keep)];
    if let Some(p) = on_path.get_mut(root as usize) {
        *p = true;
    }
    while let Some((node, next, scope)) = path.last_mut() {
        let edges = graph.mandatory(*node);
        let Some((child, mapping)) = edges.get(*next) else {
            if let Some(p) = on_path.get_mut(*node as usize) {
                *p = false;
            }
            path.pop();
            continue;
        };
        *next += 1;
        let child = *child;
        if !graph.present(child) || on_path.get(child as usize).copied().unwrap_or(true) {
            continue;
        }
        let child_scope = scope.then(mapping, graph.scoped(child), scopes);
        let chain: Box<[RoleId]> = path
            .iter()
            .filter_map(|(r, _, _)| graph.role_id(*r))
            .collect();
        out.push(Reach {
            role: child,
            chain,
            scope: child_scope,
        });
        if let Some(p) = on_path.get_mut(child as usize) {
            *p = true;
        }
        path.push((child, 0, child_scope));
    }
    out.sort_unstable();
    out.dedup();
    out.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use latchkey_model::RoleId;

    use super::*;

    struct Graph {
        ids: Vec<RoleId>,
        scoped: Vec<bool>,
        edges: Vec<Vec<(u32, ScopeMapping)>>,
    }

    impl RoleGraph for Graph {
        fn role_id(&self, role: u32) -> Option<RoleId> {
            self.ids.get(role as usize).copied()
        }
        fn present(&self, role: u32) -> bool {
            (role as usize) < self.ids.len()
        }
        fn scoped(&self, role: u32) -> bool {
            self.scoped.get(role as usize).copied().unwrap_or(false)
        }
        fn mandatory(&self, role: u32) -> &[(u32, ScopeMapping)] {
            self.edges
                .get(role as usize)
                .map(Vec::as_slice)
                .unwrap_or_default()
        }
    }

    fn ids(n: u128) -> Vec<RoleId> {
        (1..=n)
            .map(|i| format!("00000000-0000-7000-8000-{i:012x}").parse().unwrap())
            .collect()
    }

    fn closure(g: &Graph, scopes: &mut Scopes) -> RoleClosure {
        let mut c = RoleClosure::default();
        for r in 0..g.ids.len() {
            c.recompute(r as u32, g.ids.len(), g, scopes);
        }
        c
    }

    #[test]
    fn cyclic_edges_terminate_with_simple_paths() {
        let r = ids(3);
        // 0 -> 1 -> 2 -> 0, all Same, all scoped.
        let g = Graph {
            ids: r.clone(),
            scoped: vec![true; 3],
            edges: vec![
                vec![(1, ScopeMapping::Same)],
                vec![(2, ScopeMapping::Same)],
                vec![(0, ScopeMapping::Same)],
            ],
        };
        let c = closure(&g, &mut Scopes::default());
        let from0: Vec<(u32, Vec<RoleId>)> = c
            .reach(0)
            .iter()
            .map(|x| (x.role, x.chain.to_vec()))
            .collect();
        assert_eq!(
            from0,
            vec![(0, vec![]), (1, vec![r[0]]), (2, vec![r[0], r[1]])]
        );
        assert_eq!(c.reached_by(0), &[0, 1, 2]);
    }

    #[test]
    fn scope_functions_compose() {
        // 0 -Fixed(x)-> 1 -Same-> 2 -Same-> 3 where 3 is unscoped.
        let g = Graph {
            ids: ids(4),
            scoped: vec![true, true, true, false],
            edges: vec![
                vec![(1, ScopeMapping::Fixed("x".into()))],
                vec![(2, ScopeMapping::Same)],
                vec![(3, ScopeMapping::Same)],
                vec![],
            ],
        };
        let mut scopes = Scopes::default();
        let c = closure(&g, &mut scopes);
        let gs = scopes.intern(Some("g"));
        let x = scopes.get(Some("x")).unwrap();
        let applied: Vec<u32> = c.reach(0).iter().map(|r| r.scope.apply(gs)).collect();
        assert_eq!(applied, vec![gs, x, x, 0]);
        let from1: Vec<u32> = c.reach(1).iter().map(|r| r.scope.apply(gs)).collect();
        assert_eq!(from1, vec![gs, gs, 0]);
    }

    #[test]
    fn recompute_reports_changes_and_keeps_reached_by() {
        let mut g = Graph {
            ids: ids(2),
            scoped: vec![false; 2],
            edges: vec![vec![], vec![]],
        };
        let mut scopes = Scopes::default();
        let mut c = closure(&g, &mut scopes);
        assert_eq!(c.reached_by(1), &[1]);
        g.edges[0].push((1, ScopeMapping::Same));
        assert!(c.recompute(0, 2, &g, &mut scopes));
        assert!(!c.recompute(0, 2, &g, &mut scopes));
        assert_eq!(c.reached_by(1), &[0, 1]);
        g.edges[0].clear();
        assert!(c.recompute(0, 2, &g, &mut scopes));
        assert_eq!(c.reached_by(1), &[1]);
    }
}
