//! One run split across several pytest processes (`pytestd run --max-parallel N`). Whole files go to the shard
//! with the fewest tests so far, largest files first, so a module's fixtures are set up in one process only; the
//! shards' results merge back into one.

use std::collections::BTreeMap;

use pytestd_protocol::runs::{Resources, RunStatus, RunTestsResult, Summary};

/// Splits `ids` into at most `shards` non-empty groups of whole files.
pub(crate) fn split(ids: &[String], shards: usize) -> Vec<Vec<String>> {
    let mut files: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for id in ids {
        let file = id.split_once("::").map_or(id.as_str(), |(file, _)| file);
        files.entry(file).or_default().push(id.clone());
    }
    let mut files: Vec<Vec<String>> = files.into_values().collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.len()));
    let mut out: Vec<Vec<String>> = vec![Vec::new(); shards.clamp(1, files.len().max(1))];
    for file in files {
        if let Some(smallest) = out.iter_mut().min_by_key(|shard| shard.len()) {
            smallest.extend(file);
        }
    }
    out.retain(|shard| !shard.is_empty());
    out
}

/// One result for the whole run: every shard's tests, counts and errors; the worst status; pytest's exit code
/// as one process would have given it (usage and internal errors first, then failures, "no tests" only if no
/// shard had any).
pub(crate) fn merge(mut shards: Vec<RunTestsResult>) -> Option<RunTestsResult> {
    if shards.len() <= 1 {
        return shards.pop();
    }
    let status = [
        RunStatus::Error,
        RunStatus::TimedOut,
        RunStatus::Cancelled,
        RunStatus::Failed,
    ]
    .into_iter()
    .find(|status| shards.iter().any(|s| s.status == *status))
    .unwrap_or(RunStatus::Passed);
    let codes: Option<Vec<i32>> = shards.iter().map(|s| s.exit_code).collect();
    let exit_code = codes.map(|codes| {
        if let Some(bad) = codes.iter().copied().filter(|c| matches!(c, 2..=4)).max() {
            bad
        } else if codes.contains(&1) {
            1
        } else if codes.iter().all(|c| *c == 5) {
            5
        } else {
            0
        }
    });
    let mut merged = RunTestsResult {
        run_id: shards[0].run_id.clone(),
        status,
        exit_code,
        signal: shards.iter().find_map(|s| s.signal.clone()),
        summary: Summary::default(),
        results: Default::default(),
        errors: Vec::new(),
        collection_errors: Vec::new(),
        collection_skips: Vec::new(),
        warnings: Vec::new(),
        warning_count: 0,
        duration_ms: shards.iter().map(|s| s.duration_ms).max().unwrap_or(0),
        queued_ms: shards.iter().map(|s| s.queued_ms).min().unwrap_or(0),
        resources: Resources::default(),
        coverage: None,
        escaped_processes: Vec::new(),
    };
    for shard in shards {
        let s = shard.summary;
        let m = &mut merged.summary;
        m.total += s.total;
        m.passed += s.passed;
        m.failed += s.failed;
        m.skipped += s.skipped;
        m.errors += s.errors;
        m.xfailed += s.xfailed;
        m.xpassed += s.xpassed;
        // The shards ran at the same time: their memory adds up, and so does their CPU.
        merged.resources.peak_rss_bytes += shard.resources.peak_rss_bytes;
        merged.resources.cpu_ms += shard.resources.cpu_ms;
        merged.results.extend(shard.results);
        merged.errors.extend(shard.errors);
        merged.collection_errors.extend(shard.collection_errors);
        merged.collection_skips.extend(shard.collection_skips);
        merged.warnings.extend(shard.warnings);
        merged.warning_count += shard.warning_count;
        merged.escaped_processes.extend(shard.escaped_processes);
    }
    Some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn whole_files_go_to_the_emptiest_shard() {
        let all = ids(&["a.py::1", "a.py::2", "a.py::3", "b.py::1", "b.py::2", "c.py::1"]);
        let shards = split(&all, 2);
        assert_eq!(
            shards,
            vec![
                ids(&["a.py::1", "a.py::2", "a.py::3"]),
                ids(&["b.py::1", "b.py::2", "c.py::1"])
            ]
        );
        assert_eq!(split(&all, 10).len(), 3, "never more shards than files");
        assert!(split(&[], 4).is_empty());
    }

    fn result(status: RunStatus, exit_code: Option<i32>, passed: u64) -> RunTestsResult {
        RunTestsResult {
            run_id: "r".into(),
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

    #[test]
    fn merging_keeps_the_worst_status_and_pytests_exit_code() {
        let merged = merge(vec![
            result(RunStatus::Passed, Some(0), 2),
            result(RunStatus::Failed, Some(1), 1),
            result(RunStatus::Passed, Some(5), 0),
        ])
        .unwrap();
        assert_eq!(
            (merged.status, merged.exit_code, merged.summary.passed),
            (RunStatus::Failed, Some(1), 3)
        );
        let merged = merge(vec![
            result(RunStatus::Passed, Some(5), 0),
            result(RunStatus::Passed, Some(5), 0),
        ])
        .unwrap();
        assert_eq!(merged.exit_code, Some(5));
        let merged = merge(vec![
            result(RunStatus::Cancelled, None, 0),
            result(RunStatus::Passed, Some(0), 1),
        ])
        .unwrap();
        assert_eq!((merged.status, merged.exit_code), (RunStatus::Cancelled, None));
    }
}
