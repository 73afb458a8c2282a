//! How a run ended, from the facts the instance gathered: who stopped it, how pytest exited, and whether its
//! session finished. Every non-success comes with a sentence a person can act on.

use std::collections::VecDeque;

use pytestd_protocol::runs::RunStatus;

use crate::process::signal_name;

/// Why the daemon stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Cancelled,
    TimedOut,
    /// The group's memory went over `limit` bytes; `rss` is what was measured.
    MemoryLimit {
        limit: u64,
        rss: u64,
    },
}

/// How pytest's process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Code(i32),
    Signal(i32),
    Unknown,
}

pub(crate) struct Facts<'a> {
    pub(crate) stop: Option<Stop>,
    pub(crate) exit: Exit,
    /// The exit status pytest's session announced, if it got that far.
    pub(crate) session_exit: Option<i32>,
    /// The code a test passed to `os._exit`, which the plugin announced before the interpreter ended.
    pub(crate) exiting: Option<i32>,
    /// The test that started last and never finished.
    pub(crate) last_started: Option<String>,
    /// Every line the plugin queued reached the daemon (the socket's, then the journal's): a test that started
    /// and has no result was running when pytest died.
    pub(crate) stream_complete: bool,
    pub(crate) plugin_connected: bool,
    pub(crate) python: &'a str,
    pub(crate) timeout_ms: Option<u64>,
    /// Highest memory seen for the group, in bytes.
    pub(crate) peak_rss: u64,
    /// A discovery (`--collect-only`) rather than a run.
    pub(crate) discovery: bool,
    /// How many collectors failed.
    pub(crate) collect_errors: usize,
    /// Why the plugin ended the session before it began.
    pub(crate) run_error: Option<&'a str>,
    /// pytest's last lines of output.
    pub(crate) tail: &'a VecDeque<String>,
}

#[derive(Debug, PartialEq)]
pub(crate) struct Verdict {
    pub(crate) status: RunStatus,
    pub(crate) exit_code: Option<i32>,
    pub(crate) signal: Option<String>,
    pub(crate) errors: Vec<String>,
    /// What to say of tests that started and never finished; `None` drops those without a failing phase.
    pub(crate) unfinished: Option<String>,
}

