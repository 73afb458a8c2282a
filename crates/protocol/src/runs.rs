//! Requests about runs (`runTests`, `cancelRun`, `listRuns`) and the results they answer with.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// Parameters of `runTests`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunTestsParams {
    /// Client-chosen id, unique among live runs; a new UUID v4 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Absolute project directory; pytest runs there with `--rootdir=<cwd>`.
    pub cwd: String,
    /// pytest node ids relative to `cwd` (absolute paths accepted); absent or empty runs the whole suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_ids: Option<Vec<String>>,
    /// Extra pytest arguments for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Python interpreter for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// Environment variables for this run, over the daemon's `env` setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// Time limit for the whole run in milliseconds; the run ends with status `timedOut` past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Memory limit: RSS summed over the run's process group, in bytes; a run over it is killed (status `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_bytes: Option<u64>,
    /// Stop the whole run when a module fails to collect, as plain pytest does. By default (false) the broken
    /// module is reported in `collectionErrors` and every other module's tests still run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_on_collection_errors: Option<bool>,
    /// `summary`: the response leaves out `results` (every result was already sent as `testResult`), so the
    /// daemon need not hold a large run's results; default `full`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<ResultsMode>,
    /// Run pytest under debugpy, waiting for a DAP client (`debugReady` says where).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug: Option<crate::debug::DebugParam>,
    /// Measure coverage with coverage.py; the result carries it in `coverage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<crate::coverage::CoverageParam>,
    /// Start pytest from the project's warm template when there is a ready one (default: the `warmStart`
    /// setting); `false` always starts a fresh interpreter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm: Option<bool>,
    /// Split the run by file across this many pytest processes (`N` or `"auto"`), balanced by remembered
    /// durations; notifications say which shard, and the result is merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<crate::shards::Shards>,
}

/// What the `runTests` response carries of the results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResultsMode {
    /// Every result, keyed by test id.
    #[default]
    Full,
    /// Counts only (`summary`); the results went out as `testResult` notifications.
    Summary,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunStatus {
    /// pytest exited 0 (or 5: nothing to run).
    Passed,
    /// pytest exited 1: some test failed.
    Failed,
    /// The run was cancelled by `cancelRun`, `$/cancelRequest` or the daemon's shutdown.
    Cancelled,
    /// The run exceeded its `timeoutMs`.
    TimedOut,
    /// The run could not complete: pytest crashed, was killed by a signal, exited 2/3/4, or could not start.
    Error,
}

impl RunStatus {
    /// The status as it is spelled on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timedOut",
            Self::Error => "error",
        }
    }
}

/// Outcome of one test: the worst of its setup, call and teardown phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Every phase passed.
    Passed,
    /// The call failed (or a strict xfail passed).
    Failed,
    /// The test was skipped.
    Skipped,
    /// Setup or teardown failed.
    Error,
    /// The test failed as expected (`xfail`).
    Xfailed,
    /// The test passed although marked `xfail` (not strict).
    Xpassed,
}

/// Test phase a result comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum When {
    /// Fixture setup.
    Setup,
    /// The test function itself.
    Call,
    /// Fixture teardown.
    Teardown,
}

/// A place in a source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Path relative to the run's `cwd` (absolute when the file lies outside it).
    pub path: String,
    /// 1-based line number.
    pub line: u32,
}

/// One frame of a failure's traceback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Path relative to the run's `cwd` (absolute when the file lies outside it).
    pub path: String,
    /// 1-based line number.
    pub line: u32,
    /// The function (or `<module>`) the frame runs.
    pub name: String,
}

/// A file that pytest could not collect (an import error, a syntax error, an error raised at import time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionError {
    /// The collector's node id as pytest names it (usually the file, relative to `cwd`).
    pub node_id: String,
    /// The file, relative to `cwd` (absolute when it lies outside it).
    pub path: String,
    /// 1-based line the error points at, when one is known (a syntax error's line, the failing import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// One line: the exception, such as `ModuleNotFoundError: No module named 'nope'`.
    pub message: String,
    /// pytest's full description of the error.
    pub traceback: String,
}

/// The result of one test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// pytest node id, relative to the run's `cwd`.
    pub test_id: String,
    /// What happened.
    pub outcome: Outcome,
    /// The phase that decided the outcome, when it is not a plain pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
    /// Assertion text, skip reason or xfail reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// pytest's failure report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceback: Option<String>,
    /// Where the test is defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Time spent in all phases, in milliseconds.
    pub duration_ms: f64,
    /// Output captured from the test's stdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    /// Output captured from the test's stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// Log records captured while the test ran (pytest's "Captured log" sections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// Each phase's own outcome, when setup or teardown failed (then pytest reports more than the one outcome:
    /// a passing test whose teardown fails is "1 passed, 1 error" in its summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<PhaseOutcomes>,
    /// Results of the test's subtests (`subtests` fixture, `unittest.TestCase.subTest`), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtests: Vec<SubtestResult>,
    /// The deciding failure's traceback, outermost frame first; pytest's and pluggy's own frames left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<Frame>,
    /// Where an editor shows the failure: the innermost frame inside `cwd` (outside installed packages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_location: Option<Location>,
    /// For a failed `assert actual == expected`: the right side, pretty-printed (a string as it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// For a failed `assert actual == expected`: the left side, pretty-printed (a string as it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

