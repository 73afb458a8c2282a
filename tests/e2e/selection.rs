//! Running selected tests: only the named ids run, ids with brackets, spaces, escapes and absolute paths work,
//! unknown ids are reported, and 100 000 ids fit in one request (no command line carries them).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{assert_status, errors_text, fixture, result_ids, Daemon, RUN};

#[test]
fn only_the_selected_tests_run() {
    let mut daemon = Daemon::start();
    let ids = [
        "test_outcomes.py::test_pass",
        "test_outcomes.py::test_param[a[1]]",
        "test_outcomes.py::test_param[with space]",
        r"test_outcomes.py::test_param[\xfcn\xef \u2713]",
        "test_outcomes.py::TestGroup::test_in_class",
    ];
    let run = daemon.run(daemon.run_params("outcomes", &ids), RUN);
    assert_status(&run, "passed");
    assert_eq!(result_ids(&run), ids.iter().map(|id| id.to_string()).collect());
    assert_eq!(run["summary"]["total"], 5);
}

#[test]
fn selecting_tests_in_many_files_collects_only_those_files() {
    // Twenty files are more than pytestd names on pytest's command line: it passes directories and the plugin
    // keeps collection to the selected files, so the broken file beside them is never imported.
    let ids: Vec<String> = (0..20)
        .map(|i| match i {
            0..=9 => format!("test_w{i:02}.py::test_selected"),
            _ => format!("pkg/test_w{i:02}.py::test_selected"),
        })
        .collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut daemon = Daemon::start();
    let run = daemon.run(daemon.run_params("wide", &id_refs), RUN);
    assert_status(&run, "passed");
    assert_eq!(result_ids(&run), ids.iter().cloned().collect());
    assert!(errors_text(&run).is_empty(), "{run}");
}

#[test]
fn absolute_path_ids_select_tests_reported_relative_to_cwd() {
    let mut daemon = Daemon::start();
    let absolute = format!("{}/test_outcomes.py::test_pass", fixture("outcomes"));
    let run = daemon.run(daemon.run_params("outcomes", &[&absolute]), RUN);
    assert_status(&run, "passed");
    assert_eq!(result_ids(&run), ["test_outcomes.py::test_pass".to_owned()].into());
}

#[test]
fn unknown_ids_are_reported_in_errors_while_the_known_ones_run() {
    let mut daemon = Daemon::start();
    let ids = ["test_outcomes.py::test_pass", "test_outcomes.py::test_does_not_exist"];
    let run = daemon.run(daemon.run_params("outcomes", &ids), RUN);
    assert_status(&run, "passed");
    assert_eq!(result_ids(&run), ["test_outcomes.py::test_pass".to_owned()].into());
    assert!(
        errors_text(&run).contains("test_does_not_exist"),
        "errors: {}",
        errors_text(&run)
    );
}

#[test]
fn a_hundred_thousand_test_ids_fit_in_one_request() {
    const REAL: usize = 2_000;
    const TOTAL: usize = 100_000;
    let mut daemon = Daemon::start();
    // 100 000 ids of ~35 bytes are 3.5 MB, past Linux's 2 MB ARG_MAX: they cannot travel on a command line.
    let mut ids: Vec<String> = (0..REAL).map(|i| format!("test_many.py::test_many[{i}]")).collect();
    ids.extend((REAL..TOTAL).map(|i| format!("test_many.py::test_missing_{i:06}")));
    let mut params = daemon.run_params("many", &[]);
    params["testIds"] = json!(ids);
    params["env"]["PYTESTD_MANY_N"] = json!(REAL.to_string());

    let started = Instant::now();
    let run = daemon.run(params, Duration::from_secs(120));
    eprintln!("{TOTAL} ids ran in {:?}", started.elapsed());
    assert_status(&run, "passed");
    assert_eq!(run["summary"]["passed"], REAL);
    assert_eq!(result_ids(&run).len(), REAL);
    assert_eq!(
        daemon.messages().iter().filter(|m| m["method"] == "testResult").count(),
        REAL
    );
    let errors = errors_text(&run);
    assert!(
        errors.contains(&format!("test_many.py::test_missing_{REAL:06}")),
        "unknown ids not reported: {errors:.2000}"
    );
}
