//! Arguments of `pytestd run` and `pytestd discover`, and what they resolve to (project directory, interpreter).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use pytestd_protocol::coverage::CoverageOptions;
use pytestd_protocol::shards::Shards;

use super::partition::Partition;

/// `pytestd run [PATH | NODE_ID …] [-- PYTEST_ARGS…]`.
#[derive(Debug, Clone, Args)]
pub(crate) struct RunArgs {
    /// Files, directories and node ids (`tests/test_a.py::TestX::test_y[1]`) relative to the current directory,
    /// as pytest takes them; none runs the project around the current directory.
    #[arg(value_name = "PATH_OR_NODE_ID")]
    pub(crate) targets: Vec<String>,

    /// The project root, where pytest runs; default found as pytest finds its rootdir (the nearest directory with
    /// pytest.ini, pyproject.toml, tox.ini or setup.cfg above the targets).
    #[arg(long, value_name = "DIR")]
    pub(crate) rootdir: Option<PathBuf>,

    /// Extra arguments for pytest, after `--`.
    #[arg(last = true, value_name = "PYTEST_ARGS")]
    pub(crate) pytest_args: Vec<String>,

    #[command(flatten)]
    pub(crate) common: Common,

    /// Split the run by file across N pytest processes running at once, balanced by the durations pytestd
    /// remembers for the project (`auto`: one per core, no more than files); results merge into one.
    #[arg(long, visible_alias = "max-parallel", value_name = "N|auto")]
    pub(crate) shards: Option<Shards>,

    /// Stop the run after this many seconds (exit code 2).
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<f64>,

    /// Less output: failures and the final line only.
    #[arg(short, long, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    /// More output: every result as a line, pytest's own output, whole tracebacks.
    #[arg(short, long)]
    pub(crate) verbose: bool,

    /// Colors and escape codes: `auto` uses them on a terminal only (and never when NO_COLOR is set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub(crate) color: ColorChoice,

    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) junit_xml: Option<PathBuf>,

    /// Print newline-delimited JSON events on stdout instead of the terminal report.
    #[arg(long)]
    pub(crate) json: bool,

    /// Run only the tests that failed the last time this project ran (all tests when none did).
    #[arg(long)]
    pub(crate) last_failed: bool,

    /// Run only this machine's share of the tests: `slice:M/N` (every Nth in id order), `hash:M/N`, or
    /// `duration:M/N` (an equal share of the time in the durations file, by whole files).
    #[arg(long, value_name = "KIND:M/N")]
    pub(crate) partition: Option<Partition>,

    /// The project's durations file, read by `--partition duration:M/N` and written by `--store-durations`
    /// (pytest-split's format); default `.test_durations` in the project root.
    #[arg(long, value_name = "FILE")]
    pub(crate) durations_path: Option<PathBuf>,

    /// After the run, write each test's duration into the durations file (`--store-durations=FILE` names it),
    /// merged with what it holds.
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub(crate) store_durations: Option<Option<PathBuf>>,

    /// Measure coverage with coverage.py and print a per-file table after the summary.
    #[arg(long)]
    pub(crate) coverage: bool,

    /// Measure branch coverage too (implies --coverage).
    #[arg(long)]
    pub(crate) coverage_branch: bool,

    /// Write coverage.py's LCOV report to FILE (implies --coverage).
    #[arg(long, value_name = "FILE")]
    pub(crate) coverage_lcov: Option<PathBuf>,

    /// Write coverage.py's Cobertura XML report to FILE (implies --coverage).
    #[arg(long, value_name = "FILE")]
    pub(crate) coverage_xml: Option<PathBuf>,
}

impl RunArgs {
    /// The durations file: `--store-durations=FILE`, else `--durations-path`, else `.test_durations` in the
    /// project; relative paths from the current directory.
    pub(crate) fn durations_file(&self, project: &Path, storing: bool) -> PathBuf {
        let named = self
            .store_durations
            .as_ref()
            .and_then(Option::as_ref)
            .filter(|_| storing)
            .or(self.durations_path.as_ref());
        match named {
            Some(path) => std::env::current_dir()
                .map(|cwd| cwd.join(path))
                .unwrap_or_else(|_| path.clone()),
            None => project.join(pytestd_runner::shards::durations::DEFAULT_FILE),
        }
    }

