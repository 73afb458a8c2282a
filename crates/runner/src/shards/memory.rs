//! What pytestd remembers of a project between runs, outside the project: each test's last duration (from every
//! run) and the files the last collections found with the tree's stamp then, so a sharded run can be split
//! without collecting again. One small JSON file per project under `$XDG_CACHE_HOME/pytestd/durations/` (else
//! `~/.cache/pytestd/durations/`), named by a hash of the project's path.
//!
//! One task does all the reading and writing, in order, off the async threads: a run that follows another in the
//! same daemon sees what the first one recorded. Writes go to a temporary file renamed over the old one, so
//! concurrent daemons never leave half a file; a file that cannot be parsed is ignored and rewritten. The file is
//! bounded: the tests not seen for longest are forgotten beyond [`MAX_TESTS`], the oldest plans beyond
//! [`MAX_PLANS`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::plan::Durations;
use super::stamp::fnv1a;

/// Tests remembered per project.
pub const MAX_TESTS: usize = 50_000;
/// Plans (a selection's files and stamp) remembered per project.
pub const MAX_PLANS: usize = 16;
/// The format's version; a file of another version is ignored and rewritten.
const VERSION: u32 = 1;

/// The files a collection found for one selection, and the tree's stamp just before it collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRecord {
    /// What was selected, hashed with everything else that decides what pytest collects (arguments,
    /// interpreter, environment).
    pub key: u64,
    /// The tree's stamp (see `stamp.rs`).
    pub stamp: u64,
    /// The files with tests, that failed to collect, or were skipped as a whole.
    pub files: Vec<String>,
    /// When it was recorded, as the file's record count: the oldest plan is forgotten first.
    #[serde(default)]
    pub generation: u64,
}

/// What is remembered of one project.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectMemory {
    /// Each test's last duration, in seconds.
    pub durations: Durations,
    /// Plans by key.
    pub plans: Vec<PlanRecord>,
}

impl ProjectMemory {
    /// The plan remembered for `key`.
    pub fn plan(&self, key: u64) -> Option<&PlanRecord> {
        self.plans.iter().find(|plan| plan.key == key)
    }
}

/// The file's layout.
#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    /// The project, readable (the file's name is only a hash).
    project: String,
    /// How many times this file was written: the clock for forgetting.
    generation: u64,
    /// Test id → [seconds, generation last seen].
    durations: HashMap<String, (f64, u64)>,
    plans: Vec<PlanRecord>,
}

enum Job {
    Load {
        project: String,
        reply: oneshot::Sender<ProjectMemory>,
    },
    Durations {
        project: String,
        durations: Durations,
    },
    Plan {
        project: String,
        plan: PlanRecord,
    },
    Flush {
        reply: oneshot::Sender<()>,
    },
}

/// Handle to the task that reads and writes the memory. Cheap to clone; without a cache directory it remembers
/// nothing.
#[derive(Debug, Clone)]
pub struct Memory {
    tx: Option<mpsc::UnboundedSender<Job>>,
}

impl Memory {
    /// Starts the task over `dir` (normally [`default_dir`]); `None` remembers nothing. Needs a tokio runtime.
    pub fn start(dir: Option<PathBuf>) -> Self {
        let Some(dir) = dir else {
            return Self { tx: None };
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let dir = dir.clone();
                // Blocking file work off the async threads; one job at a time keeps them in order.
                let _ = tokio::task::spawn_blocking(move || handle(&dir, job)).await;
            }
        });
        Self { tx: Some(tx) }
    }

    /// What is remembered of `project` (empty when nothing is, or the file is unreadable).
    pub async fn load(&self, project: &str) -> ProjectMemory {
        let Some(tx) = &self.tx else {
            return ProjectMemory::default();
        };
        let (reply, rx) = oneshot::channel();
        let job = Job::Load {
            project: project.to_owned(),
            reply,
        };
        if tx.send(job).is_err() {
            return ProjectMemory::default();
        }
        rx.await.unwrap_or_default()
    }

    /// Remembers a run's durations (seconds by test id).
    pub fn record_durations(&self, project: &str, durations: Durations) {
        if let (Some(tx), false) = (&self.tx, durations.is_empty()) {
            let _ = tx.send(Job::Durations {
                project: project.to_owned(),
                durations,
            });
        }
    }

    /// Remembers the files a collection found.
    pub fn record_plan(&self, project: &str, plan: PlanRecord) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Job::Plan {
                project: project.to_owned(),
                plan,
            });
        }
    }

    /// Returns once everything recorded so far is written.
    pub async fn flush(&self) {
        if let Some(tx) = &self.tx {
            let (reply, rx) = oneshot::channel();
            if tx.send(Job::Flush { reply }).is_ok() {
                let _ = rx.await;
            }
        }
    }
}

/// `$XDG_CACHE_HOME/pytestd/durations`, else `~/.cache/pytestd/durations`; only absolute paths count.
pub fn default_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|cache| cache.join("pytestd").join("durations"))
}

fn path_of(dir: &Path, project: &str) -> PathBuf {
    dir.join(format!("{:016x}.json", fnv1a(project.as_bytes())))
}

