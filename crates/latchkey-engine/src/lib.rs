//! The pure entitlement engine of Latchkey: a [`Snapshot`] of one organisation (groups,
//! systems, users, memberships, roles, inheritance, grants) is compiled by [`Engine::build`]
//! into dense indices, then answers, for any instant passed as an argument, who holds what and
//! exactly why: effective roles with provenance, holders of a role, product permissions, and
//! the structural checks the service needs before a write (inheritance and tree cycles).
//! [`Engine::apply`] absorbs the directory's changes one at a time, in place, recomputing only
//! what each change affects.
//!
//! **Invariants:** no I/O, no clock, no panic whatever the data (dangling ids, duplicates
//! and cycles are tolerated; what cannot be resolved is ignored until it can be), and a denial
//! is an answer (`false`, `None`, empty), never an error. Time windows are start-inclusive and
//! end-exclusive everywhere.
//!
//! # Fast checks and time: the cache contract
//!
//! [`Engine::check`] and [`Engine::check_permission`] answer from sets kept per group (what
//! members receive through it) and per user (their own grants), computed for one *cache
//! instant*. Results are not kept per user × role: a grant to a group touches the sets of that
//! group's subtree, however many users are below it.
//!
//! - The caches start cold. [`Engine::advance_to`]`(now)` warms them; until then every check
//!   takes the exact path ([`Engine::holds`]), which is correct, just slower.
//! - The sets are right for every instant of the *cached interval*: from the last grant or
//!   group window boundary at or before the cache instant to the next one after it
//!   (memberships are evaluated at question time and do not bound it). A check at an instant
//!   outside that interval — in the past, or after the next boundary — falls back to the
//!   exact path. [`Engine::caches_cover`] tells which applies.
//! - A scheduler keeps checks fast by calling [`Engine::advance_to`] at
//!   [`Engine::next_transition_after`]`(now)` (the next instant at which any grant,
//!   membership or group window starts or ends), or simply with the current instant now and
//!   then; advancing re-derives only what the crossed boundaries touch.
//! - [`Engine::apply`] keeps warm caches right at the cache instant; the engine never reads a
//!   clock, so "now" is always the caller's.
//!
//! Every other question (`effective_roles`, `explain`, `holders`, `permissions`) is computed
//! exactly at the instant asked; `explain` uses the caches only to reject quickly.

mod apply;
mod cache;
mod change;
mod closure;
mod engine;
mod forest;
mod hot;
mod keys;
mod output;
pub mod rules;
mod snapshot;
pub mod sod;
pub mod workspace;

pub use change::{Change, Membership};
pub use engine::{Engine, UserGroups};
pub use output::{EffectiveRole, Holder, PermissionGrants, Provenance, Source};
pub use snapshot::{
    GrantEdge, GroupNode, InheritanceEdge, MembershipEdge, RoleNode, Snapshot, SystemNode,
    UserNode, in_window,
};
pub use sod::{HeldRoles, RoleSet, SodIndex, WhatIf};
