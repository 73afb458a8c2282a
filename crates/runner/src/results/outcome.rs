//! Turns a test's phase reports into the one result pytestd gives per test: the worst of its phases.

use std::collections::HashMap;

use pytestd_protocol::plugin::PhaseReport;
use pytestd_protocol::runs::{Location, Outcome, PhaseOutcomes, SubtestResult, Summary, TestResult, When};

/// Results of one run so far, and the tests still in progress.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    results: HashMap<String, TestResult>,
    /// Without kept results (`results: "summary"`), each finished test's outcome only, to count it once.
    outcomes: HashMap<String, Outcome>,
    summary_only: bool,
    summary: Summary,
    running: HashMap<String, TestResult>,
    last_started: Option<String>,
}

impl Tally {
    /// A tally that keeps only counts: each result goes out as it is made and is not held for the response.
    pub(crate) fn summary_only() -> Self {
        Self {
            summary_only: true,
            ..Self::default()
        }
    }

    /// A test is about to run, defined at `location`.
    pub(crate) fn start(&mut self, test_id: &str, location: Option<Location>) {
        self.running.insert(test_id.to_owned(), blank(test_id, location));
        self.last_started = Some(test_id.to_owned());
    }

    /// Folds one phase in; returns the test's final result when this phase ended the test.
    pub(crate) fn report(&mut self, report: PhaseReport) -> Option<TestResult> {
        let test_id = report.nodeid.clone();
        let mut result = self.running.remove(&test_id).unwrap_or_else(|| blank(&test_id, None));
        let ends_test = report.when == "teardown";
        merge(&mut result, report);
        if !ends_test {
            self.running.insert(test_id, result);
            return None;
        }
        // Each phase's outcome matters only where pytest counts more than one: a failed setup, or a teardown
        // that did not simply pass (an error, or an xfail's teardown failure, which pytest counts as xfailed).
        let counts_twice =
            |p: PhaseOutcomes| p.setup == Some(Outcome::Error) || p.teardown.is_some_and(|t| t != Outcome::Passed);
        if !result.phases.is_some_and(counts_twice) {
            result.phases = None;
        }
        Some(self.record(result))
    }

    /// Ends the tests that never finished: `why` says what stopped them. With `why` absent (a cancelled run),
    /// only tests that already reported a non-passing phase are kept.
    pub(crate) fn finish_running(&mut self, why: Option<&str>) -> Vec<TestResult> {
        let mut ended = Vec::new();
        let mut running: Vec<_> = self.running.drain().map(|(_, r)| r).collect();
        running.sort_by(|a, b| a.test_id.cmp(&b.test_id));
        for mut result in running {
            match why {
                Some(why) if result.outcome == Outcome::Passed => {
                    result.outcome = Outcome::Error;
                    result.message = Some(why.to_owned());
                }
                None if result.outcome == Outcome::Passed => continue,
                _ => {}
            }
            ended.push(self.record(result));
        }
        ended
    }

    /// The test that started most recently and has not finished, if any.
    pub(crate) fn last_running(&self) -> Option<String> {
        self.last_started
            .as_ref()
            .filter(|id| self.running.contains_key(*id))
            .cloned()
    }

    /// Counts a finished test (once per id: a test listed twice on the command line keeps its last result) and
    /// hands the result back to be sent.
    fn record(&mut self, result: TestResult) -> TestResult {
        let old = if self.summary_only {
            self.outcomes.insert(result.test_id.clone(), result.outcome)
        } else {
            self.results
                .insert(result.test_id.clone(), result.clone())
                .map(|old| old.outcome)
        };
        if let Some(old) = old {
            self.summary.remove(old);
        }
        self.summary.add(result.outcome);
        result
    }

    pub(crate) fn summary(&self) -> Summary {
        self.summary
    }

    pub(crate) fn count(&self) -> u64 {
        (self.results.len() + self.outcomes.len()) as u64
    }

    pub(crate) fn into_results(self) -> HashMap<String, TestResult> {
        self.results
    }
}

fn blank(test_id: &str, location: Option<Location>) -> TestResult {
    TestResult {
        location,
        ..TestResult::new(test_id, Outcome::Passed)
    }
}

/// How bad an outcome is; a phase replaces the test's outcome only when it is strictly worse, so a call failure
/// stays the outcome when teardown then errors too.
fn severity(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Passed => 0,
        Outcome::Skipped => 1,
        Outcome::Xfailed | Outcome::Xpassed => 2,
        Outcome::Failed | Outcome::Error => 3,
    }
}

