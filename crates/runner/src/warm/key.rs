//! Which template a run may be forked from, and which runs must start cold.
//!
//! A template is made for one (interpreter, project directory, environment): everything a Python process takes
//! in at its start (`sys.path`, `PYTHON*` variables, site-packages) follows from those three. The run's own
//! variables (its id, token, journal, selection) are not part of the key: the run's process sets them after the
//! fork, and nothing reads them before the plugin does.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pytestd_protocol::plugin::{
    ENV_COVERAGE, ENV_DEBUG, ENV_JOURNAL, ENV_MODE, ENV_RECORD_IMPORTS, ENV_RUN_ID, ENV_SELECT_FILE, ENV_TOKEN,
};

use crate::run::command::PytestCommand;

/// Variables that differ from run to run and are set in the run's process after the fork.
pub(crate) const PER_RUN: [&str; 8] = [
    ENV_RUN_ID,
    ENV_TOKEN,
    ENV_JOURNAL,
    ENV_SELECT_FILE,
    ENV_MODE,
    ENV_RECORD_IMPORTS,
    ENV_COVERAGE,
    ENV_DEBUG,
];

/// What a template is made for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Key {
    pub(crate) python: PathBuf,
    pub(crate) cwd: PathBuf,
    /// The environment the daemon adds to its own, without the per-run variables.
    pub(crate) env: BTreeMap<String, String>,
}

impl Key {
    pub(crate) fn of(command: &PytestCommand) -> Self {
        let env = command
            .env
            .iter()
            .filter(|(name, _)| !PER_RUN.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Self {
            python: command.program.clone(),
            cwd: command.cwd.clone(),
            env,
        }
    }
}

/// The run's own variables, which its process sets after the fork.
pub(crate) fn per_run_env(command: &PytestCommand) -> BTreeMap<String, String> {
    command
        .env
        .iter()
        .filter(|(name, _)| PER_RUN.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// Why a run must start cold even with a ready template, or `None` when it may be forked. A debug or coverage run
/// must see every module imported under its tracer; xdist starts its own interpreters; `-p` chooses which plugins
/// load, and a template holds the ones earlier runs loaded.
pub(crate) fn must_run_cold(args: &[String], env: &BTreeMap<String, String>) -> Option<String> {
    if env.contains_key(ENV_DEBUG) {
        return Some("a debug run starts cold".to_owned());
    }
    if env.contains_key(ENV_COVERAGE) {
        return Some("a coverage run starts cold".to_owned());
    }
    let addopts = env
        .get("PYTEST_ADDOPTS")
        .cloned()
        .or_else(|| std::env::var("PYTEST_ADDOPTS").ok())
        .unwrap_or_default();
    // pytest's own arguments (after `-m pytest`), then those of PYTEST_ADDOPTS.
    let mut tokens = args
        .iter()
        .skip(2)
        .cloned()
        .chain(addopts.split_whitespace().map(str::to_owned));
    while let Some(arg) = tokens.next() {
        let short = |flag: &str| arg.starts_with(flag) && !arg.starts_with("--");
        if short("-n") || arg.starts_with("--numprocesses") || arg.starts_with("--dist") || arg.starts_with("--tx") {
            return Some(format!(
                "{arg}: pytest-xdist starts interpreters of its own; the run starts cold"
            ));
        }
        let plugin = match arg.as_str() {
            // The daemon's own `-p pytestd_plugin` is in every command.
            "-p" => tokens
                .next()
                .filter(|name| name != pytestd_protocol::plugin::PLUGIN_MODULE),
            _ if short("-p") => Some(arg[2..].to_owned()),
            _ => None,
        };
        if let Some(name) = plugin {
            return Some(format!("-p {name} chooses which plugins load; the run starts cold"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Vec<String> {
        ["-m", "pytest", "-p", "pytestd_plugin", "--rootdir", "/p"]
            .iter()
            .chain(extra)
            .map(|s| (*s).to_owned())
            .collect()
    }

    #[test]
    fn plain_runs_may_be_forked() {
        assert_eq!(
            must_run_cold(&args(&["-q", "tests/test_a.py::t"]), &BTreeMap::new()),
            None
        );
        assert_eq!(must_run_cold(&args(&["--no-header", "-x"]), &BTreeMap::new()), None);
    }

    #[test]
    fn plugin_choices_and_xdist_start_cold() {
        for extra in [
            &["-p", "no:randomly"][..],
            &["-pno:cacheprovider"],
            &["-n", "2"],
            &["-n4"],
            &["--dist=load"],
        ] {
            let why = must_run_cold(&args(extra), &BTreeMap::new());
            assert!(why.is_some(), "{extra:?} must start cold");
        }
        let env = BTreeMap::from([("PYTEST_ADDOPTS".to_owned(), "-q -p no:warnings".to_owned())]);
        assert!(must_run_cold(&args(&[]), &env).is_some());
        let env = BTreeMap::from([(ENV_COVERAGE.to_owned(), "{}".to_owned())]);
        assert!(must_run_cold(&args(&[]), &env).is_some());
    }
}
