//! Integration tests of the PostgreSQL backend, in one binary: the shared conformance story
//! in a scratch database, twenty concurrent writers, two processes migrating at once, and
//! errors when the server is away. The server is `postgres://postgres@127.0.0.1:5432/postgres`
//! unless `LATCHKEY_TEST_POSTGRES_URL` says otherwise; when it cannot be reached these tests
//! fail, they do not skip.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test by panicking"
)]

use std::path::Path;
use std::sync::Arc;

use latchkey_store::{Store, StoreError, conformance};
use latchkey_store_postgres::{PostgresStore, scratch};

fn admin_url() -> String {
    std::env::var("LATCHKEY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A scratch database, dropped when this goes out of scope (even when a test panics).
struct Scratch {
    admin: String,
    url: String,
}

impl Scratch {
    async fn new() -> Scratch {
        let admin = admin_url();
        let url = match scratch::create_database(&admin).await {
            Ok(url) => url,
            Err(e) => panic!(
                "cannot create a scratch database through {admin} ({e}); PostgreSQL must be \
                 running there, or LATCHKEY_TEST_POSTGRES_URL must name a server that is"
            ),
        };
        Scratch { admin, url }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let url = self.url.clone();
        // Drop cannot await: drop the database from a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(scratch::drop_database(&admin, &url))
        })
        .join();
        if !std::thread::panicking() {
            dropped
                .expect("drop thread")
                .expect("drop scratch database");
        }
    }
}

#[tokio::test]
async fn conformance_story() {
    let db = Scratch::new().await;
    let store = PostgresStore::connect(&db.url).await.expect("connect");
    conformance::run_all(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_writers_all_succeed() {
    let db = Scratch::new().await;
    let store = Arc::new(PostgresStore::connect(&db.url).await.expect("connect"));
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
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_migrating_at_once_both_start() {
    let db = Scratch::new().await;
    let (a, b) = tokio::join!(
        PostgresStore::connect(&db.url),
        PostgresStore::connect(&db.url)
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    a.ready().await.expect("ready");
    b.ready().await.expect("ready");
    assert_eq!(a.backend(), "postgres");
    let org = conformance::concurrency::prepare(&a).await;
    let mut tx = b.read().await.expect("read");
    assert_eq!(
        tx.revision(org).await.expect("revision"),
        Some(0),
        "both see one database"
    );
    drop(tx);
    a.close().await;
    b.close().await;
    let again = PostgresStore::connect(&db.url)
        .await
        .expect("reconnect: nothing left to migrate");
    again.ready().await.expect("ready");
    again.close().await;
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    // Port 1 on the loopback refuses connections.
    match PostgresStore::connect("postgres://postgres:secret@127.0.0.1:1/latchkey").await {
        Err(StoreError::Unavailable(message)) => {
            assert!(
                !message.contains("secret"),
                "the password stays out of the message: {message}"
            );
        }
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("connected to port 1"),
    }
    match PostgresStore::connect("not a url").await {
        Err(StoreError::Backend(_)) => {}
        Err(other) => panic!("expected Backend for a bad url, got {other:?}"),
        Ok(_) => panic!("connected to nothing"),
    }
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let db = Scratch::new().await;
    let store = PostgresStore::connect(&db.url).await.expect("connect");
    store.close().await;
    match store.begin().await {
        Err(StoreError::Unavailable(_)) => {}
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("expected Unavailable, got a transaction"),
    }
}

#[test]
fn embedded_migrations_match_the_folder() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut on_disk: Vec<String> = std::fs::read_dir(folder)
        .expect("migrations folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let embedded: Vec<String> = latchkey_store_postgres::MIGRATIONS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        embedded, on_disk,
        "every file of migrations/ is embedded, in order"
    );
}

/// A commit in one process wakes the change feed of another: the trigger's notification
/// names the organisation and the revision it reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_feed_wakes_on_commit() {
    use latchkey_model::{Group, GroupId, OrgId, Organisation, Stamps};
    use time::OffsetDateTime;

    let db = Scratch::new().await;
    let writer = PostgresStore::connect(&db.url).await.expect("connect");
    let reader = PostgresStore::connect(&db.url).await.expect("connect");
    let mut feed = reader
        .change_feed()
        .await
        .expect("feed")
        .expect("PostgreSQL has a feed");
    let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("instant");
    let org = Organisation {
        id: OrgId::from_uuid(uuid::Uuid::now_v7()),
        name: "Feed".to_owned(),
        slug: "feed".to_owned(),
        revision: 0,
        created_at: now,
    };
    let mut tx = writer.begin().await.expect("begin");
    tx.insert_org(&org).await.expect("org");
    let revision = tx.bump_revision(org.id, now).await.expect("bump");
    let group = Group {
        id: GroupId::from_uuid(uuid::Uuid::now_v7()),
        org_id: org.id,
        name: "G".to_owned(),
        description: None,
        group_type: None,
        parent_id: None,
        disabled: false,
        active_since: None,
        active_until: None,
        attributes: Default::default(),
        stamps: Stamps::new(now, None),
    };
    tx.insert_group(&group).await.expect("group");
    // Nothing is delivered before the commit.
    let early = tokio::time::timeout(std::time::Duration::from_millis(200), feed.next()).await;
    assert!(
        early.is_err(),
        "a notification arrived before the commit: {early:?}"
    );
    tx.commit().await.expect("commit");
    let woke = tokio::time::timeout(std::time::Duration::from_secs(5), feed.next())
        .await
        .expect("the feed wakes within 5 s")
        .expect("a notification");
    assert_eq!(woke, (org.id, revision));
    // The feed holds one of the reader's connections: release it before closing the pool.
    drop(feed);
    writer.close().await;
    reader.close().await;
}
