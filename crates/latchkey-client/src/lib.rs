//! A typed async client of Latchkey's REST API (`/api/v1`), shared by the `latchkey` command
//! line and by the server's end-to-end tests. It speaks the wire types of `latchkey-api` and
//! the entities of `latchkey-model`, and can be pointed at any base URL.
//!
//! [`Client`] has one method per endpoint, built on a few generic helpers (`list`,
//! `list_all`, `get`, `create`, `update`, `delete`) that are public too, so that a caller can
//! reach an endpoint this crate does not name yet. Every failure is a [`ClientError`]: the
//! server's problem document, a transport failure naming the URL, or an undecodable answer.

mod approvals;
mod client;
mod endpoints;
mod error;
mod history;
mod items;
mod passkeys;
mod query;
mod reviews;
mod rules;
mod sod;
mod totp;
mod workspaces;

pub use approvals::ApprovalFilter;
pub use client::Client;
pub use endpoints::{ApiTokenView, ImportKind, InvitationFilter};
pub use error::ClientError;
pub use query::{
    AttributeFilter, AuditFilter, DocumentFilter, GrantFilter, GroupFilter, MembershipFilter,
    NoFilter, Order, Page, RoleFilter, SecurityAlertFilter, SecurityEventFilter, SystemFilter,
    UserFilter,
};
pub use reviews::ReviewItemFilter;
pub use sod::SodRuleFilter;
