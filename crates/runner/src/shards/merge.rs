//! One result for a sharded run: every shard's tests, counts and errors; the worst status; pytest's exit code as
//! one process would have given it; what a crashed shard lost, named.

use std::collections::HashSet;

use pytestd_protocol::runs::{
    CollectionError, CollectionSkip, Outcome, Resources, RunStatus, RunTestsResult, Summary, TestResult,
};

/// The instance's sentence for selected ids that matched nothing (see `not_found_message` in instance.rs). A
/// shard that runs whole files found by a walk selects them by file: a file with nothing left to run (every test
/// deselected by `-k`) is not an error there, as it is not in a run of the directory.
const NOT_FOUND: &str = " requested test id(s) matched no collected test";

/// How many lost tests an error names before it only counts them.
const NAMED_LOST: usize = 20;

/// One shard's result, as its job ended.
#[derive(Debug, Clone)]
pub struct ShardResult {
    /// The shard's index.
    pub index: u32,
    /// Its job's result.
    pub result: RunTestsResult,
    /// It selected whole files found by a walk, not ids a client named.
    pub whole_files: bool,
}

/// Merges the shards' results (in index order) into the run's. `duration_ms` and `queued_ms` are the run's own.
pub fn merge(run_id: &str, shards: Vec<ShardResult>, duration_ms: u64, queued_ms: u64) -> RunTestsResult {
    let several = shards.len() > 1;
    let status = [
        RunStatus::Error,
        RunStatus::TimedOut,
        RunStatus::Cancelled,
        RunStatus::Failed,
    ]
    .into_iter()
    .find(|status| shards.iter().any(|s| s.result.status == *status))
    .unwrap_or(RunStatus::Passed);
    let codes: Option<Vec<i32>> = shards.iter().map(|s| s.result.exit_code).collect();
    let exit_code = codes
        .filter(|codes| !codes.is_empty())
        .map(|codes| one_exit_code(&codes));
    let mut merged = RunTestsResult {
        run_id: run_id.to_owned(),
        status,
        exit_code,
        signal: shards.iter().find_map(|s| s.result.signal.clone()),
        summary: Summary::default(),
        results: Default::default(),
        errors: Vec::new(),
        collection_errors: Vec::new(),
        collection_skips: Vec::new(),
        warnings: Vec::new(),
        warning_count: 0,
        duration_ms,
        queued_ms,
        resources: Resources::default(),
        coverage: None,
        escaped_processes: Vec::new(),
    };
    let mut seen_errors = HashSet::new();
    let mut seen_collection = HashSet::new();
    for shard in shards {
        let ShardResult {
            index,
            result,
            whole_files,
        } = shard;
        add(&mut merged.summary, &result.summary);
        // The shards ran side by side: their memory adds up (an upper bound of the peak), and so does their CPU.
        merged.resources.peak_rss_bytes += result.resources.peak_rss_bytes;
        merged.resources.cpu_ms += result.resources.cpu_ms;
        merged.results.extend(result.results);
        for error in result.errors {
            if whole_files && error.contains(NOT_FOUND) {
                continue;
            }
            // Every process reports a broken conftest or an option problem: once is enough.
            if seen_errors.insert(error.clone()) {
                merged.errors.push(if several {
                    format!("shard {index}: {error}")
                } else {
                    error
                });
            }
        }
        for error in result.collection_errors {
            if seen_collection.insert(error.node_id.clone()) {
                merged.collection_errors.push(error);
            }
        }
        merged.collection_skips.extend(result.collection_skips);
        merged.warning_count += result.warning_count;
        for warning in result.warnings {
            if merged.warnings.contains(&warning) {
                merged.warning_count = merged.warning_count.saturating_sub(1);
            } else {
                merged.warnings.push(warning);
            }
        }
        merged.escaped_processes.extend(result.escaped_processes);
    }
    merged
}

