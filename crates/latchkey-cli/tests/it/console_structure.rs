//! The console's structure pages in a real browser: the real `latchkey serve` on a free
//! port, and the scenario `tests/browser/console_structure.mjs` (a group tree, a move and
//! grants previewed before they are applied, an inheritance previewed then added, a role's
//! security policy refused out of range then saved, the systems tree, a group as of a past
//! instant) run by node with playwright-core driving Debian's chromium, set up like the
//! first console scenario. Its screenshots refresh `docs/screenshots/structure-*.png`.

use crate::console::run_scenario;

/// The pages the scenario photographs for the README.
const SHOTS: &[&str] = &[
    "structure-group-move-preview",
    "structure-systems",
    "structure-role-page",
    "structure-group-as-of",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_systems_and_roles_are_changed_after_a_preview_in_chromium() {
    run_scenario(
        "console_structure.mjs",
        SHOTS,
        "console structure scenario: 1 passed, 0 failed",
    )
    .await;
}
