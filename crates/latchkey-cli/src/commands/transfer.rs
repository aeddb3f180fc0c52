//! CSV in and out: `import KIND FILE [--dry-run]` posts a file and prints the server's
//! report (exit 1 when any row failed, in which case nothing was written), with a progress
//! bar on a terminal; `export KIND` writes the CSV the server streams.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use latchkey_api::ImportReport;

use super::{Ctx, success};
use crate::cli::{ExportArgs, ImportArgs};

pub async fn import(ctx: &Ctx, args: ImportArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.bulk {
        return bulk(ctx, path).await;
    }
    let (Some(kind), Some(file)) = (args.kind, args.file.clone()) else {
        anyhow::bail!("give a kind and a CSV file, or --bulk FILE");
    };
    let bar = progress_bar(&file);
    let body = read_with_progress(&file, &bar);
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            bar.finish_and_clear();
            return Err(e);
        }
    };
    bar.set_style(style("{spinner} {msg} ({elapsed})"));
    bar.set_message(format!("the server is checking {}", file.display()));
    bar.enable_steady_tick(Duration::from_millis(100));
    let report = ctx.client.import_csv(kind, body, args.dry_run).await;
    bar.finish_and_clear();
    let report = report?;

    if ctx.out.json {
        ctx.out.print_json(&report)?;
    } else {
        print!("{}", render_report(&report));
    }
    if report.ok {
        success()
    } else {
        let n = report.errors.len();
        eprintln!(
            "error: the import failed with {n} error{}; nothing was written",
            if n == 1 { "" } else { "s" }
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Streams an NDJSON file to `/api/v1/bulk`, showing progress by lines as the server
/// commits them, then prints the errors and the summary. Exit 1 when any line failed.
async fn bulk(ctx: &Ctx, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let total = body.iter().filter(|b| **b == b'\n').count() as u64;
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) && !ctx.out.json {
        let bar = indicatif::ProgressBar::new(total.max(1));
        bar.set_style(style("{bar:40} {pos}/{len} lines, {msg} ({elapsed})"));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut errors: Vec<serde_json::Value> = Vec::new();
    let mut summary = serde_json::Value::Null;
    let result = ctx
        .client
        .bulk(body, |line| {
            if let Some(p) = line.get("progress") {
                bar.set_position(p["lines"].as_u64().unwrap_or_default());
                bar.set_message(format!("{} created, {} errors", p["created"], p["errors"]));
            } else if line.get("summary").is_some() {
                summary = line;
            } else if line.get("error").is_some() {
                errors.push(line);
            }
        })
        .await;
    bar.finish_and_clear();
    result?;
    if ctx.out.json {
        ctx.out
            .print_json(&serde_json::json!({ "errors": errors, "summary": summary["summary"] }))?;
    } else {
        for e in &errors {
            let fields: Vec<String> = e["error"]["errors"]
                .as_array()
                .map(|fs| {
                    fs.iter()
                        .map(|f| {
                            format!(
                                "{}: {}",
                                f["field"].as_str().unwrap_or(""),
                                f["message"].as_str().unwrap_or("")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let detail = if fields.is_empty() {
                e["error"]["detail"].as_str().unwrap_or("").to_owned()
            } else {
                fields.join("; ")
            };
            println!("line {}: {detail}", e["line"]);
        }
        let s = &summary["summary"];
        println!(
            "{} lines, {} errors, created {}, revision {}",
            s["lines"], s["errors"], s["created"], s["revision"]
        );
    }
    if summary.is_null() {
        anyhow::bail!("the server stopped before the summary; some lines may not have been loaded");
    }
    if errors.is_empty() {
        success()
    } else {
        Ok(ExitCode::FAILURE)
    }
}

pub async fn export(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let csv = ctx
        .client
        .export_csv(&format!("{}?format=csv", args.kind.path()))
        .await?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, csv.as_bytes())
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            eprintln!("wrote {} bytes to {}", csv.len(), path.display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(csv.as_bytes())
                .context("cannot write to standard output")?;
            stdout.flush().context("cannot write to standard output")?;
        }
    }
    success()
}

/// A bar counting the file's bytes on a terminal; hidden otherwise.
fn progress_bar(path: &Path) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(len);
    bar.set_style(style("{msg} [{bar:30}] {bytes}/{total_bytes}"));
    bar.set_message(format!("reading {}", path.display()));
    bar
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn read_with_progress(path: &Path, bar: &ProgressBar) -> anyhow::Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut chunk)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        bar.inc(n as u64);
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("`{}` is not UTF-8 text", path.display()))
}

/// The report as people read it: a summary line, then one line per failing row.
pub fn render_report(report: &ImportReport) -> String {
    let mode = if report.dry_run { " (dry run)" } else { "" };
    let mut out = format!(
        "import {}{mode}: {} row{}",
        report.kind,
        report.rows,
        plural(report.rows)
    );
    if report.ok {
        let unchanged = report.rows.saturating_sub(report.created + report.updated);
        let (created, updated) = if report.dry_run {
            ("to create", "to update")
        } else {
            ("created", "updated")
        };
        out.push_str(&format!(
            ", {} {created}, {} {updated}, {unchanged} unchanged",
            report.created, report.updated
        ));
    }
    out.push('\n');
    for e in &report.errors {
        out.push_str(&format!(
            "row {}, column {}: {}\n",
            e.row, e.column, e.message
        ));
    }
    out
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_api::ImportError;

    fn report(ok: bool, dry_run: bool, errors: Vec<ImportError>) -> ImportReport {
        ImportReport {
            kind: "users".into(),
            dry_run,
            ok,
            rows: 5,
            created: 2,
            updated: 1,
            errors,
            actions: Vec::new(),
        }
    }

    #[test]
    fn a_good_report_summarises_the_rows() {
        assert_eq!(
            render_report(&report(true, false, vec![])),
            "import users: 5 rows, 2 created, 1 updated, 2 unchanged\n"
        );
        assert_eq!(
            render_report(&report(true, true, vec![])),
            "import users (dry run): 5 rows, 2 to create, 1 to update, 2 unchanged\n"
        );
    }

    #[test]
    fn a_failed_report_lists_each_error() {
        let errors = vec![
            ImportError {
                row: 2,
                column: "email".into(),
                message: "`x` is not an email address".into(),
            },
            ImportError {
                row: 4,
                column: "primary_group".into(),
                message: "no group `Nope`".into(),
            },
        ];
        assert_eq!(
            render_report(&report(false, false, errors)),
            "import users: 5 rows\nrow 2, column email: `x` is not an email address\nrow 4, column primary_group: no group `Nope`\n"
        );
    }

    #[test]
    fn files_are_read_whole() {
        let path =
            std::env::temp_dir().join(format!("latchkey-cli-read-{}.csv", std::process::id()));
        std::fs::write(&path, "user_name\nana\n").unwrap();
        let bar = ProgressBar::hidden();
        assert_eq!(read_with_progress(&path, &bar).unwrap(), "user_name\nana\n");
        std::fs::remove_file(&path).unwrap();
        let err = read_with_progress(&path, &bar).unwrap_err();
        assert!(err.to_string().starts_with("cannot open"), "{err}");
    }
}
