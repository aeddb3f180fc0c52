//! The client against a canned HTTP server: a tokio `TcpListener` that records each request
//! and answers the next scripted response, so that headers, query strings, bodies and the
//! decoding of answers (problems above all) are checked without the real server.

use latchkey_api::UpdateGroup;
use latchkey_client::{Client, ClientError, ImportKind, Page, UserFilter};
use latchkey_model::GroupId;
use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A request as the canned server saw it.
#[derive(Debug)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Canned {
    status: u16,
    content_type: &'static str,
    body: String,
}

fn canned(status: u16, content_type: &'static str, body: &str) -> Canned {
    Canned {
        status,
        content_type,
        body: body.to_owned(),
    }
}

/// Serves `answers` in order, one per connection, and hands back what it saw.
#[expect(
    clippy::unwrap_used,
    reason = "a fixture that cannot bind fails the test"
)]
async fn serve(answers: Vec<Canned>) -> (String, JoinHandle<io::Result<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let mut seen = Vec::new();
        for answer in answers {
            let (mut socket, _) = listener.accept().await?;
            seen.push(read_request(&mut socket).await?);
            let response = format!(
                "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                answer.status,
                answer.content_type,
                answer.body.len(),
                answer.body
            );
            socket.write_all(response.as_bytes()).await?;
            socket.shutdown().await?;
        }
        Ok(seen)
    });
    (base, handle)
}

/// What the canned server saw, once it has answered everything.
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
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
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
        headers,
        body,
    })
}

const PROBLEM: &str = r#"{"type":"about:blank","title":"Unprocessable Entity","status":422,
    "detail":"the user is invalid","code":"validation_failed","request_id":"r1",
    "errors":[{"field":"email","rule":"email","message":"`x` is not an email address"}]}"#;

