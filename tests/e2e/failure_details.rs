//! What an editor needs to show a failure where it happened: the traceback as frames, the innermost frame inside
//! the project (`failureLocation`), both sides of a failed `==` (`expected`, `actual`), and the markers of each
//! discovered test for filtering. Fixture: `failures` (a failure inside a helper module, string and dict
//! comparisons, a caught assertion followed by another error, a failing teardown, markers on module, class, test).

use serde_json::{json, Value};

use crate::support::{assert_status, node, result, Daemon, RUN};

fn id(name: &str) -> String {
    format!("tests/test_failures.py::{name}")
}

/// 1-based line of the first line of `file` (in the fixture) containing `needle`.
fn line_of(file: &str, needle: &str) -> u64 {
    let source = std::fs::read_to_string(format!("{}/{file}", crate::support::fixture("failures"))).unwrap();
    let index = source
        .lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {file}"));
    index as u64 + 1
}

fn run_failures() -> Value {
    let mut daemon = Daemon::start();
    let params = daemon.run_params("failures", &[]);
    daemon.run(params, RUN)
}

#[test]
fn a_failure_in_a_helper_is_located_in_the_helper_with_every_frame() {
    let run = run_failures();
    assert_status(&run, "failed");
    let test = result(&run, &id("test_dict_compare_in_helper"));
    let assert_line = line_of("tests/helpers.py", "assert stock ==");
    assert_eq!(
        test["failureLocation"],
        json!({"path": "tests/helpers.py", "line": assert_line}),
        "{test}"
    );
    let frames: Vec<(String, u64, String)> = test["frames"]
        .as_array()
        .unwrap_or_else(|| panic!("no frames: {test}"))
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        frames,
        vec![
            (
                "tests/test_failures.py".to_owned(),
                line_of("tests/test_failures.py", "check_inventory({"),
                "test_dict_compare_in_helper".to_owned()
            ),
            ("tests/helpers.py".to_owned(), assert_line, "check_inventory".to_owned()),
        ],
        "pytest's and pluggy's frames are left out"
    );
    // The test's own place stays where pytest says it is defined (its first decorator's line).
    assert_eq!(
        test["location"]["line"],
        line_of("tests/test_failures.py", "@pytest.mark.slow")
    );
    // pytest rewrites assertions only in test modules: it cannot explain the helper's comparison, nor can we.
    assert!(test.get("expected").is_none(), "{test}");
}

#[test]
fn a_failed_equality_gives_both_sides_pretty_printed() {
    let run = run_failures();
    let dict = result(&run, &id("test_dict_compare"));
    assert_eq!(dict["actual"], "{'bolt': 3, 'nut': 4}", "{dict}");
    assert_eq!(dict["expected"], "{'bolt': 3, 'nut': 5}", "{dict}");
    // Strings come as they are, so a multi-line diff reads line by line.
    let text = result(&run, &id("test_string_compare"));
    assert_eq!(text["actual"], "alpha\nbeta", "{text}");
    assert_eq!(text["expected"], "alpha\ngamma", "{text}");
    let class = result(&run, &id("TestGroup::test_in_class"));
    assert_eq!(
        (&class["actual"], &class["expected"]),
        (&json!("4"), &json!("5")),
        "{class}"
    );
}

#[test]
fn only_a_failed_comparison_gives_sides() {
    let run = run_failures();
    let raised = result(&run, &id("test_raises_not_assert"));
    assert!(
        raised.get("expected").is_none() && raised.get("actual").is_none(),
        "{raised}"
    );
    assert_eq!(
        raised["failureLocation"]["line"],
        line_of("tests/test_failures.py", "raise ValueError")
    );
    // The assertion pytest.raises caught explained [1] == [2]; the failure that counts is the KeyError after it.
    let caught = result(&run, &id("test_caught_assertion_then_error"));
    assert!(
        caught.get("expected").is_none(),
        "a caught assertion's sides leaked: {caught}"
    );
    assert_eq!(caught["message"], "KeyError: 'after the caught assertion'");
    let passed = result(&run, &id("test_passes"));
    assert!(
        passed.get("frames").is_none() && passed.get("failureLocation").is_none(),
        "{passed}"
    );
}

#[test]
fn a_teardown_error_is_located_in_the_fixture() {
    let run = run_failures();
    let test = result(&run, &id("test_teardown_fails"));
    assert_eq!((&test["outcome"], &test["when"]), (&json!("error"), &json!("teardown")));
    assert_eq!(
        test["failureLocation"],
        json!({"path": "tests/test_failures.py", "line": line_of("tests/test_failures.py", "raise RuntimeError")}),
        "{test}"
    );
    let case = result(&run, &id("test_param[2]"));
    assert_eq!(
        (&case["actual"], &case["expected"]),
        (&json!("2"), &json!("1")),
        "{case}"
    );
}

#[test]
fn discovered_tests_carry_their_markers_from_module_class_and_function() {
    let mut daemon = Daemon::start();
    let params = daemon.discover_params("failures");
    let tree = daemon.discover(params, RUN);
    let markers = |test: &str| -> Vec<String> {
        let n = node(&tree, &id(test));
        n["markers"]
            .as_array()
            .map(|m| m.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    assert_eq!(markers("test_passes"), ["db"]);
    let mut slow_db = markers("test_dict_compare_in_helper");
    slow_db.sort();
    assert_eq!(slow_db, ["db", "slow"]);
    let mut in_class = markers("TestGroup::test_in_class");
    in_class.sort();
    assert_eq!(in_class, ["db", "slow"]);
    // How a test is built is no tag: parametrize is left out.
    assert_eq!(markers("test_param[1]"), ["db"]);
}