/// pytest's exit code for the whole run: usage and internal errors first, then failures; "no tests" only if no
/// shard had any.
fn one_exit_code(codes: &[i32]) -> i32 {
    if let Some(bad) = codes.iter().copied().filter(|c| matches!(c, 2..=4)).max() {
        bad
    } else if codes.contains(&1) {
        1
    } else if codes.iter().all(|c| *c == 5) {
        5
    } else {
        0
    }
}

fn add(total: &mut Summary, s: &Summary) {
    total.total += s.total;
    total.passed += s.passed;
    total.failed += s.failed;
    total.skipped += s.skipped;
    total.errors += s.errors;
    total.xfailed += s.xfailed;
    total.xpassed += s.xpassed;
}

/// Files that failed to collect (or were skipped whole) when the tests were listed before the split: no shard ran
/// them, so they are reported here, and the run fails as pytest's `--continue-on-collection-errors` makes it.
pub fn add_collected_problems(result: &mut RunTestsResult, errors: Vec<CollectionError>, skips: Vec<CollectionSkip>) {
    result.collection_skips.extend(skips);
    if errors.is_empty() {
        return;
    }
    for error in &errors {
        result
            .errors
            .push(format!("error collecting {}:\n{}", error.node_id, error.traceback));
    }
    result.collection_errors.extend(errors);
    if result.status == RunStatus::Passed {
        result.status = RunStatus::Failed;
    }
    if matches!(result.exit_code, Some(0 | 5)) {
        result.exit_code = Some(1);
    }
}

/// The results for tests a crashed shard never ran: `expected` minus what it reported, each an error saying so.
pub fn lost(expected: &[String], reported: &HashSet<String>, why: &str) -> Vec<TestResult> {
    expected
        .iter()
        .filter(|id| !reported.contains(*id))
        .map(|id| TestResult {
            message: Some(format!("not run: {why}")),
            ..TestResult::new(id, Outcome::Error)
        })
        .collect()
}

/// The sentence naming a shard's lost tests (the first few, then a count).
pub fn lost_sentence(index: u32, lost: &[TestResult], files: &[String]) -> String {
    let mut names: Vec<&str> = lost.iter().map(|t| t.test_id.as_str()).collect();
    names.extend(files.iter().map(String::as_str));
    let total = names.len();
    let mut text = format!(
        "shard {index} ended before it ran {total} test(s) or file(s), reported as errors: {}",
        names.iter().take(NAMED_LOST).copied().collect::<Vec<_>>().join(", ")
    );
    if total > NAMED_LOST {
        text.push_str(&format!(", and {} more", total - NAMED_LOST));
    }
    text
}

#[cfg(test)]
mod tests {
    use pytestd_protocol::runs::Warning;

    use super::*;

    fn result(status: RunStatus, exit_code: Option<i32>, passed: u64) -> RunTestsResult {
        RunTestsResult {
            run_id: "child".into(),
            status,
            exit_code,
            signal: None,
            summary: Summary {
                total: passed,
                passed,
                ..Summary::default()
            },
            results: Default::default(),
            errors: Vec::new(),
            collection_errors: Vec::new(),
            collection_skips: Vec::new(),
            warnings: Vec::new(),
            warning_count: 0,
            duration_ms: 10,
            queued_ms: 0,
            resources: Resources::default(),
            coverage: None,
            escaped_processes: Vec::new(),
        }
    }

    fn shards(results: Vec<RunTestsResult>) -> Vec<ShardResult> {
        results
            .into_iter()
            .zip(0..)
            .map(|(result, index)| ShardResult {
                index,
                result,
                whole_files: false,
            })
            .collect()
    }

