//! Reading `runTests` results in assertions, with failure messages that show what did arrive.

use std::collections::BTreeSet;

use serde_json::Value;

use super::brief;

/// The result of test `test_id` in a `runTests` result; panics listing the ids that are there.
pub fn result<'a>(run: &'a Value, test_id: &str) -> &'a Value {
    run["results"]
        .get(test_id)
        .unwrap_or_else(|| panic!("no result for {test_id:?}; results: {:?}", result_ids(run)))
}

/// The test ids a `runTests` result has results for.
pub fn result_ids(run: &Value) -> BTreeSet<String> {
    run["results"]
        .as_object()
        .map(|results| results.keys().cloned().collect())
        .unwrap_or_default()
}

/// The run's `errors`, one per line.
pub fn errors_text(run: &Value) -> String {
    let errors = run["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array in {}", brief(run)));
    errors
        .iter()
        .map(|e| e.as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts the run's status, showing its errors and summary when it differs.
pub fn assert_status(run: &Value, status: &str) {
    assert_eq!(
        run["status"], status,
        "exitCode {} signal {} summary {}\nerrors:\n{}",
        run["exitCode"], run["signal"], run["summary"], run["errors"]
    );
}
