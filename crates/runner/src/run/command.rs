//! Builds a run's pytest command: interpreter, arguments, environment and selection file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use pytestd_protocol::coverage::CoverageOptions;
use pytestd_protocol::debug::{DebugOptions, DEFAULT_WAIT_FOR_CLIENT_MS};
use pytestd_protocol::plugin::{
    ENV_COVERAGE, ENV_DEBUG, ENV_JOURNAL, ENV_MODE, ENV_RECORD_IMPORTS, ENV_RUN_ID, ENV_SELECT_FILE, ENV_SOCKET,
    ENV_TOKEN, PLUGIN_MODULE,
};
use pytestd_protocol::runs::RunTestsParams;
use serde_json::json;

use super::selection;
use crate::config::RunnerConfig;
use crate::events::JobKind;

/// Where the daemon's shared pieces are.
#[derive(Debug)]
pub(crate) struct Paths {
    /// The result server's socket.
    pub(crate) socket: PathBuf,
    /// The directory holding the plugin; selection files go there too.
    pub(crate) runtime: PathBuf,
}

/// A command ready to spawn. Dropping it removes its selection file, its journal and its coverage directory.
#[derive(Debug)]
pub(crate) struct PytestCommand {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) cwd: PathBuf,
    _select_file: Option<tempfile::TempPath>,
    /// The run's journal: every line the plugin queued, for the daemon to read after pytest died.
    journal: tempfile::TempPath,
    /// A coverage run's private directory: coverage.py's data files and its JSON report.
    pub(crate) coverage_dir: Option<tempfile::TempDir>,
}

impl PytestCommand {
    /// The run's journal (see [`ENV_JOURNAL`]).
    pub(crate) fn journal(&self) -> &Path {
        &self.journal
    }

    /// The command line as shown to clients.
    pub(crate) fn display_args(&self) -> Vec<String> {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect()
    }

    pub(crate) fn to_tokio(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .envs(&self.env)
            .current_dir(&self.cwd)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    }
}

