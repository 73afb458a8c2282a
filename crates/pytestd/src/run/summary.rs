//! The end of a run: counts per outcome, the slowest tests, the failed ids, wall time, and the exit code.

use std::fmt::Write as _;
use std::time::Duration;

use pytestd_protocol::runs::{Outcome, RunStatus, RunTestsResult, TestResult};

use super::style::Style;

/// How many of the slowest tests the summary names.
const SLOWEST: usize = 5;

/// pytest's exit codes.
pub(crate) mod exit {
    pub(crate) const OK: u8 = 0;
    pub(crate) const TESTS_FAILED: u8 = 1;
    pub(crate) const INTERRUPTED: u8 = 2;
    pub(crate) const INTERNAL_ERROR: u8 = 3;
    pub(crate) const USAGE_ERROR: u8 = 4;
    pub(crate) const NO_TESTS_COLLECTED: u8 = 5;
}

/// The exit code for a run's result, as pytest would have exited.
pub(crate) fn exit_code(result: &RunTestsResult, interrupted: bool) -> u8 {
    if interrupted || result.status == RunStatus::Cancelled {
        return exit::INTERRUPTED;
    }
    if result.status == RunStatus::Error {
        return error_code(result);
    }
    match result.exit_code {
        // pytest exited on its own: its code, when it is one of pytest's.
        Some(code) => u8::try_from(code)
            .ok()
            .filter(|&code| code <= exit::NO_TESTS_COLLECTED)
            .unwrap_or(exit::INTERNAL_ERROR),
        None => match result.status {
            RunStatus::Passed => exit::OK,
            RunStatus::Failed => exit::TESTS_FAILED,
            RunStatus::Cancelled | RunStatus::TimedOut => exit::INTERRUPTED,
            RunStatus::Error => exit::INTERNAL_ERROR,
        },
    }
}

/// A run that could not complete never exits 0, 1 or 5: those say how the tests went. pytest's own error codes
/// stand; a pytest that never got going (the interpreter not found, pytest not installed in it) is a usage error
/// (4): the command line names an interpreter that cannot run the tests; anything else (a crash, a signal, a
/// memory limit) is an internal error (3).
fn error_code(result: &RunTestsResult) -> u8 {
    match (result.exit_code, &result.signal) {
        (Some(code @ 2..=4), _) => u8::try_from(code).unwrap_or(exit::INTERNAL_ERROR),
        (_, Some(_)) => exit::INTERNAL_ERROR,
        _ if result.results.is_empty() && result.summary.total == 0 => exit::USAGE_ERROR,
        _ => exit::INTERNAL_ERROR,
    }
}

/// What pytest's own last line counts: one outcome per test phase that has one (a passing test whose teardown
/// fails is "1 passed, 1 error"), each file that failed to collect as an error, and the warnings.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) passed: u64,
    pub(crate) failed: u64,
    pub(crate) errors: u64,
    pub(crate) skipped: u64,
    pub(crate) xfailed: u64,
    pub(crate) xpassed: u64,
    pub(crate) warnings: u64,
    /// Subtests that passed; the others count under their outcome, as pytest counts them.
    pub(crate) subtests_passed: u64,
}

impl Counts {
    /// pytest's counts for a run's result.
    pub(crate) fn of(result: &RunTestsResult) -> Self {
        let mut counts = Self {
            errors: result.collection_errors.len() as u64,
            skipped: result.collection_skips.len() as u64,
            warnings: result.warning_count,
            ..Self::default()
        };
        for test in result.results.values() {
            for subtest in &test.subtests {
                match subtest.outcome {
                    Outcome::Passed => counts.subtests_passed += 1,
                    other => counts.add(other),
                }
            }
            match test.phases {
                None => counts.add(test.outcome),
                Some(phases) => {
                    if let Some(setup) = phases.setup.filter(|o| *o != Outcome::Passed) {
                        counts.add(setup);
                    } else {
                        // A passing call sends no report of its own; it ran if setup passed.
                        counts.add(phases.call.unwrap_or(Outcome::Passed));
                    }
                    if let Some(teardown) = phases.teardown.filter(|o| *o != Outcome::Passed) {
                        counts.add(teardown);
                    }
                }
            }
        }
        counts
    }