impl TestResult {
    /// A result with only its id and outcome; the other fields empty.
    pub fn new(test_id: &str, outcome: Outcome) -> Self {
        Self {
            test_id: test_id.to_owned(),
            outcome,
            when: None,
            message: None,
            traceback: None,
            location: None,
            duration_ms: 0.0,
            stdout: None,
            stderr: None,
            log: None,
            phases: None,
            subtests: Vec::new(),
            frames: Vec::new(),
            failure_location: None,
            expected: None,
            actual: None,
        }
    }
}

/// The outcome of each phase of a test that ran (absent: the phase did not run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseOutcomes {
    /// Fixture setup: `passed`, `skipped` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<Outcome>,
    /// The test function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Outcome>,
    /// Fixture teardown: `passed` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teardown: Option<Outcome>,
}

/// A collector pytest skipped as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionSkip {
    /// The collector's node id (a module's path relative to `cwd`).
    pub node_id: String,
    /// The skip reason.
    pub reason: String,
}

/// A process of the run that had left its process group (a daemonized grandchild) and was killed when the run
/// ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EscapedProcess {
    /// Its process id.
    pub pid: u32,
    /// Its command line (its name when the command line cannot be read), cut to a readable length.
    pub command: String,
}

/// A warning pytest recorded (its "warnings summary").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// The warning's text.
    pub message: String,
    /// Its class (`DeprecationWarning`, `PytestUnknownMarkWarning`, …).
    pub category: String,
    /// Where it was raised, relative to `cwd` when inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based line where it was raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The test (or collector) it was raised in; absent for warnings outside any (configuration, collection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
}

/// The result of one subtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubtestResult {
    /// How pytest names it: the message and parameters given to `subtests.test(...)` / `subTest(...)`, e.g.
    /// `[custom message] (i=3)`.
    pub description: String,
    /// `passed`, `failed`, `skipped`, `xfailed` or `xpassed`.
    pub outcome: Outcome,
    /// Assertion text or skip reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// pytest's failure report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceback: Option<String>,
    /// Time spent, in milliseconds.
    pub duration_ms: f64,
}

/// Count of tests per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Tests with a result.
    pub total: u64,
    /// Outcome `passed`.
    pub passed: u64,
    /// Outcome `failed`.
    pub failed: u64,
    /// Outcome `skipped`.
    pub skipped: u64,
    /// Outcome `error`.
    pub errors: u64,
    /// Outcome `xfailed`.
    pub xfailed: u64,
    /// Outcome `xpassed`.
    pub xpassed: u64,
}

impl Summary {
    /// Counts one outcome.
    pub fn add(&mut self, outcome: Outcome) {
        self.total += 1;
        *self.slot(outcome) += 1;
    }

    /// Takes back one outcome, when a later phase changes a test's result.
    pub fn remove(&mut self, outcome: Outcome) {
        self.total = self.total.saturating_sub(1);
        let slot = self.slot(outcome);
        *slot = slot.saturating_sub(1);
    }

    fn slot(&mut self, outcome: Outcome) -> &mut u64 {
        match outcome {
            Outcome::Passed => &mut self.passed,
            Outcome::Failed => &mut self.failed,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Error => &mut self.errors,
            Outcome::Xfailed => &mut self.xfailed,
            Outcome::Xpassed => &mut self.xpassed,
        }
    }
}

/// What a run's process group used, from samples taken while it ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// Highest resident memory seen, summed over the process group, in bytes.
    pub peak_rss_bytes: u64,
    /// CPU time (user + system) of the group's processes, their reaped children included, in milliseconds.
    pub cpu_ms: u64,
}

/// The response to `runTests`, sent when the run ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunTestsResult {
    /// The run's id.
    pub run_id: String,
    /// How the run ended.
    pub status: RunStatus,
    /// pytest's exit code, when it exited on its own.
    pub exit_code: Option<i32>,
    /// Name of the signal that killed pytest (`SIGKILL`, …), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// Count of tests per outcome.
    pub summary: Summary,
    /// Every test result, keyed by test id.
    pub results: HashMap<String, TestResult>,
    /// Collection errors and run failures, as readable text.
    pub errors: Vec<String>,
    /// Files that failed to collect, one entry each (also described in `errors`).
    #[serde(default)]
    pub collection_errors: Vec<CollectionError>,
    /// Collectors skipped as a whole (a module calling `pytest.skip(allow_module_level=True)`): no test of
    /// theirs is collected; pytest counts each as a skip.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collection_skips: Vec<CollectionSkip>,
    /// Warnings pytest recorded, in order (the first thousand; `warningCount` counts them all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// How many warnings pytest recorded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warning_count: u64,
    /// Time from start of the pytest process to the end of the run, in milliseconds.
    pub duration_ms: u64,
    /// Time spent waiting for a slot, in milliseconds.
    pub queued_ms: u64,
    /// Memory and CPU the run used.
    pub resources: Resources,
    /// What coverage.py measured, for a coverage run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<crate::coverage::CoverageResult>,
    /// Processes of the run that had left its process group and were killed when it ended (also described in
    /// `errors`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escaped_processes: Vec<EscapedProcess>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Parameters of `cancelRun`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRunParams {
    /// The run to cancel.
    pub run_id: String,
}

