//! `latchkey-bench bulk`: the benchmark organisation loaded into a real server through
//! `POST /api/v1/bulk` (streamed by `curl`), on SQLite and/or PostgreSQL, then the server
//! restarted on the loaded store and timed until `/readyz` answers and a first check is
//! answered (which builds the engine from the store), and its resident memory after that.
//!
//! The answer is read as it streams: every created record's id is kept (the HTTP benchmark
//! asks about them), errors are counted and the first few kept, and the time of each
//! `progress` line (one per committed batch of 1,000 records) shows where the time goes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ndjson::{self, Ref, SEGMENTS, Written};
use crate::org::Org;
use crate::server::{self, Backend, Result, Scratch, Server};

/// The ids the server gave the records, by generator index.
#[derive(Default)]
pub struct Ids {
    pub users: Vec<Option<String>>,
    pub groups: Vec<Option<String>>,
    pub roles: Vec<Option<String>>,
}

/// Batches whose last line was of one kind of record.
#[derive(Default, Clone)]
pub struct Segment {
    pub batches: usize,
    pub lines: u64,
    pub time: Duration,
    pub first: Duration,
    pub last: Duration,
    pub max: Duration,
}

pub struct Figures {
    pub backend: Backend,
    pub lines: u64,
    pub created: u64,
    pub load: Duration,
    pub errors: u64,
    pub first_errors: Vec<String>,
    pub revision: i64,
    pub segments: Vec<Segment>,
    pub restart_listening: Duration,
    pub restart_ready: Duration,
    pub restart_check: Duration,
    pub rss_mib: f64,
    pub settled_rss_mib: f64,
    pub peak_rss_mib: f64,
}

/// A server over a loaded store, ready for questions.
pub struct Loaded {
    pub server: Server,
    pub scratch: Scratch,
    pub token: String,
    pub ids: Ids,
    pub figures: Figures,
}

/// Loads `file` (written from `org`) into a new server on `backend`, then restarts it.
pub fn load(
    bin: &Path,
    backend: Backend,
    org: &Org,
    written: &Written,
    file: &Path,
    keep: bool,
) -> Result<Loaded> {
    let scratch = Scratch::new(backend, keep)?;
    let server = Server::start(bin, &scratch)?;
    let token = server
        .token
        .clone()
        .ok_or("the server printed no bootstrap token (was the store empty?)")?;
    eprintln!(
        "{}: loading {} records into {} (log: {})",
        backend.name(),
        written.lines,
        server.url(""),
        scratch.log().display()
    );
    let mut ids = Ids {
        users: vec![None; org.users.len()],
        groups: vec![None; org.groups.len()],
        roles: vec![None; org.roles.len()],
    };
    let streamed = stream(&server, &token, file, written, &mut ids)?;
    if let Some(e) = streamed.stopped {
        return Err(format!(
            "the load stopped: {e}\nserver log:\n{}",
            server::tail(&scratch.log(), 20)
        ));
    }

    // Restart on the loaded store: until /readyz, then until a first check is answered.
    server.stop()?;
    let server = Server::start(bin, &scratch)?;
    server::wait_for(server.addr, "/readyz", Duration::from_secs(120))?;
    let ready = server.spawned.elapsed();
    let body = first_question(written, &ids)?;
    let (status, answer) = server::request(
        server.addr,
        "POST",
        "/api/v1/check",
        Some(&token),
        Some(&body),
    )?;
    let checked = server.spawned.elapsed();
    if status != 200 {
        return Err(format!(
            "the first check after restart answered {status}: {answer}"
        ));
    }
    let rss_mib = server.rss_mib();
    // The allocator returns memory freed by the build after about a second of activity:
    // ask 20 more checks over two seconds, then read again.
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(100));
        server::request(
            server.addr,
            "POST",
            "/api/v1/check",
            Some(&token),
            Some(&body),
        )?;
    }
    let settled_rss_mib = server.rss_mib();
    let peak_rss_mib = server.peak_rss_mib();
    let figures = Figures {
        backend,
        lines: written.lines,
        created: streamed.created,
        load: streamed.elapsed,
        errors: streamed.errors,
        first_errors: streamed.first_errors,
        revision: streamed.revision,
        segments: streamed.segments,
        restart_listening: server.started_in,
        restart_ready: ready,
        restart_check: checked,
        rss_mib,
        settled_rss_mib,
        peak_rss_mib,
    };
    Ok(Loaded {
        server,
        scratch,
        token,
        ids,
        figures,
    })
}

