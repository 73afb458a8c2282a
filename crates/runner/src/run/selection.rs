//! Test selection. Ids go to the plugin in a file (no ARG_MAX limit, linear matching, and the plugin prunes
//! collection to the files they live in). pytest gets few arguments: each explicit argument costs pytest time of
//! its own (300 file arguments add seconds to collection), so beyond a handful of files it gets their top-level
//! directories, or the project directory itself.

use std::path::Path;

/// Up to this many distinct files (or top-level entries) are passed to pytest as they are.
const MAX_PATH_ARGS: usize = 16;

/// What a run selects.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Selection {
    /// Node ids relative to the project directory.
    pub(crate) ids: Vec<String>,
    /// Paths to give pytest as arguments.
    pub(crate) paths: Vec<String>,
}

/// Normalizes `ids` (absolute paths inside `cwd` become relative) and derives the paths pytest must collect.
pub(crate) fn plan(cwd: &Path, ids: &[String]) -> Selection {
    let ids: Vec<String> = ids.iter().map(|id| relative_id(cwd, id)).collect();
    let mut paths = distinct(ids.iter().map(|id| path_of(id)));
    if paths.len() > MAX_PATH_ARGS {
        paths = distinct(paths.iter().map(|p| top_level(p)));
    }
    if paths.len() > MAX_PATH_ARGS {
        paths = vec![".".to_owned()];
    }
    Selection { ids, paths }
}

fn relative_id(cwd: &Path, id: &str) -> String {
    let id = id.trim();
    let (path, rest) = id.split_once("::").map_or((id, ""), |(p, r)| (p, r));
    let path = Path::new(path)
        .strip_prefix(cwd)
        .ok()
        .and_then(Path::to_str)
        .map_or(path, |p| if p.is_empty() { "." } else { p });
    let path = path.strip_prefix("./").unwrap_or(path);
    if rest.is_empty() {
        path.to_owned()
    } else {
        format!("{path}::{rest}")
    }
}

fn top_level(path: &str) -> &str {
    if path.starts_with('/') {
        return path;
    }
    path.split('/').next().unwrap_or(path)
}

fn path_of(id: &str) -> &str {
    id.split_once("::").map_or(id, |(p, _)| p)
}

fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items.filter(|p| seen.insert(*p)).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn absolute_ids_become_relative_and_paths_are_distinct() {
        let plan = plan(
            Path::new("/proj"),
            &ids(&[
                "/proj/tests/a.py::t[x::y]",
                "tests/a.py::u",
                "./b.py",
                "/elsewhere/c.py::v",
            ]),
        );
        assert_eq!(
            plan.ids,
            ids(&["tests/a.py::t[x::y]", "tests/a.py::u", "b.py", "/elsewhere/c.py::v"])
        );
        assert_eq!(plan.paths, ids(&["tests/a.py", "b.py", "/elsewhere/c.py"]));
    }

    #[test]
    fn many_files_collapse_to_top_level_entries_then_to_the_project() {
        let many: Vec<String> = (0..5000).map(|i| format!("tests/m{i}.py::t")).collect();
        let nested = plan(Path::new("/proj"), &many);
        assert_eq!(nested.ids.len(), 5000);
        assert_eq!(nested.paths, ids(&["tests"]));
        let flat: Vec<String> = (0..300).map(|i| format!("test_m{i}.py::t")).collect();
        assert_eq!(plan(Path::new("/proj"), &flat).paths, ids(&["."]));
    }
}
