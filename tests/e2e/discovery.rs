//! `discoverTests` (issue 4): the tree of tests pytest collects, with exactly the ids `pytest --collect-only -q`
//! prints, parents before children, collection errors per file, streamed in `testsDiscovered` batches (none with
//! `stream: false`, the same tree in the response), and run under the same slots, queue, cancellation and timeouts
//! as `runTests`.
//!
//! Fixtures: `tree` (packages, plain directories, classes nested three deep, a unittest.TestCase, parametrized ids
//! with brackets, spaces, unicode, escapes and `::`, a doctest module, a file that cannot be imported), `empty`,
//! `slowcollect` (its conftest holds collection at a gate file) and `many` (a parametrized test of any size).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::{
    assert_discovery_status, assert_parents_first, assert_status, discovered_test_ids, discovered_test_ids_in_order,
    fixture, is_alive, new_run_id, node, nodes, pytest_collect_only, result_ids, wait_until, Daemon, REPLY, RUN,
};

const GRACE_MS: u64 = 500;
/// Beyond the grace period: time for SIGKILL to land and for the kernel and init to clean up.
const MARGIN: Duration = Duration::from_secs(3);

/// Discovers `fixture_name` with `args` and returns the result.
fn discover(daemon: &mut Daemon, fixture_name: &str, args: &[&str]) -> Value {
    let mut params = daemon.discover_params(fixture_name);
    params["args"] = json!(args);
    daemon.discover(params, RUN)
}

/// The string in `value`, or "" when it is not one.
fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// The discovery's `errors`, one per line.
fn errors_of(discovery: &Value) -> Vec<String> {
    discovery["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array in {discovery}"))
        .iter()
        .map(|e| str_of(e).to_owned())
        .collect()
}