fn first_question(written: &Written, ids: &Ids) -> Result<String> {
    let &(u, r, _) = written
        .user_grants
        .iter()
        .find(|(_, r, s)| s.is_none() && ids.roles[*r as usize].is_some())
        .ok_or("no unscoped user grant was loaded")?;
    let (Some(user), Some(role)) = (&ids.users[u as usize], &ids.roles[r as usize]) else {
        return Err("the first question's user or role was not loaded".to_owned());
    };
    Ok(serde_json::json!({ "user": user, "role": role }).to_string())
}

struct Streamed {
    elapsed: Duration,
    created: u64,
    errors: u64,
    first_errors: Vec<String>,
    revision: i64,
    segments: Vec<Segment>,
    stopped: Option<String>,
}

/// Sends the file with `curl` and reads the answer as it comes.
fn stream(
    server: &Server,
    token: &str,
    file: &Path,
    written: &Written,
    ids: &mut Ids,
) -> Result<Streamed> {
    let started = Instant::now();
    let mut curl = Command::new("curl")
        .args(["-sS", "--no-buffer", "-X", "POST"])
        .args(["-H", "Content-Type: application/x-ndjson"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(server.url("/api/v1/bulk"))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run curl (apt-get install -y curl): {e}"))?;
    let stdout = curl.stdout.take().ok_or("curl's output is not readable")?;
    let mut out = Streamed {
        elapsed: Duration::ZERO,
        created: 0,
        errors: 0,
        first_errors: Vec::new(),
        revision: 0,
        segments: vec![Segment::default(); SEGMENTS.len()],
        stopped: None,
    };
    let mut last_progress = (0_u64, Duration::ZERO);
    let mut last_report = Instant::now();
    let mut summary = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading the answer: {e}"))?;
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            out.errors += 1;
            keep_error(&mut out.first_errors, &line);
            continue;
        };
        if let Some(p) = v.get("progress") {
            let lines = p["lines"].as_u64().unwrap_or_default();
            let at = started.elapsed();
            let took = at - last_progress.1;
            let seg = written
                .segment_end
                .iter()
                .position(|&end| lines <= end)
                .unwrap_or(SEGMENTS.len() - 1);
            let s = &mut out.segments[seg];
            if s.batches == 0 {
                s.first = took;
            }
            s.batches += 1;
            s.lines += lines - last_progress.0;
            s.time += took;
            s.last = took;
            s.max = s.max.max(took);
            last_progress = (lines, at);
            if last_report.elapsed() > Duration::from_secs(10) {
                last_report = Instant::now();
                eprintln!(
                    "  {} of {} lines, {:.0} s, {} errors; the last batch of 1,000 ({}) took {:.2} s",
                    lines,
                    written.lines,
                    at.as_secs_f64(),
                    p["errors"],
                    SEGMENTS[seg],
                    took.as_secs_f64()
                );
            }
        } else if let Some(s) = v.get("summary") {
            out.elapsed = started.elapsed();
            out.revision = s["revision"].as_i64().unwrap_or_default();
            out.created = s["created"]
                .as_object()
                .map(|m| m.values().filter_map(Value::as_u64).sum())
                .unwrap_or_default();
            summary = true;
        } else if v.get("error").is_some() {
            if v.get("line").is_none() && v.get("lines").is_none() {
                out.stopped = Some(line.clone());
            }
            out.errors += 1;
            keep_error(&mut out.first_errors, &line);
        } else if let (Some(r), Some(id)) = (v["ref"].as_str(), v["id"].as_str()) {
            let slot = match ndjson::parse_ref(r) {
                Some(Ref::User(i)) => ids.users.get_mut(i),
                Some(Ref::Group(i)) => ids.groups.get_mut(i),
                Some(Ref::Role(i)) => ids.roles.get_mut(i),
                Some(Ref::System) | None => None,
            };
            if let Some(slot) = slot {
                *slot = Some(id.to_owned());
            }
        }
    }
    let status = curl.wait().map_err(|e| format!("curl: {e}"))?;
    if !status.success() {
        return Err(format!("curl failed ({status})"));
    }
    if !summary && out.stopped.is_none() {
        out.stopped = Some("the answer ended without a summary line".to_owned());
    }
    Ok(out)
}