pub(crate) fn judge(facts: &Facts<'_>) -> Verdict {
    let (exit_code, signal) = match facts.exit {
        Exit::Code(code) => (Some(code), None),
        Exit::Signal(signal) => (None, Some(signal_name(signal))),
        Exit::Unknown => (None, None),
    };
    let verdict = |status, errors: Vec<String>, unfinished: Option<String>| Verdict {
        status,
        exit_code,
        signal: signal.clone(),
        errors,
        unfinished,
    };
    match facts.stop {
        Some(Stop::Cancelled) => return verdict(RunStatus::Cancelled, Vec::new(), None),
        Some(Stop::TimedOut) => {
            let limit = facts.timeout_ms.unwrap_or_default();
            return verdict(
                RunStatus::TimedOut,
                vec![format!("the run exceeded its timeout of {limit} ms")],
                None,
            );
        }
        Some(Stop::MemoryLimit { limit, rss }) => {
            let why = format!(
                "the run used {} of memory, over its limit of {} (memoryLimitBytes); pytest was killed",
                bytes(rss.max(facts.peak_rss)),
                bytes(limit)
            );
            return verdict(RunStatus::Error, vec![why.clone()], Some(why));
        }
        None => {}
    }
    if let Some(why) = facts.run_error {
        return verdict(RunStatus::Error, vec![why.to_owned()], None);
    }
    if let Some(code) = facts.exiting {
        // The plugin sent everything before the interpreter went: the unfinished test is the one that exited.
        let why = format!("the test called os._exit({code}), ending pytest");
        return verdict(RunStatus::Error, vec![why.clone()], Some(why));
    }
    if let Some(name) = &signal {
        let why = format!("pytest was killed by {name}");
        let unfinished = blame(&format!("{why} while this test ran"), facts);
        return verdict(RunStatus::Error, vec![with_last_started(why, facts)], unfinished);
    }
    let code = exit_code.unwrap_or(-1);
    if !facts.plugin_connected {
        return verdict(RunStatus::Error, vec![not_started(facts, code)], None);
    }
    if facts.session_exit.is_none() {
        let why = format!("pytest exited with code {code} before its session finished");
        let unfinished = blame(&format!("pytest exited with code {code} while this test ran"), facts);
        return verdict(
            RunStatus::Error,
            vec![with_tail(with_last_started(why, facts), facts.tail)],
            unfinished,
        );
    }
    let unfinished = Some("the test did not finish".to_owned());
    if facts.discovery && (code == 5 || (code == 2 && facts.collect_errors > 0)) {
        // Nothing to collect is a complete (empty) tree; collection errors stop pytest with 2, yet a discovery
        // still returns every file that did collect, the errors listed per file.
        return verdict(RunStatus::Passed, Vec::new(), None);
    }
    match code {
        0 => verdict(RunStatus::Passed, Vec::new(), unfinished),
        1 => verdict(RunStatus::Failed, Vec::new(), unfinished),
        5 => verdict(
            RunStatus::Passed,
            vec!["no tests were collected (pytest exit code 5)".into()],
            unfinished,
        ),
        2 => verdict(
            RunStatus::Error,
            vec!["pytest was interrupted (exit code 2), for example by collection errors".into()],
            unfinished,
        ),
        3 => verdict(
            RunStatus::Error,
            vec![with_tail(
                "pytest hit an internal error (exit code 3)".into(),
                facts.tail,
            )],
            unfinished,
        ),
        4 => verdict(
            RunStatus::Error,
            vec![with_tail(
                "pytest rejected its command line (exit code 4)".into(),
                facts.tail,
            )],
            unfinished,
        ),
        other => verdict(
            RunStatus::Error,
            vec![format!("pytest exited with unexpected code {other}")],
            unfinished,
        ),
    }
}

/// What to say of the test that was running when pytest died: only when every queued line arrived is it known
/// to be that test; else the results of the last few milliseconds may be lost, and a later test the culprit.
fn blame(why: &str, facts: &Facts<'_>) -> Option<String> {
    facts.stream_complete.then(|| why.to_owned())
}

/// Names the test that was running; without every queued line, only as the last one known to have started.
fn with_last_started(message: String, facts: &Facts<'_>) -> String {
    match &facts.last_started {
        Some(test_id) if facts.stream_complete => format!("{message} while {test_id} ran"),
        Some(test_id) => {
            format!("{message}; the last test known to have started is {test_id} (no result arrived for it)")
        }
        None => message,
    }
}

/// Bytes in a readable unit, exact enough to compare with a limit.
fn bytes(n: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    #[allow(clippy::cast_precision_loss)]
    let mib = n as f64 / MIB;
    format!("{mib:.1} MiB ({n} bytes)")
}

fn not_started(facts: &Facts<'_>, code: i32) -> String {
    let python = facts.python;
    if facts.tail.iter().any(|line| line.contains("No module named pytest")) {
        return format!("pytest is not installed for {python}: install it with `{python} -m pip install pytest`");
    }
    with_tail(
        format!("pytest ({python}) exited with code {code} before pytestd's plugin could report"),
        facts.tail,
    )
}