fn handle(dir: &Path, job: Job) {
    match job {
        Job::Load { project, reply } => {
            let file = read(dir, &project);
            let _ = reply.send(ProjectMemory {
                durations: file.durations.into_iter().map(|(id, (s, _))| (id, s)).collect(),
                plans: file.plans,
            });
        }
        Job::Durations { project, durations } => update(dir, &project, |file| {
            for (id, seconds) in durations {
                if seconds.is_finite() && seconds >= 0.0 {
                    file.durations.insert(id, (seconds, file.generation));
                }
            }
        }),
        Job::Plan { project, mut plan } => update(dir, &project, |file| {
            plan.generation = file.generation;
            file.plans.retain(|old| old.key != plan.key);
            file.plans.push(plan);
        }),
        Job::Flush { reply } => {
            let _ = reply.send(());
        }
    }
}

fn read(dir: &Path, project: &str) -> File {
    std::fs::read(path_of(dir, project))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<File>(&bytes).ok())
        .filter(|file| file.version == VERSION && file.project == project)
        .unwrap_or_default()
}

fn update(dir: &Path, project: &str, change: impl FnOnce(&mut File)) {
    let mut file = read(dir, project);
    file.version = VERSION;
    project.clone_into(&mut file.project);
    file.generation += 1;
    change(&mut file);
    bound(&mut file);
    if let Err(err) = write(dir, project, &file) {
        tracing::warn!(%err, project, "cannot remember the project's test durations");
    }
}

/// Forgets the tests not seen for longest, and the oldest plans, beyond the limits.
fn bound(file: &mut File) {
    if file.durations.len() > MAX_TESTS {
        let mut seen: Vec<u64> = file.durations.values().map(|(_, g)| *g).collect();
        seen.sort_unstable_by(|a, b| b.cmp(a));
        let keep_from = seen[MAX_TESTS - 1];
        file.durations.retain(|_, (_, g)| *g >= keep_from);
        // Ties at the cut may still leave too many: drop the excess in id order, deterministically.
        if file.durations.len() > MAX_TESTS {
            let mut at_cut: Vec<String> = file
                .durations
                .iter()
                .filter(|(_, (_, g))| *g == keep_from)
                .map(|(id, _)| id.clone())
                .collect();
            at_cut.sort();
            let excess = file.durations.len() - MAX_TESTS;
            for id in at_cut.into_iter().take(excess) {
                file.durations.remove(&id);
            }
        }
    }
    if file.plans.len() > MAX_PLANS {
        file.plans.sort_by_key(|plan| std::cmp::Reverse(plan.generation));
        file.plans.truncate(MAX_PLANS);
    }
}

fn write(dir: &Path, project: &str, file: &File) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(std::io::BufWriter::new(tmp.as_file_mut()), file)?;
    tmp.persist(path_of(dir, project)).map_err(|err| err.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn durations(pairs: &[(&str, f64)]) -> Durations {
        pairs.iter().map(|(id, s)| ((*id).to_owned(), *s)).collect()
    }

    #[tokio::test]
    async fn remembers_durations_and_plans_in_order_per_project() {
        let dir = tempfile::tempdir().unwrap();
        let memory = Memory::start(Some(dir.path().to_owned()));
        memory.record_durations("/p", durations(&[("a.py::x", 1.0), ("b.py::y", 2.0)]));
        memory.record_durations("/p", durations(&[("a.py::x", 3.0), ("bad", f64::NAN)]));
        memory.record_plan(
            "/p",
            PlanRecord {
                key: 7,
                stamp: 9,
                files: vec!["a.py".into()],
                generation: 0,
            },
        );
        let seen = memory.load("/p").await;
        assert_eq!(seen.durations, durations(&[("a.py::x", 3.0), ("b.py::y", 2.0)]));
        assert_eq!(seen.plan(7).map(|p| p.stamp), Some(9));
        assert!(memory.load("/q").await.durations.is_empty(), "projects are apart");
        memory.flush().await;
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "one file per project, no leftovers"
        );
    }

    #[tokio::test]
    async fn a_corrupt_file_is_ignored_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path_of(dir.path(), "/p"), b"{\"version\": 1, \"durations\": [").unwrap();
        let memory = Memory::start(Some(dir.path().to_owned()));
        assert_eq!(memory.load("/p").await, ProjectMemory::default());
        memory.record_durations("/p", durations(&[("a.py::x", 1.0)]));
        assert_eq!(memory.load("/p").await.durations.len(), 1);
        assert_eq!(Memory::start(None).load("/p").await, ProjectMemory::default());
    }

    #[test]
    fn the_file_stays_bounded_forgetting_the_longest_unseen_first() {
        let mut file = File::default();
        for i in 0..MAX_TESTS + 10 {
            let generation = if i < 20 { 1 } else { 2 };
            file.durations.insert(format!("t{i:06}"), (0.1, generation));
        }
        for key in 0..(MAX_PLANS as u64 + 3) {
            file.plans.push(PlanRecord {
                key,
                stamp: 0,
                files: Vec::new(),
                generation: key,
            });
        }
        bound(&mut file);
        assert_eq!(file.durations.len(), MAX_TESTS);
        assert!(!file.durations.contains_key("t000000") && file.durations.contains_key("t000019"));
        assert_eq!(file.plans.len(), MAX_PLANS);
        assert!(file.plans.iter().all(|p| p.key >= 3), "the oldest plans went");
    }
}