    /// What to measure, when any coverage option is given; report paths made absolute (pytest runs elsewhere).
    pub(crate) fn coverage(&self) -> Option<CoverageOptions> {
        let wanted =
            self.coverage || self.coverage_branch || self.coverage_lcov.is_some() || self.coverage_xml.is_some();
        let absolute = |path: &PathBuf| {
            std::env::current_dir()
                .map(|cwd| cwd.join(path))
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string()
        };
        wanted.then(|| CoverageOptions {
            branch: self.coverage_branch.then_some(true),
            lcov: self.coverage_lcov.as_ref().map(absolute),
            xml: self.coverage_xml.as_ref().map(absolute),
            ..CoverageOptions::default()
        })
    }
}

/// `pytestd discover [PATH | NODE_ID …] [-- PYTEST_ARGS…]`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DiscoverArgs {
    /// Files, directories and node ids relative to the current directory, as pytest takes them; none collects the
    /// project around the current directory.
    #[arg(value_name = "PATH_OR_NODE_ID")]
    pub(crate) targets: Vec<String>,

    /// The project root, where pytest runs; default found as pytest finds its rootdir.
    #[arg(long, value_name = "DIR")]
    pub(crate) rootdir: Option<PathBuf>,

    /// Extra arguments for pytest, after `--` (`-k`, `-m`, paths).
    #[arg(last = true, value_name = "PYTEST_ARGS")]
    pub(crate) pytest_args: Vec<String>,

    #[command(flatten)]
    pub(crate) common: Common,

    /// Print the collected tree (every node, parents first) and errors as one JSON document.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Options `run` and `discover` share.
#[derive(Debug, Clone, Args)]
pub(crate) struct Common {
    /// Python interpreter with pytest; defaults to PATH/.venv/bin/python if it exists, else python3.
    #[arg(long, value_name = "PYTHON")]
    pub(crate) python: Option<PathBuf>,
}

/// When to color the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to color, given whether the output is a terminal.
    pub(crate) fn enabled(self, terminal: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// The project root and the targets as ids relative to it, or a usage error.
pub(crate) fn targets(targets: &[String], rootdir: Option<&Path>) -> Result<super::targets::Targets, String> {
    let cwd = std::env::current_dir().map_err(|err| format!("cannot read the current directory: {err}"))?;
    super::targets::resolve(targets, rootdir, &cwd)
}

/// The interpreter: `--python` (relative to the current directory), else the project's `.venv`, else `None`
/// (the runner's default, python3 from PATH).
pub(crate) fn python(explicit: Option<&Path>, project: &Path) -> Option<String> {
    if let Some(python) = explicit {
        // A bare name (`python3.12`) is looked up in PATH by the runner; a path is made absolute.
        if python.components().count() > 1 {
            let absolute = std::env::current_dir()
                .map(|cwd| cwd.join(python))
                .unwrap_or_else(|_| python.to_owned());
            return Some(absolute.display().to_string());
        }
        return Some(python.display().to_string());
    }
    let venv = project.join(".venv/bin/python");
    venv.exists().then(|| venv.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_venv_is_the_default_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(python(None, dir.path()), None);
        std::fs::create_dir_all(dir.path().join(".venv/bin")).unwrap();
        std::fs::write(dir.path().join(".venv/bin/python"), "").unwrap();
        assert_eq!(
            python(None, dir.path()),
            Some(dir.path().join(".venv/bin/python").display().to_string())
        );
        assert_eq!(python(Some(Path::new("python3")), dir.path()), Some("python3".into()));
    }

    #[test]
    fn targets_resolve_from_the_current_directory() {
        assert!(targets(&["/no/such/dir/anywhere".to_owned()], None).is_err());
        assert!(targets(&[], None).unwrap().rootdir.is_absolute());
    }
}
