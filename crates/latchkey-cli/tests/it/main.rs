//! The `latchkey` binary end to end: against a canned HTTP server here (exit codes, what goes
//! to standard output and standard error, the saved profile), and against the real server
//! started as a process in the modules below (bootstrap, round trips, audit tampering,
//! graceful shutdown, workspaces), on SQLite and PostgreSQL.

mod approvals;
mod audit_tamper;
mod bootstrap;
mod console;
mod console_governance;
mod console_security;
mod console_structure;
mod console_users;
mod history;
mod invitations;
mod passkeys;
mod process;
mod replicas;
mod reviews;
mod round_trip;
mod rules;
mod shutdown;
mod sign_in;
mod sod;
mod totp;
mod workspaces;

use std::io;
use std::path::PathBuf;
use std::process::Output;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const USER_ID: &str = "0190a4b2-0000-7000-8000-000000000009";
const ORG_ID: &str = "0190a4b2-0000-7000-8000-000000000001";
const GROUP_ID: &str = "0190a4b2-0000-7000-8000-000000000002";

/// The request line and authorization header the canned server saw.
#[derive(Debug)]
struct Seen {
    request_line: String,
    authorization: Option<String>,
    body: String,
}

/// Serves `(status, body)` answers in order, one per connection.
#[expect(
    clippy::unwrap_used,
    reason = "a fixture that cannot bind fails the test"
)]
async fn serve(answers: Vec<(u16, String)>) -> (String, JoinHandle<io::Result<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let mut seen = Vec::new();
        for (status, body) in answers {
            let (mut socket, _) = listener.accept().await?;
            seen.push(read_request(&mut socket).await?);
            let content_type = if status >= 400 {
                "application/problem+json"
            } else {
                "application/json"
            };
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await?;
            socket.shutdown().await?;
        }
        Ok(seen)
    });
    (base, handle)
}

#[expect(
    clippy::unwrap_used,
    reason = "a canned server that failed fails the test"
)]
async fn seen(server: JoinHandle<io::Result<Vec<Seen>>>) -> Vec<Seen> {
    server.await.unwrap().unwrap()
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> io::Result<Seen> {
    let closed = || {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed mid-request",
        )
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Err(closed());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut authorization = None;
    let mut length = 0;
    for (name, value) in lines.filter_map(|l| l.split_once(':')) {
        if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.trim().to_owned());
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Err(closed());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
    Ok(Seen {
        request_line,
        authorization,
        body,
    })
}

/// A fresh configuration directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    #[expect(
        clippy::unwrap_used,
        reason = "a fixture that cannot create its directory fails the test"
    )]
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "latchkey-cli-it-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[expect(
    clippy::unwrap_used,
    reason = "a binary that cannot start fails the test"
)]
/// Runs the binary with a clean environment pointing its profiles at `config_dir`.
async fn latchkey(config_dir: &TempDir, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .env_remove("LATCHKEY_URL")
        .env_remove("LATCHKEY_TOKEN")
        .env_remove("LATCHKEY_PROFILE")
        .env("LATCHKEY_CONFIG_DIR", &config_dir.0)
        .output()
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn whoami_json() -> String {
    format!(
        r#"{{"user_id":"{USER_ID}","user_name":"admin","org_id":"{ORG_ID}","org_slug":"acme",
        "installation_admin":false,"permissions":["users.view"],"scoped_permissions":{{}}}}"#
    )
}

fn user_json() -> String {
    format!(
        r#"{{"id":"{USER_ID}","org_id":"{ORG_ID}","user_name":"ana","first_name":"Ana","middle_name":null,
        "last_name":"Diaz","full_name":"Ana Diaz","email":"ana@example.com","mail_aliases":[],"user_type":null,
        "primary_group_id":"{GROUP_ID}","enabled":true,"multi_session":false,"comments":null,
        "attributes":{{"badge":42}},"installation_admin":false,"created_at":"2026-01-01T00:00:00Z",
        "created_by":null,"updated_at":"2026-01-01T00:00:00Z","updated_by":null,"version":1}}"#
    )
}