/// Prepares the command for one run; the error is a sentence for the run's `errors`.
pub(crate) fn build(
    params: &RunTestsParams,
    config: &RunnerConfig,
    paths: &Paths,
    run_id: &str,
    token: &str,
    kind: JobKind,
) -> Result<PytestCommand, String> {
    let cwd = PathBuf::from(&params.cwd);
    if !cwd.is_dir() {
        return Err(format!(
            "the project directory {} does not exist or is not a directory",
            cwd.display()
        ));
    }
    let program = resolve_python(params.python.as_deref().or(config.python.as_deref()))?;

    let mut args: Vec<String> = ["-m", "pytest", "-p", PLUGIN_MODULE, "--rootdir"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    args.push(params.cwd.clone());
    match kind {
        // -qq: one line per file instead of one per test; the tree itself comes through the plugin.
        JobKind::Discover | JobKind::DiscoverUnstreamed => args.extend(["--collect-only".to_owned(), "-qq".to_owned()]),
        // One module that fails to import must not blank the run: it is reported, the others run.
        JobKind::Run if params.stop_on_collection_errors != Some(true) => {
            args.push("--continue-on-collection-errors".to_owned());
        }
        JobKind::Run => {}
    }
    args.extend(config.pytest_args.iter().cloned());
    args.extend(params.args.iter().flatten().cloned());

    let mut env = config.env.clone();
    env.extend(params.env.clone().unwrap_or_default());
    let python_path = match env
        .get("PYTHONPATH")
        .cloned()
        .or_else(|| std::env::var("PYTHONPATH").ok())
    {
        Some(existing) if !existing.is_empty() => format!("{}:{existing}", paths.runtime.display()),
        _ => paths.runtime.display().to_string(),
    };
    env.insert("PYTHONPATH".into(), python_path);
    env.insert(ENV_SOCKET.into(), paths.socket.display().to_string());
    env.insert(ENV_RUN_ID.into(), run_id.to_owned());
    env.insert(ENV_TOKEN.into(), token.to_owned());
    if kind.is_discovery() {
        env.insert(ENV_MODE.into(), "discover".to_owned());
    }
    // Cold runs too: what they import is what the project's template will preload.
    if config.warm_start {
        env.insert(ENV_RECORD_IMPORTS.into(), "1".to_owned());
    }
    // Created empty and private to the daemon's user; the plugin sizes and maps it.
    let journal = tempfile::Builder::new()
        .prefix("journal-")
        .tempfile_in(&paths.runtime)
        .map_err(|err| format!("cannot create the run's journal: {err}"))?
        .into_temp_path();
    env.insert(ENV_JOURNAL.into(), journal.display().to_string());

    let ids = params.test_ids.as_deref().unwrap_or_default();
    let select_file = if ids.is_empty() {
        None
    } else {
        let plan = selection::plan(&cwd, ids);
        let file = write_selection(&paths.runtime, &plan.ids)
            .map_err(|err| format!("cannot write the test selection: {err}"))?;
        env.insert(ENV_SELECT_FILE.into(), file.display().to_string());
        args.extend(plan.paths);
        Some(file)
    };
    let debug = params
        .debug
        .as_ref()
        .and_then(|d| d.options())
        .filter(|_| kind == JobKind::Run);
    if let Some(debug) = debug {
        env.insert(ENV_DEBUG.into(), debug_settings(&debug)?);
        // Without it debugpy warns on every start that frozen modules may miss breakpoints in the stdlib.
        env.entry("PYDEVD_DISABLE_FILE_VALIDATION".into())
            .or_insert_with(|| "1".to_owned());
        // Prints reach the debug console as the test makes them.
        args.push("--capture=no".to_owned());
    }
    let coverage = params
        .coverage
        .as_ref()
        .and_then(|c| c.options())
        .filter(|_| kind == JobKind::Run);
    let coverage_dir = match coverage {
        Some(coverage) => {
            let dir = tempfile::Builder::new()
                .prefix("coverage-")
                .tempdir_in(&paths.runtime)
                .map_err(|err| format!("cannot create the coverage directory: {err}"))?;
            env.insert(ENV_COVERAGE.into(), coverage_settings(&coverage, dir.path(), run_id));
            Some(dir)
        }
        None => None,
    };
    Ok(PytestCommand {
        program,
        args,
        env,
        cwd,
        _select_file: select_file,
        journal,
        coverage_dir,
    })
}

/// The plugin's debug settings; only loopback addresses: debugpy runs the project's code for whoever attaches.
fn debug_settings(debug: &DebugOptions) -> Result<String, String> {
    let host = debug.host.clone().unwrap_or_else(|| "127.0.0.1".to_owned());
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback());
    if !loopback {
        return Err(format!(
            "debug.host {host:?} is not a loopback address: debugpy would let anyone who reaches it run code"
        ));
    }
    let settings = json!({
        "host": host,
        "port": debug.port.unwrap_or(0),
        "waitForClientMs": debug.wait_for_client_ms.unwrap_or(DEFAULT_WAIT_FOR_CLIENT_MS),
    });
    Ok(settings.to_string())
}

/// The plugin's coverage settings: data files and report in `dir` unless the client named a data file.
fn coverage_settings(coverage: &CoverageOptions, dir: &Path, run_id: &str) -> String {
    let data_file = coverage
        .data_file
        .clone()
        .unwrap_or_else(|| dir.join(".coverage").display().to_string());
    let tag: String = run_id.chars().filter(char::is_ascii_alphanumeric).take(32).collect();
    json!({
        "dataFile": data_file,
        "tag": format!("pytestd-{tag}"),
        "branch": coverage.branch,
        "include": coverage.include,
        "omit": coverage.omit,
        "perTest": coverage.per_test.unwrap_or(false),
        "report": dir.join("coverage.json").display().to_string(),
        "lcov": coverage.lcov,
        "xml": coverage.xml,
    })
    .to_string()
}

