//! `pytestd run` and `pytestd discover` as a person or a CI job uses them: the real binary on the fixture projects,
//! checked by exit code, by its JSON events, by its JUnit file (read by a real JUnit parser) and by the processes it
//! leaves (none).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use crate::support::{fixture, is_alive, pytest_collect_only, test_python, wait_until, RUN};

/// Tags every process one test starts, down to pytest's grandchildren (see support/procs.rs).
const MARK_VAR: &str = "PYTESTD_E2E_MARK";

/// `pytestd <args>` with the test Python (for `run` and `discover`), a private cache directory and a marker in its
/// environment.
pub(crate) fn pytestd(args: &[&str], cache: &Path, marker: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pytestd"));
    match args.split_first() {
        Some((&sub, rest)) if sub == "run" || sub == "discover" => {
            command.args([sub, "--python", &test_python()]).args(rest);
        }
        _ => {
            command.args(args);
        }
    }
    command
        .env("XDG_CACHE_HOME", cache)
        .env(MARK_VAR, marker)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("NO_COLOR");
    command
}

/// Runs `pytestd <args>` to its end.
pub(crate) fn cli(args: &[&str], cache: &Path) -> Output {
    cli_in(&std::env::current_dir().expect("a current directory"), args, cache)
}

/// Runs `pytestd <args>` to its end in directory `dir`.
pub(crate) fn cli_in(dir: &Path, args: &[&str], cache: &Path) -> Output {
    let output = pytestd(args, cache, &uuid::Uuid::new_v4().to_string())
        .current_dir(dir)
        .output()
        .expect("run pytestd");
    assert!(output.status.code().is_some(), "pytestd died of a signal: {output:?}");
    output
}

pub(crate) fn code(output: &Output) -> i32 {
    output.status.code().expect("pytestd exited on its own")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub(crate) fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every stdout line of a `--json` run, parsed; panics naming a line that is not JSON.
pub(crate) fn events(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}")))
        .collect()
}

/// The ids of the `testResult` events.
pub(crate) fn result_ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .filter(|e| e["event"] == "testResult")
        .map(|e| e["testId"].as_str().expect("testId").to_owned())
        .collect()
}

fn outcomes() -> String {
    fixture("outcomes")
}

#[test]
fn exit_codes_mirror_pytest() {
    let cache = tempfile::tempdir().unwrap();
    let one = format!("{}/test_outcomes.py::test_pass", outcomes());
    let all_pass = cli(&["run", &one], cache.path());
    assert_eq!(code(&all_pass), 0, "{}", describe(&all_pass));
    let text = stdout(&all_pass);
    assert!(!text.contains('\u{1b}'), "escape codes off a terminal: {text:?}");
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("1 passed in ") && last.ends_with('s'),
        "{}",
        describe(&all_pass)
    );

    let some_fail = cli(&["run", &outcomes()], cache.path());
    assert_eq!(code(&some_fail), 1, "{}", describe(&some_fail));
    let text = stdout(&some_fail);
    assert!(
        text.contains("test_outcomes.py::test_fail") && text.contains("assert 1 == 2"),
        "{text}"
    );
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("7 passed, 2 failed, 2 errors, 2 skipped, 1 xfailed, 1 xpassed in "),
        "{text}"
    );

    let none = cli(&["run", &fixture("empty")], cache.path());
    assert_eq!(code(&none), 5, "{}", describe(&none));

    let bad_pytest_args = cli(&["run", &outcomes(), "--", "--no-such-option"], cache.path());
    assert_eq!(code(&bad_pytest_args), 4, "{}", describe(&bad_pytest_args));
    let no_dir = cli(&["run", "/no/such/project/dir"], cache.path());
    assert_eq!(code(&no_dir), 4, "{}", describe(&no_dir));
    let bad_flag = cli(&["run", &outcomes(), "--partition", "slice:4/3"], cache.path());
    assert_eq!(code(&bad_flag), 4, "{}", describe(&bad_flag));
}