/// 1-based line of the first line of `file` (in fixture `fixture_name`) that starts, after indentation, with
/// `start`.
fn line_of(fixture_name: &str, file: &str, start: &str) -> u64 {
    let text = fs::read_to_string(Path::new(&fixture(fixture_name)).join(file)).unwrap();
    let index = text
        .lines()
        .position(|line| line.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in {file}"));
    u64::try_from(index).unwrap() + 1
}

#[test]
fn discovered_test_ids_are_exactly_the_ids_pytest_collect_only_prints() {
    let mut daemon = Daemon::start();
    let cwd = fixture("tree");
    for args in [
        &[][..],
        &["--doctest-modules"][..],
        &["pkg", "plain_dir/nested"][..],
        &["-k", "Inner or tricky"][..],
        &["test_top.py::TestOuter"][..],
    ] {
        let discovery = discover(&mut daemon, "tree", args);
        assert_discovery_status(&discovery, "complete");
        let expected = pytest_collect_only(&cwd, args);
        assert!(!expected.is_empty(), "pytest collected nothing with {args:?}");
        // The same ids in the same order: pytest's collection order, a class's tests where the class stands.
        assert_eq!(
            discovered_test_ids_in_order(&discovery),
            expected,
            "the tests discovered with args {args:?} differ from pytest --collect-only -q"
        );
    }
}

#[test]
fn the_tree_nests_packages_directories_modules_classes_and_parametrized_functions_parents_first() {
    let mut daemon = Daemon::start();
    let discovery = discover(&mut daemon, "tree", &[]);
    assert_discovery_status(&discovery, "complete");
    let all = nodes(&discovery);
    assert_parents_first(all);

    // (id, kind, parent, name) of nodes of every kind, at every depth.
    let expected: &[(&str, &str, Option<&str>, &str)] = &[
        ("pkg", "package", None, "pkg"),
        ("pkg/sub", "package", Some("pkg"), "sub"),
        ("pkg/sub/test_deep.py", "module", Some("pkg/sub"), "test_deep.py"),
        (
            "pkg/sub/test_deep.py::test_deep",
            "function",
            Some("pkg/sub/test_deep.py"),
            "test_deep",
        ),
        (
            "pkg/sub/test_deep.py::test_deep[0]",
            "test",
            Some("pkg/sub/test_deep.py::test_deep"),
            "test_deep[0]",
        ),
        ("pkg/test_in_pkg.py", "module", Some("pkg"), "test_in_pkg.py"),
        (
            "pkg/test_in_pkg.py::test_in_package",
            "test",
            Some("pkg/test_in_pkg.py"),
            "test_in_package",
        ),
        (
            "pkg/test_in_pkg.py::TestInPackage",
            "class",
            Some("pkg/test_in_pkg.py"),
            "TestInPackage",
        ),
        (
            "pkg/test_in_pkg.py::TestInPackage::test_method_in_package",
            "test",
            Some("pkg/test_in_pkg.py::TestInPackage"),
            "test_method_in_package",
        ),
        ("plain_dir", "directory", None, "plain_dir"),
        ("plain_dir/nested", "directory", Some("plain_dir"), "nested"),
        (
            "plain_dir/nested/test_nested_dir.py",
            "module",
            Some("plain_dir/nested"),
            "test_nested_dir.py",
        ),
        (
            "plain_dir/test_in_dir.py",
            "module",
            Some("plain_dir"),
            "test_in_dir.py",
        ),
        ("test_top.py", "module", None, "test_top.py"),
        ("test_top.py::test_plain", "test", Some("test_top.py"), "test_plain"),
        (
            "test_top.py::test_tricky",
            "function",
            Some("test_top.py"),
            "test_tricky",
        ),
        (
            "test_top.py::test_tricky[a[1]]",
            "test",
            Some("test_top.py::test_tricky"),
            "test_tricky[a[1]]",
        ),
        (
            "test_top.py::test_tricky[a::b]",
            "test",
            Some("test_top.py::test_tricky"),
            "test_tricky[a::b]",
        ),
        (
            "test_top.py::test_tricky[x/y]",
            "test",
            Some("test_top.py::test_tricky"),
            "test_tricky[x/y]",
        ),
        (
            "test_top.py::test_tricky[]",
            "test",
            Some("test_top.py::test_tricky"),
            "test_tricky[]",
        ),
        (
            r"test_top.py::test_tricky[\xfcn\xef \u2713]",
            "test",
            Some("test_top.py::test_tricky"),
            r"test_tricky[\xfcn\xef \u2713]",
        ),
        (
            "test_top.py::test_explicit_ids",
            "function",
            Some("test_top.py"),
            "test_explicit_ids",
        ),
        (
            "test_top.py::test_explicit_ids[first [one]]",
            "test",
            Some("test_top.py::test_explicit_ids"),
            "test_explicit_ids[first [one]]",
        ),
        ("test_top.py::TestOuter", "class", Some("test_top.py"), "TestOuter"),
        (
            "test_top.py::TestOuter::test_in_outer",
            "test",
            Some("test_top.py::TestOuter"),
            "test_in_outer",
        ),
        (
            "test_top.py::TestOuter::test_param_in_class",
            "function",
            Some("test_top.py::TestOuter"),
            "test_param_in_class",
        ),
        (
            "test_top.py::TestOuter::test_param_in_class[2]",
            "test",
            Some("test_top.py::TestOuter::test_param_in_class"),
            "test_param_in_class[2]",
        ),
        (
            "test_top.py::TestOuter::TestInner",
            "class",
            Some("test_top.py::TestOuter"),
            "TestInner",
        ),
        (
            "test_top.py::TestOuter::TestInner::TestInnermost",
            "class",
            Some("test_top.py::TestOuter::TestInner"),
            "TestInnermost",
        ),
        (
            "test_top.py::TestOuter::TestInner::TestInnermost::test_in_innermost",
            "test",
            Some("test_top.py::TestOuter::TestInner::TestInnermost"),
            "test_in_innermost",
        ),
        ("test_top.py::TestUnit", "class", Some("test_top.py"), "TestUnit"),
        (
            "test_top.py::TestUnit::test_unittest_method",
            "test",
            Some("test_top.py::TestUnit"),
            "test_unittest_method",
        ),
    ];
    for &(id, kind, parent, name) in expected {
        let n = node(&discovery, id);
        assert_eq!(n["kind"], kind, "kind of {n}");
        assert_eq!(n.get("parentId").map(str_of), parent, "parent of {n}");
        assert_eq!(n["name"], name, "name of {n}");
    }

    // Only directories, packages and modules are top-level (the failed file may or may not have a node).
    let top: BTreeSet<&str> = all
        .iter()
        .filter(|n| n.get("parentId").is_none())
        .map(|n| str_of(&n["id"]))
        .collect();
    let allowed: BTreeSet<&str> = ["pkg", "plain_dir", "test_top.py", "test_broken.py"].into();
    assert!(
        top.is_superset(&["pkg", "plain_dir", "test_top.py"].into()) && top.is_subset(&allowed),
        "top-level nodes: {top:?}"
    );

    // Tests are leaves; a function node holds exactly its own parametrized cases.
    let by_id: BTreeMap<&str, &Value> = all.iter().map(|n| (str_of(&n["id"]), n)).collect();
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in all {
        if let Some(parent) = n.get("parentId") {
            children.entry(str_of(parent)).or_default().push(str_of(&n["id"]));
        }
    }
    for (parent, kids) in &children {
        let parent_node = by_id[parent];
        assert_ne!(parent_node["kind"], "test", "test {parent} has children {kids:?}");
        if parent_node["kind"] == "function" {
            for kid in kids {
                assert!(
                    by_id[kid]["kind"] == "test" && kid.starts_with(&format!("{parent}[")),
                    "function {parent} has child {}",
                    by_id[kid]
                );
            }
        }
    }
    for n in all.iter().filter(|n| n["kind"] == "function") {
        let id = str_of(&n["id"]);
        assert!(children.contains_key(id), "function {id} has no cases");
        assert!(!id.contains('['), "function node {id} has a parameter part");
    }
    // Every test hangs under a module, a class or a parametrized function.
    for n in all.iter().filter(|n| n["kind"] == "test") {
        let parent = by_id[str_of(&n["parentId"])];
        assert!(
            ["module", "class", "function"].contains(&str_of(&parent["kind"])),
            "test {} hangs under {parent}",
            n["id"]
        );
    }
}

#[test]
fn paths_are_relative_to_cwd_and_lines_are_the_one_based_definition_lines() {
    let mut daemon = Daemon::start();
    let discovery = discover(&mut daemon, "tree", &[]);
    assert_discovery_status(&discovery, "complete");
    let cwd = fixture("tree");
    for n in nodes(&discovery) {
        let kind = str_of(&n["kind"]);
        let id = str_of(&n["id"]);
        let file = id.split("::").next().unwrap();
        if let Some(path) = n.get("path") {
            let path = str_of(path);
            assert!(
                Path::new(path).components().all(|c| matches!(c, Component::Normal(_))),
                "path of {id} is not relative to cwd without `..`: {path:?}"
            );
            assert!(
                Path::new(&cwd).join(path).exists(),
                "path of {id} does not exist: {path:?}"
            );
        }
        if let Some(line) = n.get("line") {
            assert!(
                line.as_u64().is_some_and(|l| l >= 1),
                "line of {id} is not 1-based: {line}"
            );
        }
        match kind {
            "module" => assert_eq!(n["path"], id, "path of module {n}"),
            "class" | "function" | "test" => assert_eq!(n["path"], file, "path of {n}"),
            _ => {}
        }
    }

    for (id, file, start) in [
        ("test_top.py::test_plain", "test_top.py", "def test_plain("),
        (
            "test_top.py::TestOuter::test_in_outer",
            "test_top.py",
            "def test_in_outer(",
        ),
        (
            "test_top.py::TestOuter::TestInner::TestInnermost::test_in_innermost",
            "test_top.py",
            "def test_in_innermost(",
        ),
        (
            "test_top.py::TestUnit::test_unittest_method",
            "test_top.py",
            "def test_unittest_method(",
        ),
        ("test_top.py::TestOuter::TestInner", "test_top.py", "class TestInner:"),
        ("test_top.py::TestUnit", "test_top.py", "class TestUnit("),
        (
            "pkg/test_in_pkg.py::test_in_package",
            "pkg/test_in_pkg.py",
            "def test_in_package(",
        ),
        (
            "plain_dir/nested/test_nested_dir.py::test_in_nested_dir",
            "plain_dir/nested/test_nested_dir.py",
            "def test_in_nested_dir(",
        ),
    ] {
        assert_eq!(
            node(&discovery, id)["line"],
            line_of("tree", file, start),
            "line of {id} (`{start}`)"
        );
    }
}

#[test]
fn a_collection_error_is_reported_for_its_file_while_the_other_files_tests_are_returned() {
    let mut daemon = Daemon::start();
    let discovery = discover(&mut daemon, "tree", &[]);
    assert_discovery_status(&discovery, "complete");
    let errors = errors_of(&discovery);
    assert_eq!(errors.len(), 1, "one error for the one broken file: {errors:#?}");
    assert!(
        errors[0].contains("test_broken.py") && errors[0].contains("no_such_module_pytestd_tree"),
        "the error does not name the file and what went wrong: {}",
        errors[0]
    );
    let ids = discovered_test_ids(&discovery);
    for id in [
        "test_top.py::test_plain",
        "pkg/sub/test_deep.py::test_deep[2]",
        "plain_dir/nested/test_nested_dir.py::test_in_nested_dir",
    ] {
        assert!(
            ids.iter().any(|i| i == id),
            "{id} missing beside the broken file: {ids:?}"
        );
    }
    assert!(
        !ids.iter().any(|i| i.starts_with("test_broken.py::")),
        "tests of the broken file: {ids:?}"
    );
}

#[test]
fn doctests_are_discovered_as_tests_of_their_module_with_doctest_modules_in_args() {
    let mut daemon = Daemon::start();
    let discovery = discover(&mut daemon, "tree", &["--doctest-modules"]);
    assert_discovery_status(&discovery, "complete");
    assert_parents_first(nodes(&discovery));
    let doctest = node(&discovery, "pkg/util.py::pkg.util.add");
    assert_eq!(doctest["kind"], "test", "{doctest}");
    assert_eq!(doctest["parentId"], "pkg/util.py", "{doctest}");
    assert_eq!(doctest["path"], "pkg/util.py", "{doctest}");
    let module = node(&discovery, "pkg/util.py");
    assert_eq!(module["kind"], "module", "{module}");
    assert_eq!(module["parentId"], "pkg", "{module}");
    // The broken file fails to import for the Python and the doctest collector alike; nothing else fails.
    let errors = errors_of(&discovery);
    assert!(!errors.is_empty(), "the broken file's error is missing");
    for error in &errors {
        assert!(error.contains("test_broken.py"), "an error about another file: {error}");
    }

    let without = discover(&mut daemon, "tree", &[]);
    assert!(
        !nodes(&without)
            .iter()
            .any(|n| str_of(&n["id"]).starts_with("pkg/util.py")),
        "pkg/util.py discovered without --doctest-modules"
    );
}

#[test]
fn discovered_ids_select_the_same_tests_in_run_tests() {
    let mut daemon = Daemon::start();
    let discovery = discover(&mut daemon, "tree", &[]);
    let ids: Vec<String> = discovered_test_ids(&discovery)
        .into_iter()
        .filter(|id| id.starts_with("test_top.py::"))
        .collect();
    assert!(ids.len() >= 10, "{ids:?}");
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let run = daemon.run(daemon.run_params("tree", &id_refs), RUN);
    assert_status(&run, "passed");
    assert_eq!(result_ids(&run), ids.into_iter().collect());
}

#[test]
fn a_project_without_tests_is_complete_with_no_tests_and_no_errors() {
    let mut daemon = Daemon::start();
    let discovery = daemon.discover(daemon.discover_params("empty"), RUN);
    assert_discovery_status(&discovery, "complete");
    assert_eq!(discovery["tests"], json!([]), "{discovery}");
    assert_eq!(discovery["errors"], json!([]), "{discovery}");
    assert!(
        !str_of(&discovery["runId"]).is_empty(),
        "a discovery without a runId gets one: {discovery}"
    );
    assert!(discovery["durationMs"].is_u64(), "{discovery}");
}

#[test]
fn unknown_pytest_arguments_end_the_discovery_with_error_naming_them() {
    let mut daemon = Daemon::start();
    let discovery = discover(&mut daemon, "tree", &["--no-such-option-pytestd"]);
    assert_discovery_status(&discovery, "error");
    assert_eq!(discovery["tests"], json!([]), "{discovery}");
    let errors = errors_of(&discovery).join("\n");
    assert!(
        errors.contains("--no-such-option-pytestd"),
        "the errors do not name the bad argument: {errors}"
    );
}

/// A closed gate for the `slowcollect` fixture, and a directory where each discovery records its pytest's pid.
struct CollectGate {
    dir: TempDir,
}

impl CollectGate {
    fn new() -> Self {
        CollectGate {
            dir: tempfile::tempdir().expect("create a gate directory"),
        }
    }

    /// `discoverTests` params for slowcollect with run id `run_id`; its pytest records itself in `<dir>/<tag>/`.
    fn params(&self, daemon: &Daemon, run_id: &str, tag: &str) -> Value {
        let dir = self.dir.path().join(tag);
        fs::create_dir(&dir).unwrap();
        let mut params = daemon.discover_params("slowcollect");
        params["runId"] = json!(run_id);
        params["env"]["PYTESTD_E2E_GATE"] = json!(self.dir.path().join("gate").display().to_string());
        params["env"]["PYTESTD_E2E_DIR"] = json!(dir.display().to_string());
        params
    }

    /// Whether the discovery tagged `tag` has reached the gate.
    fn reached(&self, tag: &str) -> bool {
        self.dir.path().join(tag).join("collecting").exists()
    }

    /// Waits until the discovery tagged `tag` is held at the gate; returns its pytest's pid.
    fn wait_reached(&self, tag: &str) -> i32 {
        wait_until(RUN, &format!("discovery {tag} to reach the gate"), || self.reached(tag));
        let text = fs::read_to_string(self.dir.path().join(tag).join("collecting")).unwrap();
        text.trim().parse().unwrap()
    }

    fn open(&self) {
        fs::write(self.dir.path().join("gate"), "open").unwrap();
    }
}

/// The state listRuns gives run `run_id`, if it lists it.
fn listed_state(daemon: &mut Daemon, run_id: &str) -> Option<String> {
    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    list["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("no runs array in {list}"))
        .iter()
        .find(|r| r["runId"] == run_id)
        .map(|r| str_of(&r["state"]).to_owned())
}

/// Waits until listRuns lists `run_id` in `state`.
fn wait_listed(daemon: &mut Daemon, run_id: &str, state: &str) {
    let mut last = None;
    let what = format!("listRuns to list {run_id} as {state}");
    wait_until(REPLY, &what, || {
        last = listed_state(daemon, run_id);
        last.as_deref() == Some(state)
    });
}

#[test]
fn cancelling_a_discovery_held_in_collection_answers_cancelled_and_leaves_no_process() {
    let gate = CollectGate::new();
    let mut daemon = Daemon::start_with(json!({"killGraceMs": GRACE_MS}));
    let run_id = new_run_id();
    let request = daemon.request("discoverTests", gate.params(&daemon, &run_id, "a"));
    let pytest = gate.wait_reached("a");
    assert_eq!(listed_state(&mut daemon, &run_id).as_deref(), Some("running"));

    let answer = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(answer, json!({"runId": run_id, "state": "cancelled"}));
    let discovery = daemon
        .response(request, Duration::from_millis(GRACE_MS) + MARGIN)
        .unwrap();
    assert_discovery_status(&discovery, "cancelled");
    assert_eq!(discovery["runId"], run_id);
    wait_until(MARGIN, "the collecting pytest to die", || !is_alive(pytest));
    daemon.assert_run_processes_gone(MARGIN);
    assert_eq!(
        listed_state(&mut daemon, &run_id),
        None,
        "the cancelled discovery is still listed"
    );
    let again = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(again, json!({"runId": run_id, "state": "alreadyFinished"}));
}

#[test]
fn a_discovery_past_its_timeout_ends_timed_out_and_leaves_no_process() {
    let gate = CollectGate::new();
    let mut daemon = Daemon::start_with(json!({"killGraceMs": GRACE_MS}));
    let run_id = new_run_id();
    let mut params = gate.params(&daemon, &run_id, "a");
    params["timeoutMs"] = json!(1000);
    let asked = Instant::now();
    let discovery = daemon.discover(params, RUN);
    // The gate never opens, so only the timeout can end this discovery, wherever pytest was when it fired
    // (on a loaded machine, possibly still starting up).
    assert_discovery_status(&discovery, "timedOut");
    assert!(
        asked.elapsed() < Duration::from_secs(1) + Duration::from_millis(GRACE_MS) + MARGIN + MARGIN,
        "a 1 s timeout took {:?}",
        asked.elapsed()
    );
    daemon.assert_run_processes_gone(MARGIN);
}

#[test]
fn with_max_parallel_one_a_discovery_and_a_run_wait_behind_a_discovery_and_list_runs_shows_them_queued() {
    let gate = CollectGate::new();
    let mut daemon = Daemon::start_with(json!({"maxParallel": 1}));
    let sampler = daemon.sample_run_processes();
    let (holder, waiter, run) = (new_run_id(), new_run_id(), new_run_id());
    let holding = daemon.request("discoverTests", gate.params(&daemon, &holder, "holder"));
    gate.wait_reached("holder");
    let waiting = daemon.request("discoverTests", gate.params(&daemon, &waiter, "waiter"));
    let mut run_params = daemon.run_params("outcomes", &["test_outcomes.py::test_pass"]);
    run_params["runId"] = json!(run);
    let running = daemon.request("runTests", run_params);

    wait_listed(&mut daemon, &waiter, "queued");
    wait_listed(&mut daemon, &run, "queued");
    assert_eq!(listed_state(&mut daemon, &holder).as_deref(), Some("running"));
    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    let holder_info = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["runId"] == holder)
        .unwrap();
    assert_eq!(holder_info["cwd"], fixture("slowcollect"), "{list}");
    assert!(!gate.reached("waiter"), "the queued discovery started collecting");

    gate.open();
    let first = daemon.response(holding, RUN).unwrap();
    assert_discovery_status(&first, "complete");
    assert_eq!(
        discovered_test_ids(&first),
        ["test_a_first.py::test_first", "test_b_blocks.py::test_after_gate"]
    );
    let second = daemon.response(waiting, RUN).unwrap();
    assert_discovery_status(&second, "complete");
    assert_eq!(discovered_test_ids(&second), discovered_test_ids(&first));
    assert!(gate.reached("waiter"), "the queued discovery never collected");
    assert_status(&daemon.response(running, RUN).unwrap(), "passed");

    let samples = sampler.finish();
    assert!(
        samples.max_alive <= 1,
        "{} pytest processes alive at once with maxParallel 1",
        samples.max_alive
    );
    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    assert_eq!(list["runs"], json!([]), "{list}");
}

#[test]
fn cancelling_a_queued_discovery_answers_cancelled_and_it_never_collects() {
    let gate = CollectGate::new();
    let mut daemon = Daemon::start_with(json!({"maxParallel": 1}));
    let (holder, waiter) = (new_run_id(), new_run_id());
    let holding = daemon.request("discoverTests", gate.params(&daemon, &holder, "holder"));
    gate.wait_reached("holder");
    let waiting = daemon.request("discoverTests", gate.params(&daemon, &waiter, "waiter"));
    wait_listed(&mut daemon, &waiter, "queued");

    let answer = daemon.call("cancelRun", json!({"runId": waiter}), REPLY).unwrap();
    assert_eq!(answer, json!({"runId": waiter, "state": "cancelled"}));
    let cancelled = daemon.response(waiting, REPLY).unwrap();
    assert_discovery_status(&cancelled, "cancelled");
    assert_eq!(cancelled["tests"], json!([]), "{cancelled}");

    gate.open();
    assert_discovery_status(&daemon.response(holding, RUN).unwrap(), "complete");
    assert!(
        !gate.reached("waiter"),
        "the discovery cancelled while queued collected"
    );
}

/// Params of the `testsDiscovered` notifications of `run_id` received so far, in order.
fn batches(daemon: &Daemon, run_id: &str) -> Vec<Value> {
    daemon.run_notifications("testsDiscovered", run_id)
}

/// Asserts the `testsDiscovered` batches of `run_id` stream exactly the nodes of `discovery`, each once, parents
/// before children, all before the response to `request`.
fn assert_streamed_exactly(daemon: &mut Daemon, request: i64, run_id: &str, discovery: &Value) {
    // A later request is answered after any notification the daemon wrote before it; those must all precede the
    // discovery's response.
    daemon.call("listRuns", json!({}), REPLY).unwrap();
    let messages = daemon.messages();
    let response_at = messages
        .iter()
        .position(|m| m.get("method").is_none() && m["id"] == request)
        .expect("the response was received");
    let late = messages[response_at..]
        .iter()
        .filter(|m| m["method"] == "testsDiscovered" && m["params"]["runId"] == run_id)
        .count();
    assert_eq!(late, 0, "{late} testsDiscovered batches came after the response");

    let batches = batches(daemon, run_id);
    assert!(!batches.is_empty(), "no testsDiscovered batch for {run_id}");
    let streamed: Vec<Value> = batches
        .iter()
        .flat_map(|b| {
            b["tests"]
                .as_array()
                .unwrap_or_else(|| panic!("batch without tests: {b}"))
                .clone()
        })
        .collect();
    assert_parents_first(&streamed);
    let as_set = |list: &[Value]| -> BTreeSet<String> { list.iter().map(Value::to_string).collect() };
    let expected = as_set(nodes(discovery));
    let got = as_set(&streamed);
    let missing: Vec<&String> = expected.difference(&got).take(5).collect();
    let extra: Vec<&String> = got.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the batches differ from the result: missing {missing:?}, extra {extra:?}"
    );
    assert_eq!(
        streamed.len(),
        nodes(discovery).len(),
        "the batches repeat nodes ({} batches)",
        batches.len()
    );
}

