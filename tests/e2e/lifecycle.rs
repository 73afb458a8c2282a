//! The LSP lifecycle: initialize announces pytestd, shutdown/exit end it cleanly, settings can change later, and
//! the end of stdin ends the daemon without leaving any pytest process behind.

use std::fs;
use std::time::Duration;

use serde_json::json;

use crate::support::{is_alive, new_run_id, wait_until, Daemon, REPLY, RUN};

#[test]
fn initialize_announces_the_server_and_protocol_version() {
    let mut daemon = Daemon::spawn();
    let result = daemon.initialize(json!({}));
    assert_eq!(result["serverInfo"]["name"], "pytestd", "{result}");
    assert!(
        result["serverInfo"]["version"].as_str().is_some_and(|v| !v.is_empty()),
        "{result}"
    );
    assert_eq!(
        result["capabilities"]["experimental"]["pytestd"]["protocolVersion"], 1,
        "{result}"
    );
}

#[test]
fn shutdown_then_exit_ends_the_daemon_successfully() {
    let mut daemon = Daemon::start();
    assert_eq!(daemon.call("shutdown", json!(null), REPLY).unwrap(), json!(null));
    daemon.notify("exit", json!(null));
    let status = daemon.wait_exit(REPLY);
    assert!(status.success(), "pytestd exited with {status}");
}

#[test]
fn initialization_options_and_configuration_changes_set_max_parallel() {
    let mut daemon = Daemon::start_with(json!({"maxParallel": 3}));
    assert_eq!(daemon.call("listRuns", json!({}), REPLY).unwrap()["maxParallel"], 3);
    daemon.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"pytestd": {"maxParallel": 1}}}),
    );
    // Notifications are not answered, so poll listRuns until the change shows.
    wait_until(REPLY, "maxParallel to become 1", || {
        daemon.call("listRuns", json!({}), REPLY).unwrap()["maxParallel"] == 1
    });
}

#[test]
fn stdin_eof_during_a_long_run_ends_the_daemon_and_every_process_of_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("grandchild.pid");
    let mut daemon = Daemon::start_with(json!({"killGraceMs": 500}));
    let mut params = daemon.run_params("slow", &["test_grandchild.py::test_spawns_grandchild"]);
    params["runId"] = json!(new_run_id());
    params["env"]["PYTESTD_E2E_PIDFILE"] = json!(pid_file.display().to_string());
    daemon.request("runTests", params);
    wait_until(RUN, "the grandchild's pid file", || pid_file.exists());
    let grandchild: i32 = fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();

    daemon.close_stdin();
    daemon.wait_exit(Duration::from_secs(5));
    // SIGKILL is sent before the daemon exits; the kernel and init may still need a moment to clean up.
    daemon.assert_run_processes_gone(Duration::from_secs(2));
    assert!(!is_alive(grandchild), "the grandchild {grandchild} outlived the daemon");
}
