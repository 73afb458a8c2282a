//! `--junit-xml FILE`: the run as JUnit XML, element for element what pytest's own `--junitxml` writes (its
//! default `xunit2` family) and CI servers read: a testcase per test in the order the tests ran (files that failed
//! to collect or were skipped whole first, as pytest collects before it runs), `failure`, `error` and `skipped`
//! children with pytest's messages, each test's real time, and pytest's counts on the testsuite.

use std::fmt::Write as _;
use std::path::Path;

use pytestd_protocol::runs::{Outcome, RunTestsResult, TestResult, When};

/// Writes the report of `result` to `path`; `order` lists test ids as they finished, `wall_secs` is the suite's
/// time, `pytest_args` the run's pytest arguments (for `-o junit_logging=…`).
pub(crate) fn write(
    path: &Path,
    result: &RunTestsResult,
    order: &[String],
    wall_secs: f64,
    pytest_args: &[String],
) -> std::io::Result<()> {
    std::fs::write(path, render(result, order, wall_secs, Logging::from_args(pytest_args)))
}

/// pytest's `junit_logging`: which captured output goes into `system-out` / `system-err` (none by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Logging {
    #[default]
    No,
    Log,
    SystemOut,
    SystemErr,
    OutErr,
    All,
}

impl Logging {
    /// The value given with `-o junit_logging=…` (or `--override-ini`) among pytest's arguments.
    pub(crate) fn from_args(args: &[String]) -> Self {
        let mut value = None;
        let mut after_flag = false;
        for arg in args {
            let option = if after_flag {
                Some(arg.as_str())
            } else {
                arg.strip_prefix("-o").or_else(|| arg.strip_prefix("--override-ini="))
            };
            after_flag = arg == "-o" || arg == "--override-ini";
            if let Some(setting) = option.and_then(|o| o.trim_start_matches('=').strip_prefix("junit_logging=")) {
                value = Some(setting.to_owned());
            }
        }
        match value.as_deref() {
            Some("log") => Self::Log,
            Some("system-out") => Self::SystemOut,
            Some("system-err") => Self::SystemErr,
            Some("out-err") => Self::OutErr,
            Some("all") => Self::All,
            _ => Self::No,
        }
    }

    /// The `system-out` and `system-err` elements of a test, as pytest writes them.
    fn elements(self, test: &TestResult) -> Vec<String> {
        let section = |content: &Option<String>, header: &str| {
            format!("{:-^80}\n{}\n", header, content.as_deref().unwrap_or_default())
        };
        let log = section(&test.log, " Captured Log ");
        let out = section(&test.stdout, " Captured Out ");
        let err = section(&test.stderr, " Captured Err ");
        let tag = |name: &str, text: String| format!("<{name}>{}</{name}>", text_escape(&text));
        match self {
            Self::No => Vec::new(),
            Self::Log => vec![tag("system-out", log)],
            Self::SystemOut => vec![tag("system-out", out)],
            Self::SystemErr => vec![tag("system-err", err)],
            Self::OutErr => vec![tag("system-out", out), tag("system-err", err)],
            Self::All => vec![tag("system-out", log + &out), tag("system-err", err)],
        }
    }
}

/// One `<testcase>`: its name and its children.
struct Case {
    classname: String,
    name: String,
    time: f64,
    children: Vec<String>,
}

/// pytest's tallies: `tests` counts passes, failures, skips and errors, less the tests counted twice.
#[derive(Default)]
struct Stats {
    passed: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
    double: u64,
}