    #[test]
    fn merging_keeps_the_worst_status_and_pytests_exit_code() {
        let merged = merge(
            "run",
            shards(vec![
                result(RunStatus::Passed, Some(0), 2),
                result(RunStatus::Failed, Some(1), 1),
                result(RunStatus::Passed, Some(5), 0),
            ]),
            5,
            1,
        );
        assert_eq!(
            (
                merged.run_id.as_str(),
                merged.status,
                merged.exit_code,
                merged.summary.passed
            ),
            ("run", RunStatus::Failed, Some(1), 3)
        );
        let merged = merge(
            "run",
            shards(vec![
                result(RunStatus::Passed, Some(5), 0),
                result(RunStatus::Passed, Some(5), 0),
            ]),
            5,
            1,
        );
        assert_eq!(merged.exit_code, Some(5));
        let merged = merge(
            "run",
            shards(vec![
                result(RunStatus::Cancelled, None, 0),
                result(RunStatus::Passed, Some(0), 1),
            ]),
            5,
            1,
        );
        assert_eq!((merged.status, merged.exit_code), (RunStatus::Cancelled, None));
        let merged = merge(
            "run",
            shards(vec![
                result(RunStatus::Error, Some(4), 0),
                result(RunStatus::Failed, Some(1), 1),
            ]),
            5,
            1,
        );
        assert_eq!((merged.status, merged.exit_code), (RunStatus::Error, Some(4)));
    }

    #[test]
    fn what_every_shard_reports_is_reported_once() {
        let warning = Warning {
            message: "deprecated".into(),
            category: "DeprecationWarning".into(),
            path: None,
            line: None,
            node_id: None,
        };
        let broken = CollectionError {
            node_id: "conftest.py".into(),
            path: "conftest.py".into(),
            line: None,
            message: "boom".into(),
            traceback: "boom".into(),
        };
        let mut a = result(RunStatus::Error, Some(4), 0);
        let mut b = a.clone();
        for r in [&mut a, &mut b] {
            r.errors.push("pytest rejected its command line (exit code 4)".into());
            r.errors
                .push("3 requested test id(s) matched no collected test: a.py".into());
            r.warnings.push(warning.clone());
            r.warning_count = 2;
            r.collection_errors.push(broken.clone());
        }
        let merged = merge(
            "run",
            vec![
                ShardResult {
                    index: 0,
                    result: a,
                    whole_files: true,
                },
                ShardResult {
                    index: 1,
                    result: b,
                    whole_files: false,
                },
            ],
            5,
            1,
        );
        assert_eq!(
            merged.errors,
            [
                "shard 0: pytest rejected its command line (exit code 4)",
                "shard 1: 3 requested test id(s) matched no collected test: a.py"
            ]
        );
        assert_eq!((merged.warnings.len(), merged.warning_count), (1, 3));
        assert_eq!(merged.collection_errors.len(), 1);
    }

    #[test]
    fn lost_tests_are_those_without_a_result_named_in_a_bounded_sentence() {
        let expected: Vec<String> = (0..25).map(|i| format!("t.py::x{i}")).collect();
        let reported: HashSet<String> = ["t.py::x0".to_owned(), "t.py::x1".to_owned()].into();
        let lost = lost(&expected, &reported, "shard 1's pytest was killed by SIGKILL");
        assert_eq!(lost.len(), 23);
        assert_eq!(lost[0].test_id, "t.py::x2");
        assert_eq!(lost[0].outcome, Outcome::Error);
        assert!(lost[0].message.as_deref().unwrap().contains("SIGKILL"));
        let sentence = lost_sentence(1, &lost, &["other.py".to_owned()]);
        assert!(
            sentence.starts_with("shard 1 ended before it ran 24 test(s)"),
            "{sentence}"
        );
        assert!(sentence.ends_with("and 4 more"), "{sentence}");
    }

    #[test]
    fn problems_found_while_listing_fail_the_run_as_pytest_would() {
        let mut merged = result(RunStatus::Passed, Some(0), 3);
        let error = CollectionError {
            node_id: "test_broken.py".into(),
            path: "test_broken.py".into(),
            line: Some(1),
            message: "ImportError".into(),
            traceback: "E ImportError".into(),
        };
        add_collected_problems(&mut merged, vec![error], Vec::new());
        assert_eq!((merged.status, merged.exit_code), (RunStatus::Failed, Some(1)));
        assert!(merged.errors[0].contains("test_broken.py"));
    }
}