/// The phase a report names; `None` for anything else, such as pytest-xdist's "???" for a crashed worker's test.
fn phase(when: &str) -> Option<When> {
    match when {
        "setup" => Some(When::Setup),
        "call" => Some(When::Call),
        "teardown" => Some(When::Teardown),
        _ => None,
    }
}

/// What one phase says about the test, by pytest's own rules (`_pytest.skipping`, `TestReport`).
/// A failure outside setup, call and teardown (a crashed xdist worker) is an error: the test never finished.
fn phase_outcome(report: &PhaseReport, when: Option<When>) -> Outcome {
    let xfail = report.wasxfail.is_some();
    match (report.outcome.as_str(), when) {
        ("passed", Some(When::Call)) if xfail => Outcome::Xpassed,
        ("passed", _) => Outcome::Passed,
        ("skipped", _) if xfail => Outcome::Xfailed,
        ("skipped", _) => Outcome::Skipped,
        ("failed", Some(When::Call)) => Outcome::Failed,
        _ => Outcome::Error,
    }
}

fn merge(result: &mut TestResult, mut report: PhaseReport) {
    if let Some(description) = report.subtest.take() {
        return merge_subtest(result, report, description);
    }
    let when = phase(&report.when);
    let outcome = phase_outcome(&report, when);
    result.duration_ms += report.duration * 1000.0;
    append(&mut result.stdout, report.stdout);
    append(&mut result.stderr, report.stderr);
    append(&mut result.log, report.log);
    let phases = result.phases.get_or_insert_with(PhaseOutcomes::default);
    match when {
        Some(When::Setup) => phases.setup = Some(outcome),
        Some(When::Call) => phases.call = Some(outcome),
        Some(When::Teardown) => phases.teardown = Some(outcome),
        None => {}
    }
    if severity(outcome) > severity(result.outcome) {
        result.outcome = outcome;
        result.when = when;
        result.message = match outcome {
            Outcome::Xfailed | Outcome::Xpassed => report.wasxfail.filter(|r| !r.is_empty()),
            _ => report.message,
        };
        result.traceback = report.longrepr;
        result.frames = report.frames;
        result.failure_location = report.failure_location;
        result.expected = report.expected;
        result.actual = report.actual;
    } else if let Some(longrepr) = report.longrepr {
        // A second failing phase (teardown after a failed call) keeps its report next to the first.
        let text = result.traceback.get_or_insert_with(String::new);
        text.push_str(&format!("\n\n--- {} ---\n", report.when));
        text.push_str(&longrepr);
    }
}

/// A subtest is listed on its own and leaves the test's outcome alone: pytest decides that on the test's own
/// report (failing a `subtests` test whose subtest failed, leaving a `unittest` one passed), and the plugin sends
/// that report as pytest left it. Its time is already part of the test's call phase.
fn merge_subtest(result: &mut TestResult, report: PhaseReport, description: String) {
    let outcome = phase_outcome(&report, Some(When::Call));
    let message = match outcome {
        Outcome::Xfailed | Outcome::Xpassed => report.wasxfail.filter(|r| !r.is_empty()),
        _ => report.message,
    };
    result.subtests.push(SubtestResult {
        description,
        outcome,
        message,
        traceback: report.longrepr,
        duration_ms: report.duration * 1000.0,
    });
}

