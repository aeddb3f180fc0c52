//! Integration tests of the SQLite backend, in one binary: the shared conformance story on
//! a fresh database file, twenty concurrent writers, URL forms, re-opening, and the checks
//! that keep the embedded migrations in step with both migration folders.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test by panicking"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use latchkey_store::{Store, conformance};
use latchkey_store_sqlite::SqliteStore;

/// A folder under the system's temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "latchkey-sqlite-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temporary folder");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn conformance_story() {
    let dir = TempDir::new();
    let store = SqliteStore::open(&dir.path().join("latchkey.db"))
        .await
        .expect("open");
    conformance::run_all(&store).await;
    store.close().await;
}

#[tokio::test]
async fn conformance_story_in_memory() {
    let store = SqliteStore::open_url("sqlite::memory:")
        .await
        .expect("open in memory");
    conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_writers_all_succeed() {
    let dir = TempDir::new();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("latchkey.db"))
            .await
            .expect("open"),
    );
    let org = conformance::concurrency::prepare(store.as_ref()).await;
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(
                async move { conformance::concurrency::write(store.as_ref(), org, n).await },
            )
        })
        .collect();
    let mut revisions = Vec::new();
    for task in tasks {
        revisions.push(
            task.await
                .expect("task")
                .expect("a concurrent writer fails"),
        );
    }
    conformance::concurrency::check(store.as_ref(), org, revisions, 20).await;
}

/// A write dropped unfinished, or abandoned while its `BEGIN IMMEDIATE` still waits for the
/// lock, must not leave the lock held nor a connection inside a transaction for the next
/// caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_dropped_or_abandoned_leave_nothing_behind() {
    let dir = TempDir::new();
    let store = SqliteStore::open(&dir.path().join("latchkey.db"))
        .await
        .expect("open");
    let org = conformance::concurrency::prepare(&store).await;

    let mut holding = store.begin().await.expect("begin");
    holding
        .bump_revision(org, time::OffsetDateTime::UNIX_EPOCH)
        .await
        .expect("bump");
    // This one waits for the lock `holding` has; give up on it while it waits.
    let waiting = tokio::time::timeout(std::time::Duration::from_millis(100), store.begin()).await;
    assert!(waiting.is_err(), "a second writer waits for the first");
    drop(holding);

    // More writers than connections: a connection left in a transaction would fail one of
    // these ("cannot start a transaction within a transaction"), and a lock left held
    // would time them out.
    let mut revisions = Vec::new();
    for n in 0..20 {
        revisions.push(
            conformance::concurrency::write(&store, org, n)
                .await
                .expect("a writer after the dropped ones"),
        );
    }
    conformance::concurrency::check(&store, org, revisions, 20).await;
    let pool = store.pool_state();
    assert!(pool.size <= 8 && pool.idle <= pool.size, "{pool:?}");
    store.close().await;
}

#[tokio::test]
async fn opens_by_url_creates_folders_and_reopens() {
    let dir = TempDir::new();
    let nested = dir.path().join("a").join("b").join("latchkey.db");
    let store = SqliteStore::open(&nested)
        .await
        .expect("open in a folder that does not exist yet");
    store.ready().await.expect("ready");
    assert_eq!(store.backend(), "sqlite");
    let org = conformance::concurrency::prepare(&store).await;
    assert!(
        dir.path().join("a/b/latchkey.db-wal").exists(),
        "the database runs in WAL mode"
    );
    store.close().await;

    let again = SqliteStore::open(&nested)
        .await
        .expect("reopen: migrations already applied");
    let mut tx = again.read().await.expect("read");
    assert_eq!(
        tx.revision(org).await.expect("revision"),
        Some(0),
        "data survives a reopen"
    );
    drop(tx);
    again.close().await;

    let url = format!("sqlite://{}", nested.display());
    let by_url = SqliteStore::open_url(&url).await.expect("sqlite:// url");
    by_url.ready().await.expect("ready");
    by_url.close().await;
    let fresh = dir.path().join("fresh.db");
    let by_short_url = SqliteStore::open_url(&format!("sqlite:{}", fresh.display()))
        .await
        .expect("sqlite: url");
    by_short_url.ready().await.expect("ready");
    assert!(fresh.exists(), "the file is created");
    by_short_url.close().await;
}

#[tokio::test]
async fn closed_store_is_unavailable() {
    let store = SqliteStore::open_url("sqlite::memory:")
        .await
        .expect("open");
    store.close().await;
    match store.begin().await {
        Err(latchkey_store::StoreError::Unavailable(_)) => {}
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("expected Unavailable, got a transaction"),
    }
}

#[tokio::test]
async fn dollar_placeholders_bind_by_number() {
    // The shared SQL writes `$N` for both backends; SQLite must read them by number, reuse
    // included, not by position.
    let pool = sqlx::SqlitePool::connect("sqlite::memory:")
        .await
        .expect("pool");
    let got: String = sqlx::query_scalar("SELECT $2 || $1 || $2")
        .bind("a")
        .bind("b")
        .fetch_one(&pool)
        .await
        .expect("query");
    assert_eq!(got, "bab");
}

fn folder_names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("migrations folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn embedded_migrations_match_both_folders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sqlite = folder_names(&root.join("migrations"));
    let postgres = folder_names(&root.join("../latchkey-store-postgres/migrations"));
    let embedded: Vec<String> = latchkey_store_sqlite::MIGRATIONS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        embedded, sqlite,
        "every file of migrations/ is embedded, in order"
    );
    assert_eq!(
        sqlite, postgres,
        "both backends have migrations of the same names"
    );
}

/// The write-ahead log is copied back into the database file by the store's own background
/// checkpoints: commits no longer checkpoint every 4 MiB (their backstop is 64 MiB), so
/// without them the file would not grow until the log reached that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_checkpointed_in_the_background() {
    use sqlx::ConnectOptions as _;
    let dir = TempDir::new();
    let file = dir.path().join("latchkey.db");
    let store = SqliteStore::open(&file).await.expect("open");
    let before = std::fs::metadata(&file).expect("the database file").len();
    // Another writer, which never checkpoints by itself, writes 8 MiB into the log.
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&file)
        .pragma("wal_autocheckpoint", "0")
        .connect()
        .await
        .expect("a second connection");
    sqlx::raw_sql(
        "CREATE TABLE scratch (b BLOB); BEGIN; \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 64) \
         INSERT INTO scratch SELECT zeroblob(131072) FROM n; COMMIT;",
    )
    .execute(&mut conn)
    .await
    .expect("8 MiB written");
    let wanted = before + 8 * 1024 * 1024;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let size = std::fs::metadata(&file).expect("the database file").len();
        if size >= wanted {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the database file is still {size} bytes (wanted {wanted}): nothing checkpointed the log"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(conn);
    store.close().await;
}
