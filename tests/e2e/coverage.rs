//! Coverage runs (`runTests` with `coverage`): coverage.py measures the run; the result holds exactly the lines
//! and branches coverage.py's own report gives for the same tests, per file, and with `perTest` which test ran
//! which line; the same under pytest-xdist; the data never lands in the project; coverage.py missing is an error
//! with the install command. Fixture: `coverage` (a package `shop` and two test modules touching different
//! functions).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::support::{assert_status, fixture, hide_module, test_python, Daemon, RUN};

/// Lines and branches of each file: (covered, missed, taken branches, missing branches).
type Lines = BTreeMap<String, (Value, Value, Value, Value)>;

fn coverage_run(daemon: &mut Daemon, coverage: Value, args: &[&str]) -> Value {
    let mut params = daemon.run_params("coverage", &[]);
    params["coverage"] = coverage;
    params["args"] = json!(args);
    let run = daemon.run(params, RUN);
    assert_status(&run, "passed");
    run
}

fn sorted(value: &Value) -> Value {
    let mut items: Vec<Value> = value.as_array().cloned().unwrap_or_default();
    items.sort_by_key(Value::to_string);
    Value::Array(items)
}

fn ours(run: &Value) -> Lines {
    let files = run["coverage"]["files"]
        .as_object()
        .unwrap_or_else(|| panic!("no coverage in {run}"));
    files
        .iter()
        .map(|(path, f)| {
            let b = &f["branches"];
            (
                path.clone(),
                (
                    f["covered"].clone(),
                    f["missed"].clone(),
                    sorted(&b["taken"]),
                    sorted(&b["missing"]),
                ),
            )
        })
        .collect()
}

