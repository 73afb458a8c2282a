//! Warm starts: once a project's template is ready, its runs are forked from it and report exactly what a cold
//! run reports; a template is never used after what it loaded changed (an installed package, a module the
//! project now shadows, the environment); cancel, crash and escaped processes of a forked run leave nothing
//! behind; templates are listed, stopped when warm starts are turned off, and die with the daemon.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::support::{
    assert_status, errors_text, is_alive, new_run_id, pids_with_marker, test_python, wait_until, Daemon, MARK_VAR,
    REPLY, RUN,
};

/// Time for a template to start (it imports pytest and what earlier runs used) on a loaded machine.
const TEMPLATE: Duration = Duration::from_secs(60);

const OUTCOMES: &str = r#"
import pytest

def test_pass():
    print("some output")

def test_fail():
    assert [1, 2] == [1, 3]

@pytest.mark.skip(reason="not today")
def test_skip():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n == 1

@pytest.fixture
def broken():
    yield
    raise RuntimeError("teardown")

def test_teardown_error(broken):
    pass
"#;

/// A project directory with the given files.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

fn params(daemon: &Daemon, cwd: &Path, extra: Value) -> Value {
    let mut params = json!({"cwd": cwd.display().to_string(), "env": {MARK_VAR: daemon.marker()}});
    params["runId"] = json!(new_run_id());
    if let Value::Object(extra) = extra {
        for (key, value) in extra {
            params[key] = value;
        }
    }
    params
}

/// Runs and says whether the run was forked from a template (its `runStarted`).
fn run(daemon: &mut Daemon, params: Value) -> (Value, bool) {
    let run_id = params["runId"].as_str().unwrap().to_owned();
    let result = daemon.run(params, RUN);
    let started = daemon.run_notifications("runStarted", &run_id);
    assert_eq!(started.len(), 1, "one runStarted: {started:?}");
    (result, started[0]["warm"] == json!(true))
}

/// Runs with [`params`].
fn go(daemon: &mut Daemon, cwd: &Path, extra: Value) -> (Value, bool) {
    let params = params(daemon, cwd, extra);
    run(daemon, params)
}

/// The ready templates for `cwd`: (pid, runs).
fn ready_templates(daemon: &mut Daemon, cwd: &Path) -> Vec<Value> {
    let list = daemon.call("listRuns", json!({}), REPLY).unwrap();
    let cwd = cwd.display().to_string();
    list["templates"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t["cwd"] == json!(cwd) && t["state"] == "ready")
        .collect()
}

/// Waits for a ready template for `cwd` that satisfies `good`; returns its pid.
fn wait_template(daemon: &mut Daemon, cwd: &Path, good: impl Fn(&Value) -> bool) -> u32 {
    let mut pid = None;
    wait_until(TEMPLATE, "a ready warm template", || {
        pid = ready_templates(daemon, cwd)
            .into_iter()
            .find(|t| good(t))
            .and_then(|t| t["pid"].as_u64());
        pid.is_some()
    });
    u32::try_from(pid.unwrap()).unwrap()
}

/// Each test's outcome and `when`, for comparing two runs.
fn outcomes(result: &Value) -> BTreeMap<String, (Value, Value)> {
    result["results"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, r)| (id.clone(), (r["outcome"].clone(), r["when"].clone())))
        .collect()
}