    fn add(&mut self, outcome: Outcome) {
        *match outcome {
            Outcome::Passed => &mut self.passed,
            Outcome::Failed => &mut self.failed,
            Outcome::Error => &mut self.errors,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Xfailed => &mut self.xfailed,
            Outcome::Xpassed => &mut self.xpassed,
        } += 1;
    }
}

/// The last line: `8 passed, 1 failed, 1 skipped, 2 warnings in 0.31s` (`no tests ran in …` when nothing did),
/// counted as pytest counts.
pub(crate) fn final_line(counts: &Counts, wall: Duration, style: Style) -> String {
    let plural = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    let parts = [
        (counts.passed, "passed", Some(Outcome::Passed)),
        (counts.failed, "failed", Some(Outcome::Failed)),
        (
            counts.errors,
            plural(counts.errors, "error", "errors"),
            Some(Outcome::Error),
        ),
        (counts.skipped, "skipped", Some(Outcome::Skipped)),
        (counts.xfailed, "xfailed", Some(Outcome::Xfailed)),
        (counts.xpassed, "xpassed", Some(Outcome::Xpassed)),
        (counts.warnings, plural(counts.warnings, "warning", "warnings"), None),
        (
            counts.subtests_passed,
            plural(counts.subtests_passed, "subtest passed", "subtests passed"),
            Some(Outcome::Passed),
        ),
    ];
    let counts: Vec<String> = parts
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|&(n, word, outcome)| {
            let text = format!("{n} {word}");
            match outcome {
                Some(outcome) => style.outcome(outcome, &text),
                None => style.yellow(&text),
            }
        })
        .collect();
    let counts = if counts.is_empty() {
        "no tests ran".to_owned()
    } else {
        counts.join(", ")
    };
    format!("{counts} in {:.2}s", wall.as_secs_f64())
}

