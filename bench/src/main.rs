//! `latchkey-bench engine [--seed N] [--compare]`: generates the benchmark organisation from a
//! seed (see `org.rs`), builds the Latchkey engine from its snapshot and prints what it costs:
//! build time, check latency, effective roles and explain latency, the time to absorb a grant
//! to the busiest level-1 group, and resident memory. With `--compare` the same organisation
//! is encoded in Cedar and casbin (see `compare.rs`), the three engines must agree on 10,000
//! random questions, and their check and absorb costs are printed side by side.
//!
//! `latchkey-bench governance` times what segregation of duties adds to a grant
//! (`governance.rs`); `latchkey-bench history` an `?at=` question one year back after a
//! year of daily changes (`history.rs`); `latchkey-bench console` the console's main pages
//! rendered by the real application in process (`console.rs`).
//!
//! `latchkey-bench sign-in` and `latchkey-bench workspaces` run the real services in process
//! over a scratch SQLite store: what signing in costs (`sign_in.rs`), and reading a
//! workspace of a million documents and the folder visibility check (`workspaces.rs`).
//!
//! `latchkey-bench bulk` and `latchkey-bench http` measure the real server instead (built in
//! release mode and started on a scratch store): the organisation loaded through
//! `POST /api/v1/bulk` and the server restarted on it (`bulk.rs`), and `POST /api/v1/check`
//! under `wrk` (`http.rs`).
//!
//! Timing: check latency is measured two ways, both on one thread in process: in batches of
//! 32 questions timed with `std::time::Instant` (per-op = batch time / 32; p50/p99 over
//! batches), and per question with `Instant` around each call (which includes the clock's own
//! cost, printed alongside).

/// The server's allocator (see `crates/latchkey-cli/src/main.rs`), so that the engine is
/// timed as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bulk;
mod compare;
mod console;
mod governance;
mod history;
mod http;
mod ndjson;
mod org;
mod rules;
mod server;
mod sign_in;
mod workspaces;

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use latchkey_engine::{Change, Engine, GrantEdge};
use latchkey_model::{GrantId, Grantee, RoleId, UserId};
use uuid::Uuid;

use crate::org::{Org, Rng, SCOPE_VALUES};
use crate::server::Backend;

/// One question: user index, role index, scope value index (`None`: unscoped).
#[derive(Clone, Copy)]
pub struct Question {
    pub user: u32,
    pub role: u32,
    pub scope: Option<u8>,
}

const USAGE: &str = "usage: latchkey-bench engine [--seed N] [--compare]
       latchkey-bench bulk [--seed N] [--backend sqlite|postgres|both] [--users N] [--server PATH] [--keep]
       latchkey-bench http [--seed N] [--seconds N] [--connections N] [--threads N] [--users N] [--server PATH] [--keep]
       latchkey-bench sign-in [--all-cores]
       latchkey-bench workspaces [--seed N] [--keep]
       latchkey-bench rules [--seed N] [--keep]
       latchkey-bench governance [--seed N]
       latchkey-bench history [--seed N]
       latchkey-bench console [--seed N]";

