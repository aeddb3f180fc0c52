//! What the scheduler acts on: dated grants whose status must follow the clock, and dated
//! memberships whose start or end has come and is not recorded yet.

use async_trait::async_trait;
use latchkey_model::{Grant, Membership, OrgId};
use time::OffsetDateTime;

use crate::StoreResult;

/// A start or an end of a dated window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Start,
    End,
}

impl Edge {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::End => "end",
        }
    }
}

#[async_trait]
pub trait ScheduleStore {
    /// Grants whose status is behind `now`: `scheduled` ones that have started, and
    /// `scheduled` or `active` ones that have ended; at most `limit`.
    async fn due_grants(
        &mut self,
        org: OrgId,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Grant>>;
    /// Memberships whose start (for those created before it) or end has come at `now` and
    /// is not recorded yet, with the edge; at most `limit`. An edge recorded before its
    /// current instant (the dates were moved later since) is not recorded. Edges at or
    /// before the organisation's mark (`mark_edges_through`) are not looked for.
    async fn due_memberships(
        &mut self,
        org: OrgId,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<(Membership, Edge)>>;
    /// Records at `at` a window's edge whose instant is `due`; false when it was recorded
    /// already, at `due` or later (by another replica, say). A record from before `due`
    /// is of earlier dates, and is replaced.
    async fn record_edge(
        &mut self,
        org: OrgId,
        object: uuid::Uuid,
        edge: Edge,
        due: OffsetDateTime,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Marks every membership edge of `org` at or before `through` as dealt with, so
    /// `due_memberships` no longer reads them. The mark only moves forward.
    async fn mark_edges_through(&mut self, org: OrgId, through: OffsetDateTime) -> StoreResult<()>;
}