/// pytest's "warnings summary": each place with its warnings; only the count under `-q`.
pub(crate) fn warnings(result: &RunTestsResult, style: Style, quiet: bool) -> String {
    let mut out = String::new();
    if result.warning_count == 0 || quiet {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        style.yellow(&format!("warnings summary ({}):", result.warning_count))
    );
    let mut by_place: Vec<(String, Vec<String>)> = Vec::new();
    for warning in &result.warnings {
        let place = warning
            .node_id
            .clone()
            .unwrap_or_else(|| match (&warning.path, warning.line) {
                (Some(path), Some(line)) => format!("{path}:{line}"),
                (Some(path), None) => path.clone(),
                _ => "(no location)".to_owned(),
            });
        let origin = match (&warning.path, warning.line) {
            (Some(path), Some(line)) => format!("{path}:{line}: "),
            _ => String::new(),
        };
        let text = format!("{origin}{}: {}", warning.category, warning.message);
        match by_place.iter_mut().find(|(p, _)| *p == place) {
            Some((_, texts)) => {
                if !texts.contains(&text) {
                    texts.push(text);
                }
            }
            None => by_place.push((place, vec![text])),
        }
    }
    for (place, texts) in by_place {
        let _ = writeln!(out, "  {place}");
        for text in texts {
            for line in text.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let shown = result.warnings.len() as u64;
    if result.warning_count > shown {
        let _ = writeln!(out, "  … and {} more", result.warning_count - shown);
    }
    out
}

/// The summary block, before the final line.
pub(crate) fn render(result: &RunTestsResult, project: &str, wall: Duration, style: Style, quiet: bool) -> String {
    let mut out = String::new();
    match result.status {
        RunStatus::Cancelled => {
            let _ = writeln!(out, "{}", style.yellow("interrupted: the run was cancelled"));
        }
        RunStatus::TimedOut => {
            let _ = writeln!(out, "{}", style.red("timed out: the run was stopped at its --timeout"));
        }
        RunStatus::Error => {
            let why = match (&result.exit_code, &result.signal) {
                (_, Some(signal)) => format!("pytest was killed by {signal}"),
                (Some(code), None) => format!("pytest exited with code {code}"),
                (None, None) => "pytest did not run".to_owned(),
            };
            let _ = writeln!(out, "{}", style.red(&format!("error: {why}")));
        }
        RunStatus::Passed | RunStatus::Failed => {}
    }
    for error in &result.errors {
        let _ = writeln!(out, "{}", style.red(error.trim_end()));
    }
    if quiet {
        return out;
    }
    let mut tests: Vec<&TestResult> = result.results.values().collect();
    if !tests.is_empty() {
        tests.sort_by(|a, b| {
            b.duration_ms
                .total_cmp(&a.duration_ms)
                .then_with(|| a.test_id.cmp(&b.test_id))
        });
        let _ = writeln!(out, "{}", style.bold("slowest tests:"));
        for test in tests.iter().take(SLOWEST) {
            let _ = writeln!(out, "  {:>9}  {}", format_ms(test.duration_ms), test.test_id);
        }
    }
    let mut failed: Vec<&str> = tests
        .iter()
        .filter(|t| matches!(t.outcome, Outcome::Failed | Outcome::Error))
        .map(|t| t.test_id.as_str())
        .collect();
    if !failed.is_empty() {
        failed.sort_unstable();
        let _ = writeln!(out, "{}", style.bold(&format!("failed ({}):", failed.len())));
        for id in &failed {
            let _ = writeln!(out, "  {}", style.red(id));
        }
        let _ = writeln!(out, "re-run them: pytestd run {} --last-failed", shell_quote(project));
    }
    let _ = writeln!(
        out,
        "wall time {:.2}s (pytest {:.2}s{})",
        wall.as_secs_f64(),
        ms_to_secs(result.duration_ms),
        if result.queued_ms > 0 {
            format!(", queued {:.2}s", ms_to_secs(result.queued_ms))
        } else {
            String::new()
        }
    );
    out
}

fn ms_to_secs(ms: u64) -> f64 {
    Duration::from_millis(ms).as_secs_f64()
}

/// `1.2 ms`, `350 ms`, `2.41 s`.
pub(crate) fn format_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// `text` as one shell word.
pub(crate) fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:+=,@".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use pytestd_protocol::runs::PhaseOutcomes;

    use super::*;

    #[test]
    fn the_final_line_counts_like_pytest() {
        let counts = Counts {
            passed: 8,
            failed: 1,
            skipped: 1,
            warnings: 1,
            ..Counts::default()
        };
        let style = Style { color: false };
        assert_eq!(
            final_line(&counts, Duration::from_millis(310), style),
            "8 passed, 1 failed, 1 skipped, 1 warning in 0.31s"
        );
        assert_eq!(
            final_line(&Counts::default(), Duration::from_millis(20), style),
            "no tests ran in 0.02s"
        );
    }

    #[test]
    fn a_failed_fixture_is_one_more_error_beside_the_tests_own_outcome() {
        let mut result: RunTestsResult = serde_json::from_value(serde_json::json!({
            "runId": "r", "status": "failed", "exitCode": 1, "summary": {"total": 0, "passed": 0, "failed": 0,
            "skipped": 0, "errors": 0, "xfailed": 0, "xpassed": 0}, "results": {}, "errors": [],
            "collectionErrors": [{"nodeId": "b.py", "path": "b.py", "message": "E", "traceback": "E"}],
            "durationMs": 1, "queuedMs": 0, "resources": {"peakRssBytes": 0, "cpuMs": 0}, "warningCount": 3
        }))
        .unwrap();
        let mut add = |id: &str, outcome: Outcome, phases: Option<PhaseOutcomes>| {
            let mut test = TestResult::new(id, outcome);
            test.phases = phases;
            result.results.insert(id.to_owned(), test);
        };
        add("a", Outcome::Passed, None);
        let teardown = PhaseOutcomes {
            teardown: Some(Outcome::Error),
            ..PhaseOutcomes::default()
        };
        add("b", Outcome::Error, Some(teardown));
        let failed_then_teardown = PhaseOutcomes {
            call: Some(Outcome::Failed),
            ..teardown
        };
        add("c", Outcome::Failed, Some(failed_then_teardown));
        let setup = PhaseOutcomes {
            setup: Some(Outcome::Error),
            ..PhaseOutcomes::default()
        };
        add("d", Outcome::Error, Some(setup));
        let counts = Counts::of(&result);
        assert_eq!(
            counts,
            Counts {
                passed: 2,
                failed: 1,
                errors: 4,
                warnings: 3,
                ..Counts::default()
            },
            "b passed then errored, c failed then errored, d errored in setup, b.py did not collect"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("/a/b-c"), "/a/b-c");
        assert_eq!(shell_quote("t.py::x[a b]"), "'t.py::x[a b]'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
