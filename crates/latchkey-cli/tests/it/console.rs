//! The console in a real browser: the real `latchkey serve` on a free port in a temporary
//! folder, its bootstrap sign-in link read from its output, and the scenario
//! `tests/browser/console.mjs` run by node (playwright-core driving Debian's chromium) on
//! `http://localhost:PORT`, a name rather than 127.0.0.1 as WebAuthn requires. What the
//! browser needs is installed by `tests/browser/setup` when missing, so the test runs on a
//! fresh machine too. The scenario's screenshots refresh `docs/screenshots/`.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a failure fails the test, with the browser's and the server's output"
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use latchkey_testkit::TempDir;
use tokio::process::Command;

use crate::process::Server;

/// How long the set-up (an apt and an npm install on a fresh machine) may take.
const SETUP_DEADLINE: Duration = Duration::from_secs(900);
/// The main pages the scenario photographs for the README.
const SHOTS: &[&str] = &["sign-in", "users", "user-access", "groups", "roles"];
/// How long the browser scenario may take.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(300);

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `tests/browser/setup` unless chromium and the npm packages are already there.
pub(crate) async fn set_up(browser_dir: &Path) {
    let ready = Path::new("/usr/bin/chromium").exists()
        && browser_dir.join("node_modules/playwright-core").is_dir()
        && browser_dir.join("node_modules/axe-core").is_dir();
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

/// Runs the browser scenario `tests/browser/{script}` against a fresh `latchkey serve` in
/// a temporary folder: node gets the server's URL by name (`LATCHKEY_URL`), its bootstrap
/// sign-in link (`LATCHKEY_SIGN_IN_LINK`), its outbox folder (`LATCHKEY_OUTBOX`) and where
/// to save screenshots (`LATCHKEY_SCREENSHOTS`). Fails unless the scenario exits cleanly,
/// prints `{passed}` and rewrote every one of `shots` in `docs/screenshots/`.
pub(crate) async fn run_scenario(script: &str, shots: &[&str], passed: &str) {
    let root = repo_root();
    let browser_dir = root.join("tests/browser");
    set_up(&browser_dir).await;

    let dir = TempDir::new("latchkey-e2e-console").unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let stdout = server.stdout.text();
    let link = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Sign in: "))
        .unwrap_or_else(|| panic!("no sign-in link on standard output:\n{stdout}"))
        .trim()
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/auth/magic-link?token=lkm_", server.url)),
        "{link}"
    );
    let saved =
        std::fs::read_to_string(dir.path().join("latchkey-data/bootstrap-sign-in-link")).unwrap();
    assert_eq!(saved.trim(), link, "the link is also in latchkey-data/");

    // The browser reaches the server by name.
    let port = server.addr.rsplit(':').next().unwrap();
    let base = format!("http://localhost:{port}");
    let link = link.replacen(&server.url, &base, 1);
    let screenshots = root.join("docs/screenshots");
    let modified = |shot: &str| {
        std::fs::metadata(screenshots.join(format!("{shot}.png")))
            .and_then(|m| m.modified())
            .ok()
    };
    let before: Vec<_> = shots.iter().map(|shot| modified(shot)).collect();

    let run = Command::new("node")
        .arg(browser_dir.join(script))
        .current_dir(&browser_dir)
        .env("LATCHKEY_URL", &base)
        .env("LATCHKEY_SIGN_IN_LINK", &link)
        .env("LATCHKEY_OUTBOX", dir.path().join("latchkey-data/outbox"))
        .env("LATCHKEY_SCREENSHOTS", &screenshots)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(SCENARIO_DEADLINE, run).await {
        Ok(out) => out.unwrap(),
        Err(_) => panic!(
            "the browser scenario {script} did not finish within {SCENARIO_DEADLINE:?}\nserver stderr:\n{}",
            server.stderr.text()
        ),
    };
    let node_out = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser scenario {script} failed ({})\nstdout:\n{node_out}\nstderr:\n{}\nserver stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        server.stderr.text()
    );
    assert!(node_out.contains(passed), "{node_out}");
    for (shot, before) in shots.iter().zip(before) {
        let after = modified(shot);
        assert!(
            after.is_some() && after != before,
            "docs/screenshots/{shot}.png was not written"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_administrator_builds_access_and_reads_its_provenance_in_chromium() {
    run_scenario("console.mjs", SHOTS, "console scenario: 1 passed, 0 failed").await;
}
