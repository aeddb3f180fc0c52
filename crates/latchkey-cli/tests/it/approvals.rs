//! Approvals from the command line against a real server, on both backends: `systems
//! create --approval-process --owner` and `update --approver-role`; `grants create` of a
//! role of that system prints the pending grant with its request; the owner's
//! `approvals list` shows it, `approvals approve` makes it confer; `grants revoke` prints a
//! revoke request, `approvals reject --comment` keeps the grant; the requester's own
//! approval is refused with exit status 1 and the four-eyes message; `approvals cancel`,
//! `show`, and the `requested` and `all` queues.

use latchkey_testkit::{Backend, TempDir};
use serde_json::Value;

use crate::process::Cli;
use crate::round_trip::start;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn user(cli: &Cli, group: &str, name: &str) -> String {
    cli.create(&[
        "users",
        "create",
        "--user-name",
        name,
        "--first-name",
        name,
        "--last-name",
        "Test",
        "--primary-group",
        group,
    ])
    .await
}

/// A token for `user`, issued by the administrator (the CLI issues only one's own).
#[expect(clippy::unwrap_used, reason = "test support: a failure fails the test")]
async fn token_for(admin: &Cli, user: &str) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/users/{user}/tokens", admin.url))
        .bearer_auth(&admin.token)
        .json(&serde_json::json!({ "name": "approver" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().unwrap().to_owned()
}

#[expect(
    clippy::unwrap_used,
    reason = "the body of two tests: a failure fails the test"
)]
async fn approvals(backend: Backend) {
    let dir = TempDir::new("latchkey-e2e-approvals").unwrap();
    let (_db, mut server, admin) = start(backend, &dir).await;
    let group = admin
        .create(&["groups", "create", "--name", "Finance"])
        .await;
    let olga = user(&admin, &group, "olga").await;
    let bob = user(&admin, &group, "bob").await;
    let erp = admin
        .create(&[
            "systems",
            "create",
            "--name",
            "ERP",
            "--approval-process",
            "--owner",
            &olga,
        ])
        .await;
    let clerk = admin
        .create(&["roles", "create", "--name", "clerk", "--system", &erp])
        .await;
    let deciders = admin
        .create(&["roles", "create", "--name", "deciders", "--system", &erp])
        .await;
    let updated = admin
        .json(&["systems", "update", &erp, "--approver-role", &deciders])
        .await;
    assert_eq!(updated["approver_role_id"], deciders.as_str(), "{updated}");
    let owner = Cli {
        config_dir: admin.config_dir.clone(),
        url: admin.url.clone(),
        token: token_for(&admin, &olga).await,
    };

    // The grant waits, with its request.
    let pending = admin
        .json(&["grants", "create", "--role", &clerk, "--user", &bob])
        .await;
    assert_eq!(pending["status"], "pending_approval", "{pending}");
    let grant = pending["id"].as_str().unwrap().to_owned();
    let request = pending["approval_request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue = owner.ok(&["approvals", "list"]).await;
    assert!(
        queue.contains(&request) && queue.contains("pending"),
        "{queue}"
    );
    let mine = admin
        .json(&["approvals", "list", "--queue", "requested"])
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");

    // Four eyes: the requester cannot approve; exit 1 with the reason.
    let refused = admin.run(&["approvals", "approve", &request]).await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains("not an approver"),
        "{}",
        text(&refused.stderr)
    );
    let approved = owner
        .json(&["approvals", "approve", &request, "--comment", "ok for Q3"])
        .await;
    assert_eq!(approved["status"], "approved", "{approved}");
    let shown = admin.json(&["grants", "show", &grant]).await;
    assert_eq!(shown["status"], "active", "{shown}");
    let tree = admin.ok(&["effective-roles", &bob]).await;
    assert!(tree.contains("clerk"), "{tree}");

    // A revoke waits; rejecting it (a comment is required) keeps the grant.
    let revoke = admin.json(&["grants", "revoke", &grant]).await;
    assert_eq!(revoke["action"], "revoke", "{revoke}");
    let revoke_id = revoke["id"].as_str().unwrap().to_owned();
    let no_comment = owner
        .run(&["approvals", "reject", &revoke_id, "--comment", " "])
        .await;
    assert_eq!(no_comment.status.code(), Some(1));
    assert!(
        text(&no_comment.stderr).contains("comment"),
        "{}",
        text(&no_comment.stderr)
    );
    let rejected = owner
        .json(&[
            "approvals",
            "reject",
            &revoke_id,
            "--comment",
            "bob still closes the books",
        ])
        .await;
    assert_eq!(rejected["status"], "rejected");
    let shown = admin.json(&["approvals", "show", &revoke_id]).await;
    assert_eq!(shown["comment"], "bob still closes the books");
    assert_eq!(
        admin.json(&["grants", "show", &grant]).await["status"],
        "active"
    );

    // The requester cancels a new revoke; the `all` queue has all three.
    let again = admin.json(&["grants", "revoke", &grant]).await;
    let cancelled = admin
        .json(&["approvals", "cancel", again["id"].as_str().unwrap()])
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    let all = admin.json(&["approvals", "list", "--queue", "all"]).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3, "{all}");
    let decided = admin
        .json(&[
            "approvals",
            "list",
            "--queue",
            "all",
            "--status",
            "rejected",
        ])
        .await;
    assert_eq!(decided["items"].as_array().unwrap().len(), 1, "{decided}");

    server.stop().await;
}

#[tokio::test]
async fn approvals_from_the_cli_on_sqlite() {
    approvals(Backend::Sqlite).await;
}

#[tokio::test]
async fn approvals_from_the_cli_on_postgres() {
    approvals(Backend::Postgres).await;
}
