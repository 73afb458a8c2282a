//! Whether the files a collection found can be trusted again without collecting: a stamp of the project tree.
//!
//! The stamp hashes every directory's name and every file of a kind that could hold tests (`.py`, and the kinds of
//! the test files found last time) or configure pytest (`pytest.ini`, `pyproject.toml`, `tox.ini`, `setup.cfg`),
//! with its modification time and size; the test files that were found are hashed by name only, since a whole
//! file runs whatever it holds now. So adding, removing or renaming any file or directory, or editing a conftest,
//! a configuration or a module that had no tests, changes the stamp and the tests are collected again. Hidden
//! directories, `__pycache__`, `node_modules` and virtualenvs are not walked: pytest does not collect them either
//! unless told to.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::time::UNIX_EPOCH;

/// A walk that meets more entries than this gives up: such a tree is collected every time.
const MAX_ENTRIES: usize = 200_000;

/// Files that configure pytest, whatever their extension.
const CONFIG_FILES: [&str; 5] = ["pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"];

/// What a walk saw: paths relative to the project with what changes when they are edited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Directories and relevant files: (relative path, modification time in ns, size); directories have 0, 0.
    entries: Vec<(String, u128, u64)>,
    /// The kinds of file the walk looked at.
    extensions: BTreeSet<String>,
}

impl Listing {
    /// Walks `root` (the project) for files with one of `extensions` (without the dot) and pytest's configuration
    /// files. `None` when the tree is too large or unreadable.
    pub fn walk(root: &Path, extensions: &BTreeSet<String>) -> Option<Self> {
        let mut entries = Vec::new();
        let mut stack = vec![String::new()];
        while let Some(dir) = stack.pop() {
            let absolute = if dir.is_empty() {
                root.to_owned()
            } else {
                root.join(&dir)
            };
            let read = std::fs::read_dir(&absolute).ok()?;
            for entry in read {
                let entry = entry.ok()?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                let relative = if dir.is_empty() {
                    name.to_owned()
                } else {
                    format!("{dir}/{name}")
                };
                let kind = entry.file_type().ok()?;
                if kind.is_dir() {
                    if skipped_dir(name, &entry.path()) {
                        continue;
                    }
                    entries.push((relative.clone(), 0, 0));
                    stack.push(relative);
                } else if relevant_file(name, extensions) {
                    // Symbolic links count by their target's time, as pytest imports the target.
                    let meta = std::fs::metadata(entry.path()).ok();
                    let mtime = meta
                        .as_ref()
                        .and_then(|m| m.modified().ok())
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_nanos());
                    entries.push((relative, mtime, meta.map_or(0, |m| m.len())));
                }
                if entries.len() > MAX_ENTRIES {
                    return None;
                }
            }
        }
        entries.sort();
        Some(Self {
            entries,
            extensions: extensions.clone(),
        })
    }

    /// Whether the walk looked at every kind of file in `files`, so that the stamp sees them change.
    pub fn covers<'a>(&self, files: impl IntoIterator<Item = &'a str>) -> bool {
        extensions(files).is_subset(&self.extensions)
    }

    /// The stamp of this listing, given the test files last found (hashed by name only).
    pub fn stamp(&self, test_files: &HashSet<String>) -> u64 {
        let mut hash = Fnv::default();
        for (path, mtime, size) in &self.entries {
            hash.write(path.as_bytes());
            hash.write(&[0]);
            if !test_files.contains(path) {
                hash.write(&mtime.to_le_bytes());
                hash.write(&size.to_le_bytes());
            }
        }
        hash.0
    }

    /// How many directories and files the walk saw.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the walk saw nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The extensions that matter for a plan: `.py`, and those of the test files it holds.
pub fn extensions<'a>(files: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = BTreeSet::from(["py".to_owned()]);
    for file in files {
        if let Some((_, ext)) = file
            .rsplit_once('.')
            .filter(|(stem, ext)| !stem.is_empty() && !ext.contains('/'))
        {
            out.insert(ext.to_owned());
        }
    }
    out
}

fn skipped_dir(name: &str, path: &Path) -> bool {
    name.starts_with('.')
        || name == "__pycache__"
        || name == "node_modules"
        || path.join("pyvenv.cfg").is_file()
        || path.join("conda-meta").is_dir()
}

fn relevant_file(name: &str, extensions: &BTreeSet<String>) -> bool {
    CONFIG_FILES.contains(&name)
        || name
            .rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.is_empty() && extensions.contains(ext))
}

/// 64-bit FNV-1a: stable across Rust versions, so a stamp written by one build is read by the next.
#[derive(Debug)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The FNV-1a hash of `bytes`, for keys of remembered plans and file names of projects.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = Fnv::default();
    hash.write(bytes);
    hash.0
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn py() -> BTreeSet<String> {
        extensions([])
    }

    #[test]
    fn adding_renaming_or_editing_a_non_test_module_changes_the_stamp_editing_a_test_file_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("tests/__pycache__")).unwrap();
        fs::create_dir_all(root.join(".venv")).unwrap();
        fs::write(root.join("pytest.ini"), "[pytest]\n").unwrap();
        fs::write(root.join("tests/test_a.py"), "def test_x(): pass\n").unwrap();
        fs::write(root.join("tests/helper.py"), "X = 1\n").unwrap();
        fs::write(root.join("notes.txt"), "not relevant\n").unwrap();
        let tests: HashSet<String> = ["tests/test_a.py".to_owned()].into();
        let stamp = |tests: &HashSet<String>| Listing::walk(root, &py()).unwrap().stamp(tests);
        let first = stamp(&tests);
        assert_eq!(stamp(&tests), first, "stable");

        fs::write(root.join("tests/test_a.py"), "def test_x(): pass\ndef test_y(): pass\n").unwrap();
        fs::write(root.join("tests/__pycache__/x.pyc"), "").unwrap();
        fs::write(root.join(".venv/mod.py"), "").unwrap();
        fs::write(root.join("notes.txt"), "still not relevant, longer\n").unwrap();
        fs::write(root.join("out.log"), "").unwrap();
        assert_eq!(
            stamp(&tests),
            first,
            "a test file's content, caches and other files do not matter"
        );

        fs::write(root.join("tests/helper.py"), "X = 22\n").unwrap();
        let edited = stamp(&tests);
        assert_ne!(edited, first, "a module that had no tests may have gained some");

        fs::write(root.join("tests/test_b.py"), "").unwrap();
        let added = stamp(&tests);
        assert_ne!(added, edited, "a new file");

        fs::rename(root.join("tests/test_b.py"), root.join("tests/test_c.py")).unwrap();
        assert_ne!(stamp(&tests), added, "a renamed file");

        fs::create_dir(root.join("more")).unwrap();
        let listing = Listing::walk(root, &py()).unwrap();
        assert!(listing.entries.iter().any(|(p, _, _)| p == "more"));
        assert!(!listing
            .entries
            .iter()
            .any(|(p, _, _)| p.contains("__pycache__") || p.starts_with(".venv")));
    }

    #[test]
    fn extensions_are_py_and_those_of_the_test_files() {
        let exts = extensions(["a/test_x.py", "b/test_y.yaml", "README", ".hidden"]);
        assert_eq!(exts, BTreeSet::from(["py".to_owned(), "yaml".to_owned()]));
        let dir = tempfile::tempdir().unwrap();
        let listing = Listing::walk(dir.path(), &exts).unwrap();
        assert!(listing.is_empty());
        assert!(listing.covers(["t.yaml", "t.py"]));
        assert!(!Listing::walk(dir.path(), &py()).unwrap().covers(["t.yaml"]));
    }
}
