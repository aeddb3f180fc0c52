//! The console's governance pages in a real browser: the real `latchkey serve` on a free
//! port, its bootstrap sign-in link, and the scenario `tests/browser/governance.mjs` (SoD
//! rules and a refused grant, a role assignment rule from a syntax error to its applied
//! run, an approval decided by the system's owner, an access review revoking a grant) run
//! by node with playwright-core driving Debian's chromium. Its screenshots refresh
//! `docs/screenshots/governance-*.png`.

use crate::console::run_scenario;

/// The pages the scenario photographs for the README.
const SHOTS: &[&str] = &[
    "governance-sod-refused",
    "governance-rules-preview",
    "governance-approvals",
    "governance-review",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_sod_approvals_and_reviews_work_end_to_end_in_chromium() {
    run_scenario(
        "governance.mjs",
        SHOTS,
        "governance scenario: 1 passed, 0 failed",
    )
    .await;
}