#[test]
fn streamed_batches_hold_exactly_the_resulting_nodes_and_all_arrive_before_the_response() {
    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let mut params = daemon.discover_params("tree");
    params["runId"] = json!(run_id);
    params["args"] = json!(["--doctest-modules"]);
    let request = daemon.request("discoverTests", params);
    let discovery = daemon.response(request, RUN).unwrap();
    assert_discovery_status(&discovery, "complete");
    assert_eq!(discovery["runId"], run_id);
    assert_streamed_exactly(&mut daemon, request, &run_id, &discovery);
}

#[test]
fn with_stream_false_no_batch_is_sent_and_the_response_holds_the_same_tree() {
    let mut daemon = Daemon::start();
    let discover_with = |daemon: &mut Daemon, stream: Option<bool>| {
        let run_id = new_run_id();
        let mut params = daemon.discover_params("tree");
        params["runId"] = json!(run_id);
        params["args"] = json!(["--doctest-modules"]);
        if let Some(stream) = stream {
            params["stream"] = json!(stream);
        }
        let request = daemon.request("discoverTests", params);
        let discovery = daemon.response(request, RUN).unwrap();
        assert_discovery_status(&discovery, "complete");
        (run_id, request, discovery)
    };
    let (streamed_id, request, streamed) = discover_with(&mut daemon, Some(true));
    assert_streamed_exactly(&mut daemon, request, &streamed_id, &streamed);
    let (default_id, request, by_default) = discover_with(&mut daemon, None);
    assert_streamed_exactly(&mut daemon, request, &default_id, &by_default);

    let (quiet_id, _, quiet) = discover_with(&mut daemon, Some(false));
    // Answered after anything the daemon wrote before it: a stray batch would be in by then.
    daemon.call("listRuns", json!({}), REPLY).unwrap();
    let stray = batches(&daemon, &quiet_id);
    assert!(
        stray.is_empty(),
        "{} testsDiscovered batches with stream: false",
        stray.len()
    );
    assert!(!nodes(&quiet).is_empty(), "{quiet}");
    assert_eq!(nodes(&quiet), nodes(&streamed), "stream: false returned another tree");
    assert_eq!(quiet["errors"], streamed["errors"]);
    assert_eq!(quiet["collectionErrors"], streamed["collectionErrors"]);

    let mut params = daemon.discover_params("tree");
    params["stream"] = json!("no");
    let error = daemon.call("discoverTests", params, REPLY).unwrap_err();
    assert_eq!(error.code, -32602, "{error:?}");
    assert!(error.message.contains("stream"), "{error:?}");
}

