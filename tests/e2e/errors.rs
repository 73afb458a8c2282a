//! Errors, nothing lost: protocol errors get the standard JSON-RPC codes and the daemon keeps serving; runs that
//! cannot start answer status "error" with a message that says what to fix.

use serde_json::json;

use crate::support::{assert_status, errors_text, fixture, new_run_id, python_without_pytest, Daemon, REPLY, RUN};

#[test]
fn malformed_json_gets_a_parse_error_and_the_daemon_keeps_serving() {
    let mut daemon = Daemon::start();
    daemon.send_raw(b"Content-Length: 10\r\n\r\n{not json}");
    let error = daemon.wait_message("the parse error", REPLY, |m| m["error"]["code"] == -32700);
    assert_eq!(error["id"], json!(null), "{error}");
    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    assert_eq!(list["runs"], json!([]));
}

#[test]
fn an_unknown_method_gets_method_not_found() {
    let mut daemon = Daemon::start();
    let error = daemon.call("noSuchMethod", json!({}), REPLY).unwrap_err();
    assert_eq!(error.code, -32601, "{error:?}");
}

#[test]
fn bad_params_get_invalid_params_naming_the_field() {
    let mut daemon = Daemon::start();
    let cwd = fixture("outcomes");
    for (method, params, field) in [
        ("runTests", json!({}), "cwd"),
        (
            "runTests",
            json!({"cwd": cwd, "testIds": "test_outcomes.py::test_pass"}),
            "testIds",
        ),
        ("runTests", json!({"cwd": cwd, "timeoutMs": "soon"}), "timeoutMs"),
        ("runTests", json!({"cwd": cwd, "tesIds": []}), "tesIds"),
        ("cancelRun", json!({}), "runId"),
    ] {
        let error = daemon.call(method, params.clone(), REPLY).unwrap_err();
        assert_eq!(error.code, -32602, "{method} {params}: {error:?}");
        let said = format!("{} {}", error.message, error.data.unwrap_or_default());
        assert!(
            said.contains(field),
            "{method} {params}: the error does not name {field}: {said}"
        );
    }
}

#[test]
fn requests_before_initialize_get_server_not_initialized() {
    let mut daemon = Daemon::spawn();
    for method in ["listRuns", "runTests"] {
        let params = json!({"cwd": fixture("outcomes")});
        let params = if method == "listRuns" { json!({}) } else { params };
        let error = daemon.call(method, params, REPLY).unwrap_err();
        assert_eq!(error.code, -32002, "{method}: {error:?}");
    }
    // The daemon still accepts initialize afterwards.
    daemon.initialize(json!({}));
    daemon.call("listRuns", json!({}), REPLY).unwrap();
}

#[test]
fn a_missing_interpreter_ends_the_run_with_error_naming_it() {
    let mut daemon = Daemon::start();
    let python = format!("/nonexistent/{}/python3", new_run_id());
    let mut params = daemon.run_params("outcomes", &["test_outcomes.py::test_pass"]);
    params["python"] = json!(python);
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    assert!(
        errors_text(&run).contains(&python),
        "errors do not name the interpreter: {}",
        errors_text(&run)
    );
}

#[test]
fn a_missing_cwd_ends_the_run_with_error_naming_it() {
    let mut daemon = Daemon::start();
    let cwd = format!("/nonexistent/{}", new_run_id());
    let mut params = daemon.run_params("outcomes", &["test_outcomes.py::test_pass"]);
    params["cwd"] = json!(cwd);
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    assert!(
        errors_text(&run).contains(&cwd),
        "errors do not name the directory: {}",
        errors_text(&run)
    );
}

#[test]
fn an_interpreter_without_pytest_ends_the_run_with_error_saying_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let python = python_without_pytest(&dir.path().join("venv"));
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params("outcomes", &["test_outcomes.py::test_pass"]);
    params["python"] = json!(python);
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    let errors = errors_text(&run);
    assert!(
        errors.contains("pytest") && errors.to_lowercase().contains("install"),
        "unhelpful errors: {errors}"
    );
}

#[test]
fn a_lone_surrogate_in_params_is_refused_under_the_requests_own_id() {
    let mut daemon = Daemon::start();
    let body = br#"{"jsonrpc":"2.0","id":"sur","method":"runTests","params":{"cwd":"/tmp/\ud800x"}}"#;
    daemon.send_raw(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    daemon.send_raw(body);
    let reply = daemon.wait_message("the refusal", REPLY, |m| m["id"] == "sur");
    assert_eq!(reply["error"]["code"], -32602, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("params.cwd") && message.contains("surrogate"),
        "{message}"
    );
    daemon.call("listRuns", json!({}), REPLY).unwrap();
}

#[test]
fn dollar_requests_with_an_id_get_method_not_found_and_dollar_notifications_get_nothing() {
    let mut daemon = Daemon::start();
    daemon.notify("$/noSuchNotification", json!({}));
    let error = daemon.call("$/noSuchRequest", json!({}), REPLY).unwrap_err();
    assert_eq!(error.code, -32601, "{error:?}");
    assert!(error.message.contains("$/noSuchRequest"), "{error:?}");
    // `$/cancelRequest` as a notification keeps working; cancel.rs cancels a run with it.
    daemon.notify("$/cancelRequest", json!({"id": 12345}));
    daemon.call("listRuns", json!({}), REPLY).unwrap();
    let responses: Vec<_> = daemon.messages().iter().filter(|m| m.get("id").is_some()).collect();
    assert_eq!(
        responses.len(),
        3,
        "initialize, $/noSuchRequest, listRuns: {responses:?}"
    );
}

#[test]
fn initialize_refuses_settings_that_would_fail_every_run_naming_the_field() {
    for (options, field) in [
        (json!({"env": {"A\u{0}B": "1"}}), "initializationOptions.env"),
        (json!({"env": {"A": "x\u{0}"}}), "initializationOptions.env"),
        (json!({"env": {"A=B": "1"}}), "initializationOptions.env"),
        (json!({"timeoutMs": 0}), "initializationOptions.timeoutMs"),
        (json!({"maxParallel": 0}), "initializationOptions.maxParallel"),
        (json!({"memoryLimitBytes": 0}), "initializationOptions.memoryLimitBytes"),
        (json!({"pytestArgs": ["a\u{0}"]}), "initializationOptions.pytestArgs[0]"),
    ] {
        let mut daemon = Daemon::spawn();
        let params = json!({"processId": null, "capabilities": {}, "initializationOptions": options});
        let error = daemon.call("initialize", params, REPLY).unwrap_err();
        assert_eq!(error.code, -32602, "{options}: {error:?}");
        assert!(error.message.contains(field), "{options}: {error:?}");
        // A refused initialize leaves the daemon waiting for a good one.
        daemon.initialize(json!({}));
        daemon.call("listRuns", json!({}), REPLY).unwrap();
    }
}

#[test]
fn a_configuration_change_that_would_fail_every_run_is_refused_naming_the_field() {
    let mut daemon = Daemon::start_with(json!({"maxParallel": 2}));
    daemon.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"pytestd": {"maxParallel": 1, "env": {"A=B": "1"}}}}),
    );
    let shown = daemon.wait_notification(REPLY, |method, _| method == "window/showMessage");
    let message = shown["message"].as_str().unwrap();
    assert!(message.contains("settings.pytestd.env"), "{message}");
    // Refused as a whole: the valid part of the change is not applied either.
    assert_eq!(daemon.call("listRuns", json!({}), REPLY).unwrap()["maxParallel"], 2);
}
