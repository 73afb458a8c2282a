//! Every outcome pytest can give, with its phase and message, and the order in which pytestd streams them.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::support::{assert_status, fixture, new_run_id, result, result_ids, Daemon, RUN};

/// Runs the whole outcomes fixture; returns the daemon (holding every message), the run id and the result.
fn run_outcomes() -> (Daemon, String, Value) {
    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let mut params = daemon.run_params("outcomes", &[]);
    params["runId"] = json!(run_id);
    let run = daemon.run(params, RUN);
    (daemon, run_id, run)
}

fn id(name: &str) -> String {
    format!("test_outcomes.py::{name}")
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// 1-based line of the first line of the fixture file containing `needle`.
fn line_of(needle: &str) -> u64 {
    let source = std::fs::read_to_string(format!("{}/test_outcomes.py", fixture("outcomes"))).unwrap();
    let index = source.lines().position(|line| line.contains(needle)).unwrap();
    index as u64 + 1
}

/// Every test id of the fixture, as `pytest --collect-only -q` prints them (non-ASCII escaped by pytest).
fn all_ids() -> BTreeSet<String> {
    let names = [
        "test_pass",
        "test_fail",
        "test_skip",
        "test_skipif",
        "test_xfail",
        "test_xpass",
        "test_xpass_strict",
        "test_setup_error",
        "test_teardown_error",
        "test_param[a[1]]",
        "test_param[with space]",
        r"test_param[\xfcn\xef \u2713]",
        "test_prints",
        "TestGroup::test_in_class",
    ];
    names.iter().map(|name| id(name)).collect()
}

#[test]
fn failures_and_errors_name_the_phase_that_decided_them() {
    let (_daemon, _, run) = run_outcomes();
    assert_status(&run, "failed");
    assert_eq!(run["exitCode"], 1);

    let fail = result(&run, &id("test_fail"));
    assert_eq!(
        (&fail["outcome"], &fail["when"]),
        (&json!("failed"), &json!("call")),
        "{fail}"
    );
    assert!(text(&fail["message"]).contains("assert 1 == 2"), "{fail}");
    assert!(text(&fail["traceback"]).contains("assert 1 == 2"), "{fail}");

    let setup = result(&run, &id("test_setup_error"));
    assert_eq!(
        (&setup["outcome"], &setup["when"]),
        (&json!("error"), &json!("setup")),
        "{setup}"
    );
    assert!(text(&setup["message"]).contains("setup exploded"), "{setup}");

    // The call passed, so the teardown failure decides: error, reported from teardown.
    let teardown = result(&run, &id("test_teardown_error"));
    assert_eq!(
        (&teardown["outcome"], &teardown["when"]),
        (&json!("error"), &json!("teardown")),
        "{teardown}"
    );
    assert!(text(&teardown["message"]).contains("teardown exploded"), "{teardown}");

    // A strict xfail that passes is a plain failure; pytest says why only in its report text.
    let strict = result(&run, &id("test_xpass_strict"));
    assert_eq!(
        (&strict["outcome"], &strict["when"]),
        (&json!("failed"), &json!("call")),
        "{strict}"
    );
    let said = format!("{} {}", text(&strict["message"]), text(&strict["traceback"]));
    assert!(said.contains("XPASS(strict)"), "{strict}");
}

#[test]
fn skips_and_xfails_carry_their_reason() {
    let (_daemon, _, run) = run_outcomes();
    for (name, outcome, when, reason) in [
        ("test_skip", "skipped", "setup", "skip reason here"),
        ("test_skipif", "skipped", "setup", "skipif reason here"),
        ("test_xfail", "xfailed", "call", "xfail reason here"),
        ("test_xpass", "xpassed", "call", "xpass reason here"),
    ] {
        let got = result(&run, &id(name));
        assert_eq!(
            (&got["outcome"], &got["when"]),
            (&json!(outcome), &json!(when)),
            "{got}"
        );
        assert!(text(&got["message"]).contains(reason), "{got}");
    }
}

#[test]
fn passing_tests_keep_their_captured_output_location_and_duration() {
    let (_daemon, _, run) = run_outcomes();
    let prints = result(&run, &id("test_prints"));
    assert_eq!(prints["outcome"], "passed");
    assert!(text(&prints["stdout"]).contains("hello stdout"), "{prints}");
    assert!(text(&prints["stderr"]).contains("hello stderr"), "{prints}");

    let pass = result(&run, &id("test_pass"));
    assert_eq!(
        pass["location"],
        json!({"path": "test_outcomes.py", "line": line_of("def test_pass")})
    );
    let in_class = result(&run, &id("TestGroup::test_in_class"));
    assert_eq!(in_class["outcome"], "passed");
    assert_eq!(
        in_class["location"],
        json!({"path": "test_outcomes.py", "line": line_of("def test_in_class")})
    );

    for (test_id, got) in run["results"].as_object().unwrap() {
        assert_eq!(got["testId"], *test_id, "a result is filed under another test's id");
        assert!(got["durationMs"].as_f64().is_some_and(|ms| ms >= 0.0), "{got}");
    }
}

#[test]
fn parametrized_ids_with_brackets_spaces_and_unicode_come_back_exactly() {
    let (_daemon, _, run) = run_outcomes();
    for name in [
        "test_param[a[1]]",
        "test_param[with space]",
        r"test_param[\xfcn\xef \u2713]",
    ] {
        assert_eq!(result(&run, &id(name))["outcome"], "passed");
    }
}

#[test]
fn the_summary_counts_every_test_once_by_outcome() {
    let (_daemon, _, run) = run_outcomes();
    assert_eq!(result_ids(&run), all_ids());
    assert_eq!(
        run["summary"],
        json!({"total": 14, "passed": 6, "failed": 2, "skipped": 2, "errors": 2, "xfailed": 1, "xpassed": 1})
    );
}

#[test]
fn results_stream_after_run_started_and_before_run_finished_and_the_response() {
    let (daemon, run_id, run) = run_outcomes();
    let messages = daemon.messages();
    let is = |m: &Value, method: &str| m["method"] == method && m["params"]["runId"] == run_id.as_str();
    let only = |method: &str| {
        let at: Vec<usize> = (0..messages.len()).filter(|&i| is(&messages[i], method)).collect();
        assert_eq!(at.len(), 1, "expected one {method}, got {}", at.len());
        at[0]
    };
    let started = only("runStarted");
    let finished = only("runFinished");
    let response = messages
        .iter()
        .position(|m| m.get("method").is_none() && m["result"]["runId"] == run_id.as_str());
    assert!(
        started < finished && Some(finished) < response,
        "runStarted, runFinished, response out of order"
    );

    let params = &messages[started]["params"];
    assert!(params["pid"].as_u64().is_some_and(|pid| pid > 0), "{params}");
    assert!(
        params["args"].as_array().is_some_and(|args| !args.is_empty()),
        "{params}"
    );
    let done = &messages[finished]["params"];
    assert_eq!((&done["status"], &done["summary"]), (&run["status"], &run["summary"]));

    // Each test: one testStarted, then exactly one testResult equal to its entry in the response.
    let mut streamed = BTreeSet::new();
    for (i, message) in messages.iter().enumerate().filter(|(_, m)| is(m, "testResult")) {
        assert!(
            started < i && i < finished,
            "testResult outside runStarted..runFinished: {message}"
        );
        let test_id = message["params"]["testId"].as_str().unwrap();
        assert!(streamed.insert(test_id.to_owned()), "two testResults for {test_id}");
        let began = messages[..i]
            .iter()
            .any(|m| is(m, "testStarted") && m["params"]["testId"] == test_id);
        assert!(began, "testResult for {test_id} without a testStarted before it");
        let mut expected = result(&run, test_id).clone();
        expected["runId"] = json!(run_id);
        assert_eq!(
            message["params"], expected,
            "the streamed result differs from the response's"
        );
    }
    assert_eq!(streamed, result_ids(&run));
    for (i, message) in messages.iter().enumerate().filter(|(_, m)| is(m, "testStarted")) {
        assert!(
            started < i && i < finished,
            "testStarted outside runStarted..runFinished: {message}"
        );
    }
}