struct Args {
    what: String,
    seed: u64,
    compare: bool,
    backends: Vec<Backend>,
    users: usize,
    server: Option<PathBuf>,
    keep: bool,
    all_cores: bool,
    http: http::Options,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    let what = it.next().cloned().unwrap_or_default();
    if !matches!(
        what.as_str(),
        "engine"
            | "bulk"
            | "http"
            | "sign-in"
            | "workspaces"
            | "rules"
            | "governance"
            | "history"
            | "console"
    ) {
        return Err(
            "name a benchmark: engine, bulk, http, sign-in, workspaces, rules, governance, history or console"
                .to_owned(),
        );
    }
    let mut out = Args {
        what,
        seed: 42,
        compare: false,
        backends: vec![Backend::Sqlite, Backend::Postgres],
        users: org::USERS,
        server: None,
        keep: false,
        all_cores: false,
        http: http::Options {
            seconds: 10,
            connections: 64,
            threads: 2,
        },
    };
    fn number<T: std::str::FromStr>(flag: &str, v: Option<&String>) -> Result<T, String> {
        v.and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{flag} needs a number"))
    }
    let engine = out.what == "engine";
    let bulk = out.what == "bulk";
    let http = out.what == "http";
    let serves = bulk || http;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seed" => out.seed = number(a, it.next())?,
            "--compare" if engine => out.compare = true,
            "--backend" if bulk => {
                out.backends = match it.next().map(String::as_str) {
                    Some("sqlite") => vec![Backend::Sqlite],
                    Some("postgres") => vec![Backend::Postgres],
                    Some("both") => vec![Backend::Sqlite, Backend::Postgres],
                    _ => return Err("--backend is sqlite, postgres or both".to_owned()),
                }
            }
            "--users" if serves => {
                out.users = number(a, it.next())?;
                if out.users == 0 {
                    return Err("--users needs at least 1".to_owned());
                }
            }
            "--server" if serves => {
                out.server = Some(it.next().ok_or("--server needs a path")?.into());
            }
            "--keep" if serves || out.what == "workspaces" || out.what == "rules" => {
                out.keep = true;
            }
            "--all-cores" if out.what == "sign-in" => out.all_cores = true,
            "--seconds" if http => out.http.seconds = number(a, it.next())?,
            "--connections" if http => out.http.connections = number(a, it.next())?,
            "--threads" if http => out.http.threads = number(a, it.next())?,
            other => return Err(format!("unknown argument `{other}` for `{}`", out.what)),
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&args) {
        Ok(a) => a,
        Err(why) => return usage(&why),
    };
    match args.what.as_str() {
        "engine" => run(args.seed, args.compare),
        "sign-in" => match sign_in::run(args.all_cores) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("latchkey-bench sign-in: {e}");
                ExitCode::FAILURE
            }
        },
        "rules" => match rules::run(args.seed, args.keep) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("latchkey-bench rules: {e}");
                ExitCode::FAILURE
            }
        },
        "console" => match console::run(args.seed) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("latchkey-bench console: {e}");
                ExitCode::FAILURE
            }
        },
        "history" => match history::run(args.seed) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("latchkey-bench history: {e}");
                ExitCode::FAILURE
            }
        },
        "governance" => match governance::run(args.seed) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("latchkey-bench governance: {e}");
                ExitCode::FAILURE
            }
        },
        "workspaces" => match workspaces::run(args.seed, args.keep) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("latchkey-bench workspaces: {e}");
                ExitCode::FAILURE
            }
        },
        _ => match serve_bench(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("latchkey-bench {}: {e}", args.what);
                ExitCode::FAILURE
            }
        },
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("latchkey-bench: {why}\n{USAGE}");
    ExitCode::from(2)
}

/// `bulk` and `http`: the organisation as NDJSON, the release server, the measures.
fn serve_bench(args: &Args) -> Result<(), String> {
    let wrk = if args.what == "http" {
        Some(http::find_wrk()?)
    } else {
        None
    };
    let bin = match &args.server {
        Some(p) => p.clone(),
        None => server::build()?,
    };
    let t = Instant::now();
    let org = Org::generate_sized(args.seed, args.users);
    let file = std::env::temp_dir().join(format!(
        "latchkey-bench-{}-{}-{}.ndjson",
        args.seed,
        args.users,
        std::process::id()
    ));
    let written =
        ndjson::write(&org, &file).map_err(|e| format!("writing {}: {e}", file.display()))?;
    eprintln!(
        "organisation of seed {}: {} users, {} groups, {} roles; {} NDJSON records in {} ({})",
        args.seed,
        org.users.len(),
        org.groups.len(),
        org.roles.len(),
        written.lines,
        file.display(),
        fmt_dur(t.elapsed())
    );
    let result = if let Some(wrk) = wrk {
        bulk::load(&bin, Backend::Sqlite, &org, &written, &file, args.keep).and_then(|loaded| {
            bulk::print(
                std::slice::from_ref(&loaded.figures),
                &written,
                org.users.len(),
            );
            let result = if loaded.figures.errors > 0 {
                Err(format!("{} records were refused", loaded.figures.errors))
            } else {
                http::run(&wrk, &org, &written, &loaded, args.seed, &args.http)
            };
            let bulk::Loaded {
                server, scratch, ..
            } = loaded;
            let stopped = server.stop();
            drop(scratch);
            result.and(stopped)
        })
    } else {
        bulk::run(&bin, &args.backends, &org, &written, &file, args.keep).and_then(|runs| {
            bulk::print(&runs, &written, org.users.len());
            let errors: u64 = runs.iter().map(|r| r.errors).sum();
            if errors > 0 {
                Err(format!("{errors} records were refused"))
            } else {
                Ok(())
            }
        })
    };
    let _ = std::fs::remove_file(&file);
    result
}

