//! The SQL of both storage backends, written once so that SQLite and PostgreSQL never
//! drift. This folder is not a module of `latchkey-store` (which must not depend on sqlx):
//! each backend crate mounts it with `#[path = "../../latchkey-store/sql/mod.rs"] mod sql;`
//! beside a module `backend` that defines `Db` (`sqlx::Sqlite` or `sqlx::Postgres`) and the
//! little that differs (how transactions begin, which error codes mean "unavailable").
//!
//! The statements use only what both databases accept: `$N` placeholders (sqlx's SQLite
//! driver maps `$N` to the N-th argument), `RETURNING`, row-value comparisons for keyset
//! pagination, `WITH RECURSIVE` sub-queries and `LIKE ... ESCAPE`. Dynamic lists are built
//! with `sqlx::QueryBuilder<Db>`, which writes each backend's own placeholders.
//!
//! Architecture invariant: every statement that reads or writes an organisation's rows has
//! `org_id = ...` in its `WHERE` clause (the only exceptions are the lookups of a secret by its hash —
//! `find_token_by_hash`, `find_session_by_hash`, and those of invitations, magic links,
//! passkeys and workspace keys — which the contract makes cross-organisation); the schema's composite foreign keys
//! `(org_id, x_id)` make cross-organisation references impossible as well.

/// The columns of `latchkey_model::Stamps`, in the order `convert::bind_stamps` binds them.
macro_rules! stamp_cols {
    () => {
        "created_at, created_by, updated_at, updated_by, version"
    };
}

mod approvals;
mod audit;
mod catalog;
mod changes;
mod convert;
#[macro_use]
mod directory;
mod error;
mod history;
mod invitations;
mod metadata;
mod orgs;
mod paging;
mod passkeys;
mod reviews;
mod rules;
mod schedule;
mod sign_in;
mod sod;
mod totp;
mod workspaces;

use async_trait::async_trait;
use latchkey_store::{PoolState, StoreError, StoreResult, Tx};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Pool, SqlSafeStr};

use crate::backend::Db;

pub(crate) use error::map_err;

/// A transaction of either backend, or a connection of [`latchkey_store::Store::lookup`].
pub(crate) struct SqlTx {
    tx: Conn,
    /// The head of an organisation's audit chain (`seq`, `hash`) once this transaction has
    /// appended to it: it holds the organisation's lock from then on, so no one else can
    /// move the head and later appends need not read it again.
    audit_head: Option<(latchkey_model::OrgId, i64, String)>,
}

enum Conn {
    /// Dropping it rolls back (sqlx queues the `ROLLBACK` and the pool flushes it before
    /// the connection is reused).
    Tx(sqlx::Transaction<'static, Db>),
    /// No transaction: each statement is its own and sees the latest commit.
    Single(sqlx::pool::PoolConnection<Db>),
}

impl SqlTx {
    fn conn(&mut self) -> &mut <Db as sqlx::Database>::Connection {
        match &mut self.tx {
            Conn::Tx(tx) => tx,
            Conn::Single(c) => c,
        }
    }
}

#[async_trait]
impl Tx for SqlTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        match self.tx {
            Conn::Tx(tx) => tx.commit().await.map_err(map_err),
            Conn::Single(_) => Ok(()),
        }
    }

    async fn refresh_statistics(&mut self) -> StoreResult<()> {
        if let Some(statement) = crate::backend::ANALYZE {
            sqlx::query(statement)
                .execute(self.conn())
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }
}

impl SqlTx {
    /// The rows of `select_from` (`SELECT cols FROM table`) of organisation `org` whose id is
    /// one of `ids`, parsed by `parse`, in no particular order; a few hundred ids a statement.
    async fn rows_by_ids<T>(
        &mut self,
        select_from: &str,
        org: latchkey_model::OrgId,
        ids: impl ExactSizeIterator<Item = uuid::Uuid>,
        parse: fn(&convert::DbRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let ids: Vec<uuid::Uuid> = ids.collect();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(convert::ROWS_PER_STATEMENT) {
            let sql = format!(
                "{select_from} WHERE org_id = {} AND id {}",
                convert::param(1),
                crate::backend::any_of(2, chunk.len())
            );
            let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org.as_uuid());
            let q = crate::backend::bind_uuids(q, chunk.to_vec());
            for row in q.fetch_all(self.conn()).await.map_err(map_err)? {
                out.push(parse(&row)?);
            }
        }
        Ok(out)
    }