/// What `coverage run --branch -m pytest` and `coverage json` say for the fixture, run in its directory with the
/// data and the report kept in `scratch`.
fn coverage_py_itself(scratch: &Path) -> Lines {
    let cwd = fixture("coverage");
    let data = scratch.join(".coverage");
    let report = scratch.join("coverage.json");
    let run = |args: &[&str]| {
        let output = Command::new(test_python())
            .args(args)
            .current_dir(&cwd)
            .env("COVERAGE_FILE", &data)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("run coverage.py");
        assert!(output.status.success(), "{args:?}: {output:?}");
    };
    run(&[
        "-m",
        "coverage",
        "run",
        "--branch",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
    ]);
    run(&["-m", "coverage", "json", "-o", report.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    report["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, f)| {
            let lines = (
                f["executed_lines"].clone(),
                f["missing_lines"].clone(),
                sorted(&f["executed_branches"]),
                sorted(&f["missing_branches"]),
            );
            (path.clone(), lines)
        })
        .collect()
}

#[test]
fn lines_and_branches_equal_coverage_pys_own_report() {
    let mut daemon = Daemon::start();
    let run = coverage_run(&mut daemon, json!({"branch": true}), &[]);
    let scratch = tempfile::tempdir().unwrap();
    let expected = coverage_py_itself(scratch.path());
    assert!(expected.contains_key("shop/prices.py"), "{expected:?}");
    assert_eq!(ours(&run), expected);
    let prices = &run["coverage"]["files"]["shop/prices.py"];
    assert_eq!(
        prices["missed"],
        json!([6, 19]),
        "the early return and never_called: {prices}"
    );
    let totals = &run["coverage"]["totals"];
    assert!(
        totals["percent"].as_f64().unwrap() < 100.0 && totals["branches"].as_u64().unwrap() > 0,
        "{totals}"
    );
}

#[test]
fn per_test_coverage_gives_each_test_only_the_lines_it_ran() {
    let mut daemon = Daemon::start();
    let run = coverage_run(&mut daemon, json!({"perTest": true}), &[]);
    let tests = &run["coverage"]["tests"];
    // test_discount touches only discount(): its body past the early return, not total() nor never_called().
    assert_eq!(
        tests["tests/test_discount.py::test_discount"]["shop/prices.py"],
        json!([5, 7, 8]),
        "{tests}"
    );
    assert_eq!(
        tests["tests/test_total.py::test_total"]["shop/prices.py"],
        json!([12, 13, 14, 15]),
        "{tests}"
    );
    // Module-level lines run at import, in no test.
    assert_eq!(
        tests["tests/test_total.py::test_total_empty"]["shop/prices.py"],
        json!([12, 13, 15]),
        "{tests}"
    );
}

#[test]
fn coverage_under_xdist_equals_coverage_without_it() {
    let mut daemon = Daemon::start();
    let plain = coverage_run(&mut daemon, json!({"branch": true}), &[]);
    let spread = coverage_run(&mut daemon, json!({"branch": true}), &["-n", "2"]);
    assert_eq!(ours(&spread), ours(&plain));
}

#[test]
fn the_data_stays_out_of_the_project_unless_a_path_is_given() {
    let mut daemon = Daemon::start();
    coverage_run(&mut daemon, json!(true), &[]);
    let leftovers: Vec<_> = std::fs::read_dir(fixture("coverage"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".coverage"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let chosen = tempfile::tempdir().unwrap();
    let data_file = chosen.path().join("data.coverage");
    coverage_run(&mut daemon, json!({"dataFile": data_file.display().to_string()}), &[]);
    assert!(data_file.is_file(), "the asked-for data file was not written");
}

#[test]
fn coverage_py_missing_is_an_error_with_the_install_command() {
    let hidden = tempfile::tempdir().unwrap();
    hide_module(hidden.path(), "coverage");
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params("coverage", &[]);
    params["coverage"] = json!(true);
    params["env"]["PYTHONPATH"] = json!(hidden.path().display().to_string());
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    let errors = run["errors"].to_string();
    assert!(
        errors.contains("coverage.py is not installed") && errors.contains("-m pip install coverage"),
        "{errors}"
    );
}

/// `pytestd run <fixture coverage> <args>` with the test Python; its stdout.
fn cli_run(args: &[&str]) -> String {
    let cache = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_pytestd"))
        .args([
            "run",
            &fixture("coverage"),
            "--python",
            &test_python(),
            "--color",
            "never",
        ])
        .args(args)
        .env("XDG_CACHE_HOME", cache.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run pytestd");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

/// The table row of `name`, split on whitespace.
fn row(table: &str, name: &str) -> Vec<String> {
    let line = table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in\n{table}"));
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn the_cli_prints_a_table_and_writes_lcov_and_xml_also_for_a_split_run() {
    let out = tempfile::tempdir().unwrap();
    let lcov = out.path().join("whole.lcov");
    let xml = out.path().join("whole.xml");
    let whole = cli_run(&[
        "--coverage-branch",
        "--coverage-lcov",
        lcov.to_str().unwrap(),
        "--coverage-xml",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(
        row(&whole, "shop/prices.py"),
        ["shop/prices.py", "12", "2", "4", "1", "81%"]
    );
    assert_eq!(row(&whole, "TOTAL")[0], "TOTAL");
    let lcov_text = std::fs::read_to_string(&lcov).expect("the LCOV report");
    assert!(
        lcov_text.contains("SF:shop/prices.py") && lcov_text.contains("DA:6,0"),
        "{lcov_text}"
    );
    let xml_text = std::fs::read_to_string(&xml).expect("the XML report");
    assert!(
        xml_text.contains("<coverage") && xml_text.contains("prices.py"),
        "{xml_text}"
    );

    // Split across two pytest processes, the data is combined: the same table and the same LCOV file.
    let split_lcov = out.path().join("split.lcov");
    let split = cli_run(&[
        "--max-parallel",
        "2",
        "--coverage-branch",
        "--coverage-lcov",
        split_lcov.to_str().unwrap(),
    ]);
    assert_eq!(row(&split, "shop/prices.py"), row(&whole, "shop/prices.py"));
    assert_eq!(row(&split, "TOTAL"), row(&whole, "TOTAL"));
    assert_eq!(std::fs::read_to_string(&split_lcov).unwrap(), lcov_text);
}
