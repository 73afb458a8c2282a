//! `pytestd run` takes what pytest takes: paths and node ids relative to the current directory, from anywhere
//! inside a project (the root found as pytest finds its rootdir, or `--rootdir`), the project around the current
//! directory when none is given; a module that fails to import does not stop the others, split or not; and an
//! interpreter that cannot run pytest is a usage error (exit 4), never a test failure.

use std::collections::BTreeSet;
use std::path::Path;

use crate::cli::{cli_in, code, describe, events, result_ids};
use crate::support::{fixture, pytest_collect_only};

#[test]
fn paths_and_node_ids_are_relative_to_the_current_directory_anywhere_in_the_project() {
    let cache = tempfile::tempdir().unwrap();
    let tree = fixture("tree");
    let subdir = Path::new(&tree).join("plain_dir");
    // From plain_dir/: a directory and one node id, as `pytest nested test_in_dir.py::…` would take them.
    let first = pytest_collect_only(&tree, &["plain_dir/test_in_dir.py"])
        .into_iter()
        .next()
        .expect("a test in plain_dir/test_in_dir.py");
    let local_id = first.strip_prefix("plain_dir/").unwrap().to_owned();
    let run = cli_in(&subdir, &["run", "nested", &local_id, "--json"], cache.path());
    assert!(matches!(code(&run), 0 | 1), "{}", describe(&run));
    let mut expected: BTreeSet<String> = pytest_collect_only(&tree, &["plain_dir/nested"]).into_iter().collect();
    expected.insert(first);
    // Ids stay relative to the project's root, as pytest prints them.
    assert_eq!(result_ids(&events(&run)), expected);
}

#[test]
fn no_arguments_run_the_project_around_the_current_directory() {
    let cache = tempfile::tempdir().unwrap();
    let slow = fixture("slow");
    let run = cli_in(Path::new(&slow), &["run", "-k", "quick", "--json"], cache.path());
    // `-k` is not a pytestd option: pytest options go after `--`.
    assert_eq!(code(&run), 4, "{}", describe(&run));
    let run = cli_in(Path::new(&slow), &["run", "--json", "--", "-k", "quick"], cache.path());
    assert_eq!(code(&run), 0, "{}", describe(&run));
    let expected: BTreeSet<String> = pytest_collect_only(&slow, &["-k", "quick"]).into_iter().collect();
    assert_eq!(result_ids(&events(&run)), expected);
    let missing = cli_in(Path::new(&slow), &["run", "no_such_test_file.py::t"], cache.path());
    assert_eq!(code(&missing), 4, "{}", describe(&missing));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("file or directory not found"));
}

#[test]
fn a_module_that_fails_to_import_does_not_stop_the_others_split_or_not() {
    let cache = tempfile::tempdir().unwrap();
    let wide = fixture("wide");
    let every: BTreeSet<String> = pytest_collect_only(&wide, &["--ignore=test_broken.py"])
        .into_iter()
        .collect();
    assert!(every.len() > 20, "{every:?}");
    for split in [&[][..], &["--max-parallel", "2"][..]] {
        let mut args = vec!["run", "--json"];
        args.extend(split);
        let run = cli_in(Path::new(&wide), &args, cache.path());
        assert_eq!(code(&run), 1, "something was wrong ({split:?}): {}", describe(&run));
        let events = events(&run);
        assert_eq!(result_ids(&events), every, "{split:?}");
        let result = &events.last().unwrap()["result"];
        let broken: Vec<&str> = result["collectionErrors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap())
            .collect();
        assert_eq!(broken, ["test_broken.py"], "{split:?}: {result}");
    }
}

#[test]
fn an_interpreter_that_cannot_run_pytest_is_a_usage_error_never_a_test_failure() {
    let cache = tempfile::tempdir().unwrap();
    let venv = tempfile::tempdir().unwrap();
    let bare = crate::support::python_without_pytest(venv.path());
    let slow = fixture("slow");
    for python in [bare.as_str(), "/no/such/python3"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_pytestd"))
            .args(["run", "--python", python])
            .current_dir(&slow)
            .env("XDG_CACHE_HOME", cache.path())
            .output()
            .expect("run pytestd");
        assert_eq!(output.status.code(), Some(4), "{python}: {}", describe(&output));
    }
}
