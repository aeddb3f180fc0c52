//! Access reviews from the command line against a real server, on both backends:
//! `reviews create` over a role (its grants become items; with no role owner the creator
//! reviews them), `list`, `show`, `items` (a campaign's and `--mine`), `decide` confirming
//! (the grant shows its recertification) and revoking (the grant is gone), a second
//! decision refused with exit status 1, a past due date refused naming `due_at`, and
//! `close` reporting what was left undecided.

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

#[expect(clippy::panic, reason = "a missing item fails the test")]
fn item_for<'a>(items: &'a Value, name: &str) -> &'a Value {
    items["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["grantee_name"] == name))
        .unwrap_or_else(|| panic!("no item for {name}: {items}"))
}

#[expect(
    clippy::unwrap_used,
    reason = "the body of two tests: a failure fails the test"
)]
async fn reviews(backend: Backend) {
    let dir = TempDir::new("latchkey-e2e-reviews").unwrap();
    let (_db, mut server, admin) = start(backend, &dir).await;
    let group = admin
        .create(&["groups", "create", "--name", "Finance"])
        .await;
    let books = admin
        .create(&["systems", "create", "--name", "Books"])
        .await;
    let approver = admin
        .create(&["roles", "create", "--name", "approver", "--system", &books])
        .await;
    let mut users = Vec::new();
    for name in ["ana", "ben", "cy"] {
        let id = user(&admin, &group, name).await;
        admin
            .ok(&["grants", "create", "--role", &approver, "--user", &id])
            .await;
        users.push(id);
    }

    let past = admin
        .run(&[
            "reviews",
            "create",
            "--name",
            "Q4",
            "--role",
            &approver,
            "--reviewer",
            "role_owner",
            "--due",
            "2020-01-01",
        ])
        .await;
    assert_eq!(past.status.code(), Some(1));
    assert!(
        text(&past.stderr).contains("due_at"),
        "{}",
        text(&past.stderr)
    );

    let created = admin
        .json(&[
            "reviews",
            "create",
            "--name",
            "Q4",
            "--role",
            &approver,
            "--reviewer",
            "role_owner",
            "--due",
            "2099-01-01",
        ])
        .await;
    assert_eq!(created["counts"]["total"], 3, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    let listed = admin.ok(&["reviews", "list"]).await;
    assert!(listed.contains("Q4") && listed.contains("open"), "{listed}");
    let shown = admin.json(&["reviews", "show", &id]).await;
    assert_eq!(shown["counts"]["pending"], 3);
    let table = admin.ok(&["reviews", "items", &id]).await;
    assert!(
        table.contains("user ana") && table.contains("approver") && table.contains("pending"),
        "{table}"
    );
    // No role owner: the creator reviews every item.
    let mine = admin.json(&["reviews", "items", "--mine"]).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 3, "{mine}");
    assert_eq!(item_for(&mine, "ana")["reviewer_fallback"], true);

    let ana_item = item_for(&mine, "ana")["id"].as_str().unwrap().to_owned();
    let ben_item = item_for(&mine, "ben")["id"].as_str().unwrap().to_owned();
    let confirmed = admin
        .ok(&[
            "reviews",
            "decide",
            &id,
            &ana_item,
            "confirm",
            "--comment",
            "still needed",
        ])
        .await;
    assert!(
        confirmed.contains("confirmed `approver` of ana"),
        "{confirmed}"
    );
    let grants = admin.json(&["grants", "list", "--user", &users[0]]).await;
    assert!(
        grants["items"][0]["last_recertified_at"].is_string(),
        "{grants}"
    );
    admin
        .ok(&["reviews", "decide", &id, &ben_item, "revoke"])
        .await;
    let grants = admin.json(&["grants", "list", "--user", &users[1]]).await;
    assert!(grants["items"].as_array().unwrap().is_empty(), "{grants}");
    let again = admin
        .run(&["reviews", "decide", &id, &ben_item, "confirm"])
        .await;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("already decided"),
        "{}",
        text(&again.stderr)
    );
    let overdue = admin.json(&["reviews", "items", "--overdue"]).await;
    assert!(overdue["items"].as_array().unwrap().is_empty());

    let closed = admin.ok(&["reviews", "close", &id]).await;
    assert!(
        closed.contains("1 confirmed, 1 revoked, 1 left undecided"),
        "{closed}"
    );
    server.stop().await;
}

#[tokio::test]
async fn reviews_from_the_cli_on_sqlite() {
    reviews(Backend::Sqlite).await;
}

#[tokio::test]
async fn reviews_from_the_cli_on_postgres() {
    reviews(Backend::Postgres).await;
}
