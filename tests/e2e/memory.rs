//! A large run need not be held twice: with `results: "summary"` the response leaves out the results, which
//! already went out one by one as `testResult`, and the daemon keeps only counts, so its peak memory stays lower
//! than when it keeps every result for the response. Fixture: `many` (a parametrized test of any size).

use serde_json::json;

use crate::support::{assert_status, Daemon, RUN};

const TESTS: u64 = 20_000;

/// The daemon's peak resident memory (VmHWM) in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read the daemon's status");
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status");
    kb * 1024
}

/// Runs the many-test fixture with `results` and returns the response and the daemon's peak memory.
fn run_many(results: &str) -> (serde_json::Value, u64) {
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params("many", &[]);
    params["env"]["PYTESTD_MANY_N"] = json!(TESTS.to_string());
    params["results"] = json!(results);
    let run = daemon.run(params, RUN);
    let streamed = daemon.messages().iter().filter(|m| m["method"] == "testResult").count() as u64;
    assert_eq!(streamed, TESTS, "every result streamed");
    (run, peak_rss(daemon.pid()))
}

#[test]
fn a_summary_response_leaves_out_the_results_and_the_daemon_holds_less() {
    let (full, full_peak) = run_many("full");
    assert_status(&full, "passed");
    assert_eq!(
        full["results"].as_object().map(serde_json::Map::len),
        Some(TESTS as usize)
    );
    let (summary, summary_peak) = run_many("summary");
    assert_status(&summary, "passed");
    assert_eq!(summary["summary"]["passed"], TESTS);
    assert_eq!(summary["results"], json!({}), "the results went out as testResult only");
    assert!(
        summary_peak < full_peak,
        "keeping only counts should need less memory: summary {summary_peak} bytes, full {full_peak} bytes"
    );
}
