//! Limits and resource reports: the default timeout, memory limits (per run and default), `resources` in the
//! runTests result, live memory in listRuns, and the recent failures listRuns keeps.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{counting_run, memory_run, str_of, Gate};
use crate::support::{assert_status, errors_text, fixture, new_run_id, wait_until, Daemon, REPLY, RUN};

const MIB: u64 = 1 << 20;
/// The memory fixture allocates this much, twice the limit the tests set.
const ALLOC_MB: u64 = 200;
const LIMIT: u64 = 100 * MIB;
/// A run over its memory limit is sampled every ~500 ms, then killed; generous for a loaded machine.
const KILLED_WITHIN: Duration = Duration::from_secs(15);

/// The listRuns entry of `run_id`; panics showing the list when it is absent.
fn listed<'a>(list: &'a Value, run_id: &str) -> &'a Value {
    list["runs"]
        .as_array()
        .and_then(|runs| runs.iter().find(|r| r["runId"] == run_id))
        .unwrap_or_else(|| panic!("run {run_id} not in {list}"))
}

/// Asserts `run` was killed for going over LIMIT, with a message naming the limit and the peak.
fn assert_killed_for_memory(run: &Value) {
    assert_status(run, "error");
    let errors = errors_text(run);
    assert!(
        errors.to_lowercase().contains("memory"),
        "the error does not mention memory: {errors}"
    );
    let amounts = amounts_in(&errors);
    assert!(
        amounts.contains(&LIMIT),
        "the error does not name the limit of {LIMIT} bytes (100 MiB): {errors}"
    );
    assert!(
        amounts.iter().any(|&amount| amount > LIMIT),
        "the error does not name a peak over the limit: {errors}"
    );
    let peak = run["resources"]["peakRssBytes"].as_u64().unwrap_or(0);
    assert!(peak > LIMIT, "peakRssBytes {peak} is not over the limit {LIMIT}: {run}");
}

/// The amounts of memory a text names, in bytes: plain numbers and numbers followed by KiB, MiB, GiB, kB, MB or GB
/// (`104857600`, `100 MiB`, `231.5MiB`).
fn amounts_in(text: &str) -> Vec<u64> {
    let is_number = |c: char| c.is_ascii_digit() || c == '.';
    let mut amounts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_number(c)).unwrap_or(tail.len());
        let number: f64 = tail[..end].trim_end_matches('.').parse().unwrap_or(0.0);
        let unit: String = tail[end..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        let scale = match unit.as_str() {
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            "GiB" => 1024.0 * 1024.0 * 1024.0,
            "kB" | "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            _ => 1.0,
        };
        // Rounded renderings (100.0 MiB) come out exact; others are only compared as "over the limit".
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        amounts.push((number * scale).round() as u64);
        rest = &tail[end..];
    }
    amounts
}

#[test]
fn the_timeout_from_initialization_options_ends_a_run_that_sets_none_while_a_run_with_its_own_timeout_goes_on() {
    let gate = Gate::new();
    let mut daemon = Daemon::start_with(json!({"timeoutMs": 1000, "killGraceMs": 500}));
    // The patient run starts first, so when the default timeout ends the other run, it has been running longer.
    let patient = new_run_id();
    let mut params = counting_run(&daemon, &gate, &patient);
    params["timeoutMs"] = json!(60_000);
    let patient_request = daemon.request("runTests", params);
    daemon.wait_run_notification("testStarted", &patient, RUN);

    let asked = Instant::now();
    let run = daemon.run(counting_run(&daemon, &gate, &new_run_id()), RUN);
    assert_status(&run, "timedOut");
    let took = asked.elapsed();
    assert!(took >= Duration::from_secs(1), "timed out after only {took:?}");

    gate.open();
    assert_status(&daemon.response(patient_request, RUN).unwrap(), "passed");
    daemon.assert_run_processes_gone(Duration::from_secs(3));
}

#[test]
fn a_run_over_its_memory_limit_is_killed_with_status_error_naming_the_limit_and_the_peak() {
    let gate = Gate::new();
    let mut daemon = Daemon::start_with(json!({"killGraceMs": 500}));
    let mut params = memory_run(&daemon, &gate, &new_run_id(), ALLOC_MB);
    params["memoryLimitBytes"] = json!(LIMIT);
    let run = daemon.run(params, KILLED_WITHIN);
    assert_killed_for_memory(&run);
    daemon.assert_run_processes_gone(Duration::from_secs(3));
}

#[test]
fn the_memory_limit_from_initialization_options_applies_to_runs_that_set_none_and_a_runs_own_limit_overrides_it() {
    let gate = Gate::new();
    let mut daemon = Daemon::start_with(json!({"memoryLimitBytes": LIMIT, "killGraceMs": 500}));
    let allowed = new_run_id();
    let mut params = memory_run(&daemon, &gate, &allowed, ALLOC_MB);
    params["memoryLimitBytes"] = json!(1024 * MIB);
    let allowed_request = daemon.request("runTests", params);
    // Once the daemon has seen the allowed run over the default limit, it has had its chance to apply it wrongly.
    wait_until(KILLED_WITHIN, "listRuns to show the allowed run over 150 MiB", || {
        let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
        listed(&list, &allowed)["rssBytes"].as_u64().unwrap_or(0) > 150 * MIB
    });

    let run = daemon.run(memory_run(&daemon, &gate, &new_run_id(), ALLOC_MB), KILLED_WITHIN);
    assert_killed_for_memory(&run);

    gate.open();
    let allowed_run = daemon.response(allowed_request, RUN).unwrap();
    assert_status(&allowed_run, "passed");
    let peak = allowed_run["resources"]["peakRssBytes"].as_u64().unwrap_or(0);
    assert!(peak > 150 * MIB, "peakRssBytes {peak} of a run that held 200 MiB");
}

