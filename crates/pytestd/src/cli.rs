//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::run::args::{DiscoverArgs, RunArgs};

/// pytestd runs pytest for editors and scripts: a JSON-RPC daemon speaking LSP base-protocol framing on
/// stdin/stdout, and a terminal front end (`pytestd run`) over the same runner.
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
#[derive(Debug, Default, Clone, Subcommand)]
pub(crate) enum Command {
    /// Serve the JSON-RPC protocol on stdin/stdout (the default).
    #[default]
    Serve,
    /// Run tests in a terminal or CI: live progress, failures as they happen, a summary, JUnit XML, JSON events.
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// List the tests pytest collects, one id per line (or the tree as JSON).
    Discover(DiscoverArgs),
}

const EXAMPLES: &str = "\
Examples:
  pytestd run                          run the project around the current directory, with live progress
  pytestd run tests/test_a.py::test_x -- -x   one test, stopping at the first failure
  pytestd run --junit-xml report.xml   for CI: a JUnit file and pytest's exit codes
  pytestd discover proj                list the test ids pytest collects
  pytestd                              serve the protocol on stdin/stdout (what editors spawn)
  pytestd serve --log-file d.log       the same, logging to a file
  python3 editors/scripting/pytestd_client.py PROJECT   drive the daemon from a script";

const RUN_EXAMPLES: &str = "\
Examples:
  pytestd run                                   the project around the current directory (its .venv if any)
  pytestd run proj --python proj/venv/bin/python
  pytestd run tests/test_a.py 'tests/test_b.py::test_c[1]' -- -x -k fast
  cd tests && pytestd run test_a.py::TestX      paths and ids as pytest takes them, from any directory
  pytestd run --coverage-branch --coverage-lcov lcov.info   with coverage.py's table and an LCOV file
  pytestd run --last-failed                     only what failed last time in this project
  pytestd run --shards auto                     split by file across the cores, balanced by remembered durations
  pytestd run --partition hash:2/3 --junit-xml part2.xml   machine 2 of 3 in CI
  pytestd run --store-durations                 write .test_durations (pytest-split's format) after the run
  pytestd run --partition duration:2/3          machine 2 of 3, an equal share of .test_durations' time
  pytestd run --json | jq -c 'select(.event == \"testResult\")'

Exit codes (as pytest's): 0 all passed, 1 tests failed, 2 interrupted or cancelled (Ctrl-C), 3 internal error
(pytest crashed or was killed), 4 usage error (also: the interpreter is not found or has no pytest), 5 no tests
collected.";
