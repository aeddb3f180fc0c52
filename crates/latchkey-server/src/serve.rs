//! `latchkey serve`: load the configuration, open the store (migrating it), create the first
//! organisation on a fresh store and print its administrator's token and console sign-in
//! link once, then serve until SIGTERM or Ctrl-C, letting requests in flight finish.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use latchkey_model::{SystemClock, UuidV7Generator};
use latchkey_service::Services;
use latchkey_store::Store;
use latchkey_store_postgres::PostgresStore;
use latchkey_store_sqlite::SqliteStore;

use crate::config::{Config, ServeOptions};

/// Opens the store the configuration names: PostgreSQL for `postgres://` URLs, SQLite for
/// `sqlite:` URLs or, by default, `latchkey.db` in the data folder.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match config.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = PostgresStore::connect(url)
                .await
                .context("could not open the PostgreSQL store")?;
            Ok(Arc::new(store))
        }
        Some(url) if url.starts_with("sqlite:") => {
            let store = SqliteStore::open_url(url)
                .await
                .context("could not open the SQLite store")?;
            Ok(Arc::new(store))
        }
        Some(other) => anyhow::bail!(
            "database_url must start with `postgres://` or `sqlite:`, not `{}`",
            other.split(':').next().unwrap_or_default()
        ),
        None => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!(
                    "could not create the data folder `{}`",
                    config.data_dir.display()
                )
            })?;
            let path = config.data_dir.join("latchkey.db");
            let store = SqliteStore::open(&path)
                .await
                .with_context(|| format!("could not open `{}`", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

fn init_logs(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second initialisation (tests) is harmless and ignored.
    let _ = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Writes a bootstrap secret (the token, the sign-in link) readable by its owner only.
fn write_secret_file(dir: &Path, name: &str, secret: &str) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("could not create `{}`", dir.display()))?;
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("could not write `{}`", path.display()))?;
    // `mode` applies only when the file is created: tighten a file left from before as
    // well, before the token is in it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(file, "{secret}")?;
    Ok(path)
}

pub async fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    let config = Config::load(&opts)?;
    init_logs(&config);
    let store = open_store(&config).await?;
    let services = Services::with_sign_in(
        store,
        Arc::new(SystemClock),
        Arc::new(UuidV7Generator),
        config.sign_in(),
    )
    .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    services.use_master_key(crate::master_key::load(&config)?);
    let outbox = config.data_dir.join("outbox");
    // Bound before anything names the server's address, so that with port 0 the links
    // mailed and printed, and the passkeys' origin, carry the port actually taken.
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("could not listen on `{}`", config.listen))?;
    let addr = listener.local_addr()?;
    let public_url = if config.public_url.is_empty() {
        format!("http://{addr}")
    } else {
        config.public_url.trim_end_matches('/').to_owned()
    };
    let mailer: Arc<dyn latchkey_service::mail::Mailer> = if config.smtp_host.is_empty() {
        tracing::info!(outbox = %outbox.display(), "no SMTP server configured: mails are written to the outbox");
        Arc::new(latchkey_service::mail::Outbox::new(outbox))
    } else {
        let smtp = config.smtp()?;
        tracing::info!(host = %smtp.host, port = smtp.port, tls = ?smtp.tls, "mails are sent over SMTP");
        Arc::new(
            latchkey_service::mail::Smtp::with(&smtp)
                .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?,
        )
    };
    let passkeys = config.passkeys(&public_url);
    services
        .use_passkeys(&passkeys)
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    tracing::info!(rp_id = %passkeys.rp_id, origins = ?passkeys.origins, "passkeys bound to this relying party");
    services.use_mailer(latchkey_service::MailSettings {
        mailer,
        from: config.mail_from.clone(),
        public_url: public_url.clone(),
    });
    if let Some(boot) = services
        .bootstrap()
        .await
        .context("could not create the first organisation")?
    {
        let path = write_secret_file(&config.data_dir, "bootstrap-token", &boot.token)?;
        let link = format!("{public_url}/auth/magic-link?token={}", boot.sign_in_secret);
        let link_path = write_secret_file(&config.data_dir, "bootstrap-sign-in-link", &link)?;
        // Printed once, on the start that created the organisation; never logged.
        println!(
            "Created organisation `{}` with administrator `{}`.\nBootstrap API token (shown once, also in {}):\n\n    {}\n\nSign in to the console within {} hours, once (also in {}):\n\nSign in: {link}\n",
            boot.organisation.slug,
            boot.admin_user_name,
            path.display(),
            boot.token,
            latchkey_service::BOOTSTRAP_LINK_HOURS,
            link_path.display(),
        );
    }
    // Keeps the engines current with writes of other servers sharing the database.
    let sync = services.spawn_sync(std::time::Duration::from_secs(1));
    let app = crate::app::build(services, config.max_body_bytes);
    println!("Latchkey listening on http://{addr}");
    tracing::info!(%addr, backend = ?config.database_url.as_deref().map(|u| u.split(':').next().unwrap_or_default()).unwrap_or("sqlite"), "serving");
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    // The peer address reaches sessions and security events.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal(grace))
        .await
        .context("server failed")?;
    sync.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal(grace: Duration) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!(
        grace_seconds = grace.as_secs(),
        "shutting down: finishing requests in flight"
    );
    // After the grace period, stop waiting for stragglers.
    tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        // Requests were cut off: say so with the exit status.
        tracing::warn!("grace period over; exiting with requests still in flight");
        std::process::exit(1);
    });
}