#[test]
fn a_rerun_is_forked_from_the_warm_template_and_reports_what_a_cold_run_reports() {
    let dir = project(&[("test_outcomes.py", OUTCOMES)]);
    let mut daemon = Daemon::start();
    let (cold, warm) = go(&mut daemon, dir.path(), json!({}));
    assert!(!warm, "the first run of a project starts cold");
    wait_template(&mut daemon, dir.path(), |_| true);
    let (forked, warm) = go(&mut daemon, dir.path(), json!({}));
    assert!(
        warm,
        "a run after the template is ready is forked: {}",
        errors_text(&forked)
    );
    assert_eq!(outcomes(&forked), outcomes(&cold));
    assert_eq!(forked["summary"], cold["summary"]);
    assert_eq!(forked["exitCode"], cold["exitCode"]);
    assert_eq!(
        forked["results"]["test_outcomes.py::test_pass"]["stdout"],
        cold["results"]["test_outcomes.py::test_pass"]["stdout"]
    );
    // Asked not to, it starts cold even with the template ready.
    let (again, warm) = go(&mut daemon, dir.path(), json!({"warm": false}));
    assert!(!warm);
    assert_eq!(outcomes(&again), outcomes(&cold));
    // Plugin choices and xdist start cold, and the log says why.
    let choice = params(&daemon, dir.path(), json!({"args": ["-p", "no:cacheprovider"]}));
    let (_, warm) = run(&mut daemon, choice);
    assert!(!warm);
    let said_why = daemon
        .messages()
        .iter()
        .any(|m| m["method"] == "window/logMessage" && m.to_string().contains("chooses which plugins load"));
    assert!(said_why, "the log says why the run started cold");
}

/// A virtualenv of its own (pytest comes from the test virtualenv through a .pth file) with a package `fakelib`
/// whose import writes the importing process's pid to `imports.log`.
struct Venv {
    _dir: tempfile::TempDir,
    python: PathBuf,
    site: PathBuf,
    log: PathBuf,
}

impl Venv {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("venv");
        let made = Command::new(test_python())
            .args(["-m", "venv", "--without-pip"])
            .arg(&root)
            .status()
            .unwrap();
        assert!(made.success());
        let python = root.join("bin/python");
        let site_of = |python: &Path| {
            let out = Command::new(python)
                .args(["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .output()
                .unwrap();
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        };
        let site = site_of(&python);
        let test_site = site_of(Path::new(&test_python()));
        fs::write(site.join("test_venv.pth"), format!("{}\n", test_site.display())).unwrap();
        let log = dir.path().join("imports.log");
        let venv = Self {
            _dir: dir,
            python,
            site,
            log,
        };
        venv.write_fakelib(1);
        venv
    }

    fn write_fakelib(&self, value: u32) {
        let package = self.site.join("fakelib");
        fs::create_dir_all(&package).unwrap();
        let init = package.join("__init__.py");
        let text = format!(
            "import os\nVALUE = {value}\nwith open({:?}, 'a') as f:\n    f.write('%d\\n' % os.getpid())\n",
            self.log.display().to_string()
        );
        fs::write(&init, text).unwrap();
        // A distinct mtime even on a file system with coarse timestamps.
        let file = fs::File::options().write(true).open(&init).unwrap();
        file.set_modified(SystemTime::now() + Duration::from_secs(u64::from(value)))
            .unwrap();
    }

    /// Installs a package `name` whose `__init__.py` is `text`.
    fn write_package(&self, name: &str, text: &str) {
        let package = self.site.join(name);
        fs::create_dir_all(&package).unwrap();
        fs::write(package.join("__init__.py"), text).unwrap();
    }

    /// The pids that imported fakelib.
    fn importers(&self) -> Vec<u32> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect()
    }
}

const USES_FAKELIB: &str = r#"
import pathlib
import fakelib

def test_value():
    assert fakelib.VALUE == int(pathlib.Path(__file__).with_name("expected.txt").read_text())
"#;

