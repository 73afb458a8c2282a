//! Sharded runs: `runTests` with `shards` and `pytestd run --shards`, one run split by file across several pytest
//! processes. Checked against an unsharded run of the same tests, with fixtures that prove the shards run side by
//! side (two files that wait for each other) and set up each module once, and with cancels and a shard that kills
//! itself, after which no process is left. The CLI half covers the remembered files, `--store-durations` and
//! `--partition duration:M/N`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::cli::{cli, cli_in, code, describe, events, result_ids as event_ids};
use crate::support::{assert_status, errors_text, new_run_id, result, result_ids, Daemon, REPLY, RUN};

/// Each test's outcome, by id.
fn outcomes(run: &Value) -> BTreeMap<String, String> {
    run["results"]
        .as_object()
        .expect("results")
        .iter()
        .map(|(id, r)| (id.clone(), r["outcome"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// The paths of a result's collection errors.
fn broken(run: &Value) -> Vec<String> {
    run["collectionErrors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["path"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// The `shard` of every `method` notification of `run_id`.
fn shards_of(daemon: &Daemon, method: &str, run_id: &str) -> BTreeSet<u64> {
    daemon
        .run_notifications(method, run_id)
        .iter()
        .map(|p| {
            p["shard"]
                .as_u64()
                .unwrap_or_else(|| panic!("{method} without a shard: {p}"))
        })
        .collect()
}

fn sharded(daemon: &Daemon, fixture_name: &str, ids: &[&str], shards: Value) -> (String, Value) {
    let run_id = new_run_id();
    let mut params = daemon.run_params(fixture_name, ids);
    params["shards"] = shards;
    params["runId"] = json!(run_id);
    (run_id, params)
}

#[test]
fn a_sharded_run_has_the_results_of_an_unsharded_one_under_one_run_id() {
    let mut daemon = Daemon::start();
    for fixture_name in ["shards", "wide"] {
        let plain = daemon.run(daemon.run_params(fixture_name, &[]), RUN);
        // The first sharded run collects to find the files; the second splits the files remembered from it.
        for round in ["by collecting", "remembered"] {
            let (run_id, params) = sharded(&daemon, fixture_name, &[], json!(3));
            let run = daemon.run(params, RUN);
            let what = format!("{fixture_name}, {round}");
            assert!(!outcomes(&run).is_empty(), "{what}: {run}");
            assert_eq!(outcomes(&run), outcomes(&plain), "{what}");
            assert_eq!(run["summary"], plain["summary"], "{what}");
            assert_eq!(
                (&run["status"], &run["exitCode"]),
                (&plain["status"], &plain["exitCode"]),
                "{what}"
            );
            assert_eq!(broken(&run), broken(&plain), "{what}: {}", errors_text(&run));
            assert_eq!(run["runId"], run_id);
            assert_eq!(
                shards_of(&daemon, "runStarted", &run_id),
                BTreeSet::from([0, 1, 2]),
                "{what}"
            );
            let results = daemon.run_notifications("testResult", &run_id);
            assert_eq!(results.len(), outcomes(&plain).len(), "{what}: one testResult per test");
            assert!(
                results.iter().all(|r| r["shard"].is_u64()),
                "{what}: every result names its shard"
            );
            let finished = daemon.run_notifications("runFinished", &run_id);
            assert_eq!(finished.len(), 1, "{what}: one runFinished");
            assert!(finished[0].get("shard").is_none(), "{what}: {}", finished[0]);
            let logs: Vec<String> = daemon
                .messages()
                .iter()
                .filter(|m| m["method"] == "window/logMessage")
                .filter_map(|m| m["params"]["message"].as_str().map(str::to_owned))
                .filter(|line| line.starts_with(&format!("[{}", &run_id[..8])))
                .collect();
            let planned = logs
                .iter()
                .any(|line| line.contains("3 shards by file") && line.contains(round));
            assert!(planned, "{what}: the plan says how the files were found: {logs:#?}");
        }
    }
    daemon.assert_run_processes_gone(REPLY);
}

#[test]
fn shards_run_side_by_side_and_set_up_each_module_once() {
    let dir = tempfile::tempdir().unwrap();
    let meet = dir.path().join("meet");
    std::fs::create_dir(&meet).unwrap();
    let mut daemon = Daemon::start();
    // Each of these two tests waits for the other to have started: they pass only when the shards run together.
    let (_, mut params) = sharded(&daemon, "shards", &["test_meet_a.py", "test_meet_b.py"], json!(2));
    params["env"]["PYTESTD_E2E_MEET"] = json!(meet.display().to_string());
    let run = daemon.run(params, RUN);
    assert_status(&run, "passed");
    assert_eq!(
        result(&run, "test_meet_a.py::test_meets_b")["outcome"],
        "passed",
        "{run}"
    );
    assert_eq!(
        result(&run, "test_meet_b.py::test_meets_a")["outcome"],
        "passed",
        "{run}"
    );

    let log = dir.path().join("setup.log");
    let modules = ["test_module_a.py", "test_module_b.py", "test_module_c.py"];
    let (_, mut params) = sharded(&daemon, "shards", &modules, json!(2));
    params["env"]["PYTESTD_E2E_LOG"] = json!(log.display().to_string());
    let run = daemon.run(params, RUN);
    assert_status(&run, "failed");
    let lines = std::fs::read_to_string(&log).unwrap();
    let setups: Vec<(&str, &str)> = lines.lines().filter_map(|l| l.split_once(' ')).collect();
    let names: BTreeSet<&str> = setups.iter().map(|(module, _)| *module).collect();
    assert_eq!(setups.len(), 3, "each module's fixture once: {lines}");
    assert_eq!(names.len(), 3, "{lines}");
    let pids: BTreeSet<&str> = setups.iter().map(|(_, pid)| *pid).collect();
    assert_eq!(pids.len(), 2, "two pytest processes: {lines}");
}

#[test]
fn cancelling_a_sharded_run_stops_every_shard_and_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let mut daemon = Daemon::start();
    let (run_id, mut params) = sharded(&daemon, "shards", &["test_block_a.py", "test_block_b.py"], json!(2));
    params["env"]["PYTESTD_E2E_GATE"] = json!(gate.display().to_string());
    let request = daemon.request("runTests", params);
    daemon.wait_until_messages("a test started in both shards", RUN, |messages| {
        let started: BTreeSet<u64> = messages
            .iter()
            .filter(|m| m["method"] == "testStarted" && m["params"]["runId"] == run_id.as_str())
            .filter_map(|m| m["params"]["shard"].as_u64())
            .collect();
        started.len() == 2
    });
    let cancelled = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(cancelled["state"], "cancelled");
    let run = daemon.response(request, RUN).unwrap();
    assert_status(&run, "cancelled");
    daemon.assert_run_processes_gone(REPLY);
    let again = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(again["state"], "alreadyFinished");
}

#[test]
fn shards_take_slots_queue_behind_max_parallel_and_a_cancel_keeps_queued_ones_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let mut daemon = Daemon::start_with(json!({"maxParallel": 1}));
    let (run_id, mut params) = sharded(&daemon, "shards", &["test_block_a.py", "test_block_b.py"], json!(2));
    params["env"]["PYTESTD_E2E_GATE"] = json!(gate.display().to_string());
    let request = daemon.request("runTests", params);
    let started = daemon.wait_run_notification("testStarted", &run_id, RUN);
    let queued = daemon.wait_run_notification("runQueued", &run_id, RUN);
    assert_ne!(
        started["shard"], queued["shard"],
        "one shard runs, the other waits: {started} {queued}"
    );

    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    assert_eq!(
        (list["running"].as_u64(), list["queued"].as_u64()),
        (Some(1), Some(1)),
        "{list}"
    );
    let runs = list["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "the run is listed once: {list}");
    assert_eq!(runs[0]["runId"], run_id);
    assert_eq!(runs[0]["state"], "running");
    let states: Vec<&str> = runs[0]["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.len(), 2, "{list}");
    assert!(states.contains(&"running") && states.contains(&"queued"), "{list}");

    daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    let run = daemon.response(request, RUN).unwrap();
    assert_status(&run, "cancelled");
    let waiting = queued["shard"].as_u64().unwrap();
    assert!(
        !shards_of(&daemon, "runStarted", &run_id).contains(&waiting),
        "the queued shard never started"
    );
    daemon.assert_run_processes_gone(REPLY);
}

#[test]
fn a_shard_that_kills_itself_keeps_the_other_shards_results_and_names_the_tests_it_lost() {
    let mut daemon = Daemon::start();
    let ids = [
        "test_kill.py::test_a_passes",
        "test_kill.py::test_b_kills",
        "test_kill.py::test_c_lost",
        "test_kill.py::test_d_lost",
        "test_module_a.py",
        "test_module_c.py",
    ];
    let (_, mut params) = sharded(&daemon, "shards", &ids, json!(3));
    params["env"]["PYTESTD_E2E_KILL"] = json!("1");
    let run = daemon.run(params, RUN);
    assert_status(&run, "error");
    assert_eq!(run["signal"], "SIGKILL", "{run}");
    // The other shards ran to their end.
    for module in ["test_module_a.py", "test_module_c.py"] {
        for test in ["test_one", "test_two", "test_param[3]"] {
            assert_eq!(result(&run, &format!("{module}::{test}"))["outcome"], "passed");
        }
        assert_eq!(result(&run, &format!("{module}::test_xfail"))["outcome"], "xfailed");
    }
    // The crashed shard: what ran before is kept, the killer is blamed, the rest is named as lost.
    assert_eq!(result(&run, "test_kill.py::test_a_passes")["outcome"], "passed");
    let killer = result(&run, "test_kill.py::test_b_kills");
    assert_eq!(killer["outcome"], "error", "{killer}");
    for lost in ["test_kill.py::test_c_lost", "test_kill.py::test_d_lost"] {
        let test = result(&run, lost);
        assert_eq!(test["outcome"], "error", "{test}");
        assert!(
            test["message"].as_str().unwrap().starts_with("not run: shard"),
            "{test}"
        );
    }
    let errors = errors_text(&run);
    assert!(
        errors.contains("ended before it ran 2 test(s)") && errors.contains("test_kill.py::test_c_lost"),
        "{errors}"
    );
    assert_eq!(result_ids(&run).len(), 4 + 2 * 7, "{:?}", result_ids(&run));
    daemon.assert_run_processes_gone(REPLY);
}

#[test]
fn shards_must_be_a_positive_count_or_auto() {
    let mut daemon = Daemon::start();
    for bad in [json!(0), json!(-2), json!("many"), json!(1.5), json!(100_000)] {
        let (_, params) = sharded(&daemon, "shards", &["test_module_a.py"], bad.clone());
        let err = daemon.call("runTests", params, REPLY).unwrap_err();
        assert_eq!(err.code, -32602, "{bad}: {err:?}");
        assert!(err.message.contains("shards"), "{bad}: {err:?}");
    }
    let (_, mut params) = sharded(&daemon, "shards", &["test_module_a.py"], json!(2));
    params["debug"] = json!(true);
    let err = daemon.call("runTests", params, REPLY).unwrap_err();
    assert_eq!(err.code, -32602, "{err:?}");
    assert!(err.message.contains("shards"), "{err:?}");
    // "auto" and 1 are fine.
    for ok in [json!("auto"), json!(1)] {
        let (_, params) = sharded(&daemon, "shards", &["test_module_a.py"], ok.clone());
        let run = daemon.run(params, RUN);
        assert_status(&run, "passed");
        assert_eq!(outcomes(&run).len(), 7, "{ok}: {run}");
    }
}

/// A project in a temporary directory: `files` (name, text), and the cache plugin off.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pytest.ini"),
        "[pytest]\naddopts = -p no:cacheprovider\n",
    )
    .unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The log lines of a `--json` run.
fn log_lines(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "log")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

const TWO_TESTS: &str = "def test_x():\n    pass\n\n\ndef test_y():\n    pass\n";

#[test]
fn the_cli_splits_by_remembered_files_until_the_project_changes_and_never_loses_a_new_test() {
    let cache = tempfile::tempdir().unwrap();
    let proj = project(&[
        ("tests/test_a.py", TWO_TESTS),
        ("tests/test_b.py", TWO_TESTS),
        ("tests/sub/test_c.py", TWO_TESTS),
    ]);
    let run = |expect: usize, how: &str| {
        let out = cli_in(proj.path(), &["run", "--shards", "2", "--json"], cache.path());
        assert_eq!(code(&out), 0, "{}", describe(&out));
        let events = events(&out);
        assert_eq!(event_ids(&events).len(), expect, "{}", describe(&out));
        let runs: BTreeSet<&str> = events.iter().filter_map(|e| e["runId"].as_str()).collect();
        assert_eq!(runs.len(), 1, "one run id");
        let logs = log_lines(&events);
        assert!(
            logs.iter().any(|l| l.contains("2 shards by file") && l.contains(how)),
            "files found {how}: {logs:#?}"
        );
        event_ids(&events)
    };
    run(6, "by collecting");
    run(6, "remembered");
    // A test added to a file that is split whole runs; a new file makes the tree differ and is collected.
    std::fs::write(
        proj.path().join("tests/test_a.py"),
        format!("{TWO_TESTS}\n\ndef test_z():\n    pass\n"),
    )
    .unwrap();
    assert!(run(7, "remembered").contains("tests/test_a.py::test_z"));
    std::fs::write(proj.path().join("tests/sub/test_new.py"), TWO_TESTS).unwrap();
    let ids = run(9, "by collecting");
    assert!(ids.contains("tests/sub/test_new.py::test_y"), "{ids:?}");
    run(9, "remembered");
}

#[test]
fn store_durations_writes_pytest_splits_file_and_duration_partitions_cover_every_test_once() {
    let cache = tempfile::tempdir().unwrap();
    let proj = project(&[
        ("test_heavy.py", TWO_TESTS),
        ("test_l1.py", TWO_TESTS),
        ("test_l2.py", TWO_TESTS),
        ("test_l3.py", TWO_TESTS),
    ]);
    let root = proj.path().display().to_string();
    let stored = cli(&["run", &root, "--store-durations", "-q"], cache.path());
    assert_eq!(code(&stored), 0, "{}", describe(&stored));
    let default = proj.path().join(".test_durations");
    let written: BTreeMap<String, f64> = serde_json::from_slice(&std::fs::read(&default).unwrap()).unwrap();
    assert_eq!(written.len(), 8, "{written:?}");
    assert!(written.values().all(|s| *s >= 0.0));

    // A committed file says test_heavy.py takes most of the time: it gets a machine of its own.
    let file = proj.path().join("durations.json");
    let mut durations: BTreeMap<String, f64> = written.keys().map(|id| (id.clone(), 0.5)).collect();
    durations.insert("test_heavy.py::test_x".into(), 10.0);
    std::fs::write(&file, serde_json::to_vec(&durations).unwrap()).unwrap();
    let mut union = BTreeSet::new();
    let mut shares = Vec::new();
    for m in 1..=2 {
        let partition = format!("duration:{m}/2");
        let run = cli(
            &[
                "run",
                &root,
                "--partition",
                &partition,
                "--durations-path",
                file.to_str().unwrap(),
                "--json",
            ],
            cache.path(),
        );
        assert_eq!(code(&run), 0, "{partition}: {}", describe(&run));
        let ids = event_ids(&events(&run));
        for id in &ids {
            assert!(union.insert(id.clone()), "{id} ran in two partitions");
        }
        shares.push(ids);
    }
    assert_eq!(union, written.keys().cloned().collect(), "every test once");
    let heavy: BTreeSet<String> = ["test_heavy.py::test_x", "test_heavy.py::test_y"]
        .map(String::from)
        .into();
    assert_eq!(shares[0], heavy);

    // `--store-durations=FILE` merges into the file it names; tests that did not run keep their entry.
    let named = proj.path().join("named.json");
    std::fs::write(&named, r#"{"gone.py::test_old": 1.5}"#).unwrap();
    let one = format!("{root}/test_l1.py");
    let again = cli(
        &["run", &one, &format!("--store-durations={}", named.display())],
        cache.path(),
    );
    assert_eq!(code(&again), 0, "{}", describe(&again));
    let merged: BTreeMap<String, f64> = serde_json::from_slice(&std::fs::read(&named).unwrap()).unwrap();
    let keys: Vec<&str> = merged.keys().map(String::as_str).collect();
    assert_eq!(keys, ["gone.py::test_old", "test_l1.py::test_x", "test_l1.py::test_y"]);
}

#[test]
fn a_partition_whose_durations_file_is_broken_is_a_usage_error() {
    let cache = tempfile::tempdir().unwrap();
    let proj = project(&[("test_a.py", TWO_TESTS)]);
    std::fs::write(proj.path().join(".test_durations"), "not json").unwrap();
    let root = proj.path().display().to_string();
    let run = cli(&["run", &root, "--partition", "duration:1/2"], cache.path());
    assert_eq!(code(&run), 4, "{}", describe(&run));
    // Without any file every test counts the same.
    std::fs::remove_file(proj.path().join(".test_durations")).unwrap();
    let run = cli(&["run", &root, "--partition", "duration:1/1", "--json"], cache.path());
    assert_eq!(code(&run), 0, "{}", describe(&run));
    assert_eq!(event_ids(&events(&run)).len(), 2);
}
