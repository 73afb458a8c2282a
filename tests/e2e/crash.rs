//! pytest dying mid-run (os._exit, SIGKILL): the run ends with status "error", says how it died, keeps the results
//! that arrived, and leaves other runs alone.

use std::fs;

use serde_json::json;

use crate::support::{assert_status, errors_text, new_run_id, result, result_ids, Daemon, RUN};

/// The tests of each crash file, in order: one passes, one crashes pytest, one never runs.
const EXIT_IDS: [&str; 3] = [
    "test_exit.py::test_a_passes",
    "test_exit.py::test_b_exits",
    "test_exit.py::test_c_never_runs",
];
const SIGKILL_IDS: [&str; 3] = [
    "test_sigkill.py::test_a_passes",
    "test_sigkill.py::test_b_kills_itself",
    "test_sigkill.py::test_c_never_runs",
];

#[test]
fn a_pytest_that_calls_os_exit_ends_the_run_with_error_its_exit_code_and_earlier_results() {
    let mut daemon = Daemon::start();
    let run = daemon.run(daemon.run_params("crash", &EXIT_IDS), RUN);
    assert_status(&run, "error");
    assert_eq!(run["exitCode"], 3);
    assert!(run.get("signal").is_none_or(|s| s.is_null()), "{run}");
    assert_eq!(result(&run, "test_exit.py::test_a_passes")["outcome"], "passed");
    // The plugin reports os._exit before the interpreter goes, so the test that ended pytest is known.
    let exited = result(&run, "test_exit.py::test_b_exits");
    assert_eq!(exited["outcome"], "error", "{exited}");
    assert!(
        exited["message"].as_str().unwrap_or("").contains("os._exit(3)"),
        "{exited}"
    );
    assert!(!result_ids(&run).contains("test_exit.py::test_c_never_runs"));
    assert!(
        !errors_text(&run).is_empty(),
        "the crash is not described in errors: {run}"
    );
}

#[test]
fn a_pytest_killed_by_sigkill_ends_the_run_with_error_the_signal_and_earlier_results() {
    let mut daemon = Daemon::start();
    let run = daemon.run(daemon.run_params("crash", &SIGKILL_IDS), RUN);
    assert_status(&run, "error");
    assert_eq!(run["exitCode"], json!(null));
    assert_eq!(run["signal"], "SIGKILL");
    assert_eq!(result(&run, "test_sigkill.py::test_a_passes")["outcome"], "passed");
    assert!(!result_ids(&run).contains("test_sigkill.py::test_c_never_runs"));
    // A hard kill may cut the stream, so the daemon names the last test it saw start but blames none.
    let errors = errors_text(&run);
    assert!(
        errors.contains("SIGKILL") && errors.contains("test_b_kills_itself"),
        "{run}"
    );
    assert!(
        !result_ids(&run).contains("test_sigkill.py::test_b_kills_itself"),
        "{run}"
    );
}

#[test]
fn a_crashing_run_does_not_disturb_a_concurrent_run() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let mut daemon = Daemon::start();

    // The bystander run stays inside its test until the gate opens, so it is live during the whole crash.
    let bystander = new_run_id();
    let mut params = daemon.run_params("slow", &["test_gate.py::test_waits_for_gate"]);
    params["runId"] = json!(bystander);
    params["env"]["PYTESTD_E2E_GATE"] = json!(gate.display().to_string());
    let request = daemon.request("runTests", params);
    daemon.wait_run_notification("testStarted", &bystander, RUN);

    let crashed = daemon.run(daemon.run_params("crash", &SIGKILL_IDS), RUN);
    assert_status(&crashed, "error");

    fs::write(&gate, "open").unwrap();
    let run = daemon.response(request, RUN).unwrap();
    assert_status(&run, "passed");
    assert_eq!(
        result_ids(&run),
        ["test_gate.py::test_waits_for_gate".to_owned()].into()
    );
}
