//! The shared result server admits only a run's own plugin: a connection with an unknown run id or a wrong token
//! is refused and closed, and nothing it sends reaches any run. The impostor is the spoof fixture's test, which
//! connects from inside a real run (so it knows the socket path) and asserts the refusal itself.

use serde_json::{json, Value};

use crate::support::{assert_status, new_run_id, result, result_ids, Daemon, RUN};

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