#[test]
fn a_normal_run_reports_its_peak_memory_and_cpu_time_in_resources() {
    let mut daemon = Daemon::start();
    let run = daemon.run(daemon.run_params("outcomes", &["test_outcomes.py::test_pass"]), RUN);
    assert_status(&run, "passed");
    let resources = &run["resources"];
    let peak = resources["peakRssBytes"].as_u64();
    assert!(
        peak.is_some_and(|peak| peak > MIB),
        "no plausible peakRssBytes for a pytest process: {resources}"
    );
    assert!(resources["cpuMs"].is_u64(), "cpuMs missing or not a count: {resources}");
}

#[test]
fn list_runs_shows_the_memory_and_cpu_of_a_running_run_within_two_seconds() {
    let gate = Gate::new();
    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let request = daemon.request("runTests", counting_run(&daemon, &gate, &run_id));
    let pid = daemon.wait_run_notification("runStarted", &run_id, RUN)["pid"].clone();
    daemon.wait_run_notification("testStarted", &run_id, RUN);

    let mut list = Value::Null;
    wait_until(Duration::from_secs(2), "listRuns to show rssBytes > 0", || {
        list = daemon.call("listRuns", json!({}), REPLY).unwrap();
        listed(&list, &run_id)["rssBytes"].as_u64().unwrap_or(0) > 0
    });
    let entry = listed(&list, &run_id);
    assert_eq!(entry["state"], "running", "{entry}");
    assert_eq!(entry["pid"], pid, "{entry}");
    assert_eq!(entry["cwd"], fixture("counting"), "{entry}");
    for field in ["testCount", "elapsedMs", "rssBytes", "peakRssBytes", "cpuMs"] {
        assert!(entry[field].is_u64(), "{field} missing or not a count: {entry}");
    }
    assert!(entry["peakRssBytes"].as_u64() >= entry["rssBytes"].as_u64(), "{entry}");
    assert_eq!(
        (&list["maxParallel"], &list["running"], &list["queued"]),
        (&json!(4), &json!(1), &json!(0)),
        "{list}"
    );
    assert!(list["recentFailures"].is_array(), "{list}");

    gate.open();
    assert_status(&daemon.response(request, RUN).unwrap(), "passed");
}

#[test]
fn recent_failures_list_crashed_and_timed_out_runs_newest_first_but_not_cancelled_or_failing_ones() {
    let gate = Gate::new();
    let mut daemon = Daemon::start_with(json!({"killGraceMs": 500}));

    let failing = daemon.run(daemon.run_params("outcomes", &["test_outcomes.py::test_fail"]), RUN);
    assert_status(&failing, "failed");

    let cancelled = new_run_id();
    let request = daemon.request("runTests", counting_run(&daemon, &gate, &cancelled));
    daemon.wait_run_notification("testStarted", &cancelled, RUN);
    daemon.call("cancelRun", json!({"runId": cancelled}), REPLY).unwrap();
    assert_status(&daemon.response(request, RUN).unwrap(), "cancelled");

    let crashed = new_run_id();
    let mut params = daemon.run_params(
        "crash",
        &["test_sigkill.py::test_a_passes", "test_sigkill.py::test_b_kills_itself"],
    );
    params["runId"] = json!(crashed);
    assert_status(&daemon.run(params, RUN), "error");

    let timed_out = new_run_id();
    let mut params = counting_run(&daemon, &gate, &timed_out);
    params["timeoutMs"] = json!(500);
    assert_status(&daemon.run(params, RUN), "timedOut");

    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    let failures = list["recentFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("no recentFailures in {list}"));
    let ids: Vec<String> = failures.iter().map(|f| str_of(&f["runId"])).collect();
    assert_eq!(ids, [timed_out.clone(), crashed.clone()], "{list}");

    let (newest, older) = (&failures[0], &failures[1]);
    assert_eq!(older["status"], "error", "{older}");
    assert_eq!(older["cwd"], fixture("crash"), "{older}");
    assert!(
        str_of(&older["reason"]).contains("SIGKILL"),
        "the crash's reason does not name the signal: {older}"
    );
    assert_eq!(newest["status"], "timedOut", "{newest}");
    assert!(!str_of(&newest["reason"]).is_empty(), "{newest}");
    let ago = |f: &Value| {
        f["endedMsAgo"]
            .as_u64()
            .unwrap_or_else(|| panic!("no endedMsAgo in {f}"))
    };
    assert!(ago(newest) <= ago(older), "{list}");
}
