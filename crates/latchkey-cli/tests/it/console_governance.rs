//! The console's governance pages in a real browser: the real `latchkey serve` on a free
//! port, its bootstrap sign-in link, and the scenario `tests/browser/governance.mjs` (SoD
//! rules and a refused grant, a role assignment rule from a syntax error to its applied
//! run, an approval decided by the system's owner, an access review revoking a grant) run
//! by node with playwright-core driving Debian's chromium. Its screenshots refresh
//! `docs/screenshots/governance-*.png`.

use std::process::Stdio;
use std::time::Duration;

use latchkey_testkit::TempDir;
use tokio::process::Command;

use crate::console::{repo_root, set_up};
use crate::process::Server;

/// The pages the scenario photographs for the README.
const SHOTS: &[&str] = &[
    "governance-sod-refused",
    "governance-rules-preview",
    "governance-approvals",
    "governance-review",
];
/// How long the browser scenario may take.
const SCENARIO_DEADLINE: Duration = Duration::from_secs(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_sod_approvals_and_reviews_work_end_to_end_in_chromium() {
    let root = repo_root();
    let browser_dir = root.join("tests/browser");
    set_up(&browser_dir).await;

    let dir = TempDir::new("latchkey-e2e-governance").unwrap();
    let server = Server::start(dir.path(), &[], &[]).await;
    let stdout = server.stdout.text();
    let link = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Sign in: "))
        .unwrap_or_else(|| panic!("no sign-in link on standard output:\n{stdout}"))
        .trim()
        .to_owned();
    // The browser reaches the server by name, as in the first console scenario.
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
        .arg(browser_dir.join("governance.mjs"))
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
        node_out.contains("governance scenario: 1 passed, 0 failed"),
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
