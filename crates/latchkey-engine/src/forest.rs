//! A forest of nodes linked to their parents, on dense `u32` slots: the shape shared by groups
//! and information systems. It answers ancestor walks and subtree questions without hashing,
//! and changes in place when a node is added, moved or removed.
//!
//! A slot is allocated for every id the forest hears of, present or not: a parent, a primary
//! group or a grantee that does not exist (yet) gets an absent slot, so that when the node
//! arrives everything that pointed at it starts to count, exactly as if it had been in the
//! snapshot from the start. Absent nodes are in no walk and no subtree. Bad data is tolerated:
//! an absent parent makes a root, and a cycle in the parent links is walked around once,
//! never forever.

use std::hash::Hash;

use crate::keys::FastMap;

#[derive(Debug, Clone)]
pub(crate) struct Forest<Id> {
    ids: Vec<Id>,
    index: FastMap<Id, u32>,
    present: Vec<bool>,
    /// The parent each node names, present or not.
    raw_parent: Vec<Option<u32>>,
    /// Every node naming this one as its parent, present or not (unsorted).
    raw_children: Vec<Vec<u32>>,
    /// Present children of each present node, sorted by id so that subtree listings are
    /// deterministic.
    children: Vec<Vec<u32>>,
    /// How many distinct nodes the walk node, parent, grandparent, ... visits before it reaches
    /// a root or would repeat a node (0 for an absent node). Kept so that a walk needs no
    /// visited set.
    walk_len: Vec<u32>,
}

const UNSEEN: u8 = 0;
const ON_STACK: u8 = 1;
const DONE: u8 = 2;

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<Id: Copy + Eq + Hash + Ord> Default for Forest<Id> {
    fn default() -> Self {
        Self {
            ids: Vec::new(),
            index: FastMap::default(),
            present: Vec::new(),
            raw_parent: Vec::new(),
            raw_children: Vec::new(),
            children: Vec::new(),
            walk_len: Vec::new(),
        }
    }
}

impl<Id: Copy + Eq + Hash + Ord> Forest<Id> {
    /// The slot of `id`, allocated (absent) if the forest has not heard of it.
    pub(crate) fn slot(&mut self, id: Id) -> u32 {
        if let Some(&n) = self.index.get(&id) {
            return n;
        }
        let n = to_u32(self.ids.len());
        self.index.insert(id, n);
        self.ids.push(id);
        self.present.push(false);
        self.raw_parent.push(None);
        self.raw_children.push(Vec::new());
        self.children.push(Vec::new());
        self.walk_len.push(0);
        n
    }

    /// Number of slots, present or not.
    pub(crate) fn slots(&self) -> usize {
        self.ids.len()
    }

    /// The slot of a present node.
    #[inline]
    pub(crate) fn index(&self, id: Id) -> Option<u32> {
        self.index.get(&id).copied().filter(|&n| self.is_present(n))
    }

    #[inline]
    pub(crate) fn is_present(&self, node: u32) -> bool {
        self.present.get(node as usize).copied().unwrap_or(false)
    }

    /// The id of any slot.
    #[inline]
    pub(crate) fn id(&self, node: u32) -> Option<Id> {
        self.ids.get(node as usize).copied()
    }

    fn effective_parent(&self, node: u32) -> Option<u32> {
        if !self.is_present(node) {
            return None;
        }
        self.raw_parent
            .get(node as usize)
            .copied()
            .flatten()
            .filter(|&p| self.is_present(p))
    }

    /// Adds a node during a bulk load: no derived structure is maintained until
    /// [`Forest::relink_all`]. Returns `false` (and changes nothing) when the node is already
    /// present, which is how "the first occurrence wins".
    pub(crate) fn load(&mut self, id: Id, parent: Option<Id>) -> bool {
        let n = self.slot(id);
        if self.is_present(n) {
            return false;
        }
        let p = parent.map(|p| self.slot(p));
        self.set_raw_parent(n, p);
        if let Some(x) = self.present.get_mut(n as usize) {
            *x = true;
        }
        true
    }

    fn set_raw_parent(&mut self, n: u32, p: Option<u32>) {
        let old = self.raw_parent.get(n as usize).copied().flatten();
        if old == p {
            return;
        }
        if let Some(list) = old.and_then(|o| self.raw_children.get_mut(o as usize))
            && let Some(i) = list.iter().position(|&c| c == n)
        {
            list.swap_remove(i);
        }
        if let Some(list) = p.and_then(|p| self.raw_children.get_mut(p as usize)) {
            list.push(n);
        }
        if let Some(slot) = self.raw_parent.get_mut(n as usize) {
            *slot = p;
        }
    }

    /// Recomputes children lists and walk lengths from parent links and presence.
    pub(crate) fn relink_all(&mut self) {
        for list in &mut self.children {
            list.clear();
        }
        for n in 0..self.ids.len() {
            let n = to_u32(n);
            if let Some(p) = self.effective_parent(n)
                && let Some(list) = self.children.get_mut(p as usize)
            {
                list.push(n);
            }
        }
        let ids = &self.ids;
        for list in &mut self.children {
            list.sort_unstable_by_key(|&c| ids.get(c as usize).copied());
        }
        self.recompute_walks();
    }

    fn recompute_walks(&mut self) {
        let parents: Vec<Option<u32>> = (0..self.ids.len())
            .map(|n| self.effective_parent(to_u32(n)))
            .collect();
        self.walk_len = walk_lengths(&parents);
        for (len, &present) in self.walk_len.iter_mut().zip(&self.present) {
            if !present {
                *len = 0;
            }
        }
    }

