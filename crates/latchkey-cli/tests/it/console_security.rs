//! The console's sign-in security in a real browser: the real `latchkey serve` on a free
//! port, and the scenario `tests/browser/console_security.mjs` (passkeys through Chromium's
//! virtual authenticator, an authenticator app, the Security Center's charts, the idle
//! sign-out) run by node on `http://localhost:PORT`.
//!
//! The idle phase needs the server to see the session as idle without waiting 15 minutes.
//! The scenario asks over a line protocol (`AGE SESSIONS` on its standard output, `AGED`
//! back on its standard input) and this driver moves the live sessions' last activity 20
//! minutes back in the SQLite file, as time passing would: the product has no way in for
//! tests, and the server reads `last_seen_at` afresh once its five-second cache of the
//! session has lapsed.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a failure fails the test, with the browser's and the server's output"
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use latchkey_testkit::TempDir;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Connection as _, SqliteConnection};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::Command;

use crate::process::Server;

/// How long the set-up (an apt and an npm install on a fresh machine) may take.
const SETUP_DEADLINE: Duration = Duration::from_secs(900);
/// The pages the scenario photographs for the README.
const SHOTS: &[&str] = &["account-security", "sign-in-passkey", "security-charts"];
/// How long the browser scenario may take.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(300);
/// How far back the sessions' last activity moves: more than the 15-minute timeout.
const AGE_MICROS: i64 = 20 * 60 * 1_000_000;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `tests/browser/setup` unless chromium and the npm packages are already there.
async fn set_up(browser_dir: &Path) {
    let ready = Path::new("/usr/bin/chromium").exists()
        && browser_dir.join("node_modules/playwright-core").is_dir();
    if ready {
        return;
    }
    let run = Command::new("bash")
        .arg(browser_dir.join("setup"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(SETUP_DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("tests/browser/setup did not finish within {SETUP_DEADLINE:?}"))
        .unwrap();
    assert!(
        out.status.success(),
        "tests/browser/setup failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Moves every live session's last activity back by [`AGE_MICROS`]; answers how many.
async fn age_sessions(db: &Path) -> u64 {
    let options = SqliteConnectOptions::new()
        .filename(db)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    let done =
        sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - ? WHERE revoked_at IS NULL")
            .bind(AGE_MICROS)
            .execute(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    done.rows_affected()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_an_authenticator_app_charts_and_the_idle_sign_out_in_chromium() {
    let root = repo_root();
    let browser_dir = root.join("tests/browser");
    set_up(&browser_dir).await;

    let dir = TempDir::new("latchkey-e2e-console-security").unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let stdout = server.stdout.text();
    let link = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Sign in: "))
        .unwrap_or_else(|| panic!("no sign-in link on standard output:\n{stdout}"))
        .trim()
        .to_owned();
    let port = server.addr.rsplit(':').next().unwrap();
    let base = format!("http://localhost:{port}");
    let link = link.replacen(&server.url, &base, 1);
    let db = dir.path().join("latchkey-data").join("latchkey.db");
    let screenshots = root.join("docs/screenshots");
    let modified = |shot: &str| {
        std::fs::metadata(screenshots.join(format!("{shot}.png")))
            .and_then(|m| m.modified())
            .ok()
    };
    let before: Vec<_> = SHOTS.iter().map(|shot| modified(shot)).collect();
    let shots_dir = TempDir::new("latchkey-e2e-console-security-shots").unwrap();

    let mut node = Command::new("node")
        .arg(browser_dir.join("console_security.mjs"))
        .current_dir(&browser_dir)
        .env("LATCHKEY_URL", &base)
        .env("LATCHKEY_SIGN_IN_LINK", &link)
        .env("LATCHKEY_SCREENSHOTS", shots_dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut stderr = node.stderr.take().unwrap();
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut out = String::new();
    let mut aged = 0;
    let talk = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            out.push_str(&line);
            out.push('\n');
            if line == "AGE SESSIONS" {
                aged = age_sessions(&db).await;
                stdin.write_all(b"AGED\n").await.unwrap();
                stdin.flush().await.unwrap();
            }
        }
        node.wait().await.unwrap()
    };
    let status = match tokio::time::timeout(SCENARIO_DEADLINE, talk).await {
        Ok(status) => status,
        Err(_) => panic!(
            "the browser scenario did not finish within {SCENARIO_DEADLINE:?}\nserver stderr:\n{}",
            server.stderr.text()
        ),
    };
    let node_err = errors.await.unwrap();
    assert!(
        status.success(),
        "the browser scenario failed ({status})\nstdout:\n{out}\nstderr:\n{node_err}\nserver stderr:\n{}",
        server.stderr.text()
    );
    assert!(
        out.contains("console security scenario: 1 passed, 0 failed"),
        "{out}"
    );
    assert!(aged >= 1, "the scenario's session was aged: {aged}");

    // The screenshots go to docs/screenshots/ once all of them were taken.
    for shot in SHOTS.iter().chain(["idle-warning"].iter()) {
        let from = shots_dir.path().join(format!("{shot}.png"));
        assert!(from.is_file(), "{shot}.png was not taken");
        if SHOTS.contains(shot) {
            std::fs::copy(&from, screenshots.join(format!("{shot}.png"))).unwrap();
        }
    }
    for (shot, before) in SHOTS.iter().zip(before) {
        let after = modified(shot);
        assert!(
            after.is_some() && after != before,
            "docs/screenshots/{shot}.png was not written"
        );
    }
}
