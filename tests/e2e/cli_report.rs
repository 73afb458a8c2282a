//! `pytestd run`'s terminal report shows what pytest's shows (the traceback with its first line indented as
//! pytest indents it, captured stdout and log of failing tests, a warnings summary) and its last line counts as
//! pytest's does, on the same projects. Fixtures: `report`, and the fidelity projects.

use std::collections::BTreeMap;
use std::process::Command;

use crate::cli::{cli_in, describe, stdout};
use crate::support::{fixture, test_python};

/// `{"passed": 3, "failed": 1, …}` from a last line such as `3 passed, 1 failed, 2 warnings in 0.1s`.
fn counts(line: &str) -> BTreeMap<String, u64> {
    let counts = line.rsplit_once(" in ").map_or(line, |(counts, _)| counts);
    counts
        .split(", ")
        .filter_map(|part| {
            let (n, word) = part.trim().split_once(' ')?;
            let word = match word {
                "error" => "errors",
                "warning" => "warnings",
                "subtest passed" => "subtests passed",
                other => other,
            };
            Some((word.to_owned(), n.parse().ok()?))
        })
        .collect()
}

fn pytest_last_line(project: &str, args: &[&str]) -> String {
    let output = Command::new(test_python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args(args)
        .current_dir(project)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run pytest");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_last_line_counts_as_pytests_does() {
    let cache = tempfile::tempdir().unwrap();
    // pytestd runs past collection errors: pytest does with the flag that says so.
    let continued = ["--continue-on-collection-errors"];
    for (name, args) in [
        ("report", &[][..]),
        ("fidelity/outcomes", &[][..]),
        ("fidelity/subtests", &[][..]),
        ("fidelity/collect_errors", &continued[..]),
        ("failures", &[][..]),
    ] {
        let project = fixture(name);
        let ours = cli_in(
            std::path::Path::new(&project),
            &["run", "--color", "never"],
            cache.path(),
        );
        let text = stdout(&ours);
        let last = text.lines().last().unwrap_or_default();
        assert_eq!(
            counts(last),
            counts(&pytest_last_line(&project, args)),
            "{name}: {}",
            describe(&ours)
        );
    }
}

#[test]
fn a_failure_shows_its_traceback_captured_output_and_log_and_warnings_are_summarized() {
    let cache = tempfile::tempdir().unwrap();
    let project = fixture("report");
    let run = cli_in(
        std::path::Path::new(&project),
        &["run", "--color", "never"],
        cache.path(),
    );
    let text = stdout(&run);
    // The first source line keeps pytest's indentation.
    assert!(
        text.contains("        def test_prints_then_fails():"),
        "{}",
        describe(&run)
    );
    assert!(text.contains("E       assert [1, 2, 3] == [1, 2, 4]"), "{text}");
    assert!(
        text.contains("--- Captured stdout ---") && text.contains("printed by the failing test"),
        "{text}"
    );
    assert!(
        text.contains("--- Captured log ---") && text.contains("logged by the failing test"),
        "{text}"
    );
    assert!(text.contains("warnings summary (1):"), "{text}");
    assert!(text.contains("DeprecationWarning: this API is going away"), "{text}");
    let quiet = cli_in(
        std::path::Path::new(&project),
        &["run", "-q", "--color", "never"],
        cache.path(),
    );
    let quiet_text = stdout(&quiet);
    assert!(
        !quiet_text.contains("warnings summary"),
        "-q leaves only the count: {quiet_text}"
    );
    assert!(
        quiet_text.lines().last().unwrap_or_default().contains("1 warning"),
        "{quiet_text}"
    );
}

/// Reads a JUnit file into what must be equal: the suite's counts, then per testcase in order its classname, name
/// and children (tag, type, and the message's first line for failures and errors). Times must be numbers.
const JUNIT_SHAPE: &str = r#"
import json, sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = []
for case in suite.findall("testcase"):
    float(case.get("time"))
    children = [[c.tag, c.get("type"), (c.get("message") or "").split("\n")[0] if c.tag != "skipped" else ""]
                for c in case]
    cases.append([case.get("classname"), case.get("name"), children])
print(json.dumps([{k: suite.get(k) for k in ("errors", "failures", "skipped", "tests")}, cases]))
"#;

fn junit_shape(file: &std::path::Path) -> serde_json::Value {
    let output = Command::new(test_python())
        .args(["-c", JUNIT_SHAPE])
        .arg(file)
        .output()
        .expect("read JUnit");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the shape is JSON")
}

#[test]
fn the_junit_file_has_the_structure_of_pytests_own() {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let continued = ["--continue-on-collection-errors"];
    for (name, args) in [
        ("report", &[][..]),
        ("fidelity/outcomes", &[][..]),
        ("fidelity/subtests", &[][..]),
        ("fidelity/collect_errors", &continued[..]),
    ] {
        let project = fixture(name);
        let theirs = out.path().join("pytest.xml");
        let ours = out.path().join("pytestd.xml");
        let pytest = Command::new(test_python())
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "--junit-xml"])
            .arg(&theirs)
            .args(args)
            .current_dir(&project)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("run pytest");
        assert!(theirs.is_file(), "{name}: pytest wrote no JUnit file: {pytest:?}");
        let run = cli_in(
            std::path::Path::new(&project),
            &["run", "-q", "--junit-xml", ours.to_str().unwrap()],
            cache.path(),
        );
        assert!(ours.is_file(), "{name}: {}", describe(&run));
        assert_eq!(junit_shape(&ours), junit_shape(&theirs), "{name}");
    }
}