    fn attach(&mut self, n: u32) {
        let Some(p) = self.effective_parent(n) else {
            return;
        };
        let key = self.id(n);
        let ids = &self.ids;
        if let Some(list) = self.children.get_mut(p as usize) {
            let at = list.partition_point(|&c| ids.get(c as usize).copied() < key);
            list.insert(at, n);
        }
    }

    fn detach(&mut self, n: u32) {
        let Some(p) = self.effective_parent(n) else {
            return;
        };
        if let Some(list) = self.children.get_mut(p as usize)
            && let Some(i) = list.iter().position(|&c| c == n)
        {
            list.remove(i);
        }
    }

    /// Adds or moves a node. Returns its slot and whether the shape changed (a new node or
    /// another parent).
    pub(crate) fn upsert(&mut self, id: Id, parent: Option<Id>) -> (u32, bool) {
        let n = self.slot(id);
        let p = parent.map(|p| self.slot(p));
        let was_present = self.is_present(n);
        if was_present && self.raw_parent.get(n as usize).copied().flatten() == p {
            return (n, false);
        }
        self.detach(n);
        self.set_raw_parent(n, p);
        if let Some(x) = self.present.get_mut(n as usize) {
            *x = true;
        }
        self.attach(n);
        if !was_present {
            // Nodes that named this one as parent now hang below it.
            let mut kids: Vec<u32> = self
                .raw_children
                .get(n as usize)
                .map(|k| k.iter().copied().filter(|&c| self.is_present(c)).collect())
                .unwrap_or_default();
            let ids = &self.ids;
            kids.sort_unstable_by_key(|&c| ids.get(c as usize).copied());
            if let Some(list) = self.children.get_mut(n as usize) {
                *list = kids;
            }
        }
        self.recompute_walks();
        (n, true)
    }

    /// Removes a node; its children become roots. Returns its slot if it was present.
    pub(crate) fn remove(&mut self, id: Id) -> Option<u32> {
        let n = self.index(id)?;
        self.detach(n);
        if let Some(x) = self.present.get_mut(n as usize) {
            *x = false;
        }
        if let Some(list) = self.children.get_mut(n as usize) {
            list.clear();
        }
        self.recompute_walks();
        Some(n)
    }

    /// The node itself, then its parent, ... up to a root, each node at most once; nothing
    /// for an absent node.
    #[inline]
    pub(crate) fn ancestors(&self, node: u32) -> Ancestors<'_, Id> {
        let remaining = self.walk_len.get(node as usize).copied().unwrap_or(0);
        Ancestors {
            forest: self,
            next: Some(node),
            remaining,
        }
    }

    /// Present children of a node, sorted by id.
    pub(crate) fn children(&self, node: u32) -> &[u32] {
        self.children
            .get(node as usize)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The node and every descendant, in preorder with siblings sorted by id; nothing for
    /// an absent node.
    pub(crate) fn subtree(&self, node: u32) -> Vec<u32> {
        let mut out = Vec::new();
        if !self.is_present(node) {
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

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.remaining == 0 {
            return None;
        }
        let node = self.next?;
        self.remaining -= 1;
        self.next = self.forest.raw_parent.get(node as usize).copied().flatten();
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
        let mut f = Forest::default();
        for (i, p) in parents.iter().enumerate() {
            f.load(to_u32(i), *p);
        }
        f.relink_all();
        f
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
        let mut f = Forest::default();
        assert!(f.load(7_u32, None));
        assert!(f.load(8, Some(7)));
        assert!(!f.load(7, Some(8)));
        f.relink_all();
        assert_eq!(f.ancestor_ids(8), vec![8, 7]);
        assert!(f.move_creates_cycle(7, 8));
        assert!(f.move_creates_cycle(7, 7));
        assert!(!f.move_creates_cycle(8, 7));
    }

    #[test]
    fn changes_in_place_match_a_fresh_load() {
        // Start from 0 <- 1 <- 2 and 3 naming the absent 9 as parent.
        let mut f = forest(&[None, Some(0), Some(1), Some(9)]);
        // 9 arrives under 2: 3 now hangs below it.
        f.upsert(9, Some(2));
        assert_eq!(f.ancestor_ids(3), vec![3, 9, 2, 1, 0]);
        assert_eq!(f.subtree_ids(1), vec![1, 2, 9, 3]);
        // 1 leaves: 2 becomes a root.
        f.remove(1);
        assert_eq!(f.ancestor_ids(3), vec![3, 9, 2]);
        assert_eq!(f.subtree_ids(0), vec![0]);
        // 1 comes back under 3: a cycle 1 -> 3 -> 9 -> 2 -> 1.
        f.upsert(1, Some(3));
        assert_eq!(f.ancestor_ids(2), vec![2, 1, 3, 9]);
        assert_eq!(f.index(1).and_then(|n| f.id(n)), Some(1));
        // 2 moves under 0: the cycle opens.
        let (_, changed) = f.upsert(2, Some(0));
        assert!(changed);
        assert_eq!(f.ancestor_ids(3), vec![3, 9, 2, 0]);
        let (_, changed) = f.upsert(2, Some(0));
        assert!(!changed);
        assert_eq!(f.subtree_ids(0), vec![0, 2, 9, 3, 1]);
    }
}
