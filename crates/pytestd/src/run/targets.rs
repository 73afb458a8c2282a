//! What `pytestd run` and `pytestd discover` take on their command line, as pytest takes it: paths and node ids
//! relative to the current directory (`tests/test_x.py::TestA::test_b[1]`, `tests/`, `.`), and the project root
//! found as pytest finds its rootdir, so the daemon runs pytest there and gets ids relative to it.

use std::path::{Component, Path, PathBuf};

/// The project root and the targets as ids relative to it (none: the whole project).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Targets {
    pub(crate) rootdir: PathBuf,
    pub(crate) ids: Vec<String>,
}

/// Resolves `targets` given in `cwd`; `rootdir` is `--rootdir`. The error is a usage error's sentence.
pub(crate) fn resolve(targets: &[String], rootdir: Option<&Path>, cwd: &Path) -> Result<Targets, String> {
    let mut places = Vec::new();
    for target in targets {
        let (path, rest) = split(target);
        let absolute = normalize(&cwd.join(path));
        if !absolute.exists() {
            return Err(format!("file or directory not found: {target}"));
        }
        places.push((absolute, rest));
    }
    let rootdir = match rootdir {
        Some(dir) => {
            let dir = normalize(&cwd.join(dir));
            if !dir.is_dir() {
                return Err(format!("--rootdir {} is not a directory", dir.display()));
            }
            dir
        }
        None => find_rootdir(&places.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(), cwd),
    };
    // Canonical, so the last-failed cache finds the project under one name however it is spelled.
    let rootdir = rootdir
        .canonicalize()
        .map_err(|err| format!("cannot resolve {}: {err}", rootdir.display()))?;
    let mut ids = Vec::new();
    for (path, rest) in places {
        let path = path.canonicalize().unwrap_or(path);
        let relative = match path.strip_prefix(&rootdir) {
            Ok(relative) => relative.to_string_lossy().replace('\\', "/"),
            Err(_) => path.display().to_string(),
        };
        if relative.is_empty() && rest.is_none() {
            continue; // the project itself: the whole suite
        }
        let base = if relative.is_empty() { ".".to_owned() } else { relative };
        ids.push(match rest {
            Some(rest) => format!("{base}::{rest}"),
            None => base,
        });
    }
    Ok(Targets { rootdir, ids })
}

/// `path::rest` → (`path`, `rest`); a plain path has no rest.
fn split(target: &str) -> (&str, Option<&str>) {
    match target.split_once("::") {
        Some((path, rest)) => (path, Some(rest)),
        None => (target, None),
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (symlinks are resolved later, by canonicalize).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// pytest's rootdir: the nearest directory at or above the targets' common ancestor holding a configuration file
/// pytest reads (`pytest.ini`, `.pytest.ini`, `pyproject.toml` with `[tool.pytest.ini_options]` or
/// `[tool.pytest]`, `tox.ini` with `[pytest]`, `setup.cfg` with `[tool:pytest]`), else one holding a
/// `pyproject.toml` at all (pytest's last-resort configuration file), else one holding `setup.py`, else the common
/// ancestor itself.
fn find_rootdir(places: &[PathBuf], cwd: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = places
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.clone()
            } else {
                p.parent().map_or_else(|| p.clone(), Path::to_path_buf)
            }
        })
        .collect();
    let ancestor = common_ancestor(&dirs).unwrap_or_else(|| cwd.to_owned());
    let upwards = || ancestor.ancestors().map(Path::to_path_buf);
    upwards()
        .find(|dir| has_pytest_config(dir))
        .or_else(|| upwards().find(|dir| dir.join("pyproject.toml").is_file()))
        .or_else(|| upwards().find(|dir| dir.join("setup.py").is_file()))
        .unwrap_or(ancestor)
}

fn common_ancestor(dirs: &[PathBuf]) -> Option<PathBuf> {
    let (first, rest) = dirs.split_first()?;
    let mut common = first.clone();
    for dir in rest {
        while !dir.starts_with(&common) {
            if !common.pop() {
                return None;
            }
        }
    }
    Some(common)
}

fn has_pytest_config(dir: &Path) -> bool {
    let contains = |name: &str, needles: &[&str]| {
        std::fs::read_to_string(dir.join(name))
            .is_ok_and(|text| text.lines().map(str::trim).any(|line| needles.contains(&line)))
    };
    dir.join("pytest.ini").is_file()
        || dir.join(".pytest.ini").is_file()
        || contains("pyproject.toml", &["[tool.pytest.ini_options]", "[tool.pytest]"])
        || contains("tox.ini", &["[pytest]"])
        || contains("setup.cfg", &["[tool:pytest]"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("tests/unit")).unwrap();
        std::fs::write(
            root.join("pyproject.toml"),
            "[project]\nname='x'\n\n[tool.pytest.ini_options]\n",
        )
        .unwrap();
        std::fs::write(root.join("tests/unit/test_a.py"), "def test_x(): pass\n").unwrap();
        dir
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn node_ids_and_paths_from_a_subdirectory_become_ids_relative_to_the_rootdir() {
        let dir = project();
        let root = dir.path().canonicalize().unwrap();
        let cwd = root.join("tests");
        let targets = resolve(&strings(&["unit/test_a.py::test_x", "unit/"]), None, &cwd).unwrap();
        assert_eq!(targets.rootdir, root);
        assert_eq!(targets.ids, ["tests/unit/test_a.py::test_x", "tests/unit"]);
    }

    #[test]
    fn no_targets_run_the_project_around_the_current_directory() {
        let dir = project();
        let root = dir.path().canonicalize().unwrap();
        let targets = resolve(&[], None, &root.join("tests/unit")).unwrap();
        assert_eq!(
            targets,
            Targets {
                rootdir: root.clone(),
                ids: Vec::new()
            }
        );
        // The project directory itself is the whole suite, as before.
        let whole = resolve(&strings(&[root.to_str().unwrap()]), None, Path::new("/")).unwrap();
        assert_eq!(
            whole,
            Targets {
                rootdir: root,
                ids: Vec::new()
            }
        );
    }

    #[test]
    fn a_missing_path_is_a_usage_error_and_rootdir_can_be_given() {
        let dir = project();
        let root = dir.path().canonicalize().unwrap();
        let err = resolve(&strings(&["nope.py::t"]), None, &root).unwrap_err();
        assert!(err.contains("not found: nope.py::t"), "{err}");
        let given = resolve(&strings(&["tests/unit/test_a.py"]), Some(Path::new("tests")), &root).unwrap();
        assert_eq!(given.rootdir, root.join("tests"));
        assert_eq!(given.ids, ["unit/test_a.py"]);
    }

    #[test]
    fn without_a_config_file_setup_py_then_the_common_ancestor_decide() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/test_q.py"), "").unwrap();
        let plain = resolve(&strings(&["a/b/test_q.py"]), None, &root).unwrap();
        assert_eq!(plain.rootdir, root.join("a/b"));
        std::fs::write(root.join("a/setup.py"), "").unwrap();
        let with_setup = resolve(&strings(&["a/b/test_q.py"]), None, &root).unwrap();
        assert_eq!(with_setup.rootdir, root.join("a"));
        assert_eq!(with_setup.ids, ["b/test_q.py"]);
    }
}
