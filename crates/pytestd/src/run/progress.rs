//! The terminal report while a run goes: on a terminal an indicatif bar (counts, elapsed time, the test running)
//! with each failure printed above it as it happens; off a terminal plain lines only, no escape codes.

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pytestd_protocol::runs::{Outcome, Summary, TestResult};
use pytestd_runner::RunEvent;

use super::style::{label, Style};
use super::summary::format_ms;

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verbosity {
    /// Failures in a line each, and the final line.
    Quiet,
    /// Failures in full; on a terminal a bar, off one a line per test.
    Normal,
    /// A line per test, pytest's output, whole tracebacks.
    Verbose,
}

/// Prints a run's events for a person.
pub(crate) struct Progress {
    style: Style,
    verbosity: Verbosity,
    bar: Option<ProgressBar>,
    counts: Summary,
}

impl Progress {
    /// `terminal`: stdout is a terminal, so a bar is drawn (except with `-q`). `total`: how many tests will run, when
    /// known in advance (a partition), for a bar with a length.
    pub(crate) fn new(style: Style, verbosity: Verbosity, terminal: bool, total: Option<u64>) -> Self {
        let bar = (terminal && verbosity != Verbosity::Quiet).then(|| new_bar(total));
        Self {
            style,
            verbosity,
            bar,
            counts: Summary::default(),
        }
    }

    /// Shows one event.
    pub(crate) fn event(&mut self, event: &RunEvent) {
        match event {
            // The daemon's own log line says the same ("started pytest, pid …").
            RunEvent::Started { .. } => {}
            RunEvent::TestStarted { test_id } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(self.status(test_id));
                }
            }
            RunEvent::TestResult(result) => self.result(result),
            RunEvent::Output { text, .. } => {
                if self.verbosity == Verbosity::Verbose {
                    let line = self.style.dim(&format!("| {text}"));
                    self.line(&line);
                }
            }
            RunEvent::Log(text) => {
                if self.verbosity == Verbosity::Verbose {
                    self.line(&self.style.dim(&format!("pytestd: {text}")));
                }
            }
            RunEvent::Collected { count } => {
                // Now the total is known: the spinner becomes a bar (a partition knew it from the start).
                if let Some(bar) = self.bar.as_ref().filter(|bar| bar.length().is_none()) {
                    bar.set_length(*count);
                    if let Ok(style) = ProgressStyle::with_template(BAR_TEMPLATE) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                }
            }
            RunEvent::DebugReady { host, port } => {
                self.line(&format!(
                    "debugpy listens on {host}:{port}: attach a debugger to start the tests"
                ));
            }
            RunEvent::CollectionError(error) => {
                let place = match error.line {
                    Some(line) => format!("{}:{line}", error.path),
                    None => error.path.clone(),
                };
                let line = format!("{} {place}: {}", self.style.red("ERROR collecting"), error.message);
                self.line(&line);
            }
            RunEvent::Queued { .. } | RunEvent::Discovered(_) | RunEvent::Finished { .. } => {}
        }
    }

    /// Removes the bar, before the summary is printed.
    pub(crate) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn result(&mut self, result: &TestResult) {
        self.counts.add(result.outcome);
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(self.status(""));
        }
        let failed = matches!(result.outcome, Outcome::Failed | Outcome::Error);
        let every_line =
            self.verbosity == Verbosity::Verbose || (self.verbosity == Verbosity::Normal && self.bar.is_none());
        match self.verbosity {
            Verbosity::Quiet if failed => {
                let message = result.message.as_deref().map(first_line).unwrap_or_default();
                let line = format!(
                    "{} {}{}",
                    self.style.outcome(result.outcome, label(result.outcome).trim_end()),
                    result.test_id,
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(" - {message}")
                    }
                );
                self.line(&line);
            }
            Verbosity::Quiet => {}
            Verbosity::Normal | Verbosity::Verbose => {
                if every_line || failed {
                    let line = format!(
                        "{} {}  {}",
                        self.style.outcome(result.outcome, label(result.outcome)),
                        result.test_id,
                        self.style.dim(&format!("({})", format_ms(result.duration_ms)))
                    );
                    self.line(&line);
                    if !failed {
                        if let Some(message) = result.message.as_deref().filter(|m| !m.is_empty()) {
                            self.line(&self.style.dim(&format!("    {}", first_line(message))));
                        }
                    }
                }
                if failed {
                    self.failure(result);
                }
            }
        }
    }

    /// What pytest's report shows for a failure, under its line: the traceback (with the assertion's diff), else
    /// the message; then the captured stdout, stderr and log.
    fn failure(&self, result: &TestResult) {
        let mut block = String::new();
        match result.traceback.as_deref().filter(|tb| !tb.trim().is_empty()) {
            Some(traceback) => {
                for line in traceback.lines() {
                    block.push_str(&format!("    {}\n", line.trim_end()));
                }
            }
            None => {
                for line in result.message.as_deref().unwrap_or_default().lines() {
                    block.push_str(&format!("    {}\n", self.style.red(line.trim_end())));
                }
            }
        }
        for (name, captured) in [
            ("stdout", &result.stdout),
            ("stderr", &result.stderr),
            ("log", &result.log),
        ] {
            if let Some(captured) = captured.as_deref().filter(|text| !text.trim().is_empty()) {
                block.push_str(&format!(
                    "    {}\n",
                    self.style.dim(&format!("--- Captured {name} ---"))
                ));
                for line in captured.lines() {
                    block.push_str(&format!("    {line}\n"));
                }
            }
        }
        if !block.is_empty() {
            self.line(block.trim_end_matches('\n'));
        }
    }

    /// `3 passed  1 failed  0 skipped  tests/test_a.py::test_x`: the bar's message.
    fn status(&self, current: &str) -> String {
        let c = &self.counts;
        let failed = c.failed + c.errors;
        let skipped = c.skipped + c.xfailed + c.xpassed;
        let failed_text = format!("{failed} failed");
        format!(
            "{}  {}  {}  {current}",
            self.style.green(&format!("{} passed", c.passed)),
            if failed > 0 {
                self.style.red(&failed_text)
            } else {
                failed_text
            },
            self.style.yellow(&format!("{skipped} skipped")),
        )
    }

    /// Prints whole lines, above the bar when there is one.
    fn line(&self, text: &str) {
        let write = || {
            let mut out = std::io::stdout().lock();
            // A closed stdout (`| head`) only loses the report; the run itself goes on and its exit code stands.
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

const BAR_TEMPLATE: &str = "{spinner} [{elapsed_precise}] [{bar:25}] {pos}/{len}  {wide_msg}";
const SPINNER_TEMPLATE: &str = "{spinner} [{elapsed_precise}] {pos} done  {wide_msg}";

fn new_bar(total: Option<u64>) -> ProgressBar {
    let (bar, template) = match total {
        Some(total) => (ProgressBar::new(total), BAR_TEMPLATE),
        None => (ProgressBar::new_spinner(), SPINNER_TEMPLATE),
    };
    bar.set_draw_target(ProgressDrawTarget::stdout());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
