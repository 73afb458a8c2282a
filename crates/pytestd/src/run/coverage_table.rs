//! `pytestd run --coverage`: the per-file table after the test summary, in the columns of coverage.py's own text
//! report (statements, missed, branches and missed branches when measured, percent), with the total last.

use std::fmt::Write as _;

use pytestd_protocol::coverage::{CoverageResult, FileCoverage};

use super::style::Style;

/// The table, ending with a newline; an empty string when nothing was measured.
pub(crate) fn render(coverage: &CoverageResult, style: Style) -> String {
    if coverage.files.is_empty() {
        return "coverage: no data was collected\n".to_owned();
    }
    let branches = coverage.totals.branches.is_some();
    let width = coverage
        .files
        .keys()
        .map(|name| name.chars().count())
        .chain(std::iter::once("TOTAL".len()))
        .max()
        .unwrap_or(5);
    let mut rows = Vec::new();
    for (name, file) in &coverage.files {
        let (statements, missed) = (file.covered.len() + file.missed.len(), file.missed.len());
        let (total, missing) = branch_counts(file);
        rows.push((
            name.clone(),
            statements as u64,
            missed as u64,
            total,
            missing,
            percent(file),
        ));
    }
    let totals = &coverage.totals;
    let total_branches = totals.branches.unwrap_or(0);
    let missed_branches = total_branches.saturating_sub(totals.covered_branches.unwrap_or(0));
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.bold("coverage:"));
    let header = if branches {
        format!(
            "{:<width$}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}",
            "Name", "Stmts", "Miss", "Branch", "BrMiss", "Cover"
        )
    } else {
        format!("{:<width$}  {:>6}  {:>6}  {:>6}", "Name", "Stmts", "Miss", "Cover")
    };
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "{}", "-".repeat(header.chars().count()));
    let line = |name: &str, statements: u64, missed: u64, total: u64, missing: u64, cover: f64| {
        let cover = format!("{cover:.0}%");
        if branches {
            format!("{name:<width$}  {statements:>6}  {missed:>6}  {total:>6}  {missing:>6}  {cover:>6}")
        } else {
            format!("{name:<width$}  {statements:>6}  {missed:>6}  {cover:>6}")
        }
    };
    for (name, statements, missed, total, missing, cover) in rows {
        let _ = writeln!(out, "{}", line(&name, statements, missed, total, missing, cover));
    }
    let _ = writeln!(out, "{}", "-".repeat(header.chars().count()));
    let total = line(
        "TOTAL",
        totals.statements,
        totals.missed,
        total_branches,
        missed_branches,
        totals.percent,
    );
    let _ = writeln!(out, "{}", style.bold(&total));
    out
}

fn branch_counts(file: &FileCoverage) -> (u64, u64) {
    file.branches.as_ref().map_or((0, 0), |b| {
        (u64::from(b.total), u64::from(b.total.saturating_sub(b.covered)))
    })
}

/// coverage.py's percentage: statements and branches that ran, over all of them.
fn percent(file: &FileCoverage) -> f64 {
    let (branches, missed_branches) = branch_counts(file);
    let all = (file.covered.len() + file.missed.len()) as u64 + branches;
    if all == 0 {
        return 100.0;
    }
    let ran = file.covered.len() as u64 + branches - missed_branches;
    100.0 * ran as f64 / all as f64
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pytestd_protocol::coverage::{BranchCoverage, CoverageTotals};

    use super::*;

    #[test]
    fn a_row_per_file_and_the_total() {
        let file = FileCoverage {
            covered: vec![1, 2, 3],
            missed: vec![4],
            branches: Some(BranchCoverage {
                covered: 1,
                total: 2,
                missing: vec![[2, 4]],
                taken: vec![[2, 3]],
            }),
        };
        let coverage = CoverageResult {
            files: BTreeMap::from([("shop/prices.py".to_owned(), file)]),
            totals: CoverageTotals {
                statements: 4,
                covered: 3,
                missed: 1,
                branches: Some(2),
                covered_branches: Some(1),
                percent: 66.666,
            },
            tests: None,
        };
        let table = render(&coverage, Style { color: false });
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            ["Name", "Stmts", "Miss", "Branch", "BrMiss", "Cover"]
        );
        assert_eq!(
            lines[3].split_whitespace().collect::<Vec<_>>(),
            ["shop/prices.py", "4", "1", "2", "1", "67%"]
        );
        assert_eq!(
            lines[5].split_whitespace().collect::<Vec<_>>(),
            ["TOTAL", "4", "1", "2", "1", "67%"]
        );
    }
}
