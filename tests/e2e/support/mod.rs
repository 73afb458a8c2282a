//! Harness shared by the end-to-end tests: the `Daemon` driver, process watching, interpreters and helpers for
//! reading `runTests` and `discoverTests` results.

mod daemon;
mod dap;
mod discovery;
mod framing;
mod procs;
mod python;
mod results;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

pub use daemon::Daemon;
pub use dap::Dap;
pub use discovery::{
    assert_discovery_status, assert_parents_first, discovered_test_ids, discovered_test_ids_in_order, node, nodes,
    pytest_collect_only,
};
pub use procs::{is_alive, pids_with_marker, wait_until, MARK_VAR};
pub use python::{hide_module, python_without_pytest, test_python};
pub use results::{assert_status, errors_text, result, result_ids};

/// Time for a quick request (cancelRun, listRuns, an error reply) to be answered.
pub const REPLY: Duration = Duration::from_secs(10);
/// Time for a run of a small fixture to finish, generous for a loaded CI machine.
pub const RUN: Duration = Duration::from_secs(60);

/// The repository's top directory.
pub fn repo_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().expect("repository root")
}

/// Absolute path of a fixture project under tests/fixtures.
pub fn fixture(name: &str) -> String {
    let dir = repo_root().join("tests/fixtures").join(name);
    assert!(dir.is_dir(), "no fixture project {}", dir.display());
    dir.display().to_string()
}

/// A fresh run id, so concurrent tests and runs never collide.
pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A message cut to a readable length for failure output.
pub fn brief(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
