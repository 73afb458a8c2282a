//! Escaped processes: a test that daemonizes a grandchild (setsid between two forks) leaves pytest's process group,
//! yet the grandchild is killed and reaped when the run ends, however it ends, and the result names it. A
//! grandchild that wiped its environment carries no trace of its run: it outlives the run but not the daemon.

use std::fs;
use std::path::Path;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::support::{assert_status, errors_text, is_alive, new_run_id, wait_until, Daemon, REPLY, RUN};

const DAEMONIZES: &str = "test_escape.py::test_daemonizes";
const DAEMONIZES_AND_WAITS: &str = "test_escape.py::test_daemonizes_and_waits";

/// Kills a grandchild the daemon failed to kill, so a failing test leaves nothing behind.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.0), Signal::SIGKILL);
    }
}

fn params(daemon: &Daemon, dir: &Path, test_id: &str, run_id: &str) -> Value {
    let mut params = daemon.run_params("escape", &[test_id]);
    params["runId"] = json!(run_id);
    params["env"]["PYTESTD_E2E_DIR"] = json!(dir.display().to_string());
    params
}

/// The pid the fixture's test `name` published for its grandchild.
fn grandchild(dir: &Path, name: &str) -> i32 {
    let file = dir.join(format!("{name}.pid"));
    wait_until(RUN, "the grandchild's pid file", || file.exists());
    fs::read_to_string(&file).unwrap().trim().parse().unwrap()
}

/// `(parent pid, state)` of `pid`, or `None` once it is gone.
fn parent_and_state(pid: i32) -> Option<(i32, char)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    Some((fields.next()?.parse().ok()?, state))
}

/// Asserts the grandchild died and the daemon reaped it: no zombie is left in the daemon's process table.
fn assert_killed_and_reaped(daemon: &Daemon, pid: i32) {
    wait_until(REPLY, "the escaped grandchild to die", || !is_alive(pid));
    let daemon_pid = i32::try_from(daemon.pid()).unwrap();
    wait_until(REPLY, "the daemon to reap the escaped grandchild", || {
        parent_and_state(pid).is_none_or(|(parent, _)| parent != daemon_pid)
    });
}

/// Asserts the result names `pid` as killed, as `sleep 600`, in `escapedProcesses` and in `errors`.
fn assert_named(run: &Value, pid: i32) {
    let escaped = run["escapedProcesses"]
        .as_array()
        .unwrap_or_else(|| panic!("no escapedProcesses: {run}"));
    assert_eq!(escaped.len(), 1, "{run}");
    assert_eq!(escaped[0]["pid"], json!(pid), "{run}");
    assert_eq!(escaped[0]["command"], "sleep 600", "{run}");
    let expected = format!("killed process {pid} (sleep 600) that left the run's process group");
    assert!(errors_text(run).contains(&expected), "{run}");
}

#[test]
fn a_daemonized_grandchild_is_killed_when_the_run_ends_and_the_result_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start();
    let run = daemon.run(params(&daemon, dir.path(), DAEMONIZES, &new_run_id()), RUN);
    let pid = grandchild(dir.path(), "test_daemonizes");
    let _cleanup = KillOnDrop(pid);
    // The tests passed: a process left behind is reported, it does not fail them.
    assert_status(&run, "passed");
    assert_named(&run, pid);
    // The result is sent after the kill: the grandchild is already dead or dying.
    assert_killed_and_reaped(&daemon, pid);
    daemon.assert_run_processes_gone(REPLY);
}

#[test]
fn a_daemonized_grandchild_is_killed_when_the_run_is_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let request = daemon.request("runTests", params(&daemon, dir.path(), DAEMONIZES_AND_WAITS, &run_id));
    let pid = grandchild(dir.path(), "test_daemonizes_and_waits");
    let _cleanup = KillOnDrop(pid);
    let answer = daemon
        .call("cancelRun", json!({"runId": run_id}), REPLY)
        .unwrap_or_else(|e| panic!("cancelRun failed: {e:?}"));
    assert_eq!(answer["state"], "cancelled");
    let run = daemon.response(request, RUN).unwrap();
    assert_status(&run, "cancelled");
    assert_named(&run, pid);
    assert_killed_and_reaped(&daemon, pid);
    daemon.assert_run_processes_gone(REPLY);
}

#[test]
fn a_grandchild_that_wiped_its_environment_outlives_its_run_but_not_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start();
    let mut run_params = params(&daemon, dir.path(), DAEMONIZES, &new_run_id());
    run_params["env"]["PYTESTD_E2E_CLEAR_ENV"] = json!("1");
    let run = daemon.run(run_params, RUN);
    let pid = grandchild(dir.path(), "test_daemonizes");
    let _cleanup = KillOnDrop(pid);
    assert_status(&run, "passed");
    // Nothing ties it to the run any more: the documented limit.
    assert!(run.get("escapedProcesses").is_none(), "{run}");
    assert!(is_alive(pid), "the grandchild died with its run");
    // It is still below the daemon (the subreaper adopted it), and the daemon kills it as it stops.
    let (parent, _) = parent_and_state(pid).unwrap();
    assert_eq!(parent, i32::try_from(daemon.pid()).unwrap());
    daemon.call("shutdown", Value::Null, REPLY).unwrap();
    daemon.notify("exit", Value::Null);
    daemon.wait_exit(RUN);
    wait_until(REPLY, "the daemon's leftover process to die", || !is_alive(pid));
}

#[test]
fn a_second_run_does_not_kill_what_a_concurrent_run_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start();
    let waiting = new_run_id();
    let request = daemon.request("runTests", params(&daemon, dir.path(), DAEMONIZES_AND_WAITS, &waiting));
    let pid = grandchild(dir.path(), "test_daemonizes_and_waits");
    let _cleanup = KillOnDrop(pid);
    // Another run ends meanwhile: the first run's grandchild is not its to kill.
    let other = tempfile::tempdir().unwrap();
    let run = daemon.run(params(&daemon, other.path(), DAEMONIZES, &new_run_id()), RUN);
    assert_status(&run, "passed");
    let escaped = &run["escapedProcesses"];
    assert_eq!(escaped.as_array().map(Vec::len), Some(1), "{run}");
    assert_ne!(escaped[0]["pid"], json!(pid), "{run}");
    assert!(is_alive(pid), "a run killed another run's process");
    daemon.call("cancelRun", json!({"runId": waiting}), REPLY).unwrap();
    let first = daemon.response(request, RUN).unwrap();
    assert_named(&first, pid);
    assert_killed_and_reaped(&daemon, pid);
}
