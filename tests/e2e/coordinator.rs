//! The parallel execution coordinator (issue 3): slots and a FIFO queue, cancellation that is answered at once and
//! always stops the run, per-run limits and resource reports, and no process outliving its run or the daemon.
//!
//! Helpers shared by its test files live here: gates that hold a run inside its test for exactly as long as a test
//! needs, and the params for the `counting` and `stubborn` fixtures.

mod cancel_load;
mod cancel_states;
mod orphans;
mod queue;
mod resources;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::{wait_until, Daemon, RUN};

/// A file a `counting` (or `memory`) test waits for; the run stays inside its test until the gate opens.
pub struct Gate {
    dir: TempDir,
    path: PathBuf,
}

impl Gate {
    /// A closed gate in a fresh temporary directory.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("create a gate directory");
        let path = dir.path().join("gate");
        Gate { dir, path }
    }

    /// The gate's directory, for other files of the same test.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Lets every run waiting at the gate pass.
    pub fn open(&self) {
        fs::write(&self.path, "open").expect("open the gate");
    }

    fn path_text(&self) -> String {
        self.path.display().to_string()
    }
}

/// `runTests` params for the counting fixture's test with run id `run_id`, held at `gate`.
pub fn counting_run(daemon: &Daemon, gate: &Gate, run_id: &str) -> Value {
    let mut params = daemon.run_params("counting", &["test_counting.py::test_records_start_and_waits_for_gate"]);
    params["runId"] = json!(run_id);
    params["env"]["PYTESTD_E2E_GATE"] = json!(gate.path_text());
    params
}

/// `runTests` params for the memory fixture: the test holds `megabytes` MiB until `gate` opens.
pub fn memory_run(daemon: &Daemon, gate: &Gate, run_id: &str, megabytes: u64) -> Value {
    let mut params = daemon.run_params("memory", &["test_memory.py::test_holds_memory"]);
    params["runId"] = json!(run_id);
    params["env"]["PYTESTD_E2E_GATE"] = json!(gate.path_text());
    params["env"]["PYTESTD_E2E_ALLOC_MB"] = json!(megabytes.to_string());
    params
}

/// `runTests` params for the stubborn fixture: pytest and a grandchild ignore SIGTERM; their files go to `dir`.
pub fn stubborn_run(daemon: &Daemon, dir: &Path, run_id: &str) -> Value {
    let mut params = daemon.run_params("stubborn", &["test_stubborn.py::test_ignores_sigterm"]);
    params["runId"] = json!(run_id);
    params["env"]["PYTESTD_E2E_DIR"] = json!(dir.display().to_string());
    params
}

/// Waits until a stubborn run in `dir` ignores SIGTERM; returns (pytest's pid, the grandchild's pid).
pub fn wait_stubborn_ready(dir: &Path) -> (i32, i32) {
    let ready = dir.join("ready");
    wait_until(RUN, "the stubborn test to be ready", || ready.exists());
    let read_pid = |name: &str| -> i32 {
        let text = fs::read_to_string(dir.join(name)).unwrap();
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{name} holds {text:?}: {e}"))
    };
    (read_pid("ready"), read_pid("grandchild.pid"))
}

/// The run ids among `run_ids` in the order their `runStarted` notifications arrived.
pub fn start_order(daemon: &Daemon, run_ids: &[String]) -> Vec<String> {
    daemon
        .messages()
        .iter()
        .filter(|m| m["method"] == "runStarted" && m.get("id").is_none())
        .map(|m| str_of(&m["params"]["runId"]))
        .filter(|id| run_ids.contains(id))
        .collect()
}

/// Asserts that each request in `requests` has exactly one response among the messages received so far.
pub fn assert_each_answered_once(daemon: &Daemon, requests: &[i64]) {
    for &request in requests {
        let count = daemon.response_count(request);
        assert_eq!(count, 1, "request {request} was answered {count} times");
    }
}

/// The string in `value`, or "" when it is not one.
pub fn str_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}
