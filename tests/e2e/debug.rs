//! Debug runs (`runTests` with `debug`): pytest under the real debugpy. A DAP client attaches where `debugReady`
//! says, stops at a breakpoint, continues, and the run ends with its results; no client in time, debugpy missing
//! and a non-loopback address are errors that say so; a cancel while stopped at a breakpoint leaves nothing.
//! Fixture: `coverage` (a small package and its tests).

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{assert_status, fixture, hide_module, new_run_id, result_ids, Daemon, Dap, REPLY, RUN};

const DAP: Duration = Duration::from_secs(30);

fn breakpoint_line() -> u32 {
    let source = std::fs::read_to_string(format!("{}/tests/test_discount.py", fixture("coverage"))).unwrap();
    let index = source
        .lines()
        .position(|l| l.contains("debug: breakpoint line"))
        .unwrap();
    u32::try_from(index).unwrap() + 1
}

/// Starts a debug run and returns its run id, the request id and the `debugReady` params.
fn start_debug_run(daemon: &mut Daemon, debug: Value) -> (String, i64, Value) {
    let run_id = new_run_id();
    let mut params = daemon.run_params("coverage", &[]);
    params["runId"] = json!(run_id);
    params["debug"] = debug;
    let request = daemon.request("runTests", params);
    let ready = daemon.wait_run_notification("debugReady", &run_id, RUN);
    (run_id, request, ready)
}

#[test]
fn a_dap_client_stops_at_a_breakpoint_and_the_run_completes_with_its_results() {
    let mut daemon = Daemon::start();
    let (run_id, request, ready) = start_debug_run(&mut daemon, json!(true));
    assert_eq!(ready["host"], "127.0.0.1");
    let port = u16::try_from(ready["port"].as_u64().expect("a port")).unwrap();
    let source = format!("{}/tests/test_discount.py", fixture("coverage"));
    let mut dap = Dap::connect("127.0.0.1", port, DAP);
    dap.attach_with_breakpoints(&source, &[breakpoint_line()], DAP);
    let stopped = dap.event("stopped", DAP);
    assert_eq!(stopped["body"]["reason"], "breakpoint", "{stopped}");
    let thread = stopped["body"]["threadId"].clone();
    let (path, line) = dap.top_frame(&thread, DAP);
    assert_eq!((path.as_str(), line), (source.as_str(), u64::from(breakpoint_line())));
    // Stopped in the test's call: no result of it may be out yet, and the run is still running.
    assert!(daemon
        .run_notifications("testResult", &run_id)
        .iter()
        .all(|n| n["testId"] != "tests/test_discount.py::test_discount"));
    dap.request("continue", json!({"threadId": thread}));
    let run = daemon.response(request, RUN).expect("runTests answers");
    assert_status(&run, "passed");
    assert_eq!(result_ids(&run).len(), 3);
    // `--capture=no`: what tests print reaches the debug console, so pytest runs with capture off.
    let started = daemon.wait_run_notification("runStarted", &run_id, REPLY);
    let args: Vec<&str> = started["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(args.contains(&"--capture=no"), "{args:?}");
}

#[test]
fn a_cancel_while_stopped_at_a_breakpoint_leaves_no_process() {
    let mut daemon = Daemon::start_with(json!({"killGraceMs": 500}));
    let (run_id, request, ready) = start_debug_run(&mut daemon, json!({"waitForClientMs": 30000}));
    let port = u16::try_from(ready["port"].as_u64().unwrap()).unwrap();
    let source = format!("{}/tests/test_discount.py", fixture("coverage"));
    let mut dap = Dap::connect("127.0.0.1", port, DAP);
    dap.attach_with_breakpoints(&source, &[breakpoint_line()], DAP);
    dap.event("stopped", DAP);
    let cancel = daemon
        .call("cancelRun", json!({"runId": run_id}), REPLY)
        .expect("cancelRun answers");
    assert_eq!(cancel["state"], "cancelled");
    let run = daemon.response(request, RUN).expect("runTests answers");
    assert_status(&run, "cancelled");
    daemon.assert_run_processes_gone(Duration::from_secs(5));
}

#[test]
fn no_client_in_time_is_an_error_that_says_so() {
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params("coverage", &[]);
    params["debug"] = json!({"waitForClientMs": 1000});
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    let errors = run["errors"].to_string();
    assert!(
        errors.contains("no debugger attached") && errors.contains("1000 ms"),
        "{errors}"
    );
    assert!(result_ids(&run).is_empty(), "no test ran undebugged");
    daemon.assert_run_processes_gone(Duration::from_secs(5));
}

#[test]
fn debugpy_missing_is_an_error_naming_the_interpreter_and_the_install_command() {
    let hidden = tempfile::tempdir().unwrap();
    hide_module(hidden.path(), "debugpy");
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params("coverage", &[]);
    params["debug"] = json!(true);
    params["env"]["PYTHONPATH"] = json!(hidden.path().display().to_string());
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    let errors = run["errors"].to_string();
    assert!(
        errors.contains("debugpy is not installed") && errors.contains("-m pip install debugpy"),
        "{errors}"
    );
    assert!(
        errors.contains(&crate::support::test_python()),
        "names the interpreter: {errors}"
    );
}

#[test]
fn only_loopback_addresses_are_listened_on() {
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params("coverage", &[]);
    params["debug"] = json!({"host": "0.0.0.0"});
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    assert!(
        run["errors"].to_string().contains("not a loopback address"),
        "{}",
        run["errors"]
    );
}
