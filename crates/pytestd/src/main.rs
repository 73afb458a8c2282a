//! `pytestd`: a JSON-RPC daemon that runs pytest for editors and scripts.
//!
//! This crate is the edge: the command line, logging, the wiring of the runner into a tower-lsp-server service on
//! stdin/stdout (`serve`), and the terminal front end over the same runner (`run`, `discover`). Its invariant: under
//! `serve`, stdout carries protocol frames and nothing else.

// Denied, not forbidden: memory.rs allows it for its one call into glibc (malloc_trim).
#![deny(unsafe_code)]

mod cli;
mod envelope;
mod errors;
mod framing;
mod logging;
mod memory;
mod notify;
mod ordered;
mod params;
mod requests;
mod run;
mod serve;
mod service;
mod stdin;
mod stdio;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version print and succeed; a usage error exits 4, as pytest's do.
            let _ = err.print();
            return std::process::ExitCode::from(if err.use_stderr() { 4 } else { 0 });
        }
    };
    let _log_guard = match logging::init(cli.log_level.as_deref(), cli.log_file.as_deref()) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("pytestd: {err:#}");
            return std::process::ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or_default() {
        cli::Command::Serve => match serve::run() {
            Ok(code) => code,
            Err(err) => {
                tracing::error!("{err:#}");
                eprintln!("pytestd: {err:#}");
                std::process::ExitCode::FAILURE
            }
        },
        cli::Command::Run(args) => run::main(&args),
        cli::Command::Discover(args) => run::discover_main(&args),
    }
}
