//! The PostgreSQL storage backend: a sqlx connection pool implementing
//! `latchkey_store::Store`. The SQL itself is shared with the SQLite backend
//! (`latchkey-store/sql`, mounted below as `sql`); this crate adds the pool, the embedded
//! migrations, how transactions begin, and `scratch` databases for tests.
//!
//! Writers of one organisation are serialised by `bump_revision`, whose `UPDATE` holds the
//! organisation's row lock until commit; write transactions otherwise run at READ
//! COMMITTED. `read()` runs at REPEATABLE READ so that a use case loading a whole snapshot
//! (every user, group, grant, ...) sees one consistent state, as SQLite's WAL snapshot does.

mod backend;
#[path = "../../latchkey-store/sql/mod.rs"]
mod sql;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use latchkey_store::{PoolState, Store, StoreError, StoreResult, Tx};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

/// The embedded migrations, by file name. `latchkey-store-sqlite` has files of the same
/// names; a test checks both lists against the folders.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_directory.sql",
        include_str!("../migrations/0001_directory.sql"),
    ),
    (
        "0002_change_log.sql",
        include_str!("../migrations/0002_change_log.sql"),
    ),
    (
        "0003_sign_in.sql",
        include_str!("../migrations/0003_sign_in.sql"),
    ),
    (
        "0004_security_alerts.sql",
        include_str!("../migrations/0004_security_alerts.sql"),
    ),
    (
        "0005_role_security_policies.sql",
        include_str!("../migrations/0005_role_security_policies.sql"),
    ),
    (
        "0006_magic_links.sql",
        include_str!("../migrations/0006_magic_links.sql"),
    ),
    ("0007_totp.sql", include_str!("../migrations/0007_totp.sql")),
    (
        "0008_invitations.sql",
        include_str!("../migrations/0008_invitations.sql"),
    ),
    (
        "0009_passkeys.sql",
        include_str!("../migrations/0009_passkeys.sql"),
    ),
    (
        "0010_workspaces.sql",
        include_str!("../migrations/0010_workspaces.sql"),
    ),
    (
        "0011_items_and_tombstones.sql",
        include_str!("../migrations/0011_items_and_tombstones.sql"),
    ),
    (
        "0012_assignment_rules.sql",
        include_str!("../migrations/0012_assignment_rules.sql"),
    ),
    (
        "0013_sod_rules.sql",
        include_str!("../migrations/0013_sod_rules.sql"),
    ),
    (
        "0014_window_events.sql",
        include_str!("../migrations/0014_window_events.sql"),
    ),
    (
        "0015_approvals.sql",
        include_str!("../migrations/0015_approvals.sql"),
    ),
    (
        "0016_access_reviews.sql",
        include_str!("../migrations/0016_access_reviews.sql"),
    ),
    (
        "0017_history.sql",
        include_str!("../migrations/0017_history.sql"),
    ),
    (
        "0018_partial_grant_indexes.sql",
        include_str!("../migrations/0018_partial_grant_indexes.sql"),
    ),
    (
        "0019_dated_rows_indexes.sql",
        include_str!("../migrations/0019_dated_rows_indexes.sql"),
    ),
    (
        "0020_schedule_marks.sql",
        include_str!("../migrations/0020_schedule_marks.sql"),
    ),
];

const MAX_CONNECTIONS: u32 = 10;

/// A PostgreSQL database holding every organisation. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    latest_migration: i64,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and applies pending
    /// migrations. sqlx's migrator holds an advisory lock meanwhile, so processes starting
    /// together apply each migration exactly once.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Backend("invalid postgres database url".to_owned()))?;
        // One direct attempt first: the pool would retry a refused connection until its
        // acquire timeout, and a wrong URL should fail at once.
        let probe = PgConnection::connect_with(&options)
            .await
            .map_err(sql::map_err)?;
        probe.close().await.map_err(sql::map_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(sql::map_err)?;
        let migrator = sql::migrator(MIGRATIONS)?;
        sql::migrate(&pool, &migrator).await?;
        Ok(PostgresStore {
            pool,
            latest_migration: sql::latest_version(&migrator),
        })
    }

    /// Closes every connection; later calls fail with `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        sql::begin(&self.pool, "BEGIN").await
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        sql::begin(&self.pool, "BEGIN ISOLATION LEVEL REPEATABLE READ").await
    }

    async fn lookup(&self) -> StoreResult<Box<dyn Tx>> {
        sql::lookup(&self.pool).await
    }

    async fn ready(&self) -> StoreResult<()> {
        sql::ready(&self.pool, self.latest_migration).await
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn pool_state(&self) -> PoolState {
        sql::pool_state(&self.pool)
    }

    /// `LISTEN latchkey_changes`: the change-log trigger notifies `org_id:revision` at
    /// commit. If the connection drops, sqlx reconnects on the next `recv` and the
    /// notifications sent meanwhile are lost, which is why readers also poll.
    async fn change_feed(&self) -> StoreResult<Option<Box<dyn latchkey_store::ChangeFeed>>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(sql::map_err)?;
        listener
            .listen(CHANGE_CHANNEL)
            .await
            .map_err(sql::map_err)?;
        Ok(Some(Box::new(Feed { listener })))
    }
}