/// Resident memory (VmRSS) of this process, in MiB.
pub fn rss_mib() -> f64 {
    rss_mib_of("self")
}

/// Resident memory (VmRSS) of process `pid` (`self` for this one), in MiB; NaN if unknown.
pub fn rss_mib_of(pid: &str) -> f64 {
    status_mib(pid, "VmRSS:")
}

/// A memory line of `/proc/{pid}/status` (`VmRSS:`, `VmHWM:` for the peak), in MiB.
pub fn status_mib(pid: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn fmt_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

pub fn fmt_dur(d: Duration) -> String {
    fmt_ns(d.as_nanos() as f64)
}

fn scope_str(s: Option<u8>) -> Option<&'static str> {
    s.map(|i| SCOPE_VALUES[i as usize])
}

/// The cost of one `Instant::now()` pair, median of many.
fn clock_overhead() -> u64 {
    let mut v: Vec<u64> = (0..100_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as u64
        })
        .collect();
    v.sort_unstable();
    percentile(&v, 0.5)
}

fn row(what: &str, value: String, target: &str) {
    println!("| {what:<58} | {value:>22} | {target:<10} |");
}

fn run(seed: u64, compare: bool) -> ExitCode {
    println!("latchkey engine benchmark, seed {seed}");
    let t = Instant::now();
    let org = Org::generate(seed);
    let snap = &org.snapshot;
    println!(
        "organisation: {} users, {} groups (depth 6), {} roles ({} inheritance edges, depth 4), {} memberships, {} grants; generated in {}",
        snap.users.len(),
        snap.groups.len(),
        snap.roles.len(),
        snap.inheritance.len(),
        snap.memberships.len(),
        snap.grants.len(),
        fmt_dur(t.elapsed())
    );
    let now = org.now;
    let rss_before = rss_mib();
    let t = Instant::now();
    let mut engine = Engine::build(snap);
    let build = t.elapsed();
    let t = Instant::now();
    engine.advance_to(now);
    let warm = t.elapsed();
    let rss_after = rss_mib();
    let (group_keys, user_keys, hot_bytes) = engine.cache_size();

    // Effective roles of every user, timed one by one; their (role, scope) pairs seed the
    // questions that hit.
    let role_index: std::collections::HashMap<RoleId, u32> = org
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| (*r, i as u32))
        .collect();
    let mut eff_times = Vec::with_capacity(org.users.len());
    let mut held: Vec<Vec<(u32, Option<u8>)>> = Vec::with_capacity(org.users.len());
    for &u in &org.users {
        let t = Instant::now();
        let roles = engine.effective_roles(u, now);
        eff_times.push(t.elapsed().as_nanos() as u64);
        held.push(
            roles
                .iter()
                .filter_map(|r| {
                    let scope = match r.scope.as_deref() {
                        None => None,
                        Some(s) => Some(SCOPE_VALUES.iter().position(|v| *v == s)? as u8),
                    };
                    Some((*role_index.get(&r.role)?, scope))
                })
                .collect(),
        );
        black_box(&roles);
    }
    eff_times.sort_unstable();
    let avg_held = held.iter().map(Vec::len).sum::<usize>() as f64 / held.len() as f64;

    // One million questions, half drawn from what the user holds, half random.
    let mut rng = Rng::new(seed ^ 0x5eed);
    let questions: Vec<Question> = (0..1_000_000)
        .map(|_| random_question(&mut rng, &org, &held))
        .collect();
    let to_ids = |q: &Question| {
        (
            org.users[q.user as usize],
            org.roles[q.role as usize],
            scope_str(q.scope),
        )
    };

    // The questions as the engine receives them (ids in hand, read in sequence), so that
    // what is timed is the engine and not the benchmark's own tables.
    let asked: Vec<(UserId, RoleId, Option<&str>)> = questions.iter().map(to_ids).collect();

    // Warm-up, and the hit rate.
    let mut hits = 0_usize;
    for &(u, r, s) in &asked {
        hits += usize::from(engine.check(u, r, s, now));
    }

    const BATCH: usize = 32;
    let mut batch_times = Vec::with_capacity(asked.len() / BATCH);
    for chunk in asked.chunks_exact(BATCH) {
        let t = Instant::now();
        for &(u, r, s) in chunk {
            black_box(engine.check(black_box(u), black_box(r), black_box(s), now));
        }
        batch_times.push(t.elapsed().as_nanos() as u64);
    }
    let mut batch_per_op: Vec<u64> = batch_times.iter().map(|t| t / BATCH as u64).collect();
    batch_per_op.sort_unstable();
    let total_ns: u64 = batch_times.iter().sum();

    let overhead = clock_overhead();
    let mut single = Vec::with_capacity(asked.len());
    for &(u, r, s) in &asked {
        let t = Instant::now();
        black_box(engine.check(black_box(u), black_box(r), black_box(s), now));
        single.push(t.elapsed().as_nanos() as u64);
    }
    single.sort_unstable();

    // The same questions for the 1,000 users who ask most often (a hot set that stays in
    // cache, as on a server whose active users are a small part of the directory).
    let hot_asked: Vec<(UserId, RoleId, Option<&str>)> = questions
        .iter()
        .map(|q| {
            to_ids(&Question {
                user: q.user % 1_000,
                ..*q
            })
        })
        .collect();
    let mut hot_batches = Vec::with_capacity(hot_asked.len() / BATCH);
    for _ in 0..2 {
        hot_batches.clear();
        for chunk in hot_asked.chunks_exact(BATCH) {
            let t = Instant::now();
            for &(u, r, s) in chunk {
                black_box(engine.check(black_box(u), black_box(r), black_box(s), now));
            }
            hot_batches.push(t.elapsed().as_nanos() as u64 / BATCH as u64);
        }
    }
    hot_batches.sort_unstable();

    // Explain for hits (the path behind a yes), timed one by one.
    let mut explain_times = Vec::new();
    for &(u, r, s) in asked.iter().take(200_000) {
        let t = Instant::now();
        let e = engine.explain(u, r, s, now);
        explain_times.push(t.elapsed().as_nanos() as u64);
        black_box(e);
    }
    explain_times.sort_unstable();

    // Absorb: grant a role to the busiest level-1 group, until `check` sees it.
    let (busiest, below) = org.busiest_level1_group();
    let probe = org.users[below[below.len() / 2] as usize];
    let absorb = absorb_latchkey(&mut engine, &org, busiest, probe, seed);

    println!();
    println!(
        "| {:<58} | {:>22} | {:<10} |",
        "figure (Latchkey, one thread, in process)", "measured", "target"
    );
    println!("|{:-<60}|{:->24}|{:-<12}|", "", "", "");
    row("build from a Snapshot (Engine::build)", fmt_dur(build), "");
    row(
        "warm the per-group caches (advance_to(now))",
        fmt_dur(warm),
        "",
    );
    row(
        "check p50 / p99 (batches of 32, per-op)",
        format!(
            "{} / {}",
            fmt_ns(percentile(&batch_per_op, 0.5) as f64),
            fmt_ns(percentile(&batch_per_op, 0.99) as f64)
        ),
        "≤100ns/≤1µs",
    );
    row(
        "check mean over 1M questions",
        fmt_ns(total_ns as f64 / (batch_times.len() * BATCH) as f64),
        "",
    );
    row(
        &format!("check p50 / p99 / p99.9 (each timed; clock costs {overhead} ns)"),
        format!(
            "{} / {} / {}",
            fmt_ns(percentile(&single, 0.5) as f64),
            fmt_ns(percentile(&single, 0.99) as f64),
            fmt_ns(percentile(&single, 0.999) as f64)
        ),
        "",
    );
    row(
        "check p50 / p99, 1,000 hot users (batches of 32, per-op)",
        format!(
            "{} / {}",
            fmt_ns(percentile(&hot_batches, 0.5) as f64),
            fmt_ns(percentile(&hot_batches, 0.99) as f64)
        ),
        "",
    );
    row(
        &format!("questions that hit (of {})", questions.len()),
        format!("{:.1}%", 100.0 * hits as f64 / questions.len() as f64),
        "",
    );
    row(
        &format!(
            "effective roles with provenance p50 / p99 ({:.1} roles avg)",
            avg_held
        ),
        format!(
            "{} / {}",
            fmt_ns(percentile(&eff_times, 0.5) as f64),
            fmt_ns(percentile(&eff_times, 0.99) as f64)
        ),
        "p99 ≤20µs",
    );
    row(
        "explain (one user, role) p50 / p99",
        format!(
            "{} / {}",
            fmt_ns(percentile(&explain_times, 0.5) as f64),
            fmt_ns(percentile(&explain_times, 0.99) as f64)
        ),
        "p99 ≤20µs",
    );
    row(
        &format!(
            "grant to busiest level-1 group ({} users below) until check sees it, median of {}",
            below.len(),
            absorb.grants.len()
        ),
        format!(
            "{} (max {})",
            fmt_dur(median(&absorb.grants)),
            fmt_dur(absorb.grants.iter().copied().max().unwrap_or_default())
        ),
        "≤1ms",
    );
    row(
        "revoke that grant until check stops seeing it, median",
        fmt_dur(median(&absorb.revokes)),
        "",
    );
    row(
        "resident memory after build (whole process)",
        format!("{rss_after:.0} MiB"),
        "≤300 MiB",
    );
    row(
        "  of which the engine (after - before build)",
        format!("{:.0} MiB", rss_after - rss_before),
        "",
    );
    row(
        "cached: keys per group / keys per user / user table",
        format!("{group_keys} / {user_keys} / {} MiB", hot_bytes >> 20),
        "",
    );
    if !absorb.seen {
        eprintln!("error: a check did not see an absorbed grant");
        return ExitCode::FAILURE;
    }
    if !compare {
        return ExitCode::SUCCESS;
    }
    let per_check_ns = total_ns as f64 / (batch_times.len() * BATCH) as f64;
    compare::run(
        &org,
        &mut engine,
        &questions,
        per_check_ns,
        median(&absorb.grants),
        busiest,
        probe,
    )
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

