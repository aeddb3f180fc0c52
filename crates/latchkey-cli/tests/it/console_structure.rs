//! The console's structure pages in a real browser: the real `latchkey serve` on a free
//! port, and the scenario `tests/browser/console_structure.mjs` (a group tree, a move and
//! grants previewed before they are applied, an inheritance previewed then added, a role's
//! security policy refused out of range then saved, the systems tree, a group as of a past
//! instant) run by node with playwright-core driving Debian's chromium, set up like the
//! first console scenario. Its screenshots refresh `docs/screenshots/structure-*.png`.

use std::process::Stdio;
use std::time::Duration;

use latchkey_testkit::TempDir;
use tokio::process::Command;

use crate::console::{repo_root, set_up};
use crate::process::Server;

/// The pages the scenario photographs for the README.
const SHOTS: &[&str] = &[
    "structure-group-move-preview",
    "structure-systems",
    "structure-role-page",
    "structure-group-as-of",
];
/// How long the browser scenario may take.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_systems_and_roles_are_changed_after_a_preview_in_chromium() {
    let root = repo_root();
    let browser_dir = root.join("tests/browser");
    set_up(&browser_dir).await;

    let dir = TempDir::new("latchkey-e2e-structure").unwrap();
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
    let screenshots = root.join("docs/screenshots");
    let modified = |shot: &str| {
        std::fs::metadata(screenshots.join(format!("{shot}.png")))
            .and_then(|m| m.modified())
            .ok()
    };
    let before: Vec<_> = SHOTS.iter().map(|shot| modified(shot)).collect();

    let run = Command::new("node")
        .arg(browser_dir.join("console_structure.mjs"))
        .current_dir(&browser_dir)
        .env("LATCHKEY_URL", &base)
        .env("LATCHKEY_SIGN_IN_LINK", &link)
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
        node_out.contains("console structure scenario: 1 passed, 0 failed"),
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