fn append(into: &mut Option<String>, more: Option<String>) {
    if let Some(more) = more.filter(|m| !m.is_empty()) {
        into.get_or_insert_with(String::new).push_str(&more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(when: &str, outcome: &str) -> PhaseReport {
        PhaseReport {
            nodeid: "t.py::a".into(),
            when: when.into(),
            outcome: outcome.into(),
            wasxfail: None,
            message: None,
            longrepr: None,
            duration: 0.001,
            stdout: None,
            stderr: None,
            log: None,
            subtest: None,
            frames: Vec::new(),
            failure_location: None,
            expected: None,
            actual: None,
        }
    }

    #[test]
    fn a_summary_only_tally_counts_each_test_once_and_keeps_no_result() {
        let mut tally = Tally::summary_only();
        for _ in 0..2 {
            tally.start("t.py::a", None);
            assert!(
                tally.report(report("teardown", "passed")).is_some(),
                "the result still goes out"
            );
        }
        assert_eq!(
            (tally.summary().total, tally.summary().passed, tally.count()),
            (1, 1, 1)
        );
        assert!(tally.into_results().is_empty());
    }

    fn run(reports: Vec<PhaseReport>) -> TestResult {
        let mut tally = Tally::default();
        tally.start(
            "t.py::a",
            Some(Location {
                path: "t.py".into(),
                line: 3,
            }),
        );
        let mut last = None;
        for r in reports {
            last = tally.report(r);
        }
        last.expect("teardown ends the test")
    }

    #[test]
    fn a_passing_test_reports_only_its_teardown() {
        let r = run(vec![report("teardown", "passed")]);
        assert_eq!((r.outcome, r.when), (Outcome::Passed, None));
        assert_eq!(r.location.unwrap().line, 3);
    }

    #[test]
    fn teardown_error_after_a_passing_call_is_an_error_in_teardown() {
        let mut td = report("teardown", "failed");
        td.message = Some("RuntimeError: boom".into());
        let r = run(vec![report("call", "passed"), td]);
        assert_eq!((r.outcome, r.when), (Outcome::Error, Some(When::Teardown)));
        assert_eq!(r.message.as_deref(), Some("RuntimeError: boom"));
    }

    #[test]
    fn setup_failure_is_an_error_and_call_failure_is_a_failure() {
        let r = run(vec![report("setup", "failed"), report("teardown", "passed")]);
        assert_eq!((r.outcome, r.when), (Outcome::Error, Some(When::Setup)));
        let mut call = report("call", "failed");
        call.longrepr = Some("call trace".into());
        let mut td = report("teardown", "failed");
        td.longrepr = Some("teardown trace".into());
        let r = run(vec![call, td]);
        assert_eq!((r.outcome, r.when), (Outcome::Failed, Some(When::Call)));
        let tb = r.traceback.unwrap();
        assert!(tb.contains("call trace") && tb.contains("teardown trace"));
    }

    #[test]
    fn xfail_marks_become_xfailed_and_xpassed() {
        let mut call = report("call", "skipped");
        call.wasxfail = Some("known bug".into());
        let r = run(vec![call, report("teardown", "passed")]);
        assert_eq!(r.outcome, Outcome::Xfailed);
        assert_eq!(r.message.as_deref(), Some("known bug"));
        let mut call = report("call", "passed");
        call.wasxfail = Some(String::new());
        let r = run(vec![call, report("teardown", "passed")]);
        assert_eq!((r.outcome, r.message), (Outcome::Xpassed, None));
    }

    #[test]
    fn subtests_are_listed_and_the_test_keeps_the_outcome_pytest_gave_it() {
        let mut ok = report("call", "passed");
        ok.subtest = Some("(i=0)".into());
        let mut bad = report("call", "failed");
        bad.subtest = Some("(i=1)".into());
        bad.message = Some("assert 1 == 0".into());
        let mut parent = report("call", "failed");
        parent.message = Some("contains 1 failed subtest".into());
        let r = run(vec![ok, bad, parent, report("teardown", "passed")]);
        assert_eq!((r.outcome, r.when), (Outcome::Failed, Some(When::Call)));
        assert_eq!(r.message.as_deref(), Some("contains 1 failed subtest"));
        let outcomes: Vec<_> = r.subtests.iter().map(|s| (s.description.as_str(), s.outcome)).collect();
        assert_eq!(outcomes, [("(i=0)", Outcome::Passed), ("(i=1)", Outcome::Failed)]);
        assert!((r.duration_ms - 2.0).abs() < 1e-9, "subtest time is not counted twice");
    }

    #[test]
    fn a_failure_outside_the_three_phases_is_an_error() {
        let mut tally = Tally::default();
        tally.start("t.py::a", None);
        let mut crash = report("???", "failed");
        crash.message = Some("worker 'gw0' crashed while running 't.py::a'".into());
        assert!(tally.report(crash).is_none());
        let ended = tally.finish_running(None);
        assert_eq!((ended[0].outcome, ended[0].when), (Outcome::Error, None));
    }

    #[test]
    fn durations_and_output_add_up_across_phases() {
        let mut td = report("teardown", "passed");
        td.stdout = Some("hello\n".into());
        let r = run(vec![report("call", "skipped"), td]);
        assert_eq!(r.outcome, Outcome::Skipped);
        assert!((r.duration_ms - 2.0).abs() < 1e-9);
        assert_eq!(r.stdout.as_deref(), Some("hello\n"));
    }

    #[test]
    fn unfinished_tests_become_errors_only_when_the_run_broke() {
        let mut tally = Tally::default();
        tally.start("t.py::a", None);
        assert!(tally.finish_running(None).is_empty());
        tally.start("t.py::a", None);
        let ended = tally.finish_running(Some("pytest crashed"));
        assert_eq!(ended[0].outcome, Outcome::Error);
        assert_eq!(tally.summary().errors, 1);
    }
}
