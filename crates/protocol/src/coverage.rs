//! Coverage runs: coverage.py measures the run; the result carries the lines (and branches) each file ran and,
//! on request, which test ran which line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `runTests`' `coverage`: `true`, or the details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CoverageParam {
    /// `true`: measure with the defaults; `false`: do not measure.
    Enabled(bool),
    /// Measure with these settings.
    Options(CoverageOptions),
}

impl CoverageParam {
    /// The settings of a coverage run, or `None` when coverage is off.
    pub fn options(&self) -> Option<CoverageOptions> {
        match self {
            Self::Enabled(false) => None,
            Self::Enabled(true) => Some(CoverageOptions::default()),
            Self::Options(options) => Some(options.clone()),
        }
    }
}

/// What coverage.py measures, over the project's own configuration (`.coveragerc`, `pyproject.toml`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CoverageOptions {
    /// Measure branches too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<bool>,
    /// File patterns to measure (coverage.py's `include`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// File patterns not to measure (coverage.py's `omit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omit: Option<Vec<String>>,
    /// Record which test ran which line (coverage.py's contexts, one per test id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_test: Option<bool>,
    /// Where coverage.py keeps its data file; default a private directory of the daemon, removed after the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_file: Option<String>,
    /// Also write coverage.py's LCOV report to this path (what gutter plugins and CI services read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lcov: Option<String>,
    /// Also write coverage.py's Cobertura XML report to this path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xml: Option<String>,
}

/// The coverage of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileCoverage {
    /// Lines that ran (1-based, ascending).
    pub covered: Vec<u32>,
    /// Statements that did not run.
    pub missed: Vec<u32>,
    /// Branches, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branches: Option<BranchCoverage>,
}

/// Branch coverage of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BranchCoverage {
    /// Branches taken.
    pub covered: u32,
    /// Branches in all.
    pub total: u32,
    /// Branches not taken, as `[from line, to line]`; a negative `to` is an exit from the code object starting
    /// at that line, as coverage.py writes it.
    pub missing: Vec<[i64; 2]>,
    /// Branches taken, as `[from line, to line]`.
    pub taken: Vec<[i64; 2]>,
}

/// Totals over every measured file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageTotals {
    /// Statements.
    pub statements: u64,
    /// Statements that ran.
    pub covered: u64,
    /// Statements that did not run.
    pub missed: u64,
    /// Branches, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branches: Option<u64>,
    /// Branches taken, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covered_branches: Option<u64>,
    /// coverage.py's percentage (statements, and branches when measured).
    pub percent: f64,
}

/// A coverage run's measurements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageResult {
    /// Per file, keyed by path relative to `cwd` (absolute outside it).
    pub files: BTreeMap<String, FileCoverage>,
    /// Totals.
    pub totals: CoverageTotals,
    /// With `perTest`: per test id, per file, the lines that test ran (its setup, call and teardown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<BTreeMap<String, BTreeMap<String, Vec<u32>>>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_false_or_details() {
        let on: CoverageParam = serde_json::from_str("true").unwrap();
        assert_eq!(on.options(), Some(CoverageOptions::default()));
        let given: CoverageParam = serde_json::from_str(r#"{"branch":true,"perTest":true}"#).unwrap();
        let options = given.options().unwrap();
        assert_eq!((options.branch, options.per_test), (Some(true), Some(true)));
        assert!(serde_json::from_str::<CoverageParam>(r#"{"brnch":true}"#).is_err());
    }
}
