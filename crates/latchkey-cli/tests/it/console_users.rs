//! Users' life cycle and workspaces in a real browser: the real `latchkey serve` on a free
//! port, its bootstrap sign-in link read from its output, and the scenario
//! `tests/browser/console_users.mjs` run by node (playwright-core driving Debian's chromium)
//! on `http://localhost:PORT`, with the server's mail outbox to read an invitation from. The
//! scenario's screenshots refresh `docs/screenshots/`.

use crate::console::run_scenario;

/// The pages the scenario photographs for the README.
const SHOTS: &[&str] = &[
    "users-import-mapping",
    "users-import-preview",
    "user-delete",
    "workspace",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_imports_invites_disables_and_deletes_users_in_chromium() {
    run_scenario(
        "console_users.mjs",
        SHOTS,
        "users scenario: 1 passed, 0 failed",
    )
    .await;
}
