//! The closure of roles over mandatory inheritance, computed once per build: for every role,
//! each role a holder of it also holds, with the chain of roles leading there and how the
//! scope value is carried along. A query then expands a grant with one slice lookup instead
//! of walking the inheritance graph per user.
//!
//! Paths are simple (no role twice on one path), which is what makes cyclic data terminate.
//! Every simple path is kept because each is a distinct explanation; on sane data (an acyclic
//! graph a few levels deep) that is a handful per role.

use latchkey_model::{RoleId, ScopeMapping};

/// How the scope value of the held role follows from the scope of the grant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ScopeFn {
    /// The grant's own scope value (every step mapped the scope with `Same`).
    Keep,
    /// A value fixed by some step: `Fixed(v)`, or `None` for an unscoped role or mapping.
    Fixed(Option<String>),
}

impl ScopeFn {
    pub(crate) fn apply<'a>(&'a self, granted: Option<&'a str>) -> Option<&'a str> {
        match self {
            Self::Keep => granted,
            Self::Fixed(v) => v.as_deref(),
        }
    }

    /// This function followed by one inheritance step into a child role.
    fn then(&self, mapping: &ScopeMapping, child_scoped: bool) -> Self {
        if !child_scoped {
            return Self::Fixed(None);
        }
        match mapping {
            ScopeMapping::None => Self::Fixed(None),
            ScopeMapping::Same => self.clone(),
            ScopeMapping::Fixed(v) => Self::Fixed(Some(v.clone())),
        }
    }
}

/// A role reached from a granted role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Reach {
    /// Dense index of the held role.
    pub(crate) role: u32,
    /// The roles from the granted one down to, not including, `role`.
    pub(crate) chain: Box<[RoleId]>,
    pub(crate) scope: ScopeFn,
}

#[derive(Debug, Default)]
pub(crate) struct RoleClosure {
    /// For each role: itself (empty chain, `Keep`) and every role reached by mandatory edges.
    reach: Vec<Box<[Reach]>>,
    /// For each role: the roles whose closure contains it (itself included), sorted, unique.
    reached_by: Vec<Box<[u32]>>,
}

impl RoleClosure {
    /// `role_ids[i]` and `scoped[i]` describe role `i`; `mandatory[i]` lists its mandatory
    /// out-edges `(child, mapping)`, all indices in range.
    pub(crate) fn build(
        role_ids: &[RoleId],
        scoped: &[bool],
        mandatory: &[Vec<(u32, ScopeMapping)>],
    ) -> Self {
        let n = role_ids.len();
        let mut reach = Vec::with_capacity(n);
        let mut reached_by: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut on_path = vec![false; n];
        for root in 0..n {
            let root_u32 = u32::try_from(root).unwrap_or(u32::MAX);
            let mut out = vec![Reach {
                role: root_u32,
                chain: Box::new([]),
                scope: ScopeFn::Keep,
            }];
            // Depth-first over simple paths with an explicit stack: (role, next edge, scope).
            let mut path: Vec<(u32, usize, ScopeFn)> = vec![(root_u32, 0, ScopeFn::Keep)];
            if let Some(p) = on_path.get_mut(root) {
                *p = true;
            }
            while let Some((node, next, scope)) = path.last_mut() {
                let edges = mandatory
                    .get(*node as usize)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let Some((child, mapping)) = edges.get(*next) else {
                    if let Some(p) = on_path.get_mut(*node as usize) {
                        *p = false;
                    }
                    path.pop();
                    continue;
                };
                *next += 1;
                let child = *child;
                if on_path.get(child as usize).copied().unwrap_or(true) {
                    continue;
                }
                let child_scope = scope.then(
                    mapping,
                    scoped.get(child as usize).copied().unwrap_or(false),
                );
                let chain: Box<[RoleId]> = path
                    .iter()
                    .filter_map(|(r, _, _)| role_ids.get(*r as usize).copied())
                    .collect();
                out.push(Reach {
                    role: child,
                    chain,
                    scope: child_scope.clone(),
                });
                if let Some(p) = on_path.get_mut(child as usize) {
                    *p = true;
                }
                path.push((child, 0, child_scope));
            }
            out.sort_unstable();
            out.dedup();
            for r in &out {
                if let Some(list) = reached_by.get_mut(r.role as usize)
                    && list.last() != Some(&root_u32)
                {
                    list.push(root_u32);
                }
            }
            reach.push(out.into_boxed_slice());
        }
        Self {
            reach,
            reached_by: reached_by.into_iter().map(Vec::into_boxed_slice).collect(),
        }
    }

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

#[cfg(test)]
mod tests {
    use latchkey_model::RoleId;

    use super::*;

    fn ids(n: u128) -> Vec<RoleId> {
        (1..=n)
            .map(|i| format!("00000000-0000-7000-8000-{i:012x}").parse().unwrap())
            .collect()
    }

    #[test]
    fn cyclic_edges_terminate_with_simple_paths() {
        let r = ids(3);
        // 0 -> 1 -> 2 -> 0, all Same, all scoped.
        let edges = vec![
            vec![(1, ScopeMapping::Same)],
            vec![(2, ScopeMapping::Same)],
            vec![(0, ScopeMapping::Same)],
        ];
        let c = RoleClosure::build(&r, &[true; 3], &edges);
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
        let r = ids(4);
        // 0 -Fixed(x)-> 1 -Same-> 2 -Same-> 3 where 3 is unscoped.
        let edges = vec![
            vec![(1, ScopeMapping::Fixed("x".into()))],
            vec![(2, ScopeMapping::Same)],
            vec![(3, ScopeMapping::Same)],
            vec![],
        ];
        let c = RoleClosure::build(&r, &[true, true, true, false], &edges);
        let scopes: Vec<Option<&str>> = c
            .reach(0)
            .iter()
            .map(|x| x.scope.apply(Some("g")))
            .collect();
        assert_eq!(scopes, vec![Some("g"), Some("x"), Some("x"), None]);
        let from1: Vec<Option<&str>> = c
            .reach(1)
            .iter()
            .map(|x| x.scope.apply(Some("g")))
            .collect();
        assert_eq!(from1, vec![Some("g"), Some("g"), None]);
    }
}
