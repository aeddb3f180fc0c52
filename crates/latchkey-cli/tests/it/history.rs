//! The access history from the command line against a real server, on both backends:
//! `groups members --at` shows a past membership, `effective-roles --at` a past role,
//! `groups restore-members --dry-run` then for real brings the membership back,
//! `users restore-grants` the grant, and `security snapshots create|list|csv` pins and
//! downloads who held what; `preview grant-to-group` tells who would gain a role.

use latchkey_testkit::{Backend, TempDir};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::round_trip::start;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn user_names(members: &Value) -> Vec<String> {
    members["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["user_name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn pause() {
    // Revisions are stamped with the server's clock: keep "then" apart from "now".
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
}

#[expect(
    clippy::unwrap_used,
    reason = "the body of two tests: a failure fails the test"
)]
async fn history(backend: Backend) {
    let dir = TempDir::new("latchkey-e2e-history").unwrap();
    let (_db, mut server, admin) = start(backend, &dir).await;
    let root = admin.create(&["groups", "create", "--name", "Staff"]).await;
    let team = admin
        .create(&["groups", "create", "--name", "Team", "--parent", &root])
        .await;
    let sys = admin.create(&["systems", "create", "--name", "Wiki"]).await;
    let editor = admin
        .create(&["roles", "create", "--name", "editor", "--system", &sys])
        .await;
    let ana = admin
        .create(&[
            "users",
            "create",
            "--user-name",
            "ana",
            "--first-name",
            "Ana",
            "--last-name",
            "Test",
            "--primary-group",
            &root,
        ])
        .await;
    let membership = admin
        .create(&["memberships", "create", "--user", &ana, "--group", &team])
        .await;
    let grant = admin
        .create(&["grants", "create", "--role", &editor, "--user", &ana])
        .await;
    pause().await;
    let then = OffsetDateTime::now_utc().format(&Rfc3339).unwrap();
    pause().await;
    admin.ok(&["memberships", "delete", &membership]).await;
    admin.ok(&["grants", "revoke", &grant]).await;

    // The past and the present.
    let past = admin
        .json(&["groups", "members", &team, "--at", &then])
        .await;
    assert_eq!(user_names(&past), vec!["ana"], "{past}");
    let present = admin.json(&["groups", "members", &team]).await;
    assert!(user_names(&present).is_empty(), "{present}");
    let tree = admin.ok(&["effective-roles", &ana, "--at", &then]).await;
    assert!(
        tree.contains("editor") && tree.contains("from the history"),
        "{tree}"
    );

    // Restore: a dry run changes nothing, then the restore brings both back.
    let preview = admin
        .json(&[
            "groups",
            "restore-members",
            &team,
            "--at",
            &then,
            "--dry-run",
        ])
        .await;
    assert_eq!(preview["added"][0]["user_name"], "ana", "{preview}");
    assert!(user_names(&admin.json(&["groups", "members", &team]).await).is_empty());
    admin
        .ok(&["groups", "restore-members", &team, "--at", &then])
        .await;
    assert_eq!(
        user_names(&admin.json(&["groups", "members", &team]).await),
        vec!["ana"]
    );
    let restored = admin
        .ok(&["users", "restore-grants", &ana, "--at", &then])
        .await;
    assert!(restored.contains("editor"), "{restored}");
    let roles = admin.json(&["effective-roles", &ana]).await;
    assert_eq!(roles["roles"][0]["role_name"], "editor", "{roles}");

    // Snapshots: create at the past instant, list, download.
    let snap = admin
        .json(&[
            "security",
            "snapshots",
            "create",
            "--name",
            "then",
            "--at",
            &then,
        ])
        .await;
    let id = snap["id"].as_str().unwrap().to_owned();
    let list = admin.ok(&["security", "snapshots", "list"]).await;
    assert!(list.contains(&id), "{list}");
    let csv = admin.ok(&["security", "snapshots", "csv", &id]).await;
    assert!(csv.starts_with("user_id,user_name,role_id"), "{csv}");
    assert!(
        csv.contains(&format!("{ana},ana,{editor},editor,Wiki,,direct")),
        "{csv}"
    );
    let file = dir.path().join("snapshot.csv");
    admin
        .ok(&[
            "security",
            "snapshots",
            "csv",
            &id,
            "--output",
            file.to_str().unwrap(),
        ])
        .await;
    assert_eq!(std::fs::read_to_string(&file).unwrap(), csv);

    // A preview of a grant to the group: Ana would view; nothing is granted.
    let viewer = admin
        .create(&["roles", "create", "--name", "viewer", "--system", &sys])
        .await;
    let preview = admin
        .json(&[
            "preview",
            "grant-to-group",
            "--role",
            &viewer,
            "--group",
            &team,
        ])
        .await;
    assert_eq!(preview["gains"][0]["user_name"], "ana", "{preview}");
    assert_eq!(preview["gains_total"], 1, "{preview}");
    let table = admin
        .ok(&[
            "preview",
            "grant-to-group",
            "--role",
            &viewer,
            "--group",
            &team,
        ])
        .await;
    assert!(
        table.contains("gains") && table.contains("Wiki/viewer"),
        "{table}"
    );
    let roles = admin.json(&["effective-roles", &ana]).await;
    assert_eq!(roles["roles"].as_array().unwrap().len(), 1, "{roles}");
    let missing = admin
        .run(&["preview", "move-group", "--group", &team])
        .await;
    assert_ne!(missing.status.code(), Some(0));
    assert!(
        text(&missing.stderr).contains("--parent"),
        "{}",
        text(&missing.stderr)
    );

    // Before the history: the server's message naming `at`, exit status 1.
    let early = admin
        .run(&["groups", "members", &team, "--at", "2000-01-01T00:00:00Z"])
        .await;
    assert_eq!(early.status.code(), Some(1));
    assert!(
        text(&early.stderr).contains("at"),
        "{}",
        text(&early.stderr)
    );
    server.stop().await;
}

#[tokio::test]
async fn history_from_the_cli_on_sqlite() {
    history(Backend::Sqlite).await;
}

#[tokio::test]
async fn history_from_the_cli_on_postgres() {
    history(Backend::Postgres).await;
}