fn keep_error(kept: &mut Vec<String>, line: &str) {
    if kept.len() < 5 {
        kept.push(line.chars().take(400).collect());
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn row(what: &str, values: &[String], target: &str) {
    let mut line = format!("| {what:<44} |");
    for v in values {
        line.push_str(&format!(" {v:>14} |"));
    }
    line.push_str(&format!(" {target:<16} |"));
    println!("{line}");
}

/// The figures of each backend side by side, then where each load's time went.
pub fn print(runs: &[Figures], written: &Written, users: usize) {
    println!();
    println!(
        "bulk load of the benchmark organisation ({users} users): {} records, {} memberships inside user records; {} duplicate grants left out, {} `same` mappings made `fixed`",
        written.lines,
        written.memberships,
        written.duplicates_left_out,
        written.mappings_made_fixed
    );
    let names: Vec<String> = runs.iter().map(|r| r.backend.name().to_owned()).collect();
    row("figure", &names, "target (S / PG)");
    println!(
        "|{:-<46}|{}{:-<18}|",
        "",
        "----------------|".repeat(runs.len()),
        ""
    );
    let col = |f: &dyn Fn(&Figures) -> String| runs.iter().map(f).collect::<Vec<_>>();
    row("records (NDJSON lines)", &col(&|r| r.lines.to_string()), "");
    row("records created", &col(&|r| r.created.to_string()), "");
    row(
        "bulk load, seconds",
        &col(&|r| secs(r.load)),
        "≤ 60 s / ≤ 120 s",
    );
    row(
        "records/s",
        &col(&|r| format!("{:.0}", r.lines as f64 / r.load.as_secs_f64().max(1e-9))),
        "",
    );
    row("errors", &col(&|r| r.errors.to_string()), "0");
    row("final revision", &col(&|r| r.revision.to_string()), "");
    row(
        "restart: until listening",
        &col(&|r| secs(r.restart_listening)),
        "",
    );
    row(
        "restart: until /readyz answers",
        &col(&|r| secs(r.restart_ready)),
        "",
    );
    row(
        "restart: until a first check is answered",
        &col(&|r| secs(r.restart_check)),
        "≤ 3 s / ≤ 5 s",
    );
    row(
        "server RSS right after that (VmRSS)",
        &col(&|r| format!("{:.0} MiB", r.rss_mib)),
        "",
    );
    row(
        "server RSS 2 s and 20 checks later",
        &col(&|r| format!("{:.0} MiB", r.settled_rss_mib)),
        "≤ 300 MiB",
    );
    row(
        "server peak RSS so far (VmHWM)",
        &col(&|r| format!("{:.0} MiB", r.peak_rss_mib)),
        "",
    );
    for r in runs {
        if !r.first_errors.is_empty() {
            println!("\n{}: first errors:", r.backend.name());
            for e in &r.first_errors {
                println!("  {e}");
            }
        }
    }
    for r in runs {
        println!(
            "\n{}: time by kind of record (batches of 1,000, each counted under the kind of its last line)",
            r.backend.name()
        );
        println!(
            "| {:<22} | {:>7} | {:>9} | {:>9} | {:>9} | {:>11} | {:>11} | {:>11} |",
            "kind",
            "batches",
            "lines",
            "seconds",
            "lines/s",
            "first batch",
            "last batch",
            "max batch"
        );
        println!(
            "|{:-<24}|{:->9}|{:->11}|{:->11}|{:->11}|{:->13}|{:->13}|{:->13}|",
            "", "", "", "", "", "", "", ""
        );
        for (name, s) in SEGMENTS.iter().zip(&r.segments) {
            if s.batches == 0 {
                continue;
            }
            println!(
                "| {:<22} | {:>7} | {:>9} | {:>9.1} | {:>9.0} | {:>11} | {:>11} | {:>11} |",
                name,
                s.batches,
                s.lines,
                s.time.as_secs_f64(),
                s.lines as f64 / s.time.as_secs_f64().max(1e-9),
                ms(s.first),
                ms(s.last),
                ms(s.max)
            );
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

/// `latchkey-bench bulk`: each backend in turn, then the table.
pub fn run(
    bin: &Path,
    backends: &[Backend],
    org: &Org,
    written: &Written,
    file: &Path,
    keep: bool,
) -> Result<Vec<Figures>> {
    let mut runs = Vec::new();
    for &b in backends {
        let loaded = load(bin, b, org, written, file, keep)?;
        let Loaded {
            server,
            scratch,
            figures,
            ..
        } = loaded;
        if let Err(e) = server.stop() {
            eprintln!("warning: {e}");
        }
        drop(scratch);
        runs.push(figures);
    }
    Ok(runs)
}
