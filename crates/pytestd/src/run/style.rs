//! Colors for the terminal report: ANSI escapes when enabled, plain text otherwise.

use pytestd_protocol::runs::Outcome;

/// Whether to color, and the colors used.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub(crate) color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn red(self, text: &str) -> String {
        self.paint("31", text)
    }

    pub(crate) fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    pub(crate) fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub(crate) fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// `text` in the color of `outcome`.
    pub(crate) fn outcome(self, outcome: Outcome, text: &str) -> String {
        match outcome {
            Outcome::Passed => self.green(text),
            Outcome::Failed | Outcome::Error => self.red(text),
            Outcome::Skipped | Outcome::Xfailed | Outcome::Xpassed => self.yellow(text),
        }
    }
}

/// The outcome as a fixed-width word, as in `PASSED  tests/test_a.py::test_x`.
pub(crate) fn label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "PASSED ",
        Outcome::Failed => "FAILED ",
        Outcome::Skipped => "SKIPPED",
        Outcome::Error => "ERROR  ",
        Outcome::Xfailed => "XFAIL  ",
        Outcome::Xpassed => "XPASS  ",
    }
}