/// What `cancelRun` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CancelState {
    /// The run was queued or running and is now being stopped.
    Cancelled,
    /// The run had already ended.
    AlreadyFinished,
}

/// The response to `cancelRun`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRunResult {
    /// The run asked about.
    pub run_id: String,
    /// What happened to it.
    pub state: CancelState,
}

/// Parameters of `listRuns` (none yet; an empty object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRunsParams {}

/// Where a live run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunState {
    /// Waiting for a slot.
    Queued,
    /// Its pytest process is running (or being stopped).
    Running,
}

/// One live run in `listRuns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunInfo {
    /// The run's id.
    pub run_id: String,
    /// Queued or running.
    pub state: RunState,
    /// The project directory.
    pub cwd: String,
    /// pytest's process id, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Tests with a result so far.
    pub test_count: u64,
    /// Time since the request arrived, in milliseconds.
    pub elapsed_ms: u64,
    /// Resident memory of the process group at the last sample, in bytes.
    pub rss_bytes: u64,
    /// Highest resident memory seen so far, in bytes.
    pub peak_rss_bytes: u64,
    /// CPU time used so far, in milliseconds.
    pub cpu_ms: u64,
    /// A sharded run's shards (the figures above are their sums, and `pid` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<Vec<crate::shards::ShardInfo>>,
}

/// A run that ended badly, kept so a client can see what went wrong across runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunFailure {
    /// The run.
    pub run_id: String,
    /// Its project directory.
    pub cwd: String,
    /// `error` or `timedOut`.
    pub status: RunStatus,
    /// Why, in a sentence.
    pub reason: String,
    /// How long ago it ended, in milliseconds.
    pub ended_ms_ago: u64,
}

/// The response to `listRuns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRunsResult {
    /// Live runs, running first, then queued in FIFO order.
    pub runs: Vec<RunInfo>,
    /// Current limit on parallel pytest processes.
    pub max_parallel: u32,
    /// Runs holding a slot.
    pub running: u32,
    /// Runs waiting for a slot.
    pub queued: u32,
    /// The most recent runs that crashed, failed to start, were killed or timed out; newest first.
    pub recent_failures: Vec<RunFailure>,
    /// The warm templates runs are forked from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<crate::warm::WarmTemplate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_params_need_cwd_and_name_unknown_fields() {
        let err = serde_json::from_str::<RunTestsParams>(r#"{"testIds":[]}"#).unwrap_err();
        assert!(err.to_string().contains("cwd"), "{err}");
        let err = serde_json::from_str::<RunTestsParams>(r#"{"cwd":"/p","tesIds":[]}"#).unwrap_err();
        assert!(err.to_string().contains("tesIds"), "{err}");
    }

    #[test]
    fn test_result_serializes_camel_case_without_empty_fields() {
        let r = TestResult {
            test_id: "t.py::a".into(),
            outcome: Outcome::Xfailed,
            when: Some(When::Call),
            message: Some("why".into()),
            traceback: None,
            location: Some(Location {
                path: "t.py".into(),
                line: 3,
            }),
            duration_ms: 1.5,
            stdout: None,
            stderr: None,
            subtests: Vec::new(),
            ..TestResult::new("t.py::a", Outcome::Passed)
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"testId":"t.py::a","outcome":"xfailed","when":"call","message":"why","location":{"path":"t.py","line":3},"durationMs":1.5}"#
        );
    }

    #[test]
    fn summary_moves_a_test_between_outcomes() {
        let mut s = Summary::default();
        s.add(Outcome::Passed);
        s.remove(Outcome::Passed);
        s.add(Outcome::Error);
        assert_eq!((s.total, s.passed, s.errors), (1, 0, 1));
    }

    #[test]
    fn statuses_are_camel_case() {
        for status in [
            RunStatus::Passed,
            RunStatus::Failed,
            RunStatus::Cancelled,
            RunStatus::TimedOut,
            RunStatus::Error,
        ] {
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
        }
        assert_eq!(
            serde_json::to_string(&CancelState::AlreadyFinished).unwrap(),
            r#""alreadyFinished""#
        );
    }
}
