//! A large run need not be held twice: with `results: "summary"` the response leaves out the results, which
//! already went out one by one as `testResult`, and the daemon keeps only counts, so its peak memory stays lower
//! than when it keeps every result for the response. And what a large response took is given back once it is
//! written. Fixture: `many` (a parametrized test of any size).

use serde_json::json;

use crate::support::{assert_status, wait_until, Daemon, REPLY, RUN};

const TESTS: u64 = 20_000;

/// A figure of the daemon's `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
fn memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read the daemon's status");
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/<pid>/status"));
    kb * 1024
}

/// The daemon's peak resident memory.
fn peak_rss(pid: u32) -> u64 {
    memory(pid, "VmHWM")
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

/// glibc keeps what a process frees for reuse, and a full response is built and freed several times over (the
/// results, a JSON tree of them, its text, its frame): without the daemon handing free pages back once the protocol
/// goes quiet, it stayed near its peak (409 of 446 MB after 200 000 tests). The bound is loose on purpose: this is
/// about the memory coming back at all, not about a figure.
#[test]
fn memory_returns_close_to_idle_after_a_large_full_run() {
    let mut daemon = Daemon::start();
    let pid = daemon.pid();
    let idle = memory(pid, "VmRSS");
    let mut params = daemon.run_params("many", &[]);
    params["env"]["PYTESTD_MANY_N"] = json!(TESTS.to_string());
    params["results"] = json!("full");
    let run = daemon.run(params, RUN);
    assert_status(&run, "passed");
    assert_eq!(
        run["results"].as_object().map(serde_json::Map::len),
        Some(TESTS as usize)
    );
    let peak = peak_rss(pid);
    assert!(
        peak > idle + 16 * 1024 * 1024,
        "the run should have needed memory: idle {idle}, peak {peak} bytes"
    );
    let bound = idle + (peak - idle) / 3;
    let mut now = 0;
    let what = format!("resident memory under {bound} bytes (idle {idle}, peak {peak})");
    wait_until(REPLY, &what, || {
        now = memory(pid, "VmRSS");
        now < bound
    });
    eprintln!("idle {idle}, peak {peak}, after {now} bytes");
}
