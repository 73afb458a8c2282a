//! Tests that take away the environment or the socket module while they run must not cost any result: the plugin
//! reads its settings and connects when it loads.

use serde_json::json;

use crate::support::{assert_status, result, Daemon, RUN};

#[test]
fn tests_that_clear_the_environment_or_block_sockets_still_report_every_result() {
    let mut daemon = Daemon::start();
    let run = daemon.run(daemon.run_params("hostile", &[]), RUN);
    assert_status(&run, "passed");
    for name in ["test_a_clears_environ", "test_b_blocks_sockets", "test_c_runs_after"] {
        let got = result(&run, &format!("test_hostile.py::{name}"));
        assert_eq!(got["outcome"], "passed", "{got}");
    }
    assert_eq!(run["summary"]["total"], json!(3));
}
