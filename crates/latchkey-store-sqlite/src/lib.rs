//! The SQLite storage backend: a file (or in-memory) database in WAL mode behind a small
//! sqlx pool, implementing `latchkey_store::Store`. The SQL itself is shared with the
//! PostgreSQL backend (`latchkey-store/sql`, mounted below as `sql`); this crate adds the
//! connection settings, the embedded migrations and how transactions begin.
//!
//! Write transactions start with `BEGIN IMMEDIATE`, taking SQLite's single write lock at
//! once: a second writer then waits (up to `busy_timeout`, 5 s) instead of failing with
//! `SQLITE_BUSY` when its read lock cannot be upgraded halfway through.

mod backend;
#[path = "../../latchkey-store/sql/mod.rs"]
mod sql;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use latchkey_store::{PoolState, Store, StoreError, StoreResult, Tx};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// The embedded migrations, by file name. `latchkey-store-postgres` has files of the
/// same names; a test checks both lists against the folders.
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

/// Connections in the pool. Writers queue on SQLite's lock anyway; readers (WAL) run in
/// parallel with the writer.
const MAX_CONNECTIONS: u32 = 8;

/// How often the write-ahead log is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// The log's size (in 4 KiB pages) at which a commit checkpoints by itself, should the
/// background checkpoints fall behind: 64 MiB.
const WAL_BACKSTOP_PAGES: u32 = 16_384;

/// Copies the write-ahead log back into the database file every `CHECKPOINT_EVERY`, for as
/// long as the pool is open. SQLite's own automatic checkpoint runs inside the commit that
/// crosses 1,000 pages, so a long write (a rule run, a bulk load) paid for copying and
/// syncing every 4 MiB it wrote; a passive checkpoint on another connection waits for no
/// one and blocks no one, and runs on another core.
async fn checkpoints(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "a checkpoint of the SQLite log failed");
        }
    }
}

/// A SQLite database holding every organisation. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    latest_migration: i64,
}

impl SqliteStore {
    /// Opens (creating it, and its folder, if missing) the database file at `path` and
    /// applies pending migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await.map_err(|e| {
                StoreError::Unavailable(format!("cannot create folder `{}`: {e}", parent.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::connect(options, false).await
    }

    /// Opens a database given as a URL: `sqlite://path/to/file.db`, `sqlite:file.db`,
    /// `sqlite::memory:`. The file is created if missing unless the URL says a `mode`.
    /// An in-memory database lives as long as the store and uses one connection.
    pub async fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        let mut options = SqliteConnectOptions::from_str(url)
            .map_err(|_| StoreError::Backend("invalid sqlite database url".to_owned()))?;
        if !url.contains("mode=") {
            options = options.create_if_missing(true);
        }
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::connect(options, in_memory).await
    }

    async fn connect(
        options: SqliteConnectOptions,
        in_memory: bool,
    ) -> Result<SqliteStore, StoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .synchronous(SqliteSynchronous::Normal)
            // Checkpoints run beside the writers (below), not inside the commit that
            // crosses SQLite's default 1,000 pages; this is the backstop if they fall behind.
            .pragma("wal_autocheckpoint", WAL_BACKSTOP_PAGES.to_string());
        let pool_options = if in_memory {
            // Every connection to a shared-cache memory database would lock whole tables
            // (SQLITE_LOCKED, which busy_timeout does not wait on), and the database
            // vanishes with its last connection: keep exactly one, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            // A connection to a local file does not drop like a network one: sqlx's ping
            // before each acquire would only cost a hand-off to the connection's thread
            // for every transaction.
            SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .test_before_acquire(false)
        };
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(sql::map_err)?;
        let migrator = sql::migrator(MIGRATIONS)?;
        sql::migrate(&pool, &migrator).await?;
        if !in_memory {
            tokio::spawn(checkpoints(pool.clone()));
        }
        Ok(SqliteStore {
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
impl Store for SqliteStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        sql::begin(&self.pool, "BEGIN IMMEDIATE").await
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        // Deferred: a WAL read snapshot, no lock held against writers.
        sql::begin(&self.pool, "BEGIN").await
    }

    async fn lookup(&self) -> StoreResult<Box<dyn Tx>> {
        sql::lookup(&self.pool).await
    }

    async fn ready(&self) -> StoreResult<()> {
        sql::ready(&self.pool, self.latest_migration).await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_state(&self) -> PoolState {
        sql::pool_state(&self.pool)
    }

    /// SQLite serves one process: whoever writes knows, so there is no feed.
    async fn change_feed(&self) -> StoreResult<Option<Box<dyn latchkey_store::ChangeFeed>>> {
        Ok(None)
    }
}
