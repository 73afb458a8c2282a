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
