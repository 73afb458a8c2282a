//! Reading `discoverTests` results in assertions, and the oracle they are compared with: what
//! `pytest --collect-only -q` itself prints for the same project and arguments.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use super::{brief, test_python};

/// The test ids `pytest --collect-only -q --rootdir=<cwd> <args>` prints, run directly with the test Python in `cwd`,
/// in pytest's order.
pub fn pytest_collect_only(cwd: &str, args: &[&str]) -> Vec<String> {
    let output = Command::new(test_python())
        .args(["-m", "pytest", "--collect-only", "-q", &format!("--rootdir={cwd}")])
        .args(args)
        .current_dir(cwd)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run pytest --collect-only");
    let stdout = String::from_utf8(output.stdout).expect("pytest's output is UTF-8");
    // 0: collected; 2: collected with collection errors; 5: nothing collected. Anything else is a broken oracle.
    assert!(
        matches!(output.status.code(), Some(0 | 2 | 5)),
        "pytest --collect-only {args:?} in {cwd} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // The ids come first, one per line, up to the blank line before the errors or the summary; "no tests collected"
    // is a summary, not an id.
    stdout
        .lines()
        .take_while(|line| !line.is_empty())
        .filter(|line| line.contains("::"))
        .map(str::to_owned)
        .collect()
}

/// The nodes of a `discoverTests` result.
pub fn nodes(discovery: &Value) -> &[Value] {
    discovery["tests"]
        .as_array()
        .unwrap_or_else(|| panic!("no tests array in {}", brief(discovery)))
}

/// The ids of the nodes of kind "test", sorted.
pub fn discovered_test_ids(discovery: &Value) -> Vec<String> {
    let mut ids = discovered_test_ids_in_order(discovery);
    ids.sort();
    ids
}

/// The ids of the discovery's `test` nodes, in the order the daemon listed them.
pub fn discovered_test_ids_in_order(discovery: &Value) -> Vec<String> {
    nodes(discovery)
        .iter()
        .filter(|n| n["kind"] == "test")
        .map(|n| n["id"].as_str().expect("a node id is a string").to_owned())
        .collect()
}

/// The node with id `id`; panics listing the ids that are there.
pub fn node<'a>(discovery: &'a Value, id: &str) -> &'a Value {
    nodes(discovery).iter().find(|n| n["id"] == id).unwrap_or_else(|| {
        let ids: Vec<&str> = nodes(discovery).iter().filter_map(|n| n["id"].as_str()).collect();
        panic!("no node {id:?}; nodes: {ids:?}")
    })
}

/// Asserts the discovery's status, showing its errors when it differs.
pub fn assert_discovery_status(discovery: &Value, status: &str) {
    assert_eq!(
        discovery["status"],
        status,
        "{} nodes; errors:\n{}",
        discovery["tests"].as_array().map_or(0, Vec::len),
        discovery["errors"]
    );
}

/// Asserts that `nodes` have unique non-empty ids and that each `parentId` names a node that came earlier.
pub fn assert_parents_first(nodes: &[Value]) {
    let mut seen = BTreeSet::new();
    for n in nodes {
        let id = n["id"].as_str().unwrap_or_else(|| panic!("node without an id: {n}"));
        assert!(!id.is_empty(), "node with an empty id: {n}");
        if let Some(parent) = n.get("parentId") {
            let parent = parent
                .as_str()
                .unwrap_or_else(|| panic!("parentId is not a string: {n}"));
            assert!(
                seen.contains(parent),
                "node {id:?} comes before its parent {parent:?} (or the parent is missing)"
            );
        }
        assert!(seen.insert(id.to_owned()), "node {id:?} appears twice");
    }
}
