//! `latchkey serve` on a fresh store, as an operator first runs it: with no configuration it
//! keeps SQLite in `./latchkey-data/`, prints the bootstrap token once on standard output
//! (never in the logs) and writes it to `latchkey-data/bootstrap-token` readable by its owner
//! only, with the console's single-use sign-in link beside it; the token works; a restart
//! prints neither and the first token still works. The same on
//! PostgreSQL, named by `LATCHKEY_DATABASE_URL` or by `--database-url`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use latchkey_testkit::TempDir;

use crate::process::{Cli, ScratchDb, Server, bootstrap_token};

/// Where the store is and how the server is told.
enum Store<'a> {
    Default,
    Env(&'a str),
    Flag(&'a str),
}

impl Store<'_> {
    async fn start(&self, dir: &Path) -> Server {
        match self {
            Self::Default => Server::start(dir, &[], &[]).await,
            Self::Env(url) => Server::start(dir, &[], &[("LATCHKEY_DATABASE_URL", url)]).await,
            Self::Flag(url) => Server::start(dir, &["--database-url", url], &[]).await,
        }
    }
}

/// Who the token belongs to, through `latchkey whoami --json`.
async fn whoami(server: &Server, config: &Path, token: &str) -> serde_json::Value {
    let cli = Cli {
        config_dir: config.to_path_buf(),
        url: server.url.clone(),
        token: token.to_owned(),
    };
    cli.json(&["whoami"]).await
}

#[expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "the body of three tests: a failure fails the test"
)]
async fn bootstrap_once_then_restart(store: Store<'_>) {
    let dir = TempDir::new("latchkey-e2e-boot").unwrap();
    let config = TempDir::new("latchkey-e2e-boot-config").unwrap();
    let data = dir.path().join("latchkey-data");
    if matches!(store, Store::Env(_)) {
        // A token file left readable by everyone from an earlier installation must not
        // keep its permissions when the new token is written into it.
        std::fs::create_dir_all(&data).unwrap();
        let stale = data.join("bootstrap-token");
        std::fs::write(&stale, "stale\n").unwrap();
        std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    let mut first = store.start(dir.path()).await;
    let stdout = first.stdout.text();
    let token = bootstrap_token(&stdout)
        .unwrap_or_else(|| panic!("no bootstrap token on standard output:\n{stdout}"));
    assert_eq!(
        stdout.matches("lk_").count(),
        1,
        "the token is printed once:\n{stdout}"
    );
    assert!(
        stdout.contains("Created organisation `default` with administrator `admin`."),
        "{stdout}"
    );
    assert!(
        stdout.contains("also in latchkey-data/bootstrap-token"),
        "{stdout}"
    );

    let file = data.join("bootstrap-token");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{token}\n")
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "bootstrap-token has mode {mode:o}");
    // The console's sign-in link: printed once, in a file only its owner reads.
    let link = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Sign in: "))
        .unwrap_or_else(|| panic!("no sign-in link on standard output:\n{stdout}"));
    assert!(
        link.starts_with(&format!("{}/auth/magic-link?token=lkm_", first.url)),
        "{link}"
    );
    let link_file = data.join("bootstrap-sign-in-link");
    assert_eq!(
        std::fs::read_to_string(&link_file).unwrap(),
        format!("{link}\n")
    );
    let mode = std::fs::metadata(&link_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "bootstrap-sign-in-link has mode {mode:o}");
    let sqlite = data.join("latchkey.db");
    match store {
        Store::Default => assert!(sqlite.is_file(), "no {}", sqlite.display()),
        Store::Env(_) | Store::Flag(_) => {
            assert!(!sqlite.exists(), "SQLite was used instead of PostgreSQL");
        }
    }

    let me = whoami(&first, config.path(), &token).await;
    assert_eq!(me["user_name"], "admin", "{me}");
    assert_eq!(me["org_slug"], "default", "{me}");
    assert_eq!(me["installation_admin"], true, "{me}");
    first.stop().await;
    assert!(
        !first.stderr.text().contains(&token),
        "the token was logged:\n{}",
        first.stderr.text()
    );
    let secret = link.split("token=").nth(1).unwrap();
    assert!(
        !first.stderr.text().contains(secret),
        "the sign-in link was logged:\n{}",
        first.stderr.text()
    );

    let mut second = store.start(dir.path()).await;
    let again = second.stdout.text();
    assert!(
        !again.contains("lk_")
            && !again.contains("Created organisation")
            && !again.contains("Sign in:"),
        "a restart printed a token or a link:\n{again}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{token}\n"),
        "a restart rewrote the token file"
    );
    let me_again = whoami(&second, config.path(), &token).await;
    assert_eq!(me_again["user_id"], me["user_id"], "{me_again}");
    second.stop().await;
}

#[tokio::test]
async fn a_fresh_folder_bootstraps_sqlite_once() {
    bootstrap_once_then_restart(Store::Default).await;
}

#[tokio::test]
async fn postgres_from_the_environment_bootstraps_once() {
    let db = ScratchDb::new().await;
    bootstrap_once_then_restart(Store::Env(&db.url)).await;
}

#[tokio::test]
async fn postgres_from_the_flag_bootstraps_once() {
    let db = ScratchDb::new().await;
    bootstrap_once_then_restart(Store::Flag(&db.url)).await;
}

/// With `--listen 127.0.0.1:0` the system picks the port; the printed sign-in link must
/// name that port, not 0, or it leads nowhere.
#[tokio::test]
async fn a_server_on_port_zero_prints_a_link_to_the_port_it_took() {
    use tokio::io::{AsyncBufReadExt as _, BufReader};

    let dir = TempDir::new("latchkey-e2e-port-zero").unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_clear()
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let read = async {
        let mut link = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(l) = line.strip_prefix("Sign in: ") {
                link = Some(l.trim().to_owned());
            }
            if let Some(url) = line.strip_prefix("Latchkey listening on ") {
                return (link, url.trim().to_owned());
            }
        }
        panic!("the server stopped before saying where it listens");
    };
    let (link, url) = tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .unwrap_or_else(|_| panic!("the server did not say where it listens within 30 s"));
    assert!(!url.ends_with(":0"), "{url}");
    let link = link.unwrap_or_else(|| panic!("no sign-in link before the listening line"));
    assert!(
        link.starts_with(&format!("{url}/auth/magic-link?token=lkm_")),
        "{link} does not lead to {url}"
    );
    let _ = child.kill().await;
}
