//! The changes the directory makes, one committed write at a time, in the form
//! [`crate::Engine::apply`] absorbs them. Each names its object by id and carries the object's
//! new state whole (an upsert), or names what goes (a removal), so that applying the change
//! log in revision order leaves the engine exactly as [`crate::Engine::build`] would from a
//! snapshot of the directory at that revision.

use latchkey_model::{GrantId, GroupId, MembershipId, RoleId, SystemId, UserId};

use crate::snapshot::{
    GrantEdge, GroupNode, InheritanceEdge, MembershipEdge, RoleNode, SystemNode, UserNode,
};

/// A secondary membership with the id the directory gave it, so that it can be changed or
/// removed on its own (a user may be in one group through several memberships with different
/// windows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: MembershipId,
    pub edge: MembershipEdge,
}

/// One change to the entitlement graph.
///
/// Upserts replace the object with the same id (for inheritance, the edge with the same
/// parent and child). Removing something unknown does nothing. A change may name objects the
/// engine does not know (a membership of a user not yet created, a grant of a removed role):
/// such references are kept and start to count if and when the object arrives, as they would
/// in a snapshot holding the same rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    UpsertGroup(GroupNode),
    RemoveGroup(GroupId),
    UpsertSystem(SystemNode),
    RemoveSystem(SystemId),
    UpsertUser(UserNode),
    RemoveUser(UserId),
    /// Adds a membership, or replaces the one with the same id (its user, group or window).
    AddMembership(Membership),
    RemoveMembership(MembershipId),
    UpsertRole(RoleNode),
    RemoveRole(RoleId),
    /// Adds the edge, or replaces the one with the same parent and child.
    AddInheritance(InheritanceEdge),
    RemoveInheritance {
        parent: RoleId,
        child: RoleId,
    },
    /// Adds or replaces a grant; a grant that no longer confers (`confers == false`) is kept
    /// but gives nothing, exactly like a revoked or pending one in a snapshot.
    UpsertGrant(GrantEdge),
    RemoveGrant(GrantId),
}
