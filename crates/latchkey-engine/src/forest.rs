//! A forest of nodes linked to their parents, on dense `u32` indices: the shape shared by
//! groups and information systems. Built once per snapshot, it answers ancestor walks and
//! subtree questions without hashing. Bad data is tolerated: a parent the forest does not
//! contain makes a root, and a cycle in the parent links is walked around once, never forever.

use std::collections::HashMap;
use std::hash::Hash;

#[derive(Debug)]
pub(crate) struct Forest<Id> {
    ids: Vec<Id>,
    index: HashMap<Id, u32>,
    parent: Vec<Option<u32>>,
    /// Children of each node, sorted by id so that subtree listings are deterministic.
    children: Vec<Vec<u32>>,
    /// How many distinct nodes the walk node, parent, grandparent, ... visits before it reaches
    /// a root or would repeat a node. Precomputed so that a walk needs no visited set.
    walk_len: Vec<u32>,
}

const UNSEEN: u8 = 0;
const ON_STACK: u8 = 1;
const DONE: u8 = 2;

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<Id: Copy + Eq + Hash + Ord> Forest<Id> {
    /// Builds the forest from `(id, parent)` pairs; the first occurrence of an id wins. Also
    /// returns, for each dense index, the position of the pair it came from.
    pub(crate) fn build(nodes: impl IntoIterator<Item = (Id, Option<Id>)>) -> (Self, Vec<usize>) {
        let mut ids = Vec::new();
        let mut index = HashMap::new();
        let mut raw_parents = Vec::new();
        let mut kept = Vec::new();
        for (position, (id, parent)) in nodes.into_iter().enumerate() {
            if index.contains_key(&id) {
                continue;
            }
            index.insert(id, to_u32(ids.len()));
            ids.push(id);
            raw_parents.push(parent);
            kept.push(position);
        }
        let parent: Vec<Option<u32>> = raw_parents
            .iter()
            .map(|p| p.and_then(|p| index.get(&p).copied()))
            .collect();
        let mut children = vec![Vec::new(); ids.len()];
        for (node, p) in parent.iter().enumerate() {
            if let Some(list) = p.and_then(|p| children.get_mut(p as usize)) {
                list.push(to_u32(node));
            }
        }
        for list in &mut children {
            list.sort_unstable_by_key(|&c| ids.get(c as usize).copied());
        }
        let walk_len = walk_lengths(&parent);
        (
            Self {
                ids,
                index,
                parent,
                children,
                walk_len,
            },
            kept,
        )
    }

    pub(crate) fn index(&self, id: Id) -> Option<u32> {
        self.index.get(&id).copied()
    }

    pub(crate) fn id(&self, node: u32) -> Option<Id> {
        self.ids.get(node as usize).copied()
    }

    /// The node itself, then its parent, ... up to a root, each node at most once.
    pub(crate) fn ancestors(&self, node: u32) -> Ancestors<'_, Id> {
        let remaining = self.walk_len.get(node as usize).copied().unwrap_or(0);
        Ancestors {
            forest: self,
            next: Some(node),
            remaining,
        }
    }

    /// The node and every descendant, in preorder with siblings sorted by id.
    pub(crate) fn subtree(&self, node: u32) -> Vec<u32> {
        let mut out = Vec::new();
        if node as usize >= self.ids.len() {
            return out;
        }
        let mut seen = vec![false; self.ids.len()];
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match seen.get_mut(n as usize) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            out.push(n);
            if let Some(kids) = self.children.get(n as usize) {
                stack.extend(kids.iter().rev());
            }
        }
        out
    }

    /// Whether `node` is `root` or below it.
    pub(crate) fn in_subtree(&self, node: u32, root: u32) -> bool {
        self.ancestors(node).any(|a| a == root)
    }

    pub(crate) fn ids_of(&self, nodes: impl IntoIterator<Item = u32>) -> Vec<Id> {
        nodes.into_iter().filter_map(|n| self.id(n)).collect()
    }

    /// Public-facing: ancestors by id, the node first; unknown -> empty.
    pub(crate) fn ancestor_ids(&self, id: Id) -> Vec<Id> {
        self.index(id)
            .map(|n| self.ids_of(self.ancestors(n)))
            .unwrap_or_default()
    }

    /// Public-facing: the subtree by id; unknown -> empty.
    pub(crate) fn subtree_ids(&self, id: Id) -> Vec<Id> {
        self.index(id)
            .map(|n| self.ids_of(self.subtree(n)))
            .unwrap_or_default()
    }

    /// Public-facing: whether `id` is `root` or below it; unknown ids are in no subtree.
    pub(crate) fn id_in_subtree(&self, id: Id, root: Id) -> bool {
        match (self.index(id), self.index(root)) {
            (Some(n), Some(r)) => self.in_subtree(n, r),
            _ => false,
        }
    }

    /// Public-facing: whether making `new_parent` the parent of `id` closes a cycle, that is
    /// whether `new_parent` is `id` or below it.
    pub(crate) fn move_creates_cycle(&self, id: Id, new_parent: Id) -> bool {
        id == new_parent || self.id_in_subtree(new_parent, id)
    }
}

