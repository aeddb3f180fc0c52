//! Segregation of duties from the command line against a real server, on both backends:
//! `sod create` of a forbidden rule over a combination two users already hold reports them;
//! `sod preview` lists them (a new rule and a saved one); a grant that would make the
//! combination fails with exit status 1 and the server's message naming the rule; a low
//! rule's risk shows in `effective-roles`; `sod list`, `show`, `update` and `delete`.

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

async fn grant(cli: &Cli, role: &str, user: &str) {
    cli.ok(&["grants", "create", "--role", role, "--user", user])
        .await;
}

#[expect(
    clippy::unwrap_used,
    reason = "the body of two tests: a failure fails the test"
)]
async fn sod(backend: Backend) {
    let dir = TempDir::new("latchkey-e2e-sod").unwrap();
    let (_db, mut server, admin) = start(backend, &dir).await;
    let group = admin
        .create(&["groups", "create", "--name", "Finance"])
        .await;
    let books = admin
        .create(&["systems", "create", "--name", "Books"])
        .await;
    let role = |name: &'static str| {
        let admin = &admin;
        let books = books.clone();
        async move {
            admin
                .create(&["roles", "create", "--name", name, "--system", &books])
                .await
        }
    };
    let clerk = role("clerk").await;
    let approver = role("approver").await;
    let payer = role("payer").await;
    let ana = user(&admin, &group, "ana").await;
    let ben = user(&admin, &group, "ben").await;
    let cy = user(&admin, &group, "cy").await;
    for u in [&ana, &ben] {
        grant(&admin, &approver, u).await;
        grant(&admin, &payer, u).await;
    }
    grant(&admin, &approver, &cy).await;

    // A preview of a rule not yet saved: ana and ben.
    let new_rule = [
        "sod",
        "preview",
        "--name",
        "Approvers do not pay",
        "--system",
        &books,
        "--kind",
        "all",
        "--risk",
        "forbidden",
        "--role",
        &approver,
        "--role",
        &payer,
    ];
    let preview = admin.ok(&new_rule).await;
    assert!(
        preview.contains("ana") && preview.contains("ben") && !preview.contains("cy"),
        "{preview}"
    );
    assert!(preview.contains("2 users affected"), "{preview}");

    let created = admin
        .json(&[
            "sod",
            "create",
            "--name",
            "Approvers do not pay",
            "--system",
            &books,
            "--kind",
            "all",
            "--risk",
            "forbidden",
            "--role",
            &approver,
            "--role",
            &payer,
        ])
        .await;
    assert_eq!(created["violating_users"], 2, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    // cy may not pay: exit 1, the rule and cy named.
    let refused = admin
        .run(&["grants", "create", "--role", &payer, "--user", &cy])
        .await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("Approvers do not pay") && stderr.contains("`cy`"),
        "{stderr}"
    );

    // A low rule: allowed, and the risk shows in the tree.
    admin
        .ok(&[
            "sod",
            "create",
            "--name",
            "Clerks approve carefully",
            "--system",
            &books,
            "--kind",
            "matrix",
            "--role",
            &clerk,
            "--role",
            &approver,
            "--pair",
            &format!("{clerk}:{approver}:low"),
        ])
        .await;
    grant(&admin, &clerk, &cy).await;
    let tree = admin.ok(&["effective-roles", &cy]).await;
    assert!(
        tree.contains("clerk  [SoD risk low: Clerks approve carefully]"),
        "{tree}"
    );

    // list, show, update, preview of the saved rule with a change, delete.
    let list: Value = admin.json(&["sod", "list", "--system", &books]).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let listed = admin.ok(&["sod", "list"]).await;
    assert!(listed.contains("Approvers do not pay"), "{listed}");
    let shown = admin.json(&["sod", "show", &id]).await;
    assert_eq!(shown["kind"], "all");
    let updated = admin
        .json(&["sod", "update", &id, "--risk", "high", "--if-match", "1"])
        .await;
    assert_eq!(updated["risk"], "high", "{updated}");
    let stale = admin
        .run(&["sod", "update", &id, "--risk", "low", "--if-match", "1"])
        .await;
    assert_eq!(stale.status.code(), Some(1), "{}", text(&stale.stdout));
    let wider = admin
        .json(&[
            "sod",
            "preview",
            &id,
            "--kind",
            "some",
            "--threshold",
            "1",
            "--role",
            &approver,
            "--role",
            &payer,
            "--role",
            &clerk,
        ])
        .await;
    assert_eq!(wider["total"], 3, "{wider}");
    let bad = admin.run(&["sod", "update", &id, "--kind", "some"]).await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("threshold"),
        "{}",
        text(&bad.stderr)
    );
    admin.ok(&["sod", "delete", &id]).await;
    let gone = admin.run(&["sod", "show", &id]).await;
    assert_eq!(gone.status.code(), Some(1));
    // With the rule gone, cy may pay.
    grant(&admin, &payer, &cy).await;

    server.stop().await;
}

#[tokio::test]
async fn sod_from_the_cli_on_sqlite() {
    sod(Backend::Sqlite).await;
}

#[tokio::test]
async fn sod_from_the_cli_on_postgres() {
    sod(Backend::Postgres).await;
}
