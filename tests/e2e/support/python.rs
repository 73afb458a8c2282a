//! The Python interpreters the tests hand to the daemon.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use super::repo_root;

/// The interpreter with the pinned pytest: `$PYTESTD_TEST_PYTHON`, else the venv `tests/run.sh` builds.
pub fn test_python() -> String {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Ok(python) = std::env::var("PYTESTD_TEST_PYTHON") {
                return python;
            }
            let venv = repo_root().join("target/test-venv/bin/python");
            assert!(
                venv.exists(),
                "no Python with pytest for the e2e tests: run `bash tests/run.sh` (it builds target/test-venv), \
                 or set PYTESTD_TEST_PYTHON"
            );
            venv.display().to_string()
        })
        .clone()
}

/// Creates a virtualenv without pip (so without pytest) in `dir` and returns its interpreter.
pub fn python_without_pytest(dir: &Path) -> String {
    let status = Command::new(test_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(dir)
        .status()
        .expect("run python -m venv");
    assert!(
        status.success(),
        "python -m venv --without-pip {} failed: {status}",
        dir.display()
    );
    dir.join("bin/python").display().to_string()
}

/// Makes `module` unimportable for a run that puts `dir` on its PYTHONPATH: a package of that name that raises
/// ImportError, as an interpreter without the package does.
pub fn hide_module(dir: &Path, module: &str) {
    let package = dir.join(module);
    std::fs::create_dir_all(&package).expect("create the hiding package");
    std::fs::write(
        package.join("__init__.py"),
        format!("raise ImportError(\"No module named '{module}'\")\n"),
    )
    .expect("write the hiding package");
}
