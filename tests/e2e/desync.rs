//! Framing that recovers: a bad header or body costs that one message, answered with the fitting error (with its
//! id when the id can be read, else id null), and the daemon resynchronises on the next `Content-Length:` header
//! and keeps serving, `shutdown` included.

use serde_json::{json, Value};

use crate::support::{Daemon, REPLY};

/// A request body with a string id, so it cannot collide with the harness's numeric ids.
fn list_runs_body(id: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "listRuns", "params": {}}).to_string()
}

/// Sends `bytes`, expects one error with `code` and `id` for them, then checks that the daemon still serves.
fn costs_one_message(bytes: &[u8], code: i64, id: &Value) {
    let mut daemon = Daemon::start();
    daemon.send_raw(bytes);
    // The next valid request follows at once: the daemon must find it without more input.
    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    assert_eq!(list["runs"], json!([]), "{list}");
    let error = daemon.wait_message("the error for the bad message", REPLY, |m| {
        m.get("error").is_some() && m["id"] == *id
    });
    assert_eq!(error["error"]["code"], code, "{error}");
    let errors = daemon.messages().iter().filter(|m| m.get("error").is_some()).count();
    assert_eq!(errors, 1, "one bad message, one error: {:?}", daemon.messages());
    still_shuts_down(daemon);
}

fn still_shuts_down(mut daemon: Daemon) {
    assert_eq!(daemon.call("shutdown", json!(null), REPLY).unwrap(), json!(null));
    daemon.notify("exit", json!(null));
    let status = daemon.wait_exit(REPLY);
    assert_eq!(status.code(), Some(0), "pytestd exited with {status}");
}

#[test]
fn a_content_length_that_is_not_a_number_costs_one_message() {
    costs_one_message(b"Content-Length: abc\r\n\r\n{}", -32700, &Value::Null);
}

#[test]
fn a_content_length_that_is_not_a_number_is_answered_with_the_id_of_its_body() {
    let body = list_runs_body("abc");
    let bytes = format!("Content-Length: abc\r\n\r\n{body}");
    costs_one_message(bytes.as_bytes(), -32700, &json!("abc"));
}

#[test]
fn a_header_block_without_content_length_is_answered_with_the_id_of_its_body() {
    let body = list_runs_body("typed");
    let bytes = format!("Content-Type: application/vscode-jsonrpc\r\n\r\n{body}");
    costs_one_message(bytes.as_bytes(), -32700, &json!("typed"));
}

#[test]
fn a_body_without_any_header_is_answered_with_its_id() {
    costs_one_message(list_runs_body("bare").as_bytes(), -32700, &json!("bare"));
}

#[test]
fn lf_only_headers_are_answered_with_the_id_of_their_body() {
    let body = list_runs_body("lf");
    let bytes = format!("Content-Length: {}\n\n{body}", body.len());
    costs_one_message(bytes.as_bytes(), -32700, &json!("lf"));
}

#[test]
fn a_content_length_shorter_than_its_body_is_answered_with_the_bodys_id() {
    let body = list_runs_body("short");
    let bytes = format!("Content-Length: 10\r\n\r\n{body}");
    costs_one_message(bytes.as_bytes(), -32700, &json!("short"));
}

#[test]
fn a_content_length_longer_than_its_body_does_not_swallow_the_next_message() {
    costs_one_message(b"Content-Length: 500\r\n\r\n{}", -32700, &Value::Null);
}

#[test]
fn a_huge_content_length_is_refused_without_waiting_for_its_body() {
    let body = list_runs_body("huge");
    let bytes = format!("Content-Length: 1000000000000\r\n\r\n{body}");
    costs_one_message(bytes.as_bytes(), -32700, &Value::Null);
}

#[test]
fn every_desync_in_a_row_still_leaves_a_serving_daemon() {
    let mut daemon = Daemon::start();
    let short = list_runs_body("short");
    let lf = list_runs_body("lf");
    let sequences = [
        b"Content-Length: abc\r\n\r\n{}".to_vec(),
        b"Content-Type: x\r\n\r\n{}".to_vec(),
        format!("Content-Length: {}\n\n{lf}", lf.len()).into_bytes(),
        format!("Content-Length: 10\r\n\r\n{short}").into_bytes(),
        b"Content-Length: 1000000000000\r\n\r\n{\"jsonrpc\":".to_vec(),
        b"\x00\xff garbage \r\n\r\n".to_vec(),
    ];
    for bytes in &sequences {
        daemon.send_raw(bytes);
        let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
        assert_eq!(
            list["runs"],
            json!([]),
            "after {:?}: {list}",
            String::from_utf8_lossy(bytes)
        );
    }
    still_shuts_down(daemon);
}
