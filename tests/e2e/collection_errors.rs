//! A module that fails to import does not blank a run: `runTests` reports it as a collection error (streamed as
//! `collectionError`, listed in `collectionErrors` with pytest's message and the line it points at) and runs every
//! other module's tests; status and exit code still say something was wrong. `stopOnCollectionErrors: true` keeps
//! pytest's own stop-at-collection-error behaviour. Fixture: `fidelity/collect_errors` (two good modules around
//! an import error and a syntax error).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::support::{assert_status, new_run_id, result_ids, Daemon, RUN};

const PROJECT: &str = "fidelity/collect_errors";

fn errors_by_path(run: &Value) -> Vec<(String, Option<u64>, String)> {
    let mut errors: Vec<_> = run["collectionErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no collectionErrors in {run}"))
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["line"].as_u64(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    errors
}

#[test]
fn a_broken_module_is_reported_and_every_other_module_runs() {
    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let mut params = daemon.run_params(PROJECT, &[]);
    params["runId"] = json!(run_id);
    let run = daemon.run(params, RUN);
    assert_status(&run, "failed");
    assert_eq!(run["exitCode"], 1);
    let ran = result_ids(&run);
    let expected: BTreeSet<String> = [
        "test_a_ok.py::test_before_broken_file",
        "test_a_ok.py::test_fails_before_broken_file",
        "test_d_ok.py::test_after_broken_files",
        "test_d_ok.py::test_skipped_after_broken_files",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(ran, expected);
    assert_eq!(
        errors_by_path(&run),
        vec![
            (
                "test_b_broken.py".to_owned(),
                Some(3),
                "ModuleNotFoundError: No module named 'module_that_does_not_exist'".to_owned()
            ),
            (
                "test_c_syntax.py".to_owned(),
                Some(1),
                "SyntaxError: invalid syntax".to_owned()
            ),
        ]
    );
    let broken = &run["collectionErrors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "test_b_broken.py")
        .unwrap()["traceback"];
    assert!(
        broken.as_str().unwrap().contains("import module_that_does_not_exist"),
        "pytest's full text is kept: {broken}"
    );
    // Streamed before the response, one notification per broken file.
    let streamed: BTreeSet<String> = daemon
        .run_notifications("collectionError", &run_id)
        .iter()
        .map(|n| n["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        streamed,
        BTreeSet::from(["test_b_broken.py".to_owned(), "test_c_syntax.py".to_owned()])
    );
}

#[test]
fn stop_on_collection_errors_keeps_pytests_own_behaviour() {
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params(PROJECT, &[]);
    params["stopOnCollectionErrors"] = json!(true);
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    assert_eq!(run["exitCode"], 2);
    assert!(result_ids(&run).is_empty(), "pytest stops before running anything");
    assert_eq!(errors_by_path(&run).len(), 2);
}

#[test]
fn discovery_lists_collection_errors_with_their_lines() {
    let mut daemon = Daemon::start();
    let params = daemon.discover_params(PROJECT);
    let tree = daemon.discover(params, RUN);
    assert_eq!(tree["status"], "complete");
    let errors = errors_by_path(&tree);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].1, Some(3));
}
