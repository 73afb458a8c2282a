//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// pytestd runs pytest for editors and scripts: a JSON-RPC daemon speaking LSP base-protocol framing on
/// stdin/stdout.
#[derive(Debug, Parser)]
#[command(name = "pytestd", version, about, long_about = None, after_help = EXAMPLES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// Log level or filter (e.g. `debug`, `pytestd_runner=trace`); defaults to RUST_LOG, else `warn`.
    #[arg(long, global = true, value_name = "FILTER")]
    pub(crate) log_level: Option<String>,

    /// Write logs to this file instead of stderr.
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) log_file: Option<PathBuf>,
}

/// What to do.
#[derive(Debug, Default, Clone, Copy, Subcommand)]
pub(crate) enum Command {
    /// Serve the JSON-RPC protocol on stdin/stdout (the default).
    #[default]
    Serve,
}

const EXAMPLES: &str = "\
Examples:
  pytestd                         serve the protocol on stdin/stdout (what editors spawn)
  pytestd serve --log-file d.log  the same, logging to a file
  python3 editors/scripting/pytestd_client.py PROJECT   drive it from a script";
