//! `latchkey`: the server (`latchkey serve`) and a command-line client of its REST API for
//! people and scripts. Tables on a terminal, `--json` for scripts; errors go to standard
//! error as the server's problem (detail and field errors) and exit with status 1.

/// mimalloc rather than the system allocator: checks, bulk loads and the engine allocate
/// many small, short-lived values (answers, paths, rows), where glibc's malloc spent a
/// quarter of a bulk load and a tenth of every HTTP check.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod commands;
mod config;
mod output;
mod parse;
mod serve;
mod tree;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli).await {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` joins the context chain: "cannot read `f.csv`: No such file or directory".
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