/// The report as a string.
pub(crate) fn render(result: &RunTestsResult, order: &[String], wall_secs: f64, logging: Logging) -> String {
    let mut stats = Stats::default();
    let mut cases = Vec::new();
    // Collectors that failed or were skipped, one testcase per node id (a module collected twice, as a module and
    // for its doctests, is one testcase with two children, as pytest writes it).
    let collectors = result
        .collection_errors
        .iter()
        .map(|e| (&e.node_id, element("error", "collection failure", &e.traceback), true))
        .chain(
            result
                .collection_skips
                .iter()
                .map(|s| (&s.node_id, element("skipped", "collection skipped", &s.reason), false)),
        );
    for (node_id, child, error) in collectors {
        if error {
            stats.errors += 1;
        } else {
            stats.skipped += 1;
        }
        let (classname, name) = split_id(node_id);
        match cases
            .iter_mut()
            .find(|c: &&mut Case| c.classname == classname && c.name == name)
        {
            Some(case) => case.children.push(child),
            None => cases.push(Case {
                classname,
                name,
                time: 0.0,
                children: vec![child],
            }),
        }
    }
    // The tests in the order they finished; any the order missed (it cannot, but a map has no order) after them.
    let mut tests: Vec<&TestResult> = order.iter().filter_map(|id| result.results.get(id)).collect();
    if tests.len() < result.results.len() {
        let mut rest: Vec<&TestResult> = result
            .results
            .values()
            .filter(|t| !order.contains(&t.test_id))
            .collect();
        rest.sort_by(|a, b| a.test_id.cmp(&b.test_id));
        tests.extend(rest);
    }
    for test in tests {
        test_cases(test, &mut stats, &mut cases);
        if let Some(case) = cases.last_mut() {
            case.children.extend(logging.elements(test));
        }
    }

    let tests = stats.passed + stats.failures + stats.skipped + stats.errors - stats.double;
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuites name=\"pytest tests\">\n");
    let _ = writeln!(
        xml,
        "  <testsuite name=\"pytest\" errors=\"{}\" failures=\"{}\" skipped=\"{}\" tests=\"{tests}\" time=\"{wall_secs:.3}\">",
        stats.errors, stats.failures, stats.skipped
    );
    for case in cases {
        let open = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            attr(&case.classname),
            attr(&case.name),
            case.time
        );
        if case.children.is_empty() {
            let _ = writeln!(xml, "{open} />");
            continue;
        }
        let _ = writeln!(xml, "{open}>");
        for child in case.children {
            let _ = writeln!(xml, "      {child}");
        }
        xml.push_str("    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// The testcases of one test, by pytest's rules for its phases: a failed setup or teardown is an `error` (a
/// teardown error after a failed call gets a testcase of its own), the call a `failure`, a skip or xfail a
/// `skipped`; a passing call nothing.
fn test_cases(test: &TestResult, stats: &mut Stats, cases: &mut Vec<Case>) {
    let (classname, name) = split_id(&test.test_id);
    let mut case = Case {
        classname,
        name,
        time: test.duration_ms / 1000.0,
        children: Vec::new(),
    };
    let (text, teardown_text) = split_teardown(test.traceback.as_deref().unwrap_or_default());
    let message = crash_message(test, text);
    let phases = test.phases.unwrap_or_default();
    // The outcome that decided the test, in the phase it came from, and what the other phases add.
    let (setup, call, teardown) = match test.phases {
        Some(_) => (phases.setup, phases.call, phases.teardown),
        None => match test.when {
            Some(When::Setup) => (Some(test.outcome), None, None),
            Some(When::Teardown) => (None, Some(Outcome::Passed), Some(test.outcome)),
            _ => (None, Some(test.outcome), None),
        },
    };
    let setup_failed = setup.is_some_and(|o| o != Outcome::Passed);
    if setup_failed {
        add_outcome(
            test,
            setup.unwrap_or(Outcome::Error),
            When::Setup,
            message,
            text,
            stats,
            &mut case,
        );
    } else {
        subtest_elements(test, stats, &mut case);
        let call = call.unwrap_or(Outcome::Passed);
        let decided_here = test.when != Some(When::Teardown);
        let (call_message, call_text) = if decided_here { (message, text) } else { ("", "") };
        add_outcome(test, call, When::Call, call_message, call_text, stats, &mut case);
    }
    match teardown {
        Some(Outcome::Error) => {
            let (teardown_message, teardown_text) = if test.when == Some(When::Teardown) {
                (message.to_owned(), text)
            } else {
                (last_error_line(teardown_text), teardown_text)
            };
            let child = element(
                "error",
                &format!("failed on teardown with \"{teardown_message}\""),
                teardown_text,
            );
            stats.errors += 1;
            if case.children.iter().any(|c| c.starts_with("<failure")) {
                // pytest closes the failed call's testcase and opens another for the teardown error.
                let again = Case {
                    classname: case.classname.clone(),
                    name: case.name.clone(),
                    time: 0.0,
                    children: vec![child],
                };
                cases.push(std::mem::replace(&mut case, again));
            } else {
                // The same testcase holds the error; pytest counts the test once.
                stats.double += 1;
                case.children.push(child);
            }
        }
        Some(Outcome::Xfailed) => {
            stats.skipped += 1;
            case.children.push(format!(
                "<skipped type=\"pytest.xfail\" message=\"{}\" />",
                attr(message)
            ));
        }
        _ => {}
    }
    cases.push(case);
}

/// pytest reports each subtest into its test's testcase, during the call: a pass counts, the rest are elements.
fn subtest_elements(test: &TestResult, stats: &mut Stats, case: &mut Case) {
    for subtest in &test.subtests {
        let message = subtest.message.as_deref().unwrap_or_default();
        let text = subtest.traceback.as_deref().unwrap_or_default();
        match subtest.outcome {
            Outcome::Passed | Outcome::Xpassed => stats.passed += 1,
            Outcome::Failed | Outcome::Error => {
                stats.failures += 1;
                case.children.push(element("failure", message, text));
            }
            Outcome::Skipped => {
                stats.skipped += 1;
                case.children.push(format!(
                    "<skipped type=\"pytest.skip\" message=\"{}\">{}</skipped>",
                    attr(message),
                    text_escape(message)
                ));
            }
            Outcome::Xfailed => {
                stats.skipped += 1;
                case.children.push(format!(
                    "<skipped type=\"pytest.xfail\" message=\"{}\" />",
                    attr(message)
                ));
            }
        }
    }
}

/// One phase's outcome: its element, and pytest's tally for it.
fn add_outcome(
    test: &TestResult,
    outcome: Outcome,
    when: When,
    message: &str,
    text: &str,
    stats: &mut Stats,
    case: &mut Case,
) {
    let child = match outcome {
        Outcome::Passed | Outcome::Xpassed => {
            stats.passed += 1;
            return;
        }
        Outcome::Failed => {
            stats.failures += 1;
            element("failure", message, text)
        }
        Outcome::Error => {
            stats.errors += 1;
            let phase = if when == When::Teardown { "teardown" } else { "setup" };
            element("error", &format!("failed on {phase} with \"{message}\""), text)
        }
        Outcome::Skipped => {
            stats.skipped += 1;
            // The skip's place and reason, as pytest writes them: `test_a.py:12: reason`.
            let details = test.traceback.as_deref().unwrap_or(message);
            format!(
                "<skipped type=\"pytest.skip\" message=\"{}\">{}</skipped>",
                attr(message),
                text_escape(details)
            )
        }
        Outcome::Xfailed => {
            stats.skipped += 1;
            format!("<skipped type=\"pytest.xfail\" message=\"{}\" />", attr(message))
        }
    };
    case.children.push(child);
}

/// `<tag message="…">text</tag>`, the message shortened as pytest shortens it.
fn element(tag: &str, message: &str, text: &str) -> String {
    let message = attr(&shorten(message));
    if text.is_empty() {
        format!("<{tag} message=\"{message}\" />")
    } else {
        format!("<{tag} message=\"{message}\">{}</{tag}>", text_escape(text))
    }
}

/// pytest's `shorten_message`: whole lines while they fit in 500 characters, and how many lines were left out.
fn shorten(message: &str) -> String {
    const BUDGET: usize = 500;
    let lines: Vec<&str> = if message.is_empty() {
        vec![""]
    } else {
        message.lines().collect()
    };
    let mut kept = Vec::new();
    let mut size = 0;
    for line in &lines {
        let len = line.chars().count();
        if !kept.is_empty() && size + len + 1 > BUDGET {
            break;
        }
        kept.push(*line);
        size += len + 1;
    }
    let mut shortened = kept.join("\n");
    let cut = shortened.chars().count() > BUDGET;
    if cut {
        shortened = shortened.chars().take(BUDGET).collect::<String>() + "...";
    }
    let remaining = lines.len() - kept.len();
    if remaining > 0 {
        let s = if remaining > 1 { "s" } else { "" };
        shortened.push_str(&format!("\n(+{remaining} more line{s} in the element text)"));
    } else if cut {
        shortened.push_str("\n(full message in the element text)");
    }
    shortened
}

/// pytest's message for a failure: the crash line when the report has one, else the whole report (a doctest's,
/// a custom item's). The daemon's `message` for a report without a crash line is the report's last line.
fn crash_message<'a>(test: &'a TestResult, text: &'a str) -> &'a str {
    let message = test.message.as_deref().unwrap_or_default();
    let failed = matches!(test.outcome, Outcome::Failed | Outcome::Error);
    if failed && !message.is_empty() && text.trim_end().lines().last().map(str::trim) == Some(message.trim()) {
        text.trim_start_matches('\n')
    } else {
        message
    }
}

/// A result's traceback and, after the daemon's `--- teardown ---` marker, the teardown's own report.
fn split_teardown(traceback: &str) -> (&str, &str) {
    traceback
        .split_once("\n\n--- teardown ---\n")
        .unwrap_or((traceback, ""))
}

/// The exception line of a report (`E   RuntimeError: boom` → `RuntimeError: boom`).
fn last_error_line(text: &str) -> String {
    text.lines()
        .rev()
        .find_map(|line| line.strip_prefix('E').map(str::trim))
        .filter(|line| !line.is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// pytest's classname and name: `tests/test_a.py::TestX::test_y[1]` is `tests.test_a.TestX` and `test_y[1]`.
fn split_id(id: &str) -> (String, String) {
    // `::` inside a parameter (`test_y[a::b]`) is part of the name.
    let head_end = id.find('[').unwrap_or(id.len());
    let Some(cut) = id[..head_end].rfind("::") else {
        // A file (a collection error): pytest names the case after its dotted module path.
        return (String::new(), dotted(id));
    };
    let (path, name) = (&id[..cut], &id[cut + 2..]);
    let mut parts = path.split("::");
    let module = dotted(parts.next().unwrap_or_default());
    let classname = std::iter::once(module)
        .chain(parts.map(str::to_owned))
        .collect::<Vec<_>>()
        .join(".");
    (classname, name.to_owned())
}

/// `tests/test_a.py` → `tests.test_a`.
fn dotted(file: &str) -> String {
    file.strip_suffix(".py").unwrap_or(file).replace(['/', '\\'], ".")
}

/// Escapes text for an attribute value.
fn attr(value: &str) -> String {
    escape(value, true)
}

/// Escapes element text.
fn text_escape(value: &str) -> String {
    escape(value, false)
}

fn escape(value: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            // Characters XML 1.0 cannot hold at all (control characters, e.g. ANSI escapes): shown as `\x1b`.
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_like_pytest_names_them() {
        assert_eq!(
            split_id("tests/test_a.py::TestX::test_y[a::b]"),
            ("tests.test_a.TestX".into(), "test_y[a::b]".into())
        );
        assert_eq!(split_id("t.py::test_z"), ("t".into(), "test_z".into()));
        assert_eq!(split_id("tests/test_b.py"), (String::new(), "tests.test_b".into()));
    }

    #[test]
    fn junit_logging_is_read_from_pytests_override_options() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(Logging::from_args(&args(&["-x"])), Logging::No);
        assert_eq!(Logging::from_args(&args(&["-o", "junit_logging=all"])), Logging::All);
        assert_eq!(
            Logging::from_args(&args(&["-ojunit_logging=system-out"])),
            Logging::SystemOut
        );
        assert_eq!(
            Logging::from_args(&args(&["--override-ini=junit_logging=out-err"])),
            Logging::OutErr
        );
        assert_eq!(
            Logging::from_args(&args(&["--override-ini", "junit_logging=log"])),
            Logging::Log
        );
    }

    #[test]
    fn messages_are_shortened_as_pytest_shortens_them() {
        assert_eq!(shorten("short"), "short");
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let shortened = shorten(&long);
        assert!(shortened.ends_with("more lines in the element text)"), "{shortened}");
        assert!(shortened.len() < 600);
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(attr("a<\"b\">&\n"), "a&lt;&quot;b&quot;&gt;&amp;&#10;");
        assert_eq!(text_escape("\u{1b}[31mred\n"), "\\x1b[31mred\n");
    }
}