#[test]
fn nodes_of_a_file_already_collected_stream_while_a_later_file_is_still_collecting() {
    let gate = CollectGate::new();
    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let request = daemon.request("discoverTests", gate.params(&daemon, &run_id, "a"));
    gate.wait_reached("a");
    daemon.wait_notification(RUN, |method, p| {
        method == "testsDiscovered"
            && p["runId"] == run_id
            && p["tests"]
                .as_array()
                .is_some_and(|t| t.iter().any(|n| n["id"] == "test_a_first.py::test_first"))
    });
    assert!(
        batches(&daemon, &run_id)
            .iter()
            .flat_map(|b| b["tests"].as_array().cloned().unwrap_or_default())
            .all(|n| !str_of(&n["id"]).starts_with("test_b_blocks.py::")),
        "nodes of the file held at the gate streamed before it was collected"
    );

    gate.open();
    let discovery = daemon.response(request, RUN).unwrap();
    assert_discovery_status(&discovery, "complete");
    assert_streamed_exactly(&mut daemon, request, &run_id, &discovery);
}

#[test]
fn twenty_thousand_parametrized_cases_are_discovered_within_a_minute() {
    const N: usize = 20_000;
    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let mut params = daemon.discover_params("many");
    params["runId"] = json!(run_id);
    params["env"]["PYTESTD_MANY_N"] = json!(N.to_string());
    let asked = Instant::now();
    let request = daemon.request("discoverTests", params);
    let discovery = daemon.response(request, RUN).unwrap();
    let took = asked.elapsed();
    assert_discovery_status(&discovery, "complete");
    assert!(took < RUN, "discovering {N} cases took {took:?}");

    let ids = discovered_test_ids(&discovery);
    let mut expected: Vec<String> = (0..N).map(|i| format!("test_many.py::test_many[{i}]")).collect();
    expected.sort();
    assert!(ids == expected, "{} ids discovered, {N} expected", ids.len());
    assert_eq!(
        nodes(&discovery).len(),
        N + 2,
        "besides the cases: one module, one function"
    );
    assert_eq!(node(&discovery, "test_many.py::test_many")["kind"], "function");
    assert_streamed_exactly(&mut daemon, request, &run_id, &discovery);
}
