//! `pytestd`: a JSON-RPC daemon that runs pytest for editors and scripts.
//!
//! This crate is the edge: the command line, logging, and the wiring of the runner into a tower-lsp-server
//! service on stdin/stdout. Its invariant: stdout carries protocol frames and nothing else.

#![forbid(unsafe_code)]

mod cli;
mod errors;
mod logging;
mod notify;
mod ordered;
mod params;
mod requests;
mod serve;
mod service;
mod stdin;
mod stdio;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
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
    }
}