pub fn random_question(rng: &mut Rng, org: &Org, held: &[Vec<(u32, Option<u8>)>]) -> Question {
    let user = rng.below(org.users.len()) as u32;
    let mine = &held[user as usize];
    if rng.chance(0.5) && !mine.is_empty() {
        let (role, scope) = mine[rng.below(mine.len())];
        return Question { user, role, scope };
    }
    let role = rng.below(org.roles.len()) as u32;
    let scope = org.role_scoped[role as usize].then(|| rng.below(SCOPE_VALUES.len()) as u8);
    Question { user, role, scope }
}

struct Absorb {
    grants: Vec<Duration>,
    revokes: Vec<Duration>,
    seen: bool,
}

/// Roles the probe does not hold yet, unscoped, so a grant visibly changes the answer.
pub fn absorb_roles(engine: &Engine, org: &Org, probe: UserId, n: usize) -> Vec<u32> {
    (0..org.roles.len() as u32)
        .rev()
        .filter(|&r| {
            !org.role_scoped[r as usize]
                && !engine.check(probe, org.roles[r as usize], None, org.now)
        })
        .take(n)
        .collect()
}

fn absorb_latchkey(engine: &mut Engine, org: &Org, group: u32, probe: UserId, seed: u64) -> Absorb {
    let mut out = Absorb {
        grants: Vec::new(),
        revokes: Vec::new(),
        seen: true,
    };
    for (i, r) in absorb_roles(engine, org, probe, 9).into_iter().enumerate() {
        let id = GrantId::from_uuid(Uuid::from_u128(
            0xab50_0000_0000_7000_8000_0000_0000_0000 | (u128::from(seed) << 16) | i as u128,
        ));
        let grant = GrantEdge {
            id,
            role: org.roles[r as usize],
            grantee: Grantee::Group(org.groups[group as usize]),
            scope: None,
            starts_at: None,
            ends_at: None,
            confers: true,
        };
        let t = Instant::now();
        engine.apply(&Change::UpsertGrant(grant));
        let seen = engine.check(probe, org.roles[r as usize], None, org.now);
        out.grants.push(t.elapsed());
        let t = Instant::now();
        engine.apply(&Change::RemoveGrant(id));
        let gone = !engine.check(probe, org.roles[r as usize], None, org.now);
        out.revokes.push(t.elapsed());
        out.seen &= seen && gone;
    }
    out
}
