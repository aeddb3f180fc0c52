//! Test support shared by the crates' integration tests: a fresh store on either backend
//! (a SQLite file in a temporary folder, or a scratch PostgreSQL database that is dropped
//! afterwards), services over it, and the backend matrix every store-touching test runs.
//!
//! PostgreSQL is expected at `postgres://postgres@127.0.0.1:5432/postgres` (override with
//! `LATCHKEY_TEST_POSTGRES_URL`); a test that needs it fails when it is unreachable rather
//! than skipping, so a green run always means both backends were exercised.

use std::path::PathBuf;
use std::sync::Arc;

use latchkey_model::{Clock, SystemClock, UuidV7Generator};
use latchkey_service::Services;
use latchkey_store::Store;
use latchkey_store_postgres::PostgresStore;
use latchkey_store_sqlite::SqliteStore;

pub const DEFAULT_POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn postgres_admin_url() -> String {
    std::env::var("LATCHKEY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| DEFAULT_POSTGRES_ADMIN_URL.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A temporary folder removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, migrated store; its database is removed when this is dropped.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub backend: Backend,
    /// The URL the store was opened with (`sqlite://…` or `postgres://…`).
    pub url: String,
    _dir: Option<TempDir>,
    scratch: Option<String>,
}

impl TestStore {
    pub async fn new(backend: Backend) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = TempDir::new("latchkey-test")?;
                let path = dir.path().join("latchkey.db");
                let store = SqliteStore::open(&path).await?;
                Ok(Self {
                    store: Arc::new(store),
                    backend,
                    url: format!("sqlite://{}", path.display()),
                    _dir: Some(dir),
                    scratch: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let url = latchkey_store_postgres::scratch::create_database(&admin)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("PostgreSQL at {admin} is required for the tests: {e}")
                    })?;
                let store = PostgresStore::connect(&url).await?;
                Ok(Self {
                    store: Arc::new(store),
                    backend,
                    url: url.clone(),
                    _dir: None,
                    scratch: Some(url),
                })
            }
        }
    }

    pub fn services(&self) -> Services {
        self.services_with_clock(Arc::new(SystemClock))
    }

    pub fn services_with_clock(&self, clock: Arc<dyn Clock>) -> Services {
        let services = Services::new(Arc::clone(&self.store), clock, Arc::new(UuidV7Generator));
        services.use_master_key(test_master_key());
        services
    }

    /// Services over this store with other sign-in settings (as after a configuration
    /// change and a restart).
    pub fn services_with_sign_in(
        &self,
        settings: latchkey_service::SignInSettings,
    ) -> Result<Services, String> {
        let services = Services::with_sign_in(
            Arc::clone(&self.store),
            Arc::new(SystemClock),
            Arc::new(UuidV7Generator),
            settings,
        )?;
        services.use_master_key(test_master_key());
        Ok(services)
    }
}

/// The master key of every test's services: fixed, so that services made again over the
/// same store (a restart) open what earlier ones sealed.
pub fn test_master_key() -> latchkey_service::MasterKey {
    latchkey_service::MasterKey::from_bytes(*b"latchkey test master key, 32 b!!")
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(url) = self.scratch.take() {
            // Dropping a database needs async I/O; do it on a thread of its own so that this
            // works inside and outside a runtime.
            let admin = postgres_admin_url();
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let _ = rt.block_on(latchkey_store_postgres::scratch::drop_database(
                        &admin, &url,
                    ));
                }
            })
            .join();
        }
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
