//! `latchkey audit verify` against a real SQLite server: an intact chain exits 0; then one
//! row is edited directly in the database file while the server runs (WAL lets a second
//! connection write; the append-only trigger must be dropped first, and is shown to refuse
//! the edit before that), and verify exits 1 naming the edited entry.

use std::time::Duration;

use latchkey_testkit::TempDir;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Connection as _, SqliteConnection};

use crate::process::{Cli, Server, bootstrap_token};

#[tokio::test]
async fn an_edited_audit_row_breaks_the_chain_at_that_entry() {
    let dir = TempDir::new("latchkey-e2e-audit").unwrap();
    let mut server = Server::start(dir.path(), &[], &[]).await;
    let cli = Cli {
        config_dir: dir.path().join("config"),
        url: server.url.clone(),
        token: bootstrap_token(&server.stdout.text()).unwrap(),
    };
    let group = cli
        .create(&["groups", "create", "--name", "Tampered"])
        .await;
    // A later entry, so that the edited one is not the last.
    cli.create(&["groups", "create", "--name", "After"]).await;

    let intact = cli.ok(&["audit", "verify"]).await;
    assert!(
        intact.starts_with("audit chain intact: ") && intact.ends_with(" entries checked\n"),
        "{intact}"
    );

    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("latchkey-data").join("latchkey.db"))
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    let mut db = SqliteConnection::connect_with(&options).await.unwrap();
    let seq: i64 =
        sqlx::query_scalar("SELECT seq FROM audit WHERE action = 'group.create' AND object_id = ?")
            .bind(&group)
            .fetch_one(&mut db)
            .await
            .unwrap();
    let edit = "UPDATE audit SET action = 'group.delete' WHERE seq = ? AND object_id = ?";
    let refused = sqlx::query(edit)
        .bind(seq)
        .bind(&group)
        .execute(&mut db)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");
    sqlx::raw_sql("DROP TRIGGER audit_no_update")
        .execute(&mut db)
        .await
        .unwrap();
    let edited = sqlx::query(edit)
        .bind(seq)
        .bind(&group)
        .execute(&mut db)
        .await
        .unwrap();
    assert_eq!(edited.rows_affected(), 1);
    db.close().await.unwrap();

    let out = cli.run(&["audit", "verify"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: the audit chain is broken at entry {seq}: its content does not match its hash ({} entries checked)",
            seq - 1
        )),
        "{stderr}"
    );
    let json = cli.run(&["audit", "verify", "--json"]).await;
    let answer: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(answer["ok"], false, "{answer}");
    assert_eq!(answer["broken_at_seq"], seq, "{answer}");

    server.stop().await;
}
