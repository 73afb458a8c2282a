//! End-to-end tests of pytestd: each test spawns the real binary, speaks the protocol on its stdio as an editor
//! would, and runs real pytest on the fixture projects in tests/fixtures. Run them with `bash tests/run.sh`, which
//! first builds the Python environment they need.

// A panic is how a test fails, so tests and their harness state expectations with unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod cancel;
mod cli;
mod cli_report;
mod cli_targets;
mod collection_errors;
mod coordinator;
mod coverage;
mod crash;
mod debug;
mod desync;
mod discovery;
mod errors;
mod escapees;
mod exit_code;
mod failure_details;
mod hostile;
mod lifecycle;
mod logging;
mod memory;
mod outcomes;
mod protocol_fuzz;
mod result_socket;
mod selection;
mod shards;
mod spoof;
mod warm;