#[tokio::test]
async fn a_problem_answer_becomes_an_api_error() {
    let (base, server) = serve(vec![canned(422, "application/problem+json", PROBLEM)]).await;
    let client = Client::new(&base, "lk_test");
    let err = client.me().await.unwrap_err();
    match &err {
        ClientError::Api { status, problem } => {
            assert_eq!(*status, 422);
            assert_eq!(problem.code, "validation_failed");
            assert_eq!(problem.errors.len(), 1);
            assert_eq!(problem.request_id.as_deref(), Some("r1"));
        }
        other => panic!("expected an api error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "the user is invalid\n  email: `x` is not an email address"
    );
    let seen = seen(server).await;
    assert_eq!(seen[0].request_line, "GET /api/v1/me HTTP/1.1");
    assert_eq!(seen[0].header("authorization"), Some("Bearer lk_test"));
}

#[tokio::test]
async fn list_all_follows_cursors_and_sends_filters() {
    let (base, server) = serve(vec![
        canned(
            200,
            "application/json",
            r#"{"items":[],"next_cursor":"c2"}"#,
        ),
        canned(
            200,
            "application/json",
            r#"{"items":[],"next_cursor":null}"#,
        ),
    ])
    .await;
    let client = Client::new(base, "lk_test");
    let filter = UserFilter {
        q: Some("ana maria".into()),
        enabled: Some(true),
        ..UserFilter::default()
    };
    let page = Page {
        limit: Some(2),
        ..Page::default()
    };
    let users = client.list_all_users(&filter, &page).await.unwrap();
    assert!(users.is_empty());
    let seen = seen(server).await;
    assert_eq!(
        seen[0].request_line,
        "GET /api/v1/users?q=ana+maria&enabled=true&limit=2 HTTP/1.1"
    );
    assert_eq!(
        seen[1].request_line,
        "GET /api/v1/users?q=ana+maria&enabled=true&limit=2&cursor=c2 HTTP/1.1"
    );
}

#[tokio::test]
async fn update_sends_if_match_and_only_the_set_fields() {
    let (base, server) = serve(vec![canned(412, "application/problem+json",
        r#"{"type":"about:blank","title":"Precondition Failed","status":412,"detail":"the group changed meanwhile","code":"version_mismatch"}"#)])
    .await;
    let client = Client::new(base, "lk_test");
    let id: GroupId = "0190a4b2-0000-7000-8000-000000000001".parse().unwrap();
    let body = UpdateGroup {
        description: Some(None),
        disabled: Some(true),
        ..UpdateGroup::default()
    };
    let err = client.update_group(id, &body, Some(3)).await.unwrap_err();
    assert_eq!(err.status(), Some(412));
    let seen = seen(server).await;
    assert_eq!(
        seen[0].request_line,
        format!("PATCH /api/v1/groups/{id} HTTP/1.1")
    );
    assert_eq!(seen[0].header("if-match"), Some("\"3\""));
    assert_eq!(seen[0].body, r#"{"description":null,"disabled":true}"#);
}

#[tokio::test]
async fn import_posts_csv_and_reads_the_report() {
    let report = r#"{"kind":"users","dry_run":true,"ok":false,"rows":1,"created":0,"updated":0,
        "errors":[{"row":1,"column":"email","message":"bad"}],"actions":[]}"#;
    let (base, server) = serve(vec![canned(200, "application/json", report)]).await;
    let client = Client::new(base, "lk_test");
    let report = client
        .import_csv(ImportKind::Users, "user_name\nana\n", true)
        .await
        .unwrap();
    assert!(!report.ok);
    assert_eq!(report.errors[0].column, "email");
    let seen = seen(server).await;
    assert_eq!(
        seen[0].request_line,
        "POST /api/v1/import/users?dry_run=true HTTP/1.1"
    );
    assert_eq!(seen[0].header("content-type"), Some("text/csv"));
    assert_eq!(seen[0].body, "user_name\nana\n");
}

#[tokio::test]
async fn a_non_problem_error_and_a_bad_answer_are_reported() {
    let (base, server) = serve(vec![
        canned(502, "text/html", "<h1>bad gateway</h1>"),
        canned(200, "application/json", "{\"nope\":1}"),
    ])
    .await;
    let client = Client::new(&base, "lk_test");
    let err = client.verify_audit().await.unwrap_err();
    assert_eq!(err.code(), Some("http_error"));
    assert!(err.to_string().contains("502"));
    let err = client.verify_audit().await.unwrap_err();
    assert!(matches!(err, ClientError::Decode(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("{base}/api/v1/audit/verify"))
    );
    seen(server).await;
}

#[tokio::test]
async fn an_unreachable_server_names_the_url() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = Client::new(&base, "lk_test").me().await.unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("could not reach `{base}/api/v1/me`")),
        "{err}"
    );
}

#[tokio::test]
async fn export_asks_for_csv() {
    let (base, server) = serve(vec![canned(200, "text/csv", "user_name\nana\n")]).await;
    let client = Client::new(base, "lk_test");
    let csv = client.export_csv("/api/v1/users?format=csv").await.unwrap();
    assert_eq!(csv, "user_name\nana\n");
    let seen = seen(server).await;
    assert_eq!(
        seen[0].request_line,
        "GET /api/v1/users?format=csv HTTP/1.1"
    );
    assert_eq!(seen[0].header("accept"), Some("text/csv"));
}

/// The entities with flattened enums decode from what the server's serde writes.
#[test]
fn flattened_entities_round_trip() {
    use latchkey_model::{
        Grant, GrantOrigin, GrantStatus, Grantee, Permission, Role, RoleDomain, RoleInheritance,
        ScopeMapping, Stamps,
    };
    let at = time::macros::datetime!(2026-01-01 00:00 UTC);
    let id = |n: u8| format!("0190a4b2-0000-7000-8000-0000000000{n:02}");
    let stamps = Stamps::new(at, None);
    for domain in [
        RoleDomain::None,
        RoleDomain::Groups,
        RoleDomain::Custom(id(5).parse().unwrap()),
    ] {
        let role = Role {
            id: id(1).parse().unwrap(),
            org_id: id(2).parse().unwrap(),
            system_id: id(3).parse().unwrap(),
            name: "Admin".into(),
            description: None,
            category: None,
            domain,
            external_id: None,
            owner_id: None,
            privileged: true,
            permissions: vec![Permission::UsersView],
            system_role: false,
            stamps: stamps.clone(),
        };
        let json = serde_json::to_string(&role).unwrap();
        assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role, "{json}");
    }
    let grant = Grant {
        id: id(6).parse().unwrap(),
        org_id: id(2).parse().unwrap(),
        role_id: id(1).parse().unwrap(),
        grantee: Grantee::Group(id(7).parse().unwrap()),
        scope: Some("EMEA".into()),
        starts_at: None,
        ends_at: Some(at),
        status: GrantStatus::Active,
        origin: GrantOrigin::Manual,
        parent_grant_id: None,
        rule_id: None,
        last_recertified_at: None,
        stamps: stamps.clone(),
    };
    let json = serde_json::to_string(&grant).unwrap();
    assert_eq!(
        serde_json::from_str::<Grant>(&json).unwrap(),
        grant,
        "{json}"
    );
    for scope in [ScopeMapping::Same, ScopeMapping::Fixed("EMEA".into())] {
        let edge = RoleInheritance {
            id: id(8).parse().unwrap(),
            org_id: id(2).parse().unwrap(),
            parent_role_id: id(1).parse().unwrap(),
            child_role_id: id(9).parse().unwrap(),
            mandatory: true,
            scope,
            stamps: stamps.clone(),
        };
        let json = serde_json::to_string(&edge).unwrap();
        assert_eq!(
            serde_json::from_str::<RoleInheritance>(&json).unwrap(),
            edge,
            "{json}"
        );
    }
}