#[test]
fn help_and_version_succeed() {
    let cache = tempfile::tempdir().unwrap();
    let version = cli(&["--version"], cache.path());
    assert_eq!(code(&version), 0);
    assert!(stdout(&version).starts_with("pytestd "), "{}", describe(&version));
    let help = cli(&["run", "--help"], cache.path());
    assert_eq!(code(&help), 0);
    assert!(stdout(&help).contains("--junit-xml"), "{}", describe(&help));
}

#[test]
fn sigint_cancels_the_run_prints_what_ran_and_exits_2_leaving_no_process() {
    let cache = tempfile::tempdir().unwrap();
    let marker = uuid::Uuid::new_v4().to_string();
    let mut child = pytestd(
        &["run", &format!("{}/test_slow.py", fixture("slow")), "--json"],
        cache.path(),
        &marker,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn pytestd");
    let (tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + RUN;
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|e| panic!("no testStarted for test_sleeps ({e}); saw {seen:?}"));
        let event: Value = serde_json::from_str(&line).expect("a JSON event");
        seen.push(event.clone());
        if event["event"] == "testStarted" && event["testId"] == "test_slow.py::test_sleeps" {
            break;
        }
    }
    assert!(!marked_pids(&marker, child.id()).is_empty(), "pytest is not running");
    kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), Signal::SIGINT).unwrap();

    let status = wait_with_timeout(&mut child, Duration::from_secs(15));
    reader.join().unwrap();
    seen.extend(
        lines
            .try_iter()
            .map(|line| serde_json::from_str::<Value>(&line).expect("a JSON event")),
    );
    assert_eq!(status.code(), Some(2), "events: {seen:?}");
    let finished = seen.last().expect("events");
    assert_eq!(finished["event"], "runFinished", "{finished}");
    assert_eq!(finished["status"], "cancelled", "{finished}");
    assert_eq!(
        finished["result"]["results"]["test_slow.py::test_quick"]["outcome"], "passed",
        "what ran before the Ctrl-C is kept: {finished}"
    );
    wait_until(Duration::from_secs(5), "every pytest process to be gone", || {
        marked_pids(&marker, 0).is_empty()
    });
}

#[test]
fn junit_xml_is_read_by_a_real_junit_parser() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let run = cli(
        &[
            "run",
            &outcomes(),
            "--junit-xml",
            report.to_str().unwrap(),
            "-q",
            "--",
            "-o",
            "junit_logging=out-err",
        ],
        cache.path(),
    );
    assert_eq!(code(&run), 1, "{}", describe(&run));
    let parsed = Command::new(test_python())
        .args(["-c", JUNIT_CHECK, report.to_str().unwrap()])
        .output()
        .expect("run the JUnit parser");
    assert!(
        parsed.status.success(),
        "junitparser refused the report: {}\n{}",
        String::from_utf8_lossy(&parsed.stderr),
        std::fs::read_to_string(&report).unwrap_or_default()
    );
    let parsed: Value = serde_json::from_slice(&parsed.stdout).expect("the parser's JSON");
    assert_eq!(parsed["suite"], serde_json::json!([14, 2, 2, 3]), "{parsed}");
    let case = |name: &str| &parsed["cases"][format!("test_outcomes.{name}")];
    assert_eq!(case("test_fail")["results"], serde_json::json!(["failure"]), "{parsed}");
    assert!(
        case("test_fail")["text"].as_str().unwrap().contains("assert 1 == 2"),
        "{parsed}"
    );
    assert_eq!(case("test_setup_error")["results"], serde_json::json!(["error"]));
    assert_eq!(case("test_skip")["results"], serde_json::json!(["skipped"]));
    assert_eq!(case("test_pass")["results"], serde_json::json!([]));
    assert_eq!(case("TestGroup.test_in_class")["results"], serde_json::json!([]));
    // With pytest's junit_logging, captured output goes where pytest puts it, under pytest's header.
    let out = case("test_prints")["out"].as_str().unwrap_or_default().to_owned();
    assert!(
        out.contains("Captured Out") && out.contains("hello stdout\n"),
        "{parsed}"
    );
    let err = case("test_prints")["err"].as_str().unwrap_or_default().to_owned();
    assert!(
        err.contains("Captured Err") && err.contains("hello stderr\n"),
        "{parsed}"
    );
}