/// See [`Forest::ancestors`].
pub(crate) struct Ancestors<'a, Id> {
    forest: &'a Forest<Id>,
    next: Option<u32>,
    remaining: u32,
}

impl<Id> Iterator for Ancestors<'_, Id> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.remaining == 0 {
            return None;
        }
        let node = self.next?;
        self.remaining -= 1;
        self.next = self.forest.parent.get(node as usize).copied().flatten();
        Some(node)
    }
}

/// For each node, the number of distinct nodes on its walk to the root. The parent links form
/// a functional graph: a walk ends at a root, or runs into a cycle, in which case it covers
/// its tail plus the whole cycle once. Linear time.
fn walk_lengths(parent: &[Option<u32>]) -> Vec<u32> {
    let n = parent.len();
    let mut len = vec![0_u32; n];
    let mut state = vec![UNSEEN; n];
    let mut stack_pos = vec![0_u32; n];
    let mut stack: Vec<u32> = Vec::new();
    for start in 0..n {
        if state.get(start).copied() != Some(UNSEEN) {
            continue;
        }
        stack.clear();
        let mut cur = Some(to_u32(start));
        // Follow parent links until a root, a finished node, or a node on the current stack.
        let mut cycle_from = None;
        while let Some(c) = cur {
            let ci = c as usize;
            match state.get(ci).copied() {
                Some(UNSEEN) => {}
                Some(ON_STACK) => {
                    cycle_from = stack_pos.get(ci).copied();
                    break;
                }
                _ => break,
            }
            if let Some(s) = state.get_mut(ci) {
                *s = ON_STACK;
            }
            if let Some(p) = stack_pos.get_mut(ci) {
                *p = to_u32(stack.len());
            }
            stack.push(c);
            cur = parent.get(ci).copied().flatten();
        }
        if let Some(from) = cycle_from {
            let cycle = stack.split_off(from as usize);
            let cycle_len = to_u32(cycle.len());
            for c in cycle {
                if let Some(l) = len.get_mut(c as usize) {
                    *l = cycle_len;
                }
                if let Some(s) = state.get_mut(c as usize) {
                    *s = DONE;
                }
            }
        }
        while let Some(c) = stack.pop() {
            let ci = c as usize;
            let above = parent
                .get(ci)
                .copied()
                .flatten()
                .and_then(|p| len.get(p as usize).copied())
                .unwrap_or(0);
            if let Some(l) = len.get_mut(ci) {
                *l = above.saturating_add(1);
            }
            if let Some(s) = state.get_mut(ci) {
                *s = DONE;
            }
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forest(parents: &[Option<u32>]) -> Forest<u32> {
        let nodes = parents.iter().enumerate().map(|(i, p)| (to_u32(i), *p));
        Forest::build(nodes).0
    }

    fn ancestors(f: &Forest<u32>, n: u32) -> Vec<u32> {
        f.ancestors(n).collect()
    }

    #[test]
    fn walks_stop_at_roots_and_unknown_parents() {
        // 0 <- 1 <- 2, 3 has a parent that does not exist.
        let f = forest(&[None, Some(0), Some(1), Some(99)]);
        assert_eq!(ancestors(&f, 2), vec![2, 1, 0]);
        assert_eq!(ancestors(&f, 3), vec![3]);
        assert_eq!(f.subtree(0), vec![0, 1, 2]);
        assert!(f.in_subtree(2, 0));
        assert!(!f.in_subtree(0, 2));
        assert!(ancestors(&f, 42).is_empty());
        assert!(f.subtree(42).is_empty());
    }

    #[test]
    fn cycles_are_walked_once() {
        // 0 -> 1 -> 2 -> 1 (cycle of 1 and 2 with a tail 0); 3 is its own parent.
        let f = forest(&[Some(1), Some(2), Some(1), Some(3)]);
        assert_eq!(ancestors(&f, 0), vec![0, 1, 2]);
        assert_eq!(ancestors(&f, 1), vec![1, 2]);
        assert_eq!(ancestors(&f, 2), vec![2, 1]);
        assert_eq!(ancestors(&f, 3), vec![3]);
        assert_eq!(f.subtree(1), vec![1, 0, 2]);
        assert_eq!(f.subtree(3), vec![3]);
    }

    #[test]
    fn first_occurrence_wins() {
        let (f, kept) = Forest::build([(7_u32, None), (8, Some(7)), (7, Some(8))]);
        assert_eq!(f.ids.len(), 2);
        assert_eq!(kept, vec![0, 1]);
        assert_eq!(f.ancestor_ids(8), vec![8, 7]);
        assert!(f.move_creates_cycle(7, 8));
        assert!(f.move_creates_cycle(7, 7));
        assert!(!f.move_creates_cycle(8, 7));
    }
}
