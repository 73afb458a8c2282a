//! The shared result server admits only a run's own plugin: a connection with an unknown run id or a wrong token
//! is refused and closed, and nothing it sends reaches any run. The impostor is the spoof fixture's test, which
//! connects from inside a real run (so it knows the socket path) and asserts the refusal itself. A process outside
//! the run that reads the run's token from its environment and connects first is refused too: the daemon asks the
//! kernel which process group the connection comes from.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use serde_json::{json, Value};

use crate::result_socket::{connect, run_environment, say};
use crate::support::{assert_status, new_run_id, result, result_ids, test_python, Daemon, RUN};

const IMPOSTOR: &str = "test_spoof.py::test_forged_hello_is_refused";
const FORGED: &str = "forged.py::test_forged";

/// Runs the impostor test, claiming run `claimed` (its own run when `None`); asserts it saw the refusal.
fn run_impostor(daemon: &mut Daemon, claimed: Option<&str>) {
    let mut params = daemon.run_params("spoof", &[IMPOSTOR]);
    if let Some(claimed) = claimed {
        params["env"]["PYTESTD_E2E_SPOOF_RUN_ID"] = json!(claimed);
    }
    let run = daemon.run(params, RUN);
    let impostor = result(&run, IMPOSTOR);
    assert_eq!(
        impostor["outcome"], "passed",
        "the impostor was not refused and closed: {impostor}"
    );
    assert_eq!(result_ids(&run), [IMPOSTOR.to_owned()].into());
    assert_no_forged_result(daemon);
}

/// No testStarted or testResult of any run names the forged test.
fn assert_no_forged_result(daemon: &Daemon) {
    let forged = |m: &&Value| m["params"]["testId"] == FORGED || m["result"]["results"].get(FORGED).is_some();
    assert!(
        daemon.messages().iter().find(forged).is_none(),
        "a forged report reached a client"
    );
}

#[test]
fn a_hello_with_the_runs_own_id_and_a_wrong_token_is_refused() {
    let mut daemon = Daemon::start();
    run_impostor(&mut daemon, None);
}

#[test]
fn a_hello_naming_an_unknown_run_is_refused() {
    let mut daemon = Daemon::start();
    run_impostor(&mut daemon, Some("no-such-run"));
}

#[test]
fn a_hello_claiming_another_live_run_is_refused_and_that_run_gets_nothing_forged() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let mut daemon = Daemon::start();
    let victim = new_run_id();
    let mut params = daemon.run_params("slow", &["test_gate.py::test_waits_for_gate"]);
    params["runId"] = json!(victim);
    params["env"]["PYTESTD_E2E_GATE"] = json!(gate.display().to_string());
    let request = daemon.request("runTests", params);
    daemon.wait_run_notification("testStarted", &victim, RUN);

    run_impostor(&mut daemon, Some(&victim));

    std::fs::write(&gate, "open").unwrap();
    let run = daemon.response(request, RUN).unwrap();
    assert_status(&run, "passed");
    assert_eq!(
        result_ids(&run),
        ["test_gate.py::test_waits_for_gate".to_owned()].into()
    );
    assert_no_forged_result(&daemon);
}

/// Stands in for the run's Python: holds the run at its very start, its token in the environment and its plugin not
/// yet connected, until the e2e test writes a line to the FIFO (60 s at most), then becomes the real interpreter.
const HELD_PYTHON: &str = r#"#!/bin/bash
IFS= read -r -t 60 _ <> "$PYTESTD_E2E_FIFO" || exit 97
exec "$PYTESTD_E2E_PYTHON" "$@"
"#;

#[test]
fn a_token_stolen_by_a_process_outside_the_run_is_refused_and_the_real_plugin_still_connects() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    std::fs::write(&gate, "open").unwrap();
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let python = dir.path().join("python");
    std::fs::write(&python, HELD_PYTHON).unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let gate_test = "test_gate.py::test_waits_for_gate";
    let mut params = daemon.run_params("slow", &[gate_test]);
    params["runId"] = json!(run_id);
    params["python"] = json!(python.display().to_string());
    params["env"]["PYTESTD_E2E_GATE"] = json!(gate.display().to_string());
    params["env"]["PYTESTD_E2E_FIFO"] = json!(fifo.display().to_string());
    params["env"]["PYTESTD_E2E_PYTHON"] = json!(test_python());
    // The held interpreter waits on the fifo at every start: a warm template started with it would take the go.
    params["warm"] = json!(false);
    let request = daemon.request("runTests", params);
    let started = daemon.wait_run_notification("runStarted", &run_id, RUN);
    let leader = i32::try_from(started["pid"].as_i64().unwrap()).unwrap();

    // The thief: this test process, outside the run's process group, with everything the run's environment holds.
    let stolen = run_environment(leader);
    assert_eq!(stolen["PYTESTD_RUN_ID"], run_id);
    let hello =
        json!({"type": "hello", "runId": run_id, "token": stolen["PYTESTD_TOKEN"], "pid": 1, "pytestVersion": "9"});
    let forged = json!({"type": "report", "nodeid": FORGED, "when": "call", "outcome": "passed", "duration": 0});
    let mut thief = connect(&stolen["PYTESTD_SOCKET"]);
    let said = say(&mut thief, &format!("{hello}\n{forged}\n"));
    assert!(
        said.contains("refused") && said.contains("not in the process group of any live run"),
        "{said}"
    );

    std::fs::write(&fifo, "go\n").unwrap();
    let run = daemon.response(request, RUN).unwrap();
    assert_status(&run, "passed");
    assert_eq!(result_ids(&run), [gate_test.to_owned()].into());
    assert_eq!(result(&run, gate_test)["outcome"], "passed");
    assert_no_forged_result(&daemon);
}
