//! pytest dying mid-run (os._exit, SIGKILL, a segfault, closed descriptors): the run ends with status "error", says
//! how it died, keeps every result reported before (the plugin's journal holds what the socket did not deliver),
//! blames the test that was running, and leaves other runs alone.

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
    // The journal holds every line the plugin queued, so the test that was running is known and blamed.
    let errors = errors_text(&run);
    assert!(
        errors.contains("SIGKILL") && errors.contains("test_b_kills_itself"),
        "{run}"
    );
    let killer = result(&run, "test_sigkill.py::test_b_kills_itself");
    assert_eq!(killer["outcome"], "error", "{killer}");
    assert!(killer["message"].as_str().unwrap_or("").contains("SIGKILL"), "{killer}");
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

/// Runs `test_dies.py`, whose killer test ends pytest by `death` right after 300 quick passing tests, and checks
/// that every passing result is kept and the killer is the test blamed, with `why` in its message.
fn dies_without_losing_results(death: &str, why: &str) -> serde_json::Value {
    dies_after(300, death, why)
}

fn dies_after(quick: usize, death: &str, why: &str) -> serde_json::Value {
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params("crash", &["test_dies.py"]);
    params["env"]["PYTESTD_E2E_DEATH"] = json!(death);
    params["env"]["PYTESTD_E2E_QUICK"] = json!(quick.to_string());
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    let passed: Vec<_> = (0..quick)
        .map(|n| format!("test_dies.py::test_a_quick[{n}]"))
        .filter(|id| run["results"].get(id).is_some_and(|r| r["outcome"] == "passed"))
        .collect();
    assert_eq!(passed.len(), quick, "passing results were lost: {}", run["summary"]);
    let killer = result(&run, "test_dies.py::test_b_dies");
    assert_eq!(killer["outcome"], "error", "{killer}");
    assert!(killer["message"].as_str().unwrap_or("").contains(why), "{killer}");
    assert!(!result_ids(&run).contains("test_dies.py::test_c_never_runs"));
    assert_eq!(result_ids(&run).len(), quick + 1, "{}", run["summary"]);
    run
}

#[test]
fn a_sigkill_right_after_quick_tests_loses_no_result_and_blames_the_killer() {
    let run = dies_without_losing_results("sigkill", "killed by SIGKILL");
    assert_eq!(run["signal"], "SIGKILL");
}

#[test]
fn a_sigkill_after_the_journal_started_over_several_times_loses_no_result() {
    // About 200 bytes a test: 12 000 tests go through the 1 MiB journal twice and more.
    let run = dies_after(12_000, "sigkill", "killed by SIGKILL");
    assert_eq!(run["signal"], "SIGKILL");
}

#[test]
fn a_segfault_right_after_quick_tests_loses_no_result_and_blames_the_crashing_test() {
    let run = dies_without_losing_results("segfault", "killed by SIGSEGV");
    assert_eq!(run["signal"], "SIGSEGV");
}

#[test]
fn os_exit_right_after_quick_tests_loses_no_result() {
    let run = dies_without_losing_results("os_exit", "os._exit(4)");
    assert_eq!(run["exitCode"], 4);
}

#[test]
fn closing_every_descriptor_then_exiting_loses_no_result() {
    // The socket is gone, so the journal alone carries the last results and the announcement of os._exit.
    let run = dies_without_losing_results("closed_fds", "os._exit(5)");
    assert_eq!(run["exitCode"], 5);
}
