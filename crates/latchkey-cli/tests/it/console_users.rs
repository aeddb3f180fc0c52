//! Users' life cycle and workspaces in a real browser: the real `latchkey serve` on a free
//! port, its bootstrap sign-in link read from its output, and the scenario
//! `tests/browser/console_users.mjs` run by node (playwright-core driving Debian's chromium)
//! on `http://localhost:PORT`, with the server's mail outbox to read an invitation from. The
//! scenario's screenshots refresh `docs/screenshots/`.

use std::process::Stdio;
use std::time::Duration;

use latchkey_testkit::TempDir;
use tokio::process::Command;

use crate::console::{repo_root, set_up};
use crate::process::Server;

/// The pages the scenario photographs for the README.
const SHOTS: &[&str] = &[
    "users-import-mapping",
    "users-import-preview",
    "user-delete",
    "workspace",
];
/// How long the browser scenario may take.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_imports_invites_disables_and_deletes_users_in_chromium() {
    let root = repo_root();
    let browser_dir = root.join("tests/browser");
    set_up(&browser_dir).await;

    let dir = TempDir::new("latchkey-e2e-console-users").unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let stdout = server.stdout.text();
    let link = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Sign in: "))
        .unwrap_or_else(|| panic!("no sign-in link on standard output:\n{stdout}"))
        .trim()
        .to_owned();
    // The browser reaches the server by name.
    let port = server.addr.rsplit(':').next().unwrap();
    let base = format!("http://localhost:{port}");
    let link = link.replacen(&server.url, &base, 1);
    let outbox = dir.path().join("latchkey-data/outbox");
    let screenshots = root.join("docs/screenshots");
    let modified = |shot: &str| {
        std::fs::metadata(screenshots.join(format!("{shot}.png")))
            .and_then(|m| m.modified())
            .ok()
    };
    let before: Vec<_> = SHOTS.iter().map(|shot| modified(shot)).collect();

    let run = Command::new("node")
        .arg(browser_dir.join("console_users.mjs"))
        .current_dir(&browser_dir)
        .env("LATCHKEY_URL", &base)
        .env("LATCHKEY_SIGN_IN_LINK", &link)
        .env("LATCHKEY_OUTBOX", &outbox)
        .env("LATCHKEY_SCREENSHOTS", &screenshots)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(SCENARIO_DEADLINE, run).await {
        Ok(out) => out.unwrap(),
        Err(_) => panic!(
            "the browser scenario did not finish within {SCENARIO_DEADLINE:?}\nserver stderr:\n{}",
            server.stderr.text()
        ),
    };
    let node_out = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser scenario failed ({})\nstdout:\n{node_out}\nstderr:\n{}\nserver stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        server.stderr.text()
    );
    assert!(
        node_out.contains("users scenario: 1 passed, 0 failed"),
        "{node_out}"
    );
    for (shot, before) in SHOTS.iter().zip(before) {
        let after = modified(shot);
        assert!(
            after.is_some() && after != before,
            "docs/screenshots/{shot}.png was not written"
        );
    }
}
