//! The pure entitlement engine of Latchkey: a [`Snapshot`] of one organisation (groups,
//! systems, users, memberships, roles, inheritance, grants) is compiled by [`Engine::build`]
//! into dense indices, then answers, for any instant passed as an argument, who holds what and
//! exactly why: effective roles with provenance, holders of a role, product permissions, and
//! the structural checks the service needs before a write (inheritance and tree cycles).
//!
//! **Invariants:** no I/O, no clock, no panic whatever the data (dangling ids, duplicates
//! and cycles are tolerated; what cannot be resolved is ignored), and a denial is an answer
//! (`false`, `None`, empty), never an error. Time windows are start-inclusive and
//! end-exclusive everywhere.

mod closure;
mod engine;
mod forest;
mod output;
mod snapshot;

pub use engine::Engine;
pub use output::{EffectiveRole, Holder, PermissionGrants, Provenance, Source};
pub use snapshot::{
    GrantEdge, GroupNode, InheritanceEdge, MembershipEdge, RoleNode, Snapshot, SystemNode,
    UserNode, in_window,
};
