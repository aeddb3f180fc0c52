//! The real `latchkey` binary as separate processes: a server started with `serve` in a
//! temporary folder on a free port of 127.0.0.1, killed when its guard drops (also when a
//! test fails), and the command-line client run against it with a clean environment. Every
//! wait is on a condition (`/readyz` answering, a line on the server's output, its exit)
//! with a deadline, never a fixed sleep.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a fixture that fails makes the test fail, with the server's output"
)]

use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");
/// How long a server may take to answer `/readyz` (PostgreSQL migrations included).
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long a server may take to exit after SIGTERM.
pub const STOP_DEADLINE: Duration = Duration::from_secs(10);
/// How long one client command may take.
const COMMAND_DEADLINE: Duration = Duration::from_secs(30);
/// Between two checks of a condition.
const POLL: Duration = Duration::from_millis(20);

/// What a child writes to one of its pipes, collected as it arrives.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn collect(&self, mut from: impl AsyncRead + Unpin + Send + 'static) -> JoinHandle<()> {
        let buf = Arc::clone(&self.0);
        tokio::spawn(async move {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = from.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        })
    }
}

/// A running `latchkey serve`; killed on drop.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub stdout: Captured,
    pub stderr: Captured,
    readers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Starts `latchkey serve --listen 127.0.0.1:PORT ARGS` in `dir` with only `env` set
    /// (plus `NO_COLOR`), and waits until it is ready.
    pub async fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let port = latchkey_testkit::free_port().unwrap();
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(["--listen", &addr])
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let (stdout, stderr) = (Captured::default(), Captured::default());
        let readers = vec![
            stdout.collect(child.stdout.take().unwrap()),
            stderr.collect(child.stderr.take().unwrap()),
        ];
        let mut server = Self {
            child,
            url: format!("http://{addr}"),
            addr,
            stdout,
            stderr,
            readers,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let listening = format!("Latchkey listening on {}", self.url);
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.drain().await;
                panic!(
                    "the server exited with {status} before it was ready\nstdout:\n{}\nstderr:\n{}",
                    self.stdout.text(),
                    self.stderr.text()
                );
            }
            let ready = get(&self.addr, "/readyz")
                .await
                .is_some_and(|r| r.starts_with("HTTP/1.1 200"));
            if ready && self.stdout.text().contains(&listening) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server was not ready within {START_DEADLINE:?}\nstdout:\n{}\nstderr:\n{}",
                self.stdout.text(),
                self.stderr.text()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the server's standard error has a line containing every one of `parts`.
    pub async fn wait_for_log(&self, parts: &[&str]) {
        wait_until(&format!("a log line with {parts:?}"), || {
            self.stderr
                .text()
                .lines()
                .any(|l| parts.iter().all(|p| l.contains(p)))
        })
        .await;
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the server is still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {pid} failed: {status}");
    }

    /// Waits for the server to exit, then for the rest of its output.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        let status = match tokio::time::timeout(STOP_DEADLINE, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!(
                "the server did not exit within {STOP_DEADLINE:?}\nstderr:\n{}",
                self.stderr.text()
            ),
        };
        self.drain().await;
        status
    }

    /// SIGKILL: the process dies at once, whatever it was doing.
    pub async fn kill(&mut self) {
        self.child.start_kill().unwrap();
        let _ = self.wait_exit().await;
    }

    /// SIGTERM, then the exit, which must be a success.
    pub async fn stop(&mut self) {
        self.terminate();
        let status = self.wait_exit().await;
        assert!(
            status.success(),
            "the server exited with {status}\nstderr:\n{}",
            self.stderr.text()
        );
    }

    async fn drain(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(STOP_DEADLINE, reader).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGKILL if still running (`kill_on_drop` would too; this does not wait for the
        // runtime to notice).
        let _ = self.child.start_kill();
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// Polls `condition` until it holds; fails the test after [`STOP_DEADLINE`].
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + STOP_DEADLINE;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {STOP_DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// `GET path` over a fresh connection; the whole response, or `None` when the server does
/// not answer.
pub async fn get(addr: &str, path: &str) -> Option<String> {
    let exchange = async {
        let mut socket = TcpStream::connect(addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
        socket.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        socket.read_to_end(&mut response).await.ok()?;
        Some(String::from_utf8_lossy(&response).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .ok()
        .flatten()
}

/// The token from the bootstrap message (its indented `lk_` line), if one was printed.
pub fn bootstrap_token(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("    lk_"))
        .map(|rest| format!("lk_{}", rest.trim_end()))
}

/// Runs the client with a clean environment that keeps its profiles in `config_dir`.
pub async fn latchkey(config_dir: &Path, args: &[&str]) -> Output {
    let run = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("LATCHKEY_CONFIG_DIR", config_dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(COMMAND_DEADLINE, run).await {
        Ok(output) => output.unwrap(),
        Err(_) => panic!("`latchkey {}` did not finish in time", args.join(" ")),
    }
}

/// The client against `url` with `token`, each command given `--url` and `--token`.
pub struct Cli {
    pub config_dir: std::path::PathBuf,
    pub url: String,
    pub token: String,
}

impl Cli {
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--url", &self.url, "--token", &self.token]);
        latchkey(&self.config_dir, &all).await
    }

    /// Runs a command that must succeed; its standard output.
    pub async fn ok(&self, args: &[&str]) -> String {
        succeeded(args, &self.run(args).await)
    }

    /// Runs a command with `--json` that must succeed; its parsed output.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all).await;
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("`{}`: {e}:\n{out}", all.join(" ")))
    }

    /// Runs a command with `--json` that creates something; the new id.
    pub async fn create(&self, args: &[&str]) -> String {
        let created = self.json(args).await;
        created["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {created}"))
            .to_owned()
    }
}

/// The standard output of a command that must have succeeded.
pub fn succeeded(args: &[&str], out: &Output) -> String {
    assert!(
        out.status.success(),
        "`latchkey {}` exited with {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A scratch PostgreSQL database, dropped with this guard.
pub struct ScratchDb {
    pub url: String,
}

impl ScratchDb {
    pub async fn new() -> Self {
        let admin = latchkey_testkit::postgres_admin_url();
        let url = latchkey_store_postgres::scratch::create_database(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required for the tests: {e}"));
        Self { url }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        // Async I/O in a drop: on a thread of its own, so that it works inside a runtime.
        let url = std::mem::take(&mut self.url);
        let admin = latchkey_testkit::postgres_admin_url();
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                let _ = rt.block_on(latchkey_store_postgres::scratch::drop_database(
                    &admin, &url,
                ));
            }
        })
        .join();
    }
}