fn write_selection(dir: &Path, ids: &[String]) -> std::io::Result<tempfile::TempPath> {
    let mut file = tempfile::Builder::new()
        .prefix("select-")
        .suffix(".txt")
        .tempfile_in(dir)?;
    let mut out = std::io::BufWriter::new(file.as_file_mut());
    for id in ids {
        out.write_all(id.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    drop(out);
    Ok(file.into_temp_path())
}

/// Finds the interpreter: the one named, else `python3`, else `python`, from PATH.
pub(crate) fn resolve_python(named: Option<&str>) -> Result<PathBuf, String> {
    match named {
        Some(name) => which::which(name).map_err(|_| {
            format!("the Python interpreter {name:?} was not found (set `python` to an existing interpreter)")
        }),
        None => which::which("python3")
            .or_else(|_| which::which("python"))
            .map_err(|_| {
                "no Python interpreter found: neither python3 nor python is on PATH (set `python`)".to_owned()
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_run(params: &RunTestsParams, dir: &Path, token: &str) -> Result<PytestCommand, String> {
        build(params, &RunnerConfig::default(), &paths(dir), "r", token, JobKind::Run)
    }

    fn paths(dir: &Path) -> Paths {
        Paths {
            socket: dir.join("s.sock"),
            runtime: dir.to_owned(),
        }
    }

    #[test]
    fn puts_ids_in_a_file_and_only_their_files_on_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let params = RunTestsParams {
            cwd: dir.path().display().to_string(),
            test_ids: Some(vec!["t.py::a".into(), "t.py::b".into()]),
            args: Some(vec!["-q".into()]),
            python: Some("sh".into()),
            ..RunTestsParams::default()
        };
        let command = build_run(&params, dir.path(), "tok").unwrap();
        assert_eq!(command.args[..4], ["-m", "pytest", "-p", "pytestd_plugin"]);
        assert_eq!(command.args[6..], ["--continue-on-collection-errors", "-q", "t.py"]);
        let file = &command.env[ENV_SELECT_FILE];
        assert_eq!(std::fs::read_to_string(file).unwrap(), "t.py::a\nt.py::b\n");
        assert_eq!(command.env[ENV_TOKEN], "tok");
        assert!(command.env["PYTHONPATH"].starts_with(&dir.path().display().to_string()));
        let file = PathBuf::from(file);
        let journal = PathBuf::from(&command.env[ENV_JOURNAL]);
        assert_eq!(command.journal(), journal);
        assert!(journal.is_file());
        drop(command);
        assert!(!file.exists(), "the selection file outlived its command");
        assert!(!journal.exists(), "the journal outlived its command");
    }

    #[test]
    fn runs_go_past_collection_errors_unless_told_to_stop() {
        let dir = tempfile::tempdir().unwrap();
        let mut params = RunTestsParams {
            cwd: dir.path().display().to_string(),
            python: Some("sh".into()),
            ..RunTestsParams::default()
        };
        let flag = "--continue-on-collection-errors".to_owned();
        assert!(build_run(&params, dir.path(), "t").unwrap().args.contains(&flag));
        params.stop_on_collection_errors = Some(true);
        assert!(!build_run(&params, dir.path(), "t").unwrap().args.contains(&flag));
        let discover = build(
            &params,
            &RunnerConfig::default(),
            &paths(dir.path()),
            "r",
            "t",
            JobKind::Discover,
        );
        assert!(!discover.unwrap().args.contains(&flag), "a discovery never runs tests");
    }

    #[test]
    fn a_missing_directory_or_interpreter_is_a_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let mut params = RunTestsParams {
            cwd: "/nonexistent/project".into(),
            ..RunTestsParams::default()
        };
        let err = build_run(&params, dir.path(), "t").unwrap_err();
        assert!(err.contains("/nonexistent/project"), "{err}");
        params.cwd = dir.path().display().to_string();
        params.python = Some("no-such-python-3.99".into());
        let err = build_run(&params, dir.path(), "t").unwrap_err();
        assert!(err.contains("no-such-python-3.99"), "{err}");
    }
}
