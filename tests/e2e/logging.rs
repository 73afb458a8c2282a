//! The shared output channel: pytest's lines and the daemon's per-run events as `window/logMessage`, each prefixed
//! with the first 8 characters of its run's id so concurrent runs can be told apart.

use serde_json::{json, Value};

use crate::support::{new_run_id, Daemon, RUN};

fn log_lines(daemon: &Daemon) -> Vec<String> {
    let messages = daemon.messages().iter().filter(|m| m["method"] == "window/logMessage");
    // Trailing whitespace is not worth a failure; a daemon may trim it.
    messages
        .map(|m| {
            m["params"]["message"]
                .as_str()
                .unwrap_or_default()
                .trim_end()
                .to_owned()
        })
        .collect()
}

#[test]
fn concurrent_runs_mirror_their_output_and_events_as_log_lines_prefixed_with_their_run_id() {
    let mut daemon = Daemon::start();
    let run_ids = [new_run_id(), new_run_id()];
    assert_ne!(run_ids[0][..8], run_ids[1][..8], "two run ids share a prefix; rerun");
    // A failing test makes pytest print a report, so both runs have output to mirror.
    let ids = ["test_outcomes.py::test_pass", "test_outcomes.py::test_fail"];
    let requests: Vec<i64> = run_ids
        .iter()
        .map(|run_id| {
            let mut params = daemon.run_params("outcomes", &ids);
            params["runId"] = json!(run_id);
            daemon.request("runTests", params)
        })
        .collect();
    for request in requests {
        daemon.response(request, RUN).expect("runTests answered an error");
    }

    let logs = log_lines(&daemon);
    for run_id in &run_ids {
        let prefix = format!("[{}] ", &run_id[..8]);
        let output: Vec<Value> = daemon.run_notifications("runOutput", run_id);
        assert!(!output.is_empty(), "run {run_id} sent no runOutput");
        let mut mirrored = Vec::new();
        for line in &output {
            assert!(matches!(line["stream"].as_str(), Some("stdout" | "stderr")), "{line}");
            let expected = format!("{prefix}{}", line["text"].as_str().unwrap())
                .trim_end()
                .to_owned();
            assert!(logs.contains(&expected), "runOutput line not in the log: {expected:?}");
            mirrored.push(expected);
        }
        // Besides pytest's own lines, the daemon logs what happens to the run (started, finished, …).
        let events = logs
            .iter()
            .filter(|l| l.starts_with(prefix.trim_end()) && !mirrored.contains(l))
            .count();
        assert!(events > 0, "no daemon event logged for run {run_id}; log: {logs:#?}");
    }
}