#[test]
fn a_template_is_never_used_after_an_installed_package_or_a_shadowing_module_changes() {
    let venv = Venv::new();
    let dir = project(&[("test_lib.py", USES_FAKELIB), ("expected.txt", "1")]);
    let mut daemon = Daemon::start_with(json!({"python": venv.python.display().to_string()}));
    let (first, warm) = go(&mut daemon, dir.path(), json!({}));
    assert_status(&first, "passed");
    assert!(!warm);
    // The first run named fakelib among its imports: a template that preloaded it replaces the first one.
    let template = wait_template(&mut daemon, dir.path(), |t| {
        t["pid"]
            .as_u64()
            .is_some_and(|pid| venv.importers().contains(&(pid as u32)))
    });
    let (second, warm) = go(&mut daemon, dir.path(), json!({}));
    assert_status(&second, "passed");
    assert!(warm, "{}", errors_text(&second));

    // An upgrade of the preloaded package: the template is stale, the run starts cold and sees the new code.
    venv.write_fakelib(2);
    fs::write(dir.path().join("expected.txt"), "2").unwrap();
    let (upgraded, warm) = go(&mut daemon, dir.path(), json!({}));
    assert_status(&upgraded, "passed");
    assert!(!warm, "a stale template must not be used");
    wait_until(REPLY, "the stale template to end", || {
        !is_alive(i32::try_from(template).unwrap())
    });
    // A fresh template has the new code.
    let fresh = wait_template(&mut daemon, dir.path(), |t| t["pid"] != json!(template));
    let (after, warm) = go(&mut daemon, dir.path(), json!({}));
    assert_status(&after, "passed");
    assert!(warm, "{}", errors_text(&after));

    // A package installed beside it changes site-packages: stale again.
    fs::create_dir_all(venv.site.join("newlib")).unwrap();
    fs::write(venv.site.join("newlib/__init__.py"), "").unwrap();
    let (installed, warm) = go(&mut daemon, dir.path(), json!({}));
    assert_status(&installed, "passed");
    assert!(!warm, "a template must not outlive an installation");

    // The project now has its own fakelib, which a cold run would import: the template must not be used.
    let shadowed_by = wait_template(&mut daemon, dir.path(), |t| t["pid"] != json!(fresh));
    fs::write(dir.path().join("fakelib.py"), "VALUE = 3\n").unwrap();
    fs::write(dir.path().join("expected.txt"), "3").unwrap();
    let (shadowed, warm) = go(&mut daemon, dir.path(), json!({}));
    assert_status(&shadowed, "passed");
    assert!(
        !warm,
        "template {shadowed_by} preloaded the fakelib the project now shadows"
    );
}

/// What a test can see of how its pytest started: the invocation, the plugins in registration order (pluggy calls
/// hooks in that order), the plugins blocked by `-p no:` in the configuration (applied once the default plugins are
/// registered), and PYTEST_VERSION as an installed module saw it at import (pytest's main sets it before it loads
/// anything; the template preloads the module).
const STARTUP_FACTS: &str = r#"
import json, os, sys
import envlib, fakelib

def test_facts(request):
    config = request.config
    manager = config.pluginmanager
    named = lambda name: "<id>" if name.isdigit() else name
    print(json.dumps({
        "args": list(config.invocation_params.args),
        "plugins": repr(config.invocation_params.plugins),
        "dir": str(config.invocation_params.dir),
        "argv": sys.argv,
        "registered": [named(name) for name, _ in manager.list_name_plugin()],
        "setup": [named(impl.plugin_name) for impl in config.hook.pytest_runtest_setup.get_hookimpls()],
        "blocked": [manager.is_blocked(name) for name in ("cacheprovider", "stepwise", "junitxml")],
        "options": sorted(vars(config.option)),
        "version": os.environ.get("PYTEST_VERSION"),
        "version_at_import": envlib.AT_IMPORT,
    }))
"#;

