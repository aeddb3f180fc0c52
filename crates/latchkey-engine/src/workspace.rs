//! Folder visibility in a workspace: the one rule every read of workspace content obeys.
//!
//! A reader (a member at their role, or a key at its role) sees a folder when the reader's
//! role is at or above the folder's *effective* minimum role: the highest minimum role
//! along the folder and its ancestors, so a folder is never more visible than its parent.
//! The public read API reads at [`PUBLIC_READER`] (agent-only), which sees exactly the
//! folders that are workspace-visible all the way up.
//!
//! [`FolderTree`] computes effective roles for a whole workspace with dense indices; the
//! service stores them on the folder rows, so that listing queries filter by the same rule
//! in SQL (`effective_rank <= reader_rank`) and single reads ask [`sees`].
//!
//! Like the rest of the engine: no I/O, no panic whatever the data. A dangling parent is
//! treated as no parent; folders caught in a cycle (which the service never writes) see
//! their cycle's strictest role.

use std::collections::HashMap;

use latchkey_model::{FolderId, MemberRole};

/// The role the public read API reads with: only folders visible to every member.
pub const PUBLIC_READER: MemberRole = MemberRole::AgentOnly;

/// Whether a reader at `reader` sees a folder whose effective minimum role is `effective`.
#[inline]
pub fn sees(reader: MemberRole, effective: MemberRole) -> bool {
    reader >= effective
}

/// One folder as the tree needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderNode {
    pub id: FolderId,
    pub parent: Option<FolderId>,
    /// The role the folder itself requires (agent-only for a workspace-visible folder).
    pub own: MemberRole,
}

/// A workspace's folders with their effective minimum roles.
#[derive(Debug, Clone, Default)]
pub struct FolderTree {
    index: HashMap<FolderId, u32>,
    ids: Vec<FolderId>,
    parent: Vec<Option<u32>>,
    effective: Vec<MemberRole>,
}

