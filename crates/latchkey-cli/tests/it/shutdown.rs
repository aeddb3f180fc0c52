//! Graceful shutdown of a real `latchkey serve`: SIGTERM while a request is in flight. The
//! request is held in flight deterministically: its headers are sent and the server logs
//! that it started processing it, but the rest of its body is sent only after the server
//! has logged that it is shutting down. The client still gets a complete 200, the import
//! it carried is committed (seen after a restart), and the server exits 0.

use std::time::Duration;

use latchkey_testkit::TempDir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::process::{Cli, STOP_DEADLINE, Server, bootstrap_token};

const REQUEST_ID: &str = "e2e-in-flight-import";

/// Splits a raw HTTP/1.1 response into its status line, lower-cased header lines and body.
#[expect(clippy::panic, reason = "a malformed response fails the test")]
fn split_response(raw: &[u8]) -> (String, Vec<String>, Vec<u8>) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default().to_owned();
    let headers = lines.map(str::to_ascii_lowercase).collect();
    (status, headers, raw[end + 4..].to_vec())
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_0() {
    let dir = TempDir::new("latchkey-e2e-shutdown").unwrap();
    // At debug level the trace layer logs each request's start, inside the request span
    // (also a debug span) that carries its request id.
    let env = [("RUST_LOG", "info,tower_http=debug,latchkey_server=debug")];
    let mut server = Server::start(dir.path(), &[], &env).await;
    let token = bootstrap_token(&server.stdout.text()).unwrap();

    let csv = "user_name,first_name,last_name,primary_group\nzoe,Zoe,Z,Administrators\n";
    let (first, rest) = csv.split_at(csv.find('\n').unwrap() + 1);
    let mut socket = TcpStream::connect(&server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/import/users HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
         content-type: text/csv\r\ncontent-length: {}\r\nx-request-id: {REQUEST_ID}\r\n\r\n{first}",
        server.addr,
        csv.len()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    server
        .wait_for_log(&[REQUEST_ID, "started processing request"])
        .await;

    server.terminate();
    server
        .wait_for_log(&["shutting down: finishing requests in flight"])
        .await;
    socket.write_all(rest.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(STOP_DEADLINE, socket.read_to_end(&mut raw))
        .await
        .unwrap_or_else(|_| panic!("no response\nstderr:\n{}", server.stderr.text()))
        .unwrap();
    let (status, headers, body) = split_response(&raw);
    assert_eq!(
        status,
        "HTTP/1.1 200 OK",
        "{}",
        String::from_utf8_lossy(&raw)
    );
    let length = headers
        .iter()
        .find_map(|h| h.strip_prefix("content-length: "))
        .and_then(|v| v.parse::<usize>().ok());
    assert_eq!(length, Some(body.len()), "an incomplete body: {headers:?}");
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["created"], 1, "{report}");

    let exit = server.wait_exit().await;
    let log = server.stderr.text();
    assert!(exit.success(), "exited with {exit}\nstderr:\n{log}");
    assert!(log.contains("stopped"), "{log}");
    assert!(
        !log.contains("grace period over"),
        "it waited out the grace period instead:\n{log}"
    );

    // The import was committed before the exit.
    let mut again = Server::start(dir.path(), &[], &[]).await;
    let cli = Cli {
        config_dir: dir.path().join("config"),
        url: again.url.clone(),
        token,
    };
    let zoe = cli.json(&["users", "list", "--user-name", "zoe"]).await;
    assert_eq!(zoe["items"][0]["first_name"], "Zoe", "{zoe}");
    again.stop().await;
}

#[tokio::test]
async fn an_idle_server_stops_on_sigterm_with_status_0() {
    let dir = TempDir::new("latchkey-e2e-idle-stop").unwrap();
    let mut server = Server::start(dir.path(), &[], &[]).await;
    let started = std::time::Instant::now();
    server.terminate();
    let exit = server.wait_exit().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let log = server.stderr.text();
    assert!(exit.success(), "exited with {exit}\nstderr:\n{log}");
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}
