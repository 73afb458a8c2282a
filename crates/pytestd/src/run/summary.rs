//! The end of a run: counts per outcome, the slowest tests, the failed ids, wall time, and the exit code.

use std::fmt::Write as _;
use std::time::Duration;

use pytestd_protocol::runs::{Outcome, RunStatus, RunTestsResult, Summary, TestResult};

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

/// The last line: `8 passed, 1 failed, 1 skipped in 0.31s` (`no tests ran in …` when nothing did).
pub(crate) fn final_line(summary: &Summary, wall: Duration, style: Style) -> String {
    let parts = [
        (summary.passed, "passed", Outcome::Passed),
        (summary.failed, "failed", Outcome::Failed),
        (
            summary.errors,
            if summary.errors == 1 { "error" } else { "errors" },
            Outcome::Error,
        ),
        (summary.skipped, "skipped", Outcome::Skipped),
        (summary.xfailed, "xfailed", Outcome::Xfailed),
        (summary.xpassed, "xpassed", Outcome::Xpassed),
    ];
    let counts: Vec<String> = parts
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|&(n, word, outcome)| style.outcome(outcome, &format!("{n} {word}")))
        .collect();
    let counts = if counts.is_empty() {
        "no tests ran".to_owned()
    } else {
        counts.join(", ")
    };
    format!("{counts} in {:.2}s", wall.as_secs_f64())
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
    use super::*;

    #[test]
    fn the_final_line_counts_like_pytest() {
        let summary = Summary {
            total: 10,
            passed: 8,
            failed: 1,
            skipped: 1,
            ..Summary::default()
        };
        let style = Style { color: false };
        assert_eq!(
            final_line(&summary, Duration::from_millis(310), style),
            "8 passed, 1 failed, 1 skipped in 0.31s"
        );
        assert_eq!(
            final_line(&Summary::default(), Duration::from_millis(20), style),
            "no tests ran in 0.02s"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("/a/b-c"), "/a/b-c");
        assert_eq!(shell_quote("t.py::x[a b]"), "'t.py::x[a b]'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