/// Parses a JUnit file with junitparser and prints what the test checks, as JSON.
const JUNIT_CHECK: &str = r#"
import json, sys
from junitparser import JUnitXml, TestSuite
xml = JUnitXml.fromfile(sys.argv[1])
suites = [s for s in xml if isinstance(s, TestSuite)]
assert len(suites) == 1, suites
suite = suites[0]
cases = {}
for case in suite:
    results = [type(r).__name__.lower() for r in case.result]
    text = "".join((r.text or "") for r in case.result)
    cases[case.classname + "." + case.name] = {
        "results": results, "text": text, "out": case.system_out, "err": case.system_err, "time": case.time,
    }
print(json.dumps({"suite": [suite.tests, suite.failures, suite.errors, suite.skipped], "cases": cases}))
"#;

#[test]
fn json_events_are_lines_for_every_test_ending_with_the_result() {
    let cache = tempfile::tempdir().unwrap();
    let run = cli(&["run", &outcomes(), "--json"], cache.path());
    assert_eq!(code(&run), 1, "{}", describe(&run));
    let events = events(&run);
    let collected: BTreeSet<String> = pytest_collect_only(&outcomes(), &[]).into_iter().collect();
    assert_eq!(result_ids(&events), collected);
    let started: BTreeSet<String> = events
        .iter()
        .filter(|e| e["event"] == "testStarted")
        .map(|e| e["testId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(started, collected);
    let run_id = events[0]["runId"].clone();
    assert!(events.iter().all(|e| e["runId"] == run_id), "one run id throughout");
    assert!(events.iter().any(|e| e["event"] == "runStarted"));
    let last = events.last().unwrap();
    assert_eq!(last["event"], "runFinished");
    assert_eq!(last["status"], "failed");
    assert_eq!(last["summary"]["total"], 14);
    assert_eq!(last["result"]["results"].as_object().unwrap().len(), 14);
    assert_eq!(
        events.iter().filter(|e| e["event"] == "runFinished").count(),
        1,
        "one runFinished"
    );
}

#[test]
fn max_parallel_is_shards_splitting_a_run_by_file_across_pytest_processes_merged_into_one_run() {
    let cache = tempfile::tempdir().unwrap();
    let wide = fixture("wide");
    // Four files and a package of ten: more files than processes; the broken file beside them is not selected.
    let selection = ["test_w00.py", "test_w01.py", "test_w02.py", "pkg"];
    let targets: Vec<String> = selection.iter().map(|s| format!("{wide}/{s}")).collect();
    let mut args = vec!["run"];
    args.extend(targets.iter().map(String::as_str));
    args.extend(["--max-parallel", "3", "--json"]);
    let run = cli(&args, cache.path());
    assert_eq!(code(&run), 0, "{}", describe(&run));
    let events = events(&run);
    let expected: BTreeSet<String> = pytest_collect_only(&wide, &selection).into_iter().collect();
    assert_eq!(expected.len(), 26);
    assert_eq!(result_ids(&events), expected);
    let runs: BTreeSet<&str> = events.iter().filter_map(|e| e["runId"].as_str()).collect();
    assert_eq!(runs.len(), 1, "one run");
    let shards: BTreeSet<u64> = events
        .iter()
        .filter(|e| e["event"] == "runStarted")
        .map(|e| e["shard"].as_u64().expect("runStarted names its shard"))
        .collect();
    assert_eq!(shards, BTreeSet::from([0, 1, 2]), "three pytest processes");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "runFinished");
    assert_eq!(last["result"]["summary"]["passed"], 26);
    assert_eq!(last["result"]["results"].as_object().unwrap().len(), 26);
}

#[test]
fn last_failed_reruns_exactly_the_tests_that_failed() {
    let cache = tempfile::tempdir().unwrap();
    let first = cli(&["run", &outcomes(), "--json"], cache.path());
    assert_eq!(code(&first), 1, "{}", describe(&first));
    let failed: BTreeSet<String> = events(&first)
        .iter()
        .filter(|e| e["event"] == "testResult" && (e["outcome"] == "failed" || e["outcome"] == "error"))
        .map(|e| e["testId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failed.len(), 4, "{failed:?}");
    let remembered = walk(&cache.path().join("pytestd"));
    let kinds: BTreeSet<String> = remembered
        .iter()
        .filter_map(|file| file.parent()?.file_name()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(
        (remembered.len(), kinds),
        (2, BTreeSet::from(["durations".to_owned(), "last-failed".to_owned()])),
        "one file of failures and one of durations under XDG_CACHE_HOME/pytestd: {remembered:?}"
    );

    let again = cli(&["run", &outcomes(), "--last-failed", "--json"], cache.path());
    assert_eq!(code(&again), 1, "{}", describe(&again));
    assert_eq!(result_ids(&events(&again)), failed);

    // Another project has its own memory: with no failures recorded, --last-failed runs everything.
    let other = cli(
        &[
            "run",
            &format!("{}/test_slow.py::test_quick", fixture("slow")),
            "--last-failed",
            "--json",
        ],
        cache.path(),
    );
    assert_eq!(code(&other), 0, "{}", describe(&other));
    assert_eq!(
        result_ids(&events(&other)),
        BTreeSet::from(["test_slow.py::test_quick".to_owned()])
    );
}

#[test]
fn partitions_split_the_selection_without_overlap_or_gap() {
    let cache = tempfile::tempdir().unwrap();
    let listed = cli(&["discover", &outcomes()], cache.path());
    assert_eq!(code(&listed), 0, "{}", describe(&listed));
    let all: BTreeSet<String> = stdout(&listed).lines().map(str::to_owned).collect();
    let collected: BTreeSet<String> = pytest_collect_only(&outcomes(), &[]).into_iter().collect();
    assert_eq!(all, collected, "discover lists what pytest collects");

    for kind in ["slice", "hash"] {
        let mut union = BTreeSet::new();
        for m in 1..=3 {
            let partition = format!("{kind}:{m}/3");
            let run = cli(&["run", &outcomes(), "--partition", &partition, "--json"], cache.path());
            let ids = match code(&run) {
                5 => BTreeSet::new(),
                0 | 1 => result_ids(&events(&run)),
                _ => panic!("{partition}: {}", describe(&run)),
            };
            for id in &ids {
                assert!(union.insert(id.clone()), "{id} ran in two {kind} partitions");
            }
        }
        assert_eq!(union, all, "the {kind} partitions together are the whole selection");
    }
}

#[test]
fn discover_json_is_the_tree() {
    let cache = tempfile::tempdir().unwrap();
    let listed = cli(&["discover", &fixture("tree"), "--json"], cache.path());
    // The fixture has a file that fails to collect: pytest --collect-only exits 2 for that, and so does discover.
    assert_eq!(code(&listed), 2, "{}", describe(&listed));
    let tree: Value = serde_json::from_slice(&listed.stdout).expect("one JSON document");
    assert_eq!(tree["status"], "complete", "{tree}");
    assert!(
        tree["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains("test_broken.py")),
        "{tree}"
    );
    let tests: BTreeSet<String> = tree["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "test")
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    let collected: BTreeSet<String> = pytest_collect_only(&fixture("tree"), &[]).into_iter().collect();
    assert_eq!(tests, collected);
}

fn wait_with_timeout(child: &mut std::process::Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait for pytestd") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("pytestd did not exit {timeout:?} after SIGINT");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Live processes carrying `marker`, other than `spared`.
fn marked_pids(marker: &str, spared: u32) -> Vec<i32> {
    let needle = format!("{MARK_VAR}={marker}").into_bytes();
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .filter(|&pid| u32::try_from(pid) != Ok(spared))
                .filter(|&pid| {
                    std::fs::read(format!("/proc/{pid}/environ"))
                        .is_ok_and(|env| env.split(|&b| b == 0).any(|var| var == needle.as_slice()))
                })
                .filter(|&pid| is_alive(pid))
                .collect()
        })
        .unwrap_or_default()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
