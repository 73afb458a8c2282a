//! `--junit-xml FILE`: the run as JUnit XML, in the shape pytest's own `--junitxml` writes and CI servers read:
//! `testsuites/testsuite/testcase` with `failure`, `error` and `skipped` children and captured output.

use std::fmt::Write as _;
use std::path::Path;

use pytestd_protocol::runs::{Outcome, RunTestsResult, TestResult};

/// Writes the report of `result` to `path`; `wall_secs` is the suite's time.
pub(crate) fn write(path: &Path, result: &RunTestsResult, wall_secs: f64) -> std::io::Result<()> {
    std::fs::write(path, render(result, wall_secs))
}

/// The report as a string.
pub(crate) fn render(result: &RunTestsResult, wall_secs: f64) -> String {
    let mut tests: Vec<&TestResult> = result.results.values().collect();
    tests.sort_by(|a, b| a.test_id.cmp(&b.test_id));
    let count = |pred: fn(Outcome) -> bool| tests.iter().filter(|t| pred(t.outcome)).count();
    let failures = count(|o| o == Outcome::Failed);
    let errors = count(|o| o == Outcome::Error) + result.errors.len();
    let skipped = count(|o| matches!(o, Outcome::Skipped | Outcome::Xfailed));
    let total = tests.len() + result.errors.len();

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuites>\n");
    let _ = writeln!(
        xml,
        "  <testsuite name=\"pytest\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" \
         skipped=\"{skipped}\" time=\"{wall_secs:.3}\">"
    );
    for (n, error) in result.errors.iter().enumerate() {
        // pytest reports a collection error as an errored test case; so do we, one per error.
        let _ = writeln!(
            xml,
            "    <testcase classname=\"\" name=\"{}\" time=\"0\">",
            attr(&error_name(error, n))
        );
        let _ = writeln!(
            xml,
            "      <error message=\"{}\">{}</error>",
            attr(first_line(error)),
            text(error)
        );
        xml.push_str("    </testcase>\n");
    }
    for test in tests {
        testcase(&mut xml, test);
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

fn testcase(xml: &mut String, test: &TestResult) {
    let (classname, name) = split_id(&test.test_id);
    let mut open = format!(
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
        attr(&classname),
        attr(&name),
        test.duration_ms / 1000.0
    );
    if let Some(location) = &test.location {
        let _ = write!(open, " file=\"{}\" line=\"{}\"", attr(&location.path), location.line);
    }
    xml.push_str(&open);
    let message = test.message.as_deref().unwrap_or_default();
    let body = test.traceback.as_deref().unwrap_or(message);
    let child = match test.outcome {
        Outcome::Passed | Outcome::Xpassed => None,
        Outcome::Failed => Some(format!(
            "<failure message=\"{}\">{}</failure>",
            attr(message),
            text(body)
        )),
        Outcome::Error => Some(format!("<error message=\"{}\">{}</error>", attr(message), text(body))),
        Outcome::Skipped => Some(format!(
            "<skipped type=\"pytest.skip\" message=\"{}\">{}</skipped>",
            attr(message),
            text(message)
        )),
        Outcome::Xfailed => Some(format!(
            "<skipped type=\"pytest.xfail\" message=\"{}\">{}</skipped>",
            attr(&format!("xfail: {message}")),
            text(message)
        )),
    };
    let outputs = [("system-out", &test.stdout), ("system-err", &test.stderr)];
    if child.is_none() && outputs.iter().all(|(_, out)| out.as_deref().is_none_or(str::is_empty)) {
        xml.push_str(" />\n");
        return;
    }
    xml.push_str(">\n");
    if let Some(child) = child {
        let _ = writeln!(xml, "      {child}");
    }
    for (tag, out) in outputs {
        if let Some(out) = out.as_deref().filter(|out| !out.is_empty()) {
            let _ = writeln!(xml, "      <{tag}>{}</{tag}>", text(out));
        }
    }
    xml.push_str("    </testcase>\n");
}

/// pytest's classname and name: `tests/test_a.py::TestX::test_y[1]` is `tests.test_a.TestX` and `test_y[1]`.
fn split_id(id: &str) -> (String, String) {
    // `::` inside a parameter (`test_y[a::b]`) is part of the name.
    let head_end = id.find('[').unwrap_or(id.len());
    let Some(cut) = id[..head_end].rfind("::") else {
        return (String::new(), id.to_owned());
    };
    let (path, name) = (&id[..cut], &id[cut + 2..]);
    let mut parts = path.split("::");
    let file = parts.next().unwrap_or_default();
    let module = file.strip_suffix(".py").unwrap_or(file).replace(['/', '\\'], ".");
    let classname = std::iter::once(module)
        .chain(parts.map(str::to_owned))
        .collect::<Vec<_>>()
        .join(".");
    (classname, name.to_owned())
}

fn error_name(error: &str, n: usize) -> String {
    // Collection errors read `ERROR collecting tests/test_x.py ...`; name the case after the file when we can.
    error
        .split_whitespace()
        .find(|word| word.ends_with(".py"))
        .map_or_else(|| format!("error {}", n + 1), |file| format!("collecting {file}"))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Escapes text for an attribute value.
fn attr(value: &str) -> String {
    escape(value, true)
}

/// Escapes element text.
fn text(value: &str) -> String {
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
        assert_eq!(split_id("weird"), (String::new(), "weird".into()));
    }

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(attr("a<\"b\">&\n"), "a&lt;&quot;b&quot;&gt;&amp;&#10;");
        assert_eq!(text("\u{1b}[31mred\n"), "\\x1b[31mred\n");
    }
}
