//! cancelRun in each state of a run: queued (removed, never spawned), running (the kill ladder, even against a
//! pytest that ignores SIGTERM), cancelled twice (SIGKILL at once), finished, and unknown.

use std::fs;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{counting_run, stubborn_run, wait_stubborn_ready, Gate};
use crate::support::{assert_status, is_alive, new_run_id, wait_until, Daemon, REPLY, RUN};

/// Beyond a grace period: time for SIGKILL to land and for the kernel and init to clean up.
const MARGIN: Duration = Duration::from_secs(3);

#[test]
fn cancelling_a_queued_run_answers_it_cancelled_and_never_spawns_it() {
    let gate = Gate::new();
    let mut daemon = Daemon::start_with(json!({"maxParallel": 1}));
    let (holder, waiter) = (new_run_id(), new_run_id());
    let holding = daemon.request("runTests", counting_run(&daemon, &gate, &holder));
    let waiting = daemon.request("runTests", counting_run(&daemon, &gate, &waiter));
    daemon.wait_run_notification("testStarted", &holder, RUN);
    daemon.wait_run_notification("runQueued", &waiter, REPLY);

    let answer = daemon.call("cancelRun", json!({"runId": waiter}), REPLY).unwrap();
    assert_eq!(answer, json!({"runId": waiter, "state": "cancelled"}));
    let run = daemon.response(waiting, REPLY).unwrap();
    assert_status(&run, "cancelled");
    assert_eq!(run["summary"]["total"], 0, "{run}");

    // The slot frees up afterwards; the cancelled run must not take it.
    gate.open();
    assert_status(&daemon.response(holding, RUN).unwrap(), "passed");
    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    assert_eq!(list["runs"], json!([]), "{list}");
    assert!(
        daemon.run_notifications("runStarted", &waiter).is_empty(),
        "the run cancelled while queued was started"
    );
    let again = daemon.call("cancelRun", json!({"runId": waiter}), REPLY).unwrap();
    assert_eq!(again, json!({"runId": waiter, "state": "alreadyFinished"}));
}

#[test]
fn cancelling_a_running_run_that_ignores_sigterm_kills_its_group_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let grace = Duration::from_millis(500);
    let mut daemon = Daemon::start_with(json!({"killGraceMs": 500}));
    let run_id = new_run_id();
    let request = daemon.request("runTests", stubborn_run(&daemon, dir.path(), &run_id));
    let (pytest, grandchild) = wait_stubborn_ready(dir.path());

    let answer = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(answer, json!({"runId": run_id, "state": "cancelled"}));
    let run = daemon.response(request, grace + MARGIN).unwrap();
    assert_status(&run, "cancelled");
    assert!(
        dir.path().join("sigterm").exists(),
        "pytest never got SIGTERM before it was killed"
    );
    wait_until(MARGIN, "pytest and its grandchild to die", || {
        !is_alive(pytest) && !is_alive(grandchild)
    });
    daemon.assert_run_processes_gone(MARGIN);

    let again = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(again, json!({"runId": run_id, "state": "alreadyFinished"}));
    let unknown = daemon
        .call("cancelRun", json!({"runId": new_run_id()}), REPLY)
        .unwrap_err();
    assert_eq!(unknown.code, -32602, "{unknown:?}");
}

#[test]
fn a_second_cancel_kills_a_run_that_ignores_sigterm_at_once_instead_of_after_a_30_second_grace() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start_with(json!({"killGraceMs": 30_000}));
    let run_id = new_run_id();
    let request = daemon.request("runTests", stubborn_run(&daemon, dir.path(), &run_id));
    let (pytest, grandchild) = wait_stubborn_ready(dir.path());

    let first = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(first["state"], "cancelled", "{first}");
    // pytest records the SIGTERM and carries on: the run is now inside its 30 s grace period.
    let sigterm = dir.path().join("sigterm");
    // The handler creates the file, then writes its line: wait for the line, not the file.
    wait_until(REPLY, "pytest to record the SIGTERM", || {
        fs::read_to_string(&sigterm).is_ok_and(|text| text.ends_with('\n'))
    });
    assert!(is_alive(pytest), "pytest died of a SIGTERM it ignores");
    assert_eq!(fs::read_to_string(&sigterm).unwrap().lines().count(), 1);

    let asked = Instant::now();
    let second = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(second, json!({"runId": run_id, "state": "cancelled"}));
    let run = daemon.response(request, MARGIN).unwrap();
    assert_status(&run, "cancelled");
    wait_until(
        MARGIN.saturating_sub(asked.elapsed()),
        "pytest and its grandchild to die",
        || !is_alive(pytest) && !is_alive(grandchild),
    );
    daemon.assert_run_processes_gone(Duration::from_secs(1));
}