#[test]
fn a_forked_run_starts_pytest_as_a_cold_run_does() {
    let venv = Venv::new();
    venv.write_package("envlib", "import os\nAT_IMPORT = os.environ.get('PYTEST_VERSION')\n");
    let dir = project(&[
        ("test_facts.py", STARTUP_FACTS),
        ("pytest.ini", "[pytest]\naddopts = -p no:cacheprovider\n"),
    ]);
    let mut daemon = Daemon::start_with(json!({"python": venv.python.display().to_string()}));
    let (cold, warm) = go(&mut daemon, dir.path(), json!({}));
    assert_status(&cold, "passed");
    assert!(!warm);
    // A template that preloaded what the first run imported (envlib with fakelib).
    wait_template(&mut daemon, dir.path(), |t| {
        t["pid"]
            .as_u64()
            .is_some_and(|pid| venv.importers().contains(&(pid as u32)))
    });
    let facts = |result: &Value| -> Value {
        let stdout = result["results"]["test_facts.py::test_facts"]["stdout"]
            .as_str()
            .unwrap_or_default();
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("no facts ({e}): {result}"))
    };
    let cold_facts = facts(&cold);
    assert_eq!(cold_facts["version_at_import"], cold_facts["version"], "{cold_facts}");
    assert_eq!(cold_facts["blocked"], json!([true, true, false]), "{cold_facts}");
    for _ in 0..2 {
        let (forked, warm) = go(&mut daemon, dir.path(), json!({}));
        assert_status(&forked, "passed");
        assert!(warm, "{}", errors_text(&forked));
        assert_eq!(facts(&forked), cold_facts);
    }
    // A plugin choice in PYTEST_ADDOPTS decides what get_config loads: cold.
    let mut choice = params(&daemon, dir.path(), json!({}));
    choice["env"]["PYTEST_ADDOPTS"] = json!("-p no:junitxml");
    let (chosen, warm) = run(&mut daemon, choice);
    assert_status(&chosen, "passed");
    assert!(!warm, "a -p in PYTEST_ADDOPTS starts cold");
    assert_eq!(facts(&chosen)["blocked"], json!([true, true, true]));
}

#[test]
fn another_environment_gets_a_template_of_its_own() {
    let test = "import os, pathlib\n\ndef test_env():\n    \
                assert os.environ['FLAVOUR'] == pathlib.Path(__file__).with_name('flavour.txt').read_text()\n";
    let dir = project(&[("test_env.py", test), ("flavour.txt", "sweet")]);
    let mut daemon = Daemon::start();
    let with = |daemon: &mut Daemon, flavour: &str| {
        let mut p = params(daemon, dir.path(), json!({}));
        p["env"]["FLAVOUR"] = json!(flavour);
        run(daemon, p)
    };
    let (first, _) = with(&mut daemon, "sweet");
    assert_status(&first, "passed");
    wait_template(&mut daemon, dir.path(), |_| true);
    let (second, warm) = with(&mut daemon, "sweet");
    assert_status(&second, "passed");
    assert!(warm);
    fs::write(dir.path().join("flavour.txt"), "sour").unwrap();
    let (other, warm) = with(&mut daemon, "sour");
    assert_status(&other, "passed");
    assert!(!warm, "a template made for another environment must not be used");
}

const SLOW_AND_CRASHING: &str = r#"
import os, signal, subprocess, sys, time

def test_first():
    pass

def test_sleeps():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    time.sleep(600)

def test_dies():
    os.kill(os.getpid(), signal.SIGKILL)

def test_after():
    pass

def test_daemonizes():
    # A classic daemon, in pure Python: no exec, so only the template's environment block, rewritten by the run's
    # process, ties it to its run.
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            with open(os.environ["PIDFILE"], "w") as f:
                f.write(str(os.getpid()))
            time.sleep(600)
        os._exit(0)
    deadline = time.time() + 30
    while not os.path.exists(os.environ["PIDFILE"]) and time.time() < deadline:
        time.sleep(0.01)
"#;

/// A daemon with a ready template for a project holding [`SLOW_AND_CRASHING`]; `PIDFILE` names a file in it.
fn warmed() -> (Daemon, tempfile::TempDir) {
    let dir = project(&[("test_slow.py", SLOW_AND_CRASHING)]);
    // In the settings, so every run has the same environment and uses the same template.
    let pidfile = dir.path().join("grandchild.pid").display().to_string();
    let mut daemon = Daemon::start_with(json!({"killGraceMs": 500, "env": {"PIDFILE": pidfile}}));
    let first = params(&daemon, dir.path(), json!({"testIds": ["test_slow.py::test_first"]}));
    let (result, _) = run(&mut daemon, first);
    assert_status(&result, "passed");
    wait_template(&mut daemon, dir.path(), |_| true);
    (daemon, dir)
}

