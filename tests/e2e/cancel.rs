//! Cancelling runs: `cancelRun` and `$/cancelRequest` stop a run's whole process group (grandchildren that ignore
//! SIGTERM included, after killGraceMs), keep the results that arrived, and are answered at once even while many
//! runs hold the JSON-RPC server's attention.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{assert_status, is_alive, new_run_id, result, wait_until, Daemon, REPLY, RUN};

const GRACE_MS: u64 = 500;
/// Beyond the grace period: time for SIGKILL to land and for the kernel and init to clean up.
const MARGIN: Duration = Duration::from_secs(3);

fn grace() -> Duration {
    Duration::from_millis(GRACE_MS)
}

/// Starts the grandchild-spawning test; returns (request id, run id, grandchild pid) once the grandchild is ready.
fn start_grandchild_run(daemon: &mut Daemon, dir: &Path) -> (i64, String, i32) {
    let pid_file = dir.join("grandchild.pid");
    let run_id = new_run_id();
    let mut params = daemon.run_params("slow", &["test_grandchild.py::test_spawns_grandchild"]);
    params["runId"] = json!(run_id);
    params["env"]["PYTESTD_E2E_PIDFILE"] = json!(pid_file.display().to_string());
    let request = daemon.request("runTests", params);
    // The grandchild writes the file only after it ignores SIGTERM; polling the file system needs a loop.
    wait_until(RUN, "the grandchild's pid file", || pid_file.exists());
    let pid = fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert!(is_alive(pid), "grandchild {pid} died before the cancel");
    (request, run_id, pid)
}

#[test]
fn cancelling_a_running_run_answers_cancelled_and_keeps_the_results_that_arrived() {
    let mut daemon = Daemon::start_with(json!({"killGraceMs": GRACE_MS}));
    let run_id = new_run_id();
    let mut params = daemon.run_params("slow", &["test_slow.py::test_quick", "test_slow.py::test_sleeps"]);
    params["runId"] = json!(run_id);
    let request = daemon.request("runTests", params);
    daemon.wait_notification(RUN, |method, p| {
        method == "testStarted" && p["testId"] == "test_slow.py::test_sleeps"
    });

    let answer = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(answer, json!({"runId": run_id, "state": "cancelled"}));
    let run = daemon.response(request, grace() + MARGIN).unwrap();
    assert_status(&run, "cancelled");
    assert_eq!(result(&run, "test_slow.py::test_quick")["outcome"], "passed");
    assert!(
        run["results"].get("test_slow.py::test_sleeps").is_none(),
        "the interrupted test got a result: {run}"
    );
    assert_eq!(
        daemon.wait_run_notification("runFinished", &run_id, REPLY)["status"],
        "cancelled"
    );
    daemon.assert_run_processes_gone(MARGIN);
}

#[test]
fn cancel_kills_a_grandchild_that_ignores_sigterm_within_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start_with(json!({"killGraceMs": GRACE_MS}));
    let (request, run_id, grandchild) = start_grandchild_run(&mut daemon, dir.path());

    // The daemon may SIGKILL the group as soon as pytest itself has gone; it must not wait past the grace period.
    daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    wait_until(grace() + MARGIN, "the grandchild to die", || !is_alive(grandchild));
    assert_status(&daemon.response(request, REPLY).unwrap(), "cancelled");
    daemon.assert_run_processes_gone(MARGIN);
}

#[test]
fn a_run_past_its_timeout_ends_timed_out_keeping_its_results_and_killing_its_processes() {
    let mut daemon = Daemon::start_with(json!({"killGraceMs": GRACE_MS}));
    let mut params = daemon.run_params("slow", &["test_slow.py::test_quick", "test_slow.py::test_sleeps"]);
    params["timeoutMs"] = json!(1000);
    let run = daemon.run(params, RUN);
    assert_status(&run, "timedOut");
    assert_eq!(result(&run, "test_slow.py::test_quick")["outcome"], "passed");
    daemon.assert_run_processes_gone(MARGIN);
}

#[test]
fn cancelling_a_finished_run_answers_already_finished() {
    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let mut params = daemon.run_params("outcomes", &["test_outcomes.py::test_pass"]);
    params["runId"] = json!(run_id);
    assert_status(&daemon.run(params, RUN), "passed");
    let answer = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(answer, json!({"runId": run_id, "state": "alreadyFinished"}));
}

#[test]
fn cancelling_an_unknown_run_is_an_invalid_params_error() {
    let mut daemon = Daemon::start();
    let error = daemon
        .call("cancelRun", json!({"runId": "no-such-run"}), REPLY)
        .unwrap_err();
    assert_eq!(error.code, -32602, "{error:?}");
}

