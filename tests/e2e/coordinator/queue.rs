//! Slots and the FIFO queue: never more than maxParallel pytest processes, runs start in the order they were asked
//! for, a full queue refuses at once, and raising maxParallel starts waiting runs.

use std::collections::BTreeSet;
use std::fs;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{assert_each_answered_once, counting_run, start_order, Gate};
use crate::support::{assert_status, new_run_id, wait_until, Daemon, REPLY, RUN};

#[test]
fn eight_runs_with_max_parallel_two_never_have_more_than_two_pytest_processes_and_start_in_submission_order() {
    // One gate per run, so runs end one at a time and each freed slot shows which waiting run the daemon picks.
    let gates: Vec<Gate> = (0..8).map(|_| Gate::new()).collect();
    let log = gates[0].dir().join("started.log");
    let mut daemon = Daemon::start_with(json!({"maxParallel": 2}));
    let sampler = daemon.sample_run_processes();
    let run_ids: Vec<String> = (0..8).map(|_| new_run_id()).collect();
    let requests: Vec<i64> = run_ids
        .iter()
        .zip(&gates)
        .map(|(run_id, gate)| {
            let mut params = counting_run(&daemon, gate, run_id);
            params["env"]["PYTESTD_E2E_LOG"] = json!(log.display().to_string());
            params["env"]["PYTESTD_E2E_TAG"] = json!(run_id);
            daemon.request("runTests", params)
        })
        .collect();

    // The first two hold both slots inside their test (their runStarted may arrive in either order, as they start
    // together); the other six wait, in order.
    for run_id in &run_ids[..2] {
        daemon.wait_run_notification("testStarted", run_id, RUN);
    }
    wait_until(REPLY, "the sampler to see two pytest processes", || {
        sampler.samples().max_alive >= 2
    });
    for (index, run_id) in run_ids[2..].iter().enumerate() {
        let queued = daemon.wait_run_notification("runQueued", run_id, REPLY);
        assert_eq!(queued["position"], index + 1, "run {} of 8: {queued}", index + 3);
    }
    let first: BTreeSet<String> = start_order(&daemon, &run_ids).into_iter().collect();
    assert_eq!(
        first,
        run_ids[..2].iter().cloned().collect(),
        "runs other than the first two started"
    );

    // Ending run k frees one slot; the run that takes it must be the head of the queue, run k + 2.
    for (k, gate) in gates.iter().enumerate() {
        gate.open();
        assert_status(&daemon.response(requests[k], RUN).unwrap(), "passed");
        let Some(next) = run_ids.get(k + 2) else {
            continue;
        };
        let ids = run_ids.clone();
        daemon.wait_until_messages("a waiting run to take the freed slot", RUN, |messages| {
            started_among(messages, &ids) > k + 2
        });
        let order = start_order(&daemon, &run_ids);
        assert_eq!(
            &order[k + 2],
            next,
            "run {} of 8 took the slot run {} freed",
            k + 3,
            k + 1
        );
    }
    let samples = sampler.finish();
    assert!(
        samples.max_alive <= 2,
        "{} pytest processes alive at once with maxParallel 2 ({} samples)",
        samples.max_alive,
        samples.count
    );
    assert!(samples.count >= 20, "only {} samples were taken", samples.count);

    // Every run reached its test exactly once.
    let text = fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    let mut expected: Vec<&str> = run_ids.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(lines, expected, "the runs' tests did not each run once");

    // A later request is answered after any stray duplicate of the earlier responses would have been written.
    daemon.call("listRuns", json!({}), REPLY).unwrap();
    assert_each_answered_once(&daemon, &requests);
}

/// How many `runStarted` notifications among `messages` are about runs in `run_ids`.
fn started_among(messages: &[Value], run_ids: &[String]) -> usize {
    messages
        .iter()
        .filter(|m| {
            m["method"] == "runStarted"
                && m["params"]["runId"]
                    .as_str()
                    .is_some_and(|id| run_ids.iter().any(|r| r == id))
        })
        .count()
}

#[test]
fn a_full_queue_refuses_run_tests_at_once_and_raising_max_parallel_starts_a_waiting_run() {
    let gate = Gate::new();
    let mut daemon = Daemon::start_with(json!({"maxParallel": 1, "maxQueued": 2}));
    let run_ids: Vec<String> = (0..3).map(|_| new_run_id()).collect();
    let requests: Vec<i64> = run_ids
        .iter()
        .map(|run_id| daemon.request("runTests", counting_run(&daemon, &gate, run_id)))
        .collect();
    daemon.wait_run_notification("runStarted", &run_ids[0], RUN);
    for run_id in &run_ids[1..] {
        daemon.wait_run_notification("runQueued", run_id, REPLY);
    }

    let refused = new_run_id();
    let asked = Instant::now();
    let error = daemon
        .call("runTests", counting_run(&daemon, &gate, &refused), REPLY)
        .unwrap_err();
    let took = asked.elapsed();
    assert_eq!(error.code, -32803, "{error:?}");
    assert!(
        error.message.to_lowercase().contains("queue"),
        "the refusal does not mention the queue: {error:?}"
    );
    assert!(took < Duration::from_secs(1), "the refusal took {took:?}");
    assert!(daemon.run_notifications("runQueued", &refused).is_empty());

    daemon.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"pytestd": {"maxParallel": 2}}}),
    );
    daemon.wait_run_notification("runStarted", &run_ids[1], REPLY);
    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    assert_eq!(
        (&list["maxParallel"], &list["running"], &list["queued"]),
        (&json!(2), &json!(2), &json!(1)),
        "{list}"
    );
    let listed: BTreeSet<String> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| super::str_of(&r["runId"]))
        .collect();
    assert_eq!(listed, run_ids.iter().cloned().collect(), "{list}");
    assert!(daemon.run_notifications("runStarted", &run_ids[2]).is_empty());

    gate.open();
    for &request in &requests {
        assert_status(&daemon.response(request, RUN).unwrap(), "passed");
    }
    assert_each_answered_once(&daemon, &requests);
}
