//! The real server for the HTTP benchmarks: builds `latchkey` in release mode, starts it on a
//! free port over a scratch store (a temporary SQLite folder, or a PostgreSQL database made
//! for the run and dropped after), reads the bootstrap token from its standard output, and
//! stops it with SIGTERM. `request` is a minimal HTTP/1.1 client (one request a connection)
//! for the few calls that are timed by hand: `/readyz`, a first check.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub type Result<T> = std::result::Result<T, String>;

/// The main workspace, one folder up from this crate.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `cargo build --release -p latchkey-cli` in the main workspace; the binary's path, as cargo
/// reports it (so a `CARGO_TARGET_DIR` is honoured).
pub fn build() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("building the server: cargo build --release -p latchkey-cli");
    let out = Command::new(cargo)
        .current_dir(root())
        .args([
            "build",
            "--release",
            "-p",
            "latchkey-cli",
            "--bin",
            "latchkey",
        ])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(root().join("Cargo.toml"))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("building the server failed ({})", out.status));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("executable")?.as_str().map(PathBuf::from))
        .find(|p| p.file_name().is_some_and(|n| n == "latchkey"))
        .ok_or_else(|| "cargo built no `latchkey` executable".to_owned())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A scratch store: a temporary folder (the SQLite file, the token file, the server's log)
/// and, for PostgreSQL, a database made for the run. Removed when dropped.
pub struct Scratch {
    pub dir: PathBuf,
    pub database_url: Option<String>,
    admin_url: String,
    database: Option<String>,
    keep: bool,
}

fn unique() -> String {
    use latchkey_model::Clock as _;
    let nanos = latchkey_model::SystemClock.now().nanosecond();
    format!("{}_{nanos:08x}", std::process::id())
}

impl Scratch {
    pub fn new(backend: Backend, keep: bool) -> Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("latchkey-bench-{}", unique()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let admin_url = std::env::var("LATCHKEY_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let mut scratch = Scratch {
            dir,
            database_url: None,
            admin_url,
            database: None,
            keep,
        };
        if backend == Backend::Postgres {
            let name = format!("latchkey_bench_{}", unique());
            psql(&scratch.admin_url, &format!("CREATE DATABASE {name}"))?;
            // The server's URL: the administration URL with the scratch database in its path.
            let base = &scratch.admin_url;
            let after_scheme = base.find("://").map_or(0, |i| i + 3);
            let path_at = base[after_scheme..]
                .find('/')
                .map_or(base.len(), |i| after_scheme + i);
            scratch.database_url = Some(format!("{}/{name}", &base[..path_at]));
            scratch.database = Some(name);
        }
        Ok(scratch)
    }

    pub fn log(&self) -> PathBuf {
        self.dir.join("server.log")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept {}", self.dir.display());
            if let Some(url) = &self.database_url {
                eprintln!("kept the database {url}");
            }
            return;
        }
        if let Some(name) = &self.database
            && let Err(e) = psql(
                &self.admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
        {
            eprintln!("warning: could not drop the scratch database {name}: {e}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn psql(url: &str, sql: &str) -> Result<()> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .map_err(|e| format!("cannot run psql (apt-get install -y postgresql-client): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql `{sql}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A running `latchkey serve`. Dropping it kills the process if it still runs.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// The bootstrap token, on the start that created the organisation.
    pub token: Option<String>,
    /// When the process was started.
    pub spawned: Instant,
    /// From spawn to the "listening" line.
    pub started_in: Duration,
}

impl Server {
    pub fn start(bin: &Path, scratch: &Scratch) -> Result<Server> {
        let port = free_port()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(scratch.log())
            .map_err(|e| format!("cannot open the server log: {e}"))?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .args(["--listen", &addr.to_string()])
            .arg("--data-dir")
            .arg(&scratch.dir);
        if let Some(url) = &scratch.database_url {
            cmd.args(["--database-url", url]);
        }
        let t = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let Some(stdout) = child.stdout.take() else {
            return Err("the server's output is not readable".to_owned());
        };
        // Read on a thread for as long as the server runs, so that it never writes into a
        // closed pipe.
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            addr,
            token: None,
            spawned: t,
            started_in: Duration::ZERO,
        };
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Some(token) = line.strip_prefix("    lk_") {
                        server.token = Some(format!("lk_{}", token.trim()));
                    } else if line.starts_with("Latchkey listening on") {
                        server.started_in = t.elapsed();
                        return Ok(server);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = server.child.wait();
                    return Err(format!(
                        "the server stopped before listening; its log:\n{}",
                        tail(&scratch.log(), 20)
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server did not listen within 180 s; its log:\n{}",
                    tail(&scratch.log(), 20)
                ));
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process (VmRSS), in MiB.
    pub fn rss_mib(&self) -> f64 {
        crate::rss_mib_of(&self.pid().to_string())
    }

    /// The most resident memory the server has had (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        crate::status_mib(&self.pid().to_string(), "VmHWM:")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGTERM, then up to 40 s to let it finish, then SIGKILL.
    pub fn stop(mut self) -> Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err("the server did not stop within 40 s of SIGTERM; killed".to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last `n` lines of a file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// One HTTP/1.1 request on its own connection: the status and the body (a chunked body is
/// decoded).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, String)> {
    let fail = |e: std::io::Error| format!("{method} {path}: {e}");
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(fail)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(fail)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(body.unwrap_or_default());
    s.write_all(head.as_bytes()).map_err(fail)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(fail)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: not an HTTP answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{method} {path}: not an HTTP answer"))?;
    let body = if head.contains("\r\ntransfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&s[..eol]);
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else {
            break;
        };
        let rest = &s[eol + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        s = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// Polls `path` until it answers 200.
pub fn wait_for(addr: SocketAddr, path: &str, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok((200, _)) = request(addr, "GET", path, None, None) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{path} did not answer 200 within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