    /// How many rows of `table` belong to `org`: the capacity a whole-organisation read
    /// reserves before its first row. Grown by doubling instead, the vector of an
    /// organisation's 320,000 grants held its old and new buffers at once at its last
    /// growth, and the allocator keeps pages freed for a while: the server's resident
    /// memory after its build was most of that.
    async fn rows_of(
        &mut self,
        table: &'static str,
        org: latchkey_model::OrgId,
    ) -> StoreResult<usize> {
        let sql = format!("SELECT count(*) FROM {table} WHERE org_id = $1");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(org.as_uuid())
            .fetch_one(self.conn())
            .await
            .map_err(map_err)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// An `UPDATE ... WHERE id = $1 AND org_id = $2` that matched no row is refused with
/// `Conflict { constraint: "not_found" }`: the row was deleted meanwhile or belongs to
/// another organisation.
fn updated(done: <Db as sqlx::Database>::QueryResult) -> StoreResult<()> {
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            constraint: orgs::NOT_FOUND.to_owned(),
        });
    }
    Ok(())
}

/// Starts a transaction with `statement` (`BEGIN`, `BEGIN IMMEDIATE`, ...).
pub(crate) async fn begin(pool: &Pool<Db>, statement: &'static str) -> StoreResult<Box<dyn Tx>> {
    let tx = pool.begin_with(statement).await.map_err(map_err)?;
    Ok(Box::new(SqlTx {
        tx: Conn::Tx(tx),
        audit_head: None,
    }))
}

/// A connection without a transaction (see `Store::lookup`).
pub(crate) async fn lookup(pool: &Pool<Db>) -> StoreResult<Box<dyn Tx>> {
    let conn = pool.acquire().await.map_err(map_err)?;
    Ok(Box::new(SqlTx {
        tx: Conn::Single(conn),
        audit_head: None,
    }))
}

/// The database answers and has applied every migration up to `latest`.
pub(crate) async fn ready(pool: &Pool<Db>, latest: i64) -> StoreResult<()> {
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = $1")
            .bind(true)
            .fetch_one(pool)
            .await
            .map_err(map_err)?;
    match applied {
        Some(v) if v >= latest => Ok(()),
        Some(v) => Err(StoreError::Schema(format!(
            "migration {latest} expected, the database is at {v}"
        ))),
        None => Err(StoreError::Schema("no migration applied".to_owned())),
    }
}

pub(crate) fn pool_state(pool: &Pool<Db>) -> PoolState {
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    PoolState {
        size: pool.size(),
        idle,
    }
}

/// Builds the migrator from the backend's embedded migration files, named like sqlx's own
/// (`0001_directory.sql`: version 1, description `directory`), so the `_sqlx_migrations`
/// rows are the ones `sqlx::migrate!` would write.
pub(crate) fn migrator(files: &[(&'static str, &'static str)]) -> StoreResult<Migrator> {
    let mut migrations = Vec::with_capacity(files.len());
    for &(file, sql) in files {
        let stem = file.strip_suffix(".sql").unwrap_or(file);
        let (version, description) = stem.split_once('_').unwrap_or((stem, ""));
        let version: i64 = version
            .parse()
            .map_err(|_| StoreError::Schema(format!("migration file `{file}` has no version")))?;
        migrations.push(Migration::new(
            version,
            description.replace('_', " ").into(),
            MigrationType::Simple,
            sql.into_sql_str(),
            false,
        ));
    }
    Ok(Migrator::with_migrations(migrations))
}

/// Applies the pending migrations. On PostgreSQL sqlx holds an advisory lock meanwhile, so
/// processes starting together apply each migration once.
pub(crate) async fn migrate(pool: &Pool<Db>, migrator: &Migrator) -> StoreResult<()> {
    migrator.run(pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::Execute(inner) => match map_err(inner) {
            StoreError::Unavailable(m) => StoreError::Unavailable(m),
            other => StoreError::Schema(other.to_string()),
        },
        other => StoreError::Schema(other.to_string()),
    })
}

/// The highest version among the embedded migrations.
pub(crate) fn latest_version(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}
