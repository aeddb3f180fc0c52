//! Project chores that are easier in Rust than in shell: `cargo xtask tidy` checks the
//! conventions no compiler enforces (every source file opens with a `//!` paragraph, the
//! two migration folders match, dependencies point the way the architecture says, no
//! ignored tests); `cargo xtask bench engine|bulk|http|sign-in|workspaces|rules|governance|history|console ...` runs the
//! benchmarks, a separate workspace in `bench/` so that the normal build never compiles it
//! or its comparison engines: `engine` times the engine in process, `bulk` loads the
//! benchmark organisation into the release server through `POST /api/v1/bulk` (SQLite
//! and/or PostgreSQL) and times a restart on it, `http` measures `POST /api/v1/check` with
//! `wrk`; `sign-in` and `workspaces` time the services in process over a scratch SQLite
//! store (what a sign-in costs; listing a workspace of a million documents, and the folder
//! visibility check).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "tidy" => tidy(),
        "bench" => return bench(std::env::args().skip(2).collect()),
        _ => {
            eprintln!("usage: cargo xtask tidy\n{BENCH_USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(problems) if problems.is_empty() => {
            println!("tidy: ok");
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            for p in &problems {
                eprintln!("tidy: {p}");
            }
            eprintln!("tidy: {} problem(s)", problems.len());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("tidy: {e:#}");
            ExitCode::FAILURE
        }
    }
}

const BENCH_USAGE: &str = "usage: cargo xtask bench engine [--seed N] [--compare]
       cargo xtask bench bulk [--seed N] [--backend sqlite|postgres|both] [--users N] [--keep]
       cargo xtask bench http [--seed N] [--seconds N] [--connections N] [--threads N] [--users N] [--keep]
       cargo xtask bench sign-in [--all-cores]
       cargo xtask bench workspaces [--seed N] [--keep]
       cargo xtask bench rules [--seed N] [--keep]
       cargo xtask bench governance [--seed N]
       cargo xtask bench history [--seed N]
       cargo xtask bench console [--seed N]";

/// `cargo xtask bench engine|bulk|http|sign-in|workspaces|rules ...`: a release build and run of
/// the benchmark workspace, which prints its own table (for `bulk` and `http` it builds and
/// starts the release server itself; its options are checked there).
fn bench(args: Vec<String>) -> ExitCode {
    if !matches!(
        args.first().map(String::as_str),
        Some(
            "engine"
                | "bulk"
                | "http"
                | "sign-in"
                | "workspaces"
                | "rules"
                | "governance"
                | "history"
                | "console"
        )
    ) {
        eprintln!("{BENCH_USAGE}");
        return ExitCode::from(2);
    }
    let manifest = root().join("bench").join("Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["run", "--release", "--manifest-path"])
        .arg(&manifest)
        .arg("--")
        .args(&args)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("bench: the benchmark failed ({s})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("bench: cannot run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn tidy() -> Result<Vec<String>> {
    let root = root();
    let mut problems = Vec::new();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files)?;
    rust_files(&root.join("xtask"), &mut files)?;
    rust_files(&root.join("bench"), &mut files)?;
    for file in &files {
        let text =
            fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default();
        if !first.starts_with("//!") {
            problems.push(format!(
                "{rel}: must open with a `//!` paragraph saying what it holds and why"
            ));
        }
        if text.contains(&format!("#[{}", "ignore")) {
            problems.push(format!(
                "{rel}: ignored tests hide what is broken; fix or delete them"
            ));
        }
    }
    problems.extend(migrations_match(&root)?);
    problems.extend(dependency_edges(&root)?);
    Ok(problems)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if name != "target" && name != "node_modules" {
                rust_files(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Architecture invariant: every schema change ships in both migration folders under the
/// same version and name.
fn migrations_match(root: &Path) -> Result<Vec<String>> {
    let names = |backend: &str| -> Result<BTreeSet<String>> {
        let dir = root
            .join("crates")
            .join(format!("latchkey-store-{backend}"))
            .join("migrations");
        let mut set = BTreeSet::new();
        for entry in fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            if let Some(n) = entry?.file_name().to_str() {
                set.insert(n.to_owned());
            }
        }
        Ok(set)
    };
    let sqlite = names("sqlite")?;
    let postgres = names("postgres")?;
    let mut problems = Vec::new();
    for n in sqlite.symmetric_difference(&postgres) {
        problems.push(format!(
            "migration `{n}` exists for one backend only; ship it in both folders"
        ));
    }
    Ok(problems)
}

/// Architecture invariant: layers depend downward only. `(crate, forbidden dependency)`.
const FORBIDDEN: &[(&str, &str)] = &[
    ("latchkey-model", "latchkey-"),
    ("latchkey-model", "sqlx"),
    ("latchkey-model", "tokio"),
    ("latchkey-engine", "latchkey-store"),
    ("latchkey-engine", "latchkey-service"),
    ("latchkey-engine", "sqlx"),
    ("latchkey-engine", "tokio"),
    ("latchkey-store", "sqlx"),
    ("latchkey-service", "sqlx"),
    ("latchkey-service", "latchkey-store-sqlite"),
    ("latchkey-service", "latchkey-store-postgres"),
    ("latchkey-service", "latchkey-server"),
    ("latchkey-service", "axum"),
    ("latchkey-api", "latchkey-service"),
    ("latchkey-api", "latchkey-store"),
    ("latchkey-client", "latchkey-service"),
    ("latchkey-client", "latchkey-store"),
    ("latchkey-client", "latchkey-server"),
];

/// Allowed exceptions to a prefix rule: the model may depend on nothing of ours.
fn dependency_edges(root: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for (krate, forbidden) in FORBIDDEN {
        let manifest = root.join("crates").join(krate).join("Cargo.toml");
        let text = fs::read_to_string(&manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        for dep in normal_dependencies(&text) {
            let hit = if forbidden.ends_with('-') {
                dep.starts_with(forbidden) && dep != *krate
            } else {
                dep == *forbidden
            };
            if hit {
                problems.push(format!("{krate} must not depend on `{dep}` (layers depend downward only; see docs/ARCHITECTURE.md)"));
            }
        }
    }
    Ok(problems)
}

/// Names under `[dependencies]` (not dev- or build-dependencies).
fn normal_dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && !name.starts_with('#') {
                out.push(name.to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_normal_dependencies() {
        let manifest = "[package]\nname = \"x\"\n\n[dependencies]\na = \"1\"\nb = { workspace = true }\n\n[dev-dependencies]\nc = \"1\"\n";
        assert_eq!(
            normal_dependencies(manifest),
            vec!["a".to_owned(), "b".to_owned()]
        );
    }

    #[test]
    fn the_tree_is_tidy() {
        let problems = tidy().expect("tidy runs");
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
