//! The scheduler's reads and its record of window edges.

use async_trait::async_trait;
use latchkey_model::{Grant, Membership, OrgId};
use latchkey_store::{Edge, ScheduleStore, StoreResult};
use time::OffsetDateTime;

use super::convert::micros;
use super::{SqlTx, map_err};

#[async_trait]
impl ScheduleStore for SqlTx {
    async fn due_grants(
        &mut self,
        org: OrgId,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Grant>> {
        super::catalog::due_grants(self, org, micros(now), limit).await
    }

    async fn due_memberships(
        &mut self,
        org: OrgId,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<(Membership, Edge)>> {
        // A membership whose start and end have both come is reported by its start first,
        // and by its end once the start is recorded.
        let found = super::directory::due_memberships(self, org, micros(now), limit).await?;
        Ok(found
            .into_iter()
            .map(|(m, start)| (m, if start { Edge::Start } else { Edge::End }))
            .collect())
    }

    async fn record_edge(
        &mut self,
        org: OrgId,
        object: uuid::Uuid,
        edge: Edge,
        due: OffsetDateTime,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        // Replica-safe: a concurrent record of the same edge waits for this one and then
        // finds it at `due` or later.
        let done = sqlx::query(
            "INSERT INTO window_events (org_id, object_id, edge, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (object_id, edge) DO UPDATE SET at = excluded.at \
             WHERE window_events.at < $5",
        )
        .bind(org.as_uuid())
        .bind(object)
        .bind(edge.as_str())
        .bind(micros(at))
        .bind(micros(due))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn mark_edges_through(&mut self, org: OrgId, through: OffsetDateTime) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO schedule_marks (org_id, edges_through) VALUES ($1, $2) \
             ON CONFLICT (org_id) DO UPDATE SET edges_through = excluded.edges_through \
             WHERE schedule_marks.edges_through < excluded.edges_through",
        )
        .bind(org.as_uuid())
        .bind(micros(through))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }
}