fn with_tail(mut message: String, tail: &VecDeque<String>) -> String {
    if !tail.is_empty() {
        message.push_str(":\n");
        message.push_str(&tail.iter().cloned().collect::<Vec<_>>().join("\n"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(exit: Exit, session_exit: Option<i32>, tail: &'a VecDeque<String>) -> Facts<'a> {
        Facts {
            stop: None,
            exit,
            session_exit,
            exiting: None,
            last_started: None,
            stream_complete: false,
            plugin_connected: true,
            python: "py",
            timeout_ms: None,
            peak_rss: 0,
            discovery: false,
            collect_errors: 0,
            run_error: None,
            tail,
        }
    }

    #[test]
    fn exit_codes_map_to_statuses() {
        let tail = VecDeque::new();
        let status = |code| judge(&facts(Exit::Code(code), Some(code), &tail)).status;
        assert_eq!(status(0), RunStatus::Passed);
        assert_eq!(status(1), RunStatus::Failed);
        assert_eq!(status(5), RunStatus::Passed);
        for code in [2, 3, 4] {
            assert_eq!(status(code), RunStatus::Error);
        }
    }

    #[test]
    fn a_crash_is_an_error_that_names_the_exit() {
        let tail = VecDeque::from(vec!["boom".to_owned()]);
        let v = judge(&facts(Exit::Code(3), None, &tail));
        assert_eq!(v.status, RunStatus::Error);
        assert!(
            v.errors[0].contains("code 3") && v.errors[0].contains("boom"),
            "{:?}",
            v.errors
        );
        let v = judge(&facts(Exit::Signal(9), None, &tail));
        assert_eq!((v.status, v.signal.as_deref()), (RunStatus::Error, Some("SIGKILL")));
    }

    #[test]
    fn os_exit_blames_the_running_test_and_a_signal_only_names_it() {
        let tail = VecDeque::new();
        let mut f = facts(Exit::Code(3), None, &tail);
        f.exiting = Some(3);
        let v = judge(&f);
        assert_eq!(v.status, RunStatus::Error);
        assert!(v.unfinished.unwrap().contains("os._exit(3)"));
        let mut f = facts(Exit::Signal(9), None, &tail);
        f.last_started = Some("t.py::b".into());
        let v = judge(&f);
        assert_eq!(v.unfinished, None);
        assert!(
            v.errors[0].contains("SIGKILL") && v.errors[0].contains("t.py::b"),
            "{:?}",
            v.errors
        );
    }

    #[test]
    fn with_every_queued_line_a_signal_blames_the_running_test() {
        let tail = VecDeque::new();
        let mut f = facts(Exit::Signal(11), None, &tail);
        f.last_started = Some("t.py::b".into());
        f.stream_complete = true;
        let v = judge(&f);
        assert_eq!(v.status, RunStatus::Error);
        assert_eq!(
            v.unfinished.as_deref(),
            Some("pytest was killed by SIGSEGV while this test ran")
        );
        assert_eq!(v.errors, ["pytest was killed by SIGSEGV while t.py::b ran"]);
        let mut f = facts(Exit::Code(7), None, &tail);
        f.stream_complete = true;
        let v = judge(&f);
        assert!(v.unfinished.unwrap().contains("code 7"));
    }

    #[test]
    fn a_memory_kill_names_the_limit_and_the_peak() {
        let tail = VecDeque::new();
        let mut f = facts(Exit::Signal(9), None, &tail);
        f.stop = Some(Stop::MemoryLimit {
            limit: 100 << 20,
            rss: 150 << 20,
        });
        f.peak_rss = 160 << 20;
        let v = judge(&f);
        assert_eq!(v.status, RunStatus::Error);
        assert!(
            v.errors[0].contains("100.0 MiB") && v.errors[0].contains("160.0 MiB"),
            "{:?}",
            v.errors
        );
    }

    #[test]
    fn missing_pytest_says_how_to_install_it() {
        let tail = VecDeque::from(vec!["/usr/bin/python3: No module named pytest".to_owned()]);
        let mut f = facts(Exit::Code(1), None, &tail);
        f.plugin_connected = false;
        let v = judge(&f);
        assert_eq!(v.status, RunStatus::Error);
        assert!(v.errors[0].contains("py -m pip install pytest"), "{:?}", v.errors);
    }

    #[test]
    fn stops_win_over_the_exit_they_caused() {
        let tail = VecDeque::new();
        let mut f = facts(Exit::Signal(15), None, &tail);
        f.stop = Some(Stop::Cancelled);
        assert_eq!(judge(&f).status, RunStatus::Cancelled);
        f.stop = Some(Stop::TimedOut);
        f.timeout_ms = Some(50);
        let v = judge(&f);
        assert_eq!(v.status, RunStatus::TimedOut);
        assert!(v.errors[0].contains("50 ms"));
    }
}