impl FolderTree {
    pub fn build(nodes: &[FolderNode]) -> FolderTree {
        let mut index = HashMap::with_capacity(nodes.len());
        let mut ids = Vec::with_capacity(nodes.len());
        for n in nodes {
            let Ok(next) = u32::try_from(ids.len()) else {
                break;
            };
            if let std::collections::hash_map::Entry::Vacant(slot) = index.entry(n.id) {
                slot.insert(next);
                ids.push(n.id);
            }
        }
        let mut own = vec![MemberRole::AgentOnly; ids.len()];
        let mut parent = vec![None; ids.len()];
        for n in nodes {
            if let Some(&i) = index.get(&n.id) {
                own[i as usize] = n.own;
                parent[i as usize] = n.parent.and_then(|p| index.get(&p).copied());
            }
        }
        // Resolve each folder by walking up to the first resolved ancestor, then fill the
        // walked path downwards. Every folder is walked once; a cycle is closed with the
        // strictest role on it.
        let mut effective: Vec<Option<MemberRole>> = vec![None; ids.len()];
        let mut on_path = vec![false; ids.len()];
        let mut path = Vec::new();
        for start in 0..ids.len() {
            if effective[start].is_some() {
                continue;
            }
            path.clear();
            let mut at = Some(start);
            let mut above = MemberRole::AgentOnly;
            while let Some(i) = at {
                if let Some(e) = effective[i] {
                    above = e;
                    break;
                }
                if on_path[i] {
                    // A cycle: its members see the strictest role on the whole path.
                    above = path
                        .iter()
                        .map(|&j: &usize| own[j])
                        .max()
                        .unwrap_or(MemberRole::AgentOnly);
                    break;
                }
                on_path[i] = true;
                path.push(i);
                at = parent[i].map(|p| p as usize);
            }
            for &i in path.iter().rev() {
                above = above.max(own[i]);
                effective[i] = Some(above);
                on_path[i] = false;
            }
        }
        FolderTree {
            index,
            ids,
            parent,
            effective: effective
                .into_iter()
                .map(|e| e.unwrap_or(MemberRole::Owner))
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The folder's effective minimum role; `None` for a folder not in the tree.
    #[inline]
    pub fn effective(&self, folder: FolderId) -> Option<MemberRole> {
        self.index.get(&folder).map(|&i| self.effective[i as usize])
    }

    /// Whether `reader` sees `folder`; a folder not in the tree is seen by no one.
    #[inline]
    pub fn visible(&self, reader: MemberRole, folder: FolderId) -> bool {
        self.effective(folder).is_some_and(|e| sees(reader, e))
    }

    /// Every folder with its effective minimum role.
    pub fn all(&self) -> impl Iterator<Item = (FolderId, MemberRole)> + '_ {
        self.ids.iter().copied().zip(self.effective.iter().copied())
    }

    /// Whether making `new_parent` the parent of `folder` would put `folder` below itself.
    pub fn would_cycle(&self, folder: FolderId, new_parent: FolderId) -> bool {
        let Some(&target) = self.index.get(&folder) else {
            return false;
        };
        let mut at = self.index.get(&new_parent).copied();
        let mut steps = 0;
        while let Some(i) = at {
            if i == target || steps > self.ids.len() {
                return true;
            }
            steps += 1;
            at = self.parent[i as usize];
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_model::MemberRole::*;
    use proptest::prelude::*;

    fn id(n: u128) -> FolderId {
        FolderId::from_uuid(uuid::Uuid::from_u128(n))
    }

    fn node(n: u128, parent: Option<u128>, own: MemberRole) -> FolderNode {
        FolderNode {
            id: id(n),
            parent: parent.map(id),
            own,
        }
    }

    #[test]
    fn a_folder_is_never_more_visible_than_its_parent() {
        let tree = FolderTree::build(&[
            node(3, Some(2), AgentOnly),
            node(1, None, AgentOnly),
            node(2, Some(1), Editor),
            node(4, Some(3), Admin),
            node(5, Some(99), Viewer),
        ]);
        assert_eq!(tree.effective(id(1)), Some(AgentOnly));
        assert_eq!(tree.effective(id(2)), Some(Editor));
        assert_eq!(tree.effective(id(3)), Some(Editor));
        assert_eq!(tree.effective(id(4)), Some(Admin));
        // A dangling parent counts as none.
        assert_eq!(tree.effective(id(5)), Some(Viewer));
        assert!(tree.visible(Editor, id(3)));
        assert!(!tree.visible(Viewer, id(3)));
        assert!(tree.visible(PUBLIC_READER, id(1)));
        assert!(!tree.visible(PUBLIC_READER, id(5)));
        assert!(!tree.visible(Owner, id(42)));
        assert!(tree.would_cycle(id(1), id(4)));
        assert!(tree.would_cycle(id(2), id(2)));
        assert!(!tree.would_cycle(id(4), id(1)));
    }

    #[test]
    fn cycles_are_closed_with_their_strictest_role() {
        let tree = FolderTree::build(&[
            node(1, Some(2), Viewer),
            node(2, Some(1), Admin),
            node(3, Some(1), AgentOnly),
        ]);
        assert_eq!(tree.effective(id(1)), Some(Admin));
        assert_eq!(tree.effective(id(2)), Some(Admin));
        assert_eq!(tree.effective(id(3)), Some(Admin));
    }

    fn role() -> impl Strategy<Value = MemberRole> {
        prop::sample::select(MemberRole::ALL.to_vec())
    }

    proptest! {
        /// The effective role is the maximum along the ancestry, computed naively.
        #[test]
        fn effective_is_the_strictest_on_the_way_up(
            parents in prop::collection::vec((0usize..40, role()), 1..40)
        ) {
            // Folder i's parent is some j < i (a forest), or none when j >= i.
            let nodes: Vec<FolderNode> = parents
                .iter()
                .enumerate()
                .map(|(i, &(p, own))| node(i as u128, (p < i).then_some(p as u128), own))
                .collect();
            let tree = FolderTree::build(&nodes);
            for (i, n) in nodes.iter().enumerate() {
                let mut expected = n.own;
                let mut at = n.parent;
                while let Some(p) = at {
                    let pn = nodes.iter().find(|m| m.id == p).copied();
                    prop_assert!(pn.is_some());
                    let Some(pn) = pn else { break };
                    expected = expected.max(pn.own);
                    at = pn.parent;
                }
                prop_assert_eq!(tree.effective(id(i as u128)), Some(expected));
                for r in MemberRole::ALL {
                    prop_assert_eq!(tree.visible(r, id(i as u128)), r >= expected);
                }
            }
        }
    }
}
