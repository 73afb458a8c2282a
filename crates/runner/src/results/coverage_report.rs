//! Reads coverage.py's JSON report (`coverage json`, format 3) into the protocol's coverage result: lines and
//! branches per file, totals, and with contexts the lines each test ran.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pytestd_protocol::coverage::{BranchCoverage, CoverageOptions, CoverageResult, CoverageTotals, FileCoverage};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Report {
    files: BTreeMap<String, ReportFile>,
    totals: Summary,
}

#[derive(Deserialize)]
struct ReportFile {
    #[serde(default)]
    executed_lines: Vec<u32>,
    #[serde(default)]
    missing_lines: Vec<u32>,
    executed_branches: Option<Vec<[i64; 2]>>,
    missing_branches: Option<Vec<[i64; 2]>>,
    /// Line (as a string) → the contexts (test ids, or "" outside any test) that ran it.
    contexts: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
struct Summary {
    #[serde(default)]
    num_statements: u64,
    #[serde(default)]
    covered_lines: u64,
    #[serde(default)]
    missing_lines: u64,
    num_branches: Option<u64>,
    covered_branches: Option<u64>,
    #[serde(default)]
    percent_covered: f64,
}

/// Turns the text of a JSON report into the result; the error says what is wrong with it.
pub(crate) fn parse(text: &[u8], per_test: bool) -> Result<CoverageResult, String> {
    let report: Report =
        serde_json::from_slice(text).map_err(|err| format!("cannot read coverage.py's JSON report: {err}"))?;
    let mut tests: BTreeMap<String, BTreeMap<String, Vec<u32>>> = BTreeMap::new();
    let mut files = BTreeMap::new();
    for (path, file) in report.files {
        let path = path.replace('\\', "/");
        if per_test {
            for (line, contexts) in file.contexts.iter().flatten() {
                let Ok(line) = line.parse::<u32>() else { continue };
                for context in contexts.iter().filter(|c| !c.is_empty()) {
                    let lines = tests
                        .entry(context.clone())
                        .or_default()
                        .entry(path.clone())
                        .or_default();
                    lines.push(line);
                }
            }
        }
        let branches = match (file.executed_branches, file.missing_branches) {
            (Some(taken), Some(missing)) => Some(BranchCoverage {
                covered: u32::try_from(taken.len()).unwrap_or(u32::MAX),
                total: u32::try_from(taken.len() + missing.len()).unwrap_or(u32::MAX),
                missing,
                taken,
            }),
            _ => None,
        };
        let coverage = FileCoverage {
            covered: file.executed_lines,
            missed: file.missing_lines,
            branches,
        };
        files.insert(path, coverage);
    }
    for lines in tests.values_mut().flat_map(BTreeMap::values_mut) {
        lines.sort_unstable();
        lines.dedup();
    }
    let totals = report.totals;
    Ok(CoverageResult {
        files,
        totals: CoverageTotals {
            statements: totals.num_statements,
            covered: totals.covered_lines,
            missed: totals.missing_lines,
            branches: totals.num_branches,
            covered_branches: totals.covered_branches,
            percent: totals.percent_covered,
        },
        tests: per_test.then_some(tests),
    })
}

/// Combines the coverage data files of runs that each measured a part of one suite (the shards of a split run)
/// and reads the combined report; writes the LCOV and XML reports `options` asks for. `scratch` is a directory the
/// caller owns, for the helper module, the combined data and the report. Runs `python -m pytestd_coverage` in
/// `cwd`, so paths come out relative to it as in a run's own report.
pub async fn combine(
    python: Option<&str>,
    cwd: &Path,
    data_files: &[PathBuf],
    options: &CoverageOptions,
    scratch: &Path,
) -> Result<CoverageResult, String> {
    let program = crate::run::command::resolve_python(python)?;
    crate::plugin::install(scratch).map_err(|err| format!("cannot write pytestd's coverage helper: {err}"))?;
    let report = scratch.join("combined.json");
    let parts: Vec<String> = data_files
        .iter()
        .filter(|file| file.is_file())
        .map(|file| file.display().to_string())
        .collect();
    let settings = json!({
        "dataFile": scratch.join(".coverage").display().to_string(),
        "tag": "pytestd-combined",
        "combine": parts,
        "branch": options.branch,
        "include": options.include,
        "omit": options.omit,
        "perTest": options.per_test.unwrap_or(false),
        "report": report.display().to_string(),
        "lcov": options.lcov,
        "xml": options.xml,
    });
    let output = tokio::process::Command::new(&program)
        .args(["-m", "pytestd_coverage", &settings.to_string()])
        .current_dir(cwd)
        .env("PYTHONPATH", scratch)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|err| format!("cannot start {}: {err}", program.display()))?;
    if !output.status.success() {
        return Err(format!(
            "combining the coverage data failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = tokio::fs::read(&report)
        .await
        .map_err(|err| format!("cannot read the combined coverage report: {err}"))?;
    parse(&text, options.per_test.unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"meta": {"format": 3, "branch_coverage": true, "show_contexts": true},
      "files": {"pkg/mod.py": {"executed_lines": [1, 2, 4], "missing_lines": [5],
        "executed_branches": [[2, 4]], "missing_branches": [[2, 5], [4, -1]],
        "contexts": {"1": [""], "2": ["t.py::a", "t.py::b"], "4": ["t.py::a"]},
        "summary": {"covered_lines": 3}}},
      "totals": {"num_statements": 4, "covered_lines": 3, "missing_lines": 1, "num_branches": 3,
                 "covered_branches": 1, "percent_covered": 57.14}}"#;

    #[test]
    fn lines_branches_and_totals() {
        let result = parse(REPORT.as_bytes(), false).unwrap();
        let file = &result.files["pkg/mod.py"];
        assert_eq!(
            (file.covered.as_slice(), file.missed.as_slice()),
            (&[1, 2, 4][..], &[5][..])
        );
        let branches = file.branches.as_ref().unwrap();
        assert_eq!((branches.covered, branches.total), (1, 3));
        assert_eq!(branches.missing, vec![[2, 5], [4, -1]]);
        assert_eq!(result.totals.statements, 4);
        assert_eq!(result.totals.branches, Some(3));
        assert!(result.tests.is_none());
    }

    #[test]
    fn contexts_become_lines_per_test_and_module_level_lines_belong_to_none() {
        let result = parse(REPORT.as_bytes(), true).unwrap();
        let tests = result.tests.unwrap();
        assert_eq!(tests["t.py::a"]["pkg/mod.py"], vec![2, 4]);
        assert_eq!(tests["t.py::b"]["pkg/mod.py"], vec![2]);
        assert_eq!(tests.len(), 2, "the empty context is no test");
    }

    #[test]
    fn a_broken_report_is_a_sentence() {
        let err = parse(b"{", false).unwrap_err();
        assert!(err.contains("coverage.py"), "{err}");
    }
}