#[test]
fn cancelling_a_forked_run_leaves_nothing_behind_and_the_template_serves_on() {
    let (mut daemon, dir) = warmed();
    let slow = params(&daemon, dir.path(), json!({"testIds": ["test_slow.py::test_sleeps"]}));
    let run_id = slow["runId"].as_str().unwrap().to_owned();
    let id = daemon.request("runTests", slow);
    let started = daemon.wait_run_notification("runStarted", &run_id, RUN);
    assert_eq!(started["warm"], json!(true), "{started}");
    daemon.wait_run_notification("testStarted", &run_id, RUN);
    let cancel = daemon.call("cancelRun", json!({"runId": run_id}), REPLY).unwrap();
    assert_eq!(cancel["state"], "cancelled", "{cancel}");
    let result = daemon.response(id, RUN).unwrap();
    assert_status(&result, "cancelled");
    daemon.assert_run_processes_gone(REPLY);
    let next = params(&daemon, dir.path(), json!({"testIds": ["test_slow.py::test_first"]}));
    let (result, warm) = run(&mut daemon, next);
    assert_status(&result, "passed");
    assert!(warm, "the template still serves after a cancel");
}

#[test]
fn a_forked_run_that_dies_keeps_its_earlier_results_and_blames_the_running_test() {
    let (mut daemon, dir) = warmed();
    let ids = [
        "test_slow.py::test_first",
        "test_slow.py::test_dies",
        "test_slow.py::test_after",
    ];
    let crash = params(&daemon, dir.path(), json!({"testIds": ids}));
    let (result, warm) = run(&mut daemon, crash);
    assert!(warm);
    assert_status(&result, "error");
    assert_eq!(
        result["results"]["test_slow.py::test_first"]["outcome"], "passed",
        "{result}"
    );
    let died = &result["results"]["test_slow.py::test_dies"];
    assert_eq!(died["outcome"], "error", "{result}");
    assert!(died.to_string().contains("SIGKILL"), "{died}");
    daemon.assert_run_processes_gone(REPLY);
}

#[test]
fn a_daemonized_grandchild_of_a_forked_run_is_killed_and_named() {
    let (mut daemon, dir) = warmed();
    let pidfile = dir.path().join("grandchild.pid");
    let escape = params(
        &daemon,
        dir.path(),
        json!({"testIds": ["test_slow.py::test_daemonizes"]}),
    );
    let (result, warm) = run(&mut daemon, escape);
    assert!(warm, "{}", errors_text(&result));
    let pid: i32 = fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let escaped = result["escapedProcesses"].as_array().cloned().unwrap_or_default();
    assert!(
        escaped.iter().any(|e| e["pid"] == json!(pid)),
        "the grandchild {pid} is named: {result}"
    );
    wait_until(REPLY, "the escaped grandchild to die", || !is_alive(pid));
}

#[test]
fn templates_are_listed_stopped_when_turned_off_and_die_with_the_daemon() {
    let dir = project(&[("test_a.py", "def test_a():\n    pass\n")]);
    let mut daemon = Daemon::start();
    go(&mut daemon, dir.path(), json!({}));
    let pid = wait_template(&mut daemon, dir.path(), |t| t["rssBytes"].as_u64().unwrap_or(0) > 0);
    daemon.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"pytestd": {"warmStart": false}}}),
    );
    wait_until(REPLY, "the template to stop", || !is_alive(i32::try_from(pid).unwrap()));
    assert!(ready_templates(&mut daemon, dir.path()).is_empty());
    let (_, warm) = go(&mut daemon, dir.path(), json!({}));
    assert!(!warm, "warm starts are off");

    // Turned on again: a template starts; when the daemon is killed outright, it ends with it.
    daemon.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"pytestd": {"warmStart": true}}}),
    );
    go(&mut daemon, dir.path(), json!({}));
    let pid = wait_template(&mut daemon, dir.path(), |_| true);
    let marker_pids = pids_with_marker(daemon.marker());
    assert!(marker_pids.contains(&i32::try_from(pid).unwrap()));
    daemon.signal(nix::sys::signal::Signal::SIGKILL);
    daemon.wait_exit(REPLY);
    wait_until(REPLY, "the template to end with its daemon", || {
        !is_alive(i32::try_from(pid).unwrap())
    });
}