#[test]
fn cancel_request_on_a_pending_run_tests_cancels_the_run_and_kills_its_processes() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start_with(json!({"killGraceMs": GRACE_MS}));
    let (request, _, grandchild) = start_grandchild_run(&mut daemon, dir.path());

    daemon.notify("$/cancelRequest", json!({"id": request}));
    let error = daemon.response(request, grace() + MARGIN).unwrap_err();
    assert_eq!(
        error.code, -32800,
        "a cancelled request answers RequestCancelled: {error:?}"
    );
    wait_until(grace() + MARGIN, "the grandchild to die", || !is_alive(grandchild));
    daemon.assert_run_processes_gone(MARGIN);
}

/// Run ids among `run_ids` that have had notification `method`.
fn with_notification(daemon: &Daemon, run_ids: &[String], method: &str) -> Vec<String> {
    run_ids
        .iter()
        .filter(|id| !daemon.run_notifications(method, id).is_empty())
        .cloned()
        .collect()
}

/// Calls `method` and asserts it is answered within a second.
fn call_fast(daemon: &mut Daemon, method: &str, params: Value) -> Value {
    let asked = Instant::now();
    let answer = daemon.call(method, params, REPLY).unwrap();
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "{method} took {took:?} with eight runTests pending"
    );
    answer
}

#[test]
fn cancel_run_is_answered_within_a_second_while_eight_long_runs_are_pending() {
    let mut daemon = Daemon::start_with(json!({"maxParallel": 4, "killGraceMs": GRACE_MS}));
    let run_ids: Vec<String> = (0..8).map(|_| new_run_id()).collect();
    let requests: Vec<i64> = run_ids
        .iter()
        .map(|run_id| {
            let mut params = daemon.run_params("slow", &["test_slow.py::test_sleeps"]);
            params["runId"] = json!(run_id);
            daemon.request("runTests", params)
        })
        .collect();
    // Four runs sleep inside their test and four wait for a slot: eight runTests handlers are pending.
    let ids = run_ids.clone();
    daemon.wait_until_messages("four sleeping runs", RUN, move |messages| {
        let sleeping = messages
            .iter()
            .filter(|m| m["method"] == "testStarted" && ids.contains(&str_of(&m["params"]["runId"])));
        sleeping.count() >= 4
    });
    let running = with_notification(&daemon, &run_ids, "runStarted");
    let queued: Vec<String> = run_ids.iter().filter(|id| !running.contains(id)).cloned().collect();
    assert_eq!((running.len(), queued.len()), (4, 4));
    for id in &queued {
        assert!(
            !daemon.run_notifications("runQueued", id).is_empty(),
            "no runQueued for waiting run {id}"
        );
    }

    let list = call_fast(&mut daemon, "listRuns", json!({}));
    assert_eq!(list["maxParallel"], 4);
    let states: Vec<(String, String)> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (str_of(&r["runId"]), str_of(&r["state"])))
        .collect();
    for id in &running {
        assert!(
            states.contains(&(id.clone(), "running".into())),
            "{id} not running in {list}"
        );
    }
    for id in &queued {
        assert!(
            states.contains(&(id.clone(), "queued".into())),
            "{id} not queued in {list}"
        );
    }

    // Cancelling a waiting run and a running one are both answered at once.
    let answer = call_fast(&mut daemon, "cancelRun", json!({"runId": queued[3]}));
    assert_eq!(answer["state"], "cancelled");
    let answer = call_fast(&mut daemon, "cancelRun", json!({"runId": running[0]}));
    assert_eq!(answer["state"], "cancelled");
    // The freed slot goes to a waiting run.
    let waiting = queued[..3].to_vec();
    daemon.wait_until_messages("a queued run to take the freed slot", RUN, move |messages| {
        messages
            .iter()
            .any(|m| m["method"] == "runStarted" && waiting.contains(&str_of(&m["params"]["runId"])))
    });
    let never_started = daemon.run_notifications("runStarted", &queued[3]);
    assert!(never_started.is_empty(), "a run cancelled while queued was started");

    for run_id in &run_ids {
        // Runs cancelled above answer alreadyFinished or cancelled, depending on how far they got.
        daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    }
    for request in requests {
        assert_status(&daemon.response(request, grace() + MARGIN).unwrap(), "cancelled");
    }
    daemon.assert_run_processes_gone(MARGIN);
}

fn str_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}
