//! `--last-failed`: the ids that failed the last time a project ran, kept outside the project under
//! `$XDG_CACHE_HOME/pytestd` (else `~/.cache/pytestd`), one file per project named by a hash of its absolute path.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use pytestd_protocol::runs::{Outcome, RunTestsResult};
use serde::{Deserialize, Serialize};

use super::partition::fnv1a;

/// What is kept for one project.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Entry {
    /// The project, to make the file readable (the name is only a hash).
    project: String,
    /// Ids that failed or errored, sorted.
    failed: BTreeSet<String>,
}

/// The cache file of one project.
#[derive(Debug)]
pub(crate) struct LastFailed {
    file: Option<PathBuf>,
    project: String,
}

impl LastFailed {
    /// The cache of `project` (absolute); without a cache directory nothing is remembered.
    pub(crate) fn for_project(project: &Path) -> Self {
        let project = project.display().to_string();
        let file = cache_dir().map(|dir| {
            dir.join("pytestd")
                .join("last-failed")
                .join(format!("{:016x}.json", fnv1a(project.as_bytes())))
        });
        Self { file, project }
    }

    /// The ids that failed last time, sorted; empty when none did or nothing is known.
    pub(crate) fn load(&self) -> Vec<String> {
        self.read().failed.into_iter().collect()
    }

    /// Records a run: its failed and errored tests are added, tests that ran otherwise are forgotten.
    pub(crate) fn record(&self, result: &RunTestsResult) -> io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut entry = self.read();
        entry.project.clone_from(&self.project);
        for (id, test) in &result.results {
            if matches!(test.outcome, Outcome::Failed | Outcome::Error) {
                entry.failed.insert(id.clone());
            } else {
                entry.failed.remove(id);
            }
        }
        if let Some(dir) = file.parent() {
            fs::create_dir_all(dir)?;
        }
        // Write then rename, so concurrent runs of one project never leave half a file.
        let tmp = file.with_extension(format!("json.{}", std::process::id()));
        fs::write(&tmp, serde_json::to_vec_pretty(&entry)?)?;
        fs::rename(&tmp, file)
    }

    fn read(&self) -> Entry {
        self.file
            .as_ref()
            .and_then(|file| fs::read(file).ok())
            .and_then(|bytes| serde_json::from_slice::<Entry>(&bytes).ok())
            .filter(|entry| entry.project == self.project)
            .unwrap_or_default()
    }
}

fn cache_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|home| home.join(".cache")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use pytestd_protocol::runs::{Resources, RunStatus, Summary, TestResult};

    use super::*;

    fn run(outcomes: &[(&str, Outcome)]) -> RunTestsResult {
        let results: HashMap<String, TestResult> = outcomes
            .iter()
            .map(|&(id, outcome)| {
                let test = TestResult {
                    duration_ms: 1.0,
                    ..TestResult::new(id, outcome)
                };
                (id.to_owned(), test)
            })
            .collect();
        RunTestsResult {
            run_id: "r".into(),
            status: RunStatus::Failed,
            exit_code: Some(1),
            signal: None,
            summary: Summary::default(),
            results,
            errors: Vec::new(),
            collection_errors: Vec::new(),
            collection_skips: Vec::new(),
            warnings: Vec::new(),
            warning_count: 0,
            duration_ms: 1,
            queued_ms: 0,
            resources: Resources::default(),
            coverage: None,
            escaped_processes: Vec::new(),
        }
    }

    #[test]
    fn failures_are_added_and_passes_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LastFailed {
            file: Some(dir.path().join("x/p.json")),
            project: "/p".into(),
        };
        assert!(cache.load().is_empty());
        cache
            .record(&run(&[
                ("a", Outcome::Failed),
                ("b", Outcome::Error),
                ("c", Outcome::Passed),
            ]))
            .unwrap();
        assert_eq!(cache.load(), ["a", "b"]);
        cache.record(&run(&[("a", Outcome::Passed)])).unwrap();
        assert_eq!(cache.load(), ["b"]);
        let other = LastFailed {
            file: Some(dir.path().join("x/p.json")),
            project: "/q".into(),
        };
        assert!(
            other.load().is_empty(),
            "a hash collision must not leak another project's ids"
        );
    }
}