#[tokio::test]
async fn login_saves_a_profile_that_later_commands_use() {
    let dir = TempDir::new("login");
    let (base, server) = serve(vec![(200, whoami_json()), (200, whoami_json())]).await;
    let out = latchkey(
        &dir,
        &[
            "login",
            "--url",
            &base,
            "--token",
            "lk_secret",
            "--profile",
            "ci",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("as admin (organisation acme)"),
        "{}",
        stdout(&out)
    );
    let saved = std::fs::read_to_string(dir.0.join("profiles.json")).unwrap();
    assert!(saved.contains("lk_secret") && saved.contains(&base));

    let out = latchkey(&dir, &["whoami", "--profile", "ci", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["org_slug"], "acme");
    let seen = seen(server).await;
    assert!(
        seen.iter()
            .all(|s| s.request_line == "GET /api/v1/me HTTP/1.1")
    );
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer lk_secret"))
    );
}

#[tokio::test]
async fn a_problem_is_printed_to_stderr_with_exit_code_1() {
    let dir = TempDir::new("problem");
    let problem = r#"{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the user is invalid",
        "code":"validation_failed","errors":[{"field":"email","rule":"email","message":"`x` is not an email address"}]}"#;
    let (base, server) = serve(vec![(422, problem.to_owned())]).await;
    let out = latchkey(
        &dir,
        &[
            "users", "update", USER_ID, "--email", "x", "--attr", "badge=7", "--url", &base,
            "--token", "lk_t",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: the user is invalid\n  email: `x` is not an email address\n"
    );
    assert!(stdout(&out).is_empty());
    let seen = seen(server).await;
    assert_eq!(
        seen[0].request_line,
        format!("PATCH /api/v1/users/{USER_ID} HTTP/1.1")
    );
    assert_eq!(seen[0].body, r#"{"email":"x","attributes":{"badge":7}}"#);
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let dir = TempDir::new("unreachable");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = latchkey(&dir, &["whoami", "--url", &base, "--token", "lk_t"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(&format!("error: could not reach `{base}/api/v1/me`")),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn without_a_profile_the_user_is_told_to_log_in() {
    let dir = TempDir::new("nologin");
    let out = latchkey(&dir, &["users", "list"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not logged in"), "{}", stderr(&out));
}

#[tokio::test]
async fn lists_print_tables_or_json() {
    let dir = TempDir::new("list");
    let page = format!(r#"{{"items":[{}],"next_cursor":"c2"}}"#, user_json());
    let (base, server) = serve(vec![(200, page.clone()), (200, page)]).await;
    let out = latchkey(
        &dir,
        &[
            "users",
            "list",
            "--enabled",
            "--url",
            &base,
            "--token",
            "lk_t",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("ana@example.com"), "{}", stdout(&out));
    assert!(stderr(&out).contains("--cursor c2"), "{}", stderr(&out));

    let out = latchkey(
        &dir,
        &[
            "users", "list", "--json", "--limit", "1", "--url", &base, "--token", "lk_t",
        ],
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["items"][0]["user_name"], "ana");
    assert_eq!(json["items"][0]["version"], 1);
    assert_eq!(json["next_cursor"], "c2");
    let seen = seen(server).await;
    assert_eq!(
        seen[0].request_line,
        "GET /api/v1/users?enabled=true HTTP/1.1"
    );
    assert_eq!(seen[1].request_line, "GET /api/v1/users?limit=1 HTTP/1.1");
}

#[tokio::test]
async fn a_failed_import_reports_rows_and_exits_1() {
    let dir = TempDir::new("import");
    let file = dir.0.join("users.csv");
    std::fs::write(&file, "user_name,email\nana,x\n").unwrap();
    let report = r#"{"kind":"users","dry_run":true,"ok":false,"rows":1,"created":0,"updated":0,
        "errors":[{"row":1,"column":"email","message":"`x` is not an email address"}],"actions":[]}"#;
    let (base, server) = serve(vec![(200, report.to_owned())]).await;
    let file_arg = file.to_string_lossy().into_owned();
    let out = latchkey(
        &dir,
        &[
            "import",
            "users",
            &file_arg,
            "--dry-run",
            "--url",
            &base,
            "--token",
            "lk_t",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("row 1, column email: `x` is not an email address"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("nothing was written"),
        "{}",
        stderr(&out)
    );
    let seen = seen(server).await;
    assert_eq!(
        seen[0].request_line,
        "POST /api/v1/import/users?dry_run=true HTTP/1.1"
    );
    assert_eq!(seen[0].body, "user_name,email\nana,x\n");
}

#[tokio::test]
async fn a_broken_audit_chain_exits_1() {
    let dir = TempDir::new("audit");
    let broken =
        r#"{"ok":false,"entries":12,"broken_at_seq":7,"reason":"previous hash does not match"}"#;
    let (base, server) = serve(vec![
        (200, broken.to_owned()),
        (200, r#"{"ok":true,"entries":12}"#.to_owned()),
    ])
    .await;
    let out = latchkey(
        &dir,
        &["audit", "verify", "--url", &base, "--token", "lk_t"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the audit chain is broken at entry 7: previous hash does not match"),
        "{}",
        stderr(&out)
    );
    let out = latchkey(
        &dir,
        &["audit", "verify", "--url", &base, "--token", "lk_t"],
    )
    .await;
    assert!(out.status.success());
    assert_eq!(stdout(&out), "audit chain intact: 12 entries checked\n");
    seen(server).await;
}

#[tokio::test]
async fn effective_roles_print_a_tree() {
    let dir = TempDir::new("effective");
    let answer = format!(
        r#"{{"user_id":"{USER_ID}","user_name":"ana","at":"2026-03-01T09:00:00Z","roles":[{{
        "role_id":"0190a4b2-0000-7000-8000-000000000011","role_name":"Admin",
        "system_id":"0190a4b2-0000-7000-8000-000000000012","system_name":"CRM","scope":null,
        "paths":[{{"kind":"direct","grant_id":"0190a4b2-0000-7000-8000-000000000013",
        "granted_role":{{"id":"0190a4b2-0000-7000-8000-000000000011","name":"Admin"}},"chain":[]}}]}}]}}"#
    );
    let (base, server) = serve(vec![(200, answer)]).await;
    let out = latchkey(
        &dir,
        &[
            "effective-roles",
            USER_ID,
            "--at",
            "2026-03-01",
            "--url",
            &base,
            "--token",
            "lk_t",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "ana at 2026-03-01T09:00:00Z\n└── CRM / Admin\n    └── direct (grant 0190a4b2-0000-7000-8000-000000000013)\n"
    );
    let seen = seen(server).await;
    assert_eq!(
        seen[0].request_line,
        format!("GET /api/v1/users/{USER_ID}/effective-roles?at=2026-03-01T00%3A00%3A00Z HTTP/1.1")
    );
}
