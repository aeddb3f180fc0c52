//! The wire types of the REST API, shared by the server (which also hands the request types
//! to the service layer as its commands, so that one definition is validated in one place)
//! and by the typed client. JSON is snake_case; instants are RFC 3339.
//!
//! In update requests a field that may be cleared is an `Option<Option<T>>`: absent leaves
//! the value as it is, `null` clears it, a value sets it.

mod approvals;
mod history;
mod preview;
mod requests;
mod responses;
mod reviews;
mod rules;
mod sod;
mod totp;
mod workspaces;

pub use approvals::*;
pub use history::*;
pub use preview::*;
pub use requests::*;
pub use responses::*;
pub use reviews::*;
pub use rules::*;
pub use sod::*;
pub use totp::*;
pub use workspaces::*;

/// Deserialises a present field (even `null`) as `Some(..)`, so that `Option<Option<T>>`
/// tells "absent" from "null".
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}
