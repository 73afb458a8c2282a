//! No orphans: whether the daemon is told to stop (end of stdin, SIGTERM) or killed outright (SIGKILL), no process
//! of its runs survives it, grandchildren and processes that ignore SIGTERM included.

use std::fs;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::json;
use tempfile::TempDir;

use super::{counting_run, stubborn_run, wait_stubborn_ready, Gate};
use crate::support::{assert_status, is_alive, new_run_id, wait_until, Daemon, REPLY, RUN};

const GRACE_MS: u64 = 1000;
/// Beyond the grace period: time to send SIGKILL, reap, answer the runs and exit.
const MARGIN: Duration = Duration::from_secs(3);

/// Two running runs whose pytest and grandchild ignore SIGTERM, and a third waiting for a slot.
struct ActiveRuns {
    dirs: Vec<TempDir>,
    requests: Vec<i64>,
    pids: Vec<i32>,
    _gate: Gate,
}

fn start_active_runs(daemon: &mut Daemon) -> ActiveRuns {
    let gate = Gate::new();
    let dirs: Vec<TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut requests: Vec<i64> = dirs
        .iter()
        .map(|dir| daemon.request("runTests", stubborn_run(daemon, dir.path(), &new_run_id())))
        .collect();
    let waiting = new_run_id();
    requests.push(daemon.request("runTests", counting_run(daemon, &gate, &waiting)));
    let mut pids = Vec::new();
    for dir in &dirs {
        let (pytest, grandchild) = wait_stubborn_ready(dir.path());
        pids.extend([pytest, grandchild]);
    }
    daemon.wait_run_notification("runQueued", &waiting, RUN);
    ActiveRuns {
        dirs,
        requests,
        pids,
        _gate: gate,
    }
}

/// After the daemon was asked to stop: it exits successfully within the grace period and a margin, leaves no
/// process behind (having tried SIGTERM first), and has answered every runTests with "cancelled".
fn assert_stopped_cleanly(daemon: &mut Daemon, runs: &ActiveRuns) {
    let status = daemon.wait_exit(Duration::from_millis(GRACE_MS) + MARGIN);
    assert!(status.success(), "pytestd exited with {status}");
    daemon.assert_run_processes_gone(Duration::from_secs(2));
    for &pid in &runs.pids {
        assert!(!is_alive(pid), "process {pid} of a run outlived the daemon");
    }
    for dir in &runs.dirs {
        assert!(
            sigterm_recorded(dir.path()),
            "pytest in {} was killed without SIGTERM first",
            dir.path().display()
        );
    }
    for &request in &runs.requests {
        assert_status(&daemon.response(request, REPLY).unwrap(), "cancelled");
    }
}

fn sigterm_recorded(dir: &Path) -> bool {
    fs::read_to_string(dir.join("sigterm")).is_ok_and(|text| !text.is_empty())
}

#[test]
fn stdin_eof_with_runs_active_exits_cleanly_within_the_grace_period_leaving_no_process_and_answering_every_run() {
    let mut daemon = Daemon::start_with(json!({"maxParallel": 2, "killGraceMs": GRACE_MS}));
    let runs = start_active_runs(&mut daemon);
    daemon.close_stdin();
    assert_stopped_cleanly(&mut daemon, &runs);
}

#[test]
fn sigterm_with_runs_active_exits_cleanly_within_the_grace_period_leaving_no_process_and_answering_every_run() {
    let mut daemon = Daemon::start_with(json!({"maxParallel": 2, "killGraceMs": GRACE_MS}));
    let runs = start_active_runs(&mut daemon);
    daemon.signal(Signal::SIGTERM);
    assert_stopped_cleanly(&mut daemon, &runs);
}

#[test]
fn a_daemon_killed_with_sigkill_mid_run_leaves_no_pytest_or_grandchild_alive_seconds_later() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params("slow", &["test_grandchild.py::test_spawns_grandchild"]);
    params["env"]["PYTESTD_E2E_PIDFILE"] = json!(pid_file.display().to_string());
    let run_id = new_run_id();
    params["runId"] = json!(run_id);
    daemon.request("runTests", params);
    let pytest: i32 = daemon.wait_run_notification("runStarted", &run_id, RUN)["pid"]
        .as_i64()
        .and_then(|pid| i32::try_from(pid).ok())
        .expect("runStarted carries pytest's pid");
    wait_until(RUN, "the grandchild's pid file", || pid_file.exists());
    let grandchild: i32 = fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    assert!(is_alive(pytest) && is_alive(grandchild));

    daemon.signal(Signal::SIGKILL);
    daemon.wait_exit(Duration::from_secs(5));
    wait_until(Duration::from_secs(5), "pytest and its grandchild to die", || {
        !is_alive(pytest) && !is_alive(grandchild)
    });
    daemon.assert_run_processes_gone(Duration::from_secs(1));
}
