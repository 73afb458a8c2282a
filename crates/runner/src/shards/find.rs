//! Finding the files a sharded run splits, without spending what sharding saves.
//!
//! - Node ids and files named by the client are split as they are: nothing to find.
//! - Directories (or the whole project) need their test files. When this selection was collected before and the
//!   project tree's stamp is unchanged since (see `stamp.rs`), the files found then are used: a walk of the tree
//!   costs milliseconds where collecting costs an interpreter start and an import of every test module. Each shard
//!   then runs whole files, so tests added to them since are run too.
//! - Otherwise pytest collects (`--collect-only`, a job of the run) and the shards get the collected ids.

use std::collections::BTreeMap;
use std::path::Path;

use pytestd_protocol::runs::RunTestsParams;

use super::plan::{units_from_ids, Unit};
use super::stamp::fnv1a;
use crate::config::RunnerConfig;

/// What the client selected, as far as splitting it goes.
#[derive(Debug, PartialEq)]
pub(crate) enum Selection {
    /// Node ids and files: the units are known.
    Direct(Vec<Unit>),
    /// Directories only (`.` for the whole project): their files must be found.
    Dirs(Vec<String>),
    /// Directories mixed with ids or files: collected, so the union is exactly pytest's.
    Mixed,
}

/// Sorts the run's `testIds` (relative to `cwd` once normalized) into units, directories or both.
pub(crate) fn classify(cwd: &Path, test_ids: &[String]) -> Selection {
    let ids = crate::run::selection::plan(cwd, test_ids).ids;
    if ids.is_empty() {
        return Selection::Dirs(vec![".".to_owned()]);
    }
    let (dirs, direct): (Vec<String>, Vec<String>) = ids
        .into_iter()
        .partition(|id| !id.contains("::") && cwd.join(id).is_dir());
    match (dirs.is_empty(), direct.is_empty()) {
        (true, _) => Selection::Direct(units_from_ids(&direct)),
        (false, true) => Selection::Dirs(dirs),
        (false, false) => Selection::Mixed,
    }
}

/// What decides which files pytest collects for a selection, hashed: the selection, the arguments, the
/// interpreter and the environment. A remembered plan is only used under the same key.
pub(crate) fn plan_key(params: &RunTestsParams, config: &RunnerConfig, dirs: &[String]) -> u64 {
    let mut text = String::from("dirs");
    let mut dirs = dirs.to_vec();
    dirs.sort();
    for part in dirs {
        text.push('\0');
        text.push_str(&part);
    }
    text.push_str("\0args");
    for arg in config.pytest_args.iter().chain(params.args.iter().flatten()) {
        text.push('\0');
        text.push_str(arg);
    }
    text.push_str("\0python\0");
    text.push_str(params.python.as_deref().or(config.python.as_deref()).unwrap_or(""));
    let mut env: BTreeMap<&str, &str> = config.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.extend(params.env.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())));
    text.push_str("\0env");
    for (name, value) in env {
        text.push('\0');
        text.push_str(name);
        text.push('=');
        text.push_str(value);
    }
    // pytest reads more arguments from here.
    text.push_str("\0addopts\0");
    text.push_str(&std::env::var("PYTEST_ADDOPTS").unwrap_or_default());
    fnv1a(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn ids_and_files_are_direct_directories_need_finding_and_a_mix_is_collected() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("tests/unit")).unwrap();
        std::fs::write(root.join("tests/test_a.py"), "").unwrap();
        assert_eq!(classify(root, &[]), Selection::Dirs(ids(&["."])));
        assert_eq!(
            classify(root, &ids(&["tests/unit", "tests"])),
            Selection::Dirs(ids(&["tests/unit", "tests"]))
        );
        let absolute = format!("{}/tests", root.display());
        assert_eq!(classify(root, &[absolute]), Selection::Dirs(ids(&["tests"])));
        match classify(root, &ids(&["tests/test_a.py", "tests/test_b.py::t[a::b]"])) {
            Selection::Direct(units) => {
                assert_eq!(units.len(), 2);
                assert!(units[0].ids.is_empty());
                assert_eq!(units[1].ids, ids(&["tests/test_b.py::t[a::b]"]));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            classify(root, &ids(&["tests/unit", "tests/test_a.py"])),
            Selection::Mixed
        );
    }

    #[test]
    fn the_key_changes_with_what_decides_collection() {
        let params = RunTestsParams {
            cwd: "/p".into(),
            ..RunTestsParams::default()
        };
        let config = RunnerConfig::default();
        let base = plan_key(&params, &config, &ids(&["."]));
        assert_eq!(plan_key(&params, &config, &ids(&["."])), base);
        assert_ne!(plan_key(&params, &config, &ids(&["tests"])), base);
        let with_args = RunTestsParams {
            args: Some(ids(&["-k", "fast"])),
            ..params.clone()
        };
        assert_ne!(plan_key(&with_args, &config, &ids(&["."])), base);
        let with_env = RunTestsParams {
            env: Some([("X".to_owned(), "1".to_owned())].into()),
            ..params
        };
        assert_ne!(plan_key(&with_env, &config, &ids(&["."])), base);
    }
}
