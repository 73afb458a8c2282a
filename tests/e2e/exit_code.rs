//! The daemon's exit code depends only on what the client sent, never on timing: 1 for `exit` without `shutdown`
//! before it (as LSP says), 0 otherwise, end of stdin with or without `shutdown` included.

use serde_json::json;

use crate::support::{Daemon, REPLY};

/// Each ending several times over, since the code used to depend on which of two racing events won.
const TRIES: usize = 4;

fn exit_code(end: impl Fn(&mut Daemon)) -> Option<i32> {
    let codes: Vec<Option<i32>> = (0..TRIES)
        .map(|_| {
            let mut daemon = Daemon::start();
            end(&mut daemon);
            daemon.wait_exit(REPLY).code()
        })
        .collect();
    assert!(
        codes.windows(2).all(|w| w[0] == w[1]),
        "exit codes differ between tries: {codes:?}"
    );
    codes[0]
}

#[test]
fn end_of_stdin_without_shutdown_exits_0() {
    assert_eq!(exit_code(Daemon::close_stdin), Some(0));
}

#[test]
fn end_of_stdin_after_shutdown_exits_0_even_before_its_answer() {
    assert_eq!(
        exit_code(|daemon| {
            daemon.request("shutdown", json!(null));
            daemon.close_stdin();
        }),
        Some(0)
    );
}

#[test]
fn exit_without_shutdown_exits_1_even_when_stdin_ends_right_after() {
    assert_eq!(
        exit_code(|daemon| {
            daemon.notify("exit", json!(null));
            daemon.close_stdin();
        }),
        Some(1)
    );
}

#[test]
fn shutdown_then_exit_exits_0() {
    assert_eq!(
        exit_code(|daemon| {
            daemon.call("shutdown", json!(null), REPLY).unwrap();
            daemon.notify("exit", json!(null));
            daemon.close_stdin();
        }),
        Some(0)
    );
}
