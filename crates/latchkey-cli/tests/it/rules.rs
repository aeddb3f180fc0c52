//! Role assignment rules from the command line against a real server, on both backends: a
//! rule refused with the line and column of its problem, `check`, `preview` naming who would
//! gain, `apply` following the run to its end, the grant shown "via rule" by `effective-roles`,
//! a hand revoke refused naming the rule, a user moved out of the rule's group losing the
//! role at once, and `delete` taking the rule's grants away.

use latchkey_testkit::{Backend, TempDir};

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

#[expect(
    clippy::unwrap_used,
    reason = "the body of two tests: a failure fails the test"
)]
async fn rules(backend: Backend) {
    let dir = TempDir::new("latchkey-e2e-rules").unwrap();
    let (_db, mut server, admin) = start(backend, &dir).await;
    let writers = admin
        .create(&["groups", "create", "--name", "Writers"])
        .await;
    let others = admin
        .create(&["groups", "create", "--name", "Others"])
        .await;
    let ana = user(&admin, &writers, "ana").await;
    let bea = user(&admin, &writers, "bea").await;
    user(&admin, &others, "cai").await;
    let system = admin.create(&["systems", "create", "--name", "Docs"]).await;
    let author = admin
        .create(&["roles", "create", "--name", "Author", "--system", &system])
        .await;

    // A problem is refused with where it is, and nothing is saved.
    let bad = admin
        .run(&[
            "rules",
            "create",
            "Writers",
            "--expression",
            "user.active &&\n  user.departement == \"x\"",
            "--role",
            &author,
        ])
        .await;
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad.stderr));
    let stderr = text(&bad.stderr);
    assert!(
        stderr.contains("line 2, column 3") && stderr.contains("user.departement"),
        "{stderr}"
    );
    assert_eq!(
        admin.json(&["rules", "list"]).await["items"],
        serde_json::json!([])
    );
    let checked = admin
        .ok(&["rules", "check", "--expression", "user.active"])
        .await;
    assert!(checked.contains("valid"), "{checked}");

    let rule = admin
        .create(&[
            "rules",
            "create",
            "Writers",
            "--expression",
            r#"user.active && user.primary_group == "Writers""#,
            "--role",
            &author,
        ])
        .await;
    let preview = admin.ok(&["rules", "preview", &rule]).await;
    assert!(preview.contains("2 gain, 0 lose"), "{preview}");
    assert!(
        preview.contains("ana") && preview.contains("bea") && !preview.contains("cai"),
        "{preview}"
    );
    let run = admin.json(&["rules", "apply", &rule]).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["granted"], 2, "{run}");
    assert_eq!(run["done"], run["total"], "{run}");
    let runs = admin.json(&["rules", "runs", &rule]).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 1, "{runs}");

    let roles = admin.ok(&["effective-roles", &ana]).await;
    assert!(roles.contains("via rule Writers"), "{roles}");
    let grants = admin
        .json(&["grants", "list", "--user", &ana, "--origin", "rule"])
        .await;
    let grant = grants["items"][0]["id"].as_str().unwrap().to_owned();
    let refused = admin.run(&["grants", "revoke", &grant]).await;
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("rule_granted") || stderr.contains("role assignment rule `Writers`"),
        "{stderr}"
    );

    // Moving bea out of Writers takes the role away at once.
    admin
        .ok(&["users", "update", &bea, "--primary-group", &others])
        .await;
    let roles = admin.ok(&["effective-roles", &bea]).await;
    assert!(!roles.contains("Author"), "{roles}");

    admin.ok(&["rules", "delete", &rule]).await;
    let roles = admin.ok(&["effective-roles", &ana]).await;
    assert!(!roles.contains("Author"), "{roles}");

    server.stop().await;
}

#[tokio::test]
async fn rules_from_the_cli_on_sqlite() {
    rules(Backend::Sqlite).await;
}

#[tokio::test]
async fn rules_from_the_cli_on_postgres() {
    rules(Backend::Postgres).await;
}
