//! Access history: snapshots of who held what at an instant.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{OrgId, SnapshotId, UserId};

/// "Who held what on date D", pinned: the organisation's state at `revision` (the last
/// written at or before `at`) evaluated at `at`. The history is never rewritten, so its
/// CSV reads the same whenever it is downloaded; `users` and `entries` are the counts taken
/// when it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessSnapshot {
    #[schema(value_type = String, format = Uuid)]
    pub id: SnapshotId,
    #[schema(value_type = String, format = Uuid)]
    pub org_id: OrgId,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub revision: i64,
    /// Users holding at least one role.
    pub users: i64,
    /// (user, role, scope) rows of the CSV.
    pub entries: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub created_by: Option<UserId>,
}