/// The channel the change-log trigger notifies.
const CHANGE_CHANNEL: &str = "latchkey_changes";

struct Feed {
    listener: sqlx::postgres::PgListener,
}

#[async_trait::async_trait]
impl latchkey_store::ChangeFeed for Feed {
    async fn next(&mut self) -> StoreResult<(latchkey_model::OrgId, i64)> {
        loop {
            let n = self.listener.recv().await.map_err(sql::map_err)?;
            // `org_id:revision`; anything else on the channel is not ours and is skipped.
            if let Some((org, rev)) = n.payload().split_once(':')
                && let (Ok(org), Ok(rev)) = (org.parse::<uuid::Uuid>(), rev.parse::<i64>())
            {
                return Ok((latchkey_model::OrgId::from_uuid(org), rev));
            }
        }
    }
}

/// Throw-away databases for tests: each test creates its own and drops it at the end.
pub mod scratch {
    use latchkey_store::StoreError;
    use sqlx::{AssertSqlSafe, Connection, PgConnection};

    use crate::sql::map_err;

    /// Creates a database named `lk_test_<32 hex digits>` through `admin_url` (a URL of
    /// the same server with the right to create databases) and returns its URL.
    pub async fn create_database(admin_url: &str) -> Result<String, StoreError> {
        let name = format!("lk_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::connect(admin_url).await.map_err(map_err)?;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .map_err(map_err)?;
        conn.close().await.map_err(map_err)?;
        Ok(with_database(admin_url, &name))
    }

    /// Drops the database `url` names, closing any connection still open to it.
    pub async fn drop_database(admin_url: &str, url: &str) -> Result<(), StoreError> {
        let name = database_of(url)
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .ok_or_else(|| StoreError::Backend("the url names no scratch database".to_owned()))?;
        let mut conn = PgConnection::connect(admin_url).await.map_err(map_err)?;
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .map_err(map_err)?;
        conn.close().await.map_err(map_err)?;
        Ok(())
    }

    /// Splits `scheme://authority/path?query` into (`scheme://authority`, path, query).
    fn split(url: &str) -> (&str, &str, Option<&str>) {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (url, None),
        };
        let authority = base.find("://").map_or(0, |i| i + 3);
        match base[authority..].find('/') {
            Some(i) => (&base[..authority + i], &base[authority + i + 1..], query),
            None => (base, "", query),
        }
    }

    fn with_database(url: &str, database: &str) -> String {
        let (base, _, query) = split(url);
        match query {
            Some(query) => format!("{base}/{database}?{query}"),
            None => format!("{base}/{database}"),
        }
    }

    fn database_of(url: &str) -> Option<&str> {
        let (_, path, _) = split(url);
        (!path.is_empty()).then_some(path)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn urls_get_their_database_replaced() {
            assert_eq!(
                with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
                "postgres://postgres@127.0.0.1:5432/x"
            );
            assert_eq!(
                with_database("postgres://u:p@h/postgres?sslmode=disable", "x"),
                "postgres://u:p@h/x?sslmode=disable"
            );
            assert_eq!(
                with_database("postgres://h:5432", "x"),
                "postgres://h:5432/x"
            );
            assert_eq!(database_of("postgres://h/lk_test_1?a=b"), Some("lk_test_1"));
            assert_eq!(database_of("postgres://h"), None);
        }
    }
}
