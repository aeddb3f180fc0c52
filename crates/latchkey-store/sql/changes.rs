//! Reading the change log. The log is written by triggers (see the `0002_change_log.sql`
//! migrations), never by this code, so no write path can forget to log.

use async_trait::async_trait;
use latchkey_model::OrgId;
use latchkey_store::{ChangeEntry, ChangeKind, ChangeStore, StoreError, StoreResult};
use sqlx::Row as _;

use super::{SqlTx, map_err};

#[async_trait]
impl ChangeStore for SqlTx {
    async fn changes_after(
        &mut self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChangeEntry>> {
        let rows = sqlx::query(
            "SELECT seq, revision, kind, object_id, removed FROM change_log \
             WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(org.as_uuid())
        .bind(after_seq)
        .bind(i64::from(limit.clamp(1, 100_000)))
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(map_err)?;
                Ok(ChangeEntry {
                    seq: row.try_get("seq").map_err(map_err)?,
                    revision: row.try_get("revision").map_err(map_err)?,
                    kind: ChangeKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("change log kind `{kind}`")))?,
                    object_id: row.try_get("object_id").map_err(map_err)?,
                    removed: row.try_get("removed").map_err(map_err)?,
                })
            })
            .collect()
    }

    async fn last_change_seq(&mut self, org: OrgId) -> StoreResult<i64> {
        let row =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) AS last FROM change_log WHERE org_id = $1")
                .bind(org.as_uuid())
                .fetch_one(self.conn())
                .await
                .map_err(map_err)?;
        row.try_get::<i64, _>("last").map_err(map_err)
    }
}
