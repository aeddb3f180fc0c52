//! The audit trail: an append-only hash chain per organisation. The store assigns `seq`,
//! `prev_hash` and `hash`; the entry is hashed exactly as it will be read back (UTC,
//! whole microseconds, JSON re-read from its text), so `latchkey_model::verify_chain`
//! recomputes the same hashes from stored rows.

use async_trait::async_trait;
use latchkey_model::{AuditEntry, AuditHash, AuditId, NewAuditEntry, OrgId, UserId};
use latchkey_store::{AuditQuery, AuditStore, Page, StoreError, StoreResult};
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::convert::{Cols, DbRow, ROWS_PER_STATEMENT, micros, opt_json, truncate, values_sql};
use super::error::FOREIGN_KEY;
use super::paging::clamp;
use super::{SqlTx, map_err};
use crate::backend::Db;

macro_rules! audit_cols {
    () => {
        concat!(
            "id, org_id, seq, at, actor_id, action, object_type, object_id, \"before\", ",
            "\"after\", request_id, prev_hash, hash"
        )
    };
}

fn entry(row: &DbRow) -> StoreResult<AuditEntry> {
    let c = Cols(row);
    Ok(AuditEntry {
        seq: c.int("seq")?,
        entry: NewAuditEntry {
            id: AuditId::from_uuid(c.uuid("id")?),
            org_id: OrgId::from_uuid(c.uuid("org_id")?),
            at: c.instant("at")?,
            actor_id: c.opt_uuid("actor_id")?.map(UserId::from_uuid),
            action: c.text("action")?,
            object_type: c.text("object_type")?,
            object_id: c.text("object_id")?,
            before: c.opt_json("before")?,
            after: c.opt_json("after")?,
            request_id: c.opt_text("request_id")?,
        },
        prev_hash: c.text("prev_hash")?,
        hash: c.text("hash")?,
    })
}

impl SqlTx {
    /// Takes the organisation's lock and reads the next `seq` and the previous hash.
    async fn audit_head_locked(&mut self, org: uuid::Uuid) -> StoreResult<(i64, String)> {
        // Take the organisation's row lock (PostgreSQL) so that appenders of one
        // organisation queue here instead of racing for the same `seq`. SQLite write
        // transactions are already exclusive.
        let locked = sqlx::query("UPDATE organisations SET revision = revision WHERE id = $1")
            .bind(org)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        if locked.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                constraint: FOREIGN_KEY.to_owned(),
            });
        }
        let last =
            sqlx::query("SELECT seq, hash FROM audit WHERE org_id = $1 ORDER BY seq DESC LIMIT 1")
                .bind(org)
                .fetch_optional(self.conn())
                .await
                .map_err(map_err)?;
        Ok(match &last {
            Some(row) => {
                let c = Cols(row);
                (c.int("seq")? + 1, c.text("hash")?)
            }
            None => (1, AuditHash::GENESIS.to_owned()),
        })
    }

    /// Gives each entry its `seq`, `prev_hash` and `hash`, continuing the chain of its
    /// organisation (read once, under the organisation's lock, then kept).
    async fn chain(&mut self, entries: &[NewAuditEntry]) -> StoreResult<Vec<AuditEntry>> {
        let mut out = Vec::with_capacity(entries.len());
        for new in entries {
            let (seq, prev_hash) = match self.audit_head.take() {
                Some((head_org, seq, hash)) if head_org == new.org_id => (seq + 1, hash),
                _ => self.audit_head_locked(new.org_id.as_uuid()).await?,
            };
            let mut stored = new.clone();
            stored.at = truncate(new.at)?;
            let hash = AuditHash::compute(&prev_hash, seq, &stored);
            self.audit_head = Some((new.org_id, seq, hash.clone()));
            out.push(AuditEntry {
                seq,
                entry: stored,
                prev_hash,
                hash,
            });
        }
        Ok(out)
    }

    async fn insert_chained(&mut self, entries: &[AuditEntry]) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let sql = values_sql(
            concat!("INSERT INTO audit (", audit_cols!(), ") VALUES "),
            13,
            entries.len(),
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for e in entries {
            let stored = &e.entry;
            q = q
                .bind(stored.id.as_uuid())
                .bind(stored.org_id.as_uuid())
                .bind(e.seq)
                .bind(micros(stored.at))
                .bind(stored.actor_id.map(|a| a.as_uuid()))
                .bind(&stored.action)
                .bind(&stored.object_type)
                .bind(&stored.object_id)
                .bind(opt_json(stored.before.as_ref())?)
                .bind(opt_json(stored.after.as_ref())?)
                .bind(&stored.request_id)
                .bind(&e.prev_hash)
                .bind(&e.hash);
        }
        q.execute(self.conn()).await.map_err(map_err)?;
        Ok(())
    }
}

#[async_trait]
impl AuditStore for SqlTx {
    async fn append_audit(&mut self, new: &NewAuditEntry) -> StoreResult<AuditEntry> {
        let mut chained = self.chain(std::slice::from_ref(new)).await?;
        self.insert_chained(&chained).await?;
        chained
            .pop()
            .ok_or_else(|| StoreError::Backend("no audit entry was chained".to_owned()))
    }

    async fn append_audits(&mut self, entries: &[NewAuditEntry]) -> StoreResult<()> {
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let chained = self.chain(chunk).await?;
            self.insert_chained(&chained).await?;
        }
        Ok(())
    }

    /// Filters are exact matches; `from` is inclusive and `to` exclusive.
    async fn list_audit(
        &mut self,
        org: OrgId,
        query: &AuditQuery,
    ) -> StoreResult<Page<AuditEntry>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            audit_cols!(),
            " FROM audit WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(object_type) = &query.object_type {
            qb.push(" AND object_type = ");
            qb.push_bind(object_type.clone());
        }
        if let Some(object_id) = &query.object_id {
            qb.push(" AND object_id = ");
            qb.push_bind(object_id.clone());
        }
        if let Some(actor) = query.actor {
            qb.push(" AND actor_id = ");
            qb.push_bind(actor.as_uuid());
        }
        if let Some(action) = &query.action {
            qb.push(" AND action = ");
            qb.push_bind(action.clone());
        }
        if let Some(from) = query.from {
            qb.push(" AND at >= ");
            qb.push_bind(micros(from));
        }
        if let Some(to) = query.to {
            qb.push(" AND at < ");
            qb.push_bind(micros(to));
        }
        let (cmp, dir) = if query.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some(after) = query.after_seq {
            qb.push(format!(" AND seq {cmp} "));
            qb.push_bind(after);
        }
        qb.push(format!(" ORDER BY seq {dir} LIMIT "));
        qb.push_bind(i64::from(clamp(query.limit)) + 1);
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        super::paging::page(rows, query.limit, entry)
    }

    async fn audit_chain(
        &mut self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_cols!(),
            " FROM audit WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(org.as_uuid())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(entry).collect()
    }
}
