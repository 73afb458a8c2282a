//! Warm starts: per (interpreter, project directory, environment) the daemon keeps a template, a Python process
//! that has imported pytest, its plugins and the installed modules earlier runs of the project imported, and
//! forks each run from it instead of starting Python. The run's process gets its own session and process group,
//! the daemon's pipes, the run's environment and arguments, and runs `python -m pytest` exactly as a cold run
//! would; from there cancel, timeouts, memory limits, crash handling and orphan cleanup are those of any run.
//!
//! The pool is an actor ([`WarmPool`] is its handle). A run asks it for a ready template; when there is none, the
//! run starts cold and the pool starts one in the background. Runs tell it which installed modules they imported
//! (the plugin names them at the session's end), and a template that lacks some is replaced by one that has them.
//! A template answers "stale" instead of forking when anything it loaded changed on disk (see `pytestd_warm.py`);
//! that run starts cold and a fresh template starts. Templates are capped in number and stopped when idle.

mod child;
mod control;
mod key;
mod template;

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pytestd_protocol::warm::{TemplateState, WarmTemplate};
use tokio::sync::{mpsc, oneshot};

pub(crate) use child::WarmChild;
pub(crate) use key::Key;

use crate::process::{self, ProcessGroup};
use crate::run::command::PytestCommand;
use child::Pipes;
use template::{ForkFailure, ForkRequest, Ready, TemplateHandle};

/// At most this many templates live at once unless configured otherwise (`warmTemplates`); starting another stops
/// the least recently used.
const DEFAULT_CAPACITY: usize = 4;
/// A template no run used for this long is stopped.
const IDLE_AFTER: Duration = Duration::from_secs(15 * 60);
/// After a template failed to start, its project runs cold for this long before another try.
const RETRY_AFTER: Duration = Duration::from_secs(60);
/// A template is replaced to preload newly learned modules at most this often.
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// Modules remembered per template key.
const MAX_LEARNED: usize = 20_000;
/// How often idle templates are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// Configuration files whose change stops a template (in the project directory and each directory above it).
const CONFIG_FILES: [&str; 5] = ["pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"];

enum PoolCommand {
    Checkout {
        key: Key,
        reply: oneshot::Sender<Option<TemplateHandle>>,
    },
    Learned {
        key: Key,
        modules: Vec<String>,
    },
    Started {
        key: Key,
        generation: u64,
        result: Result<(TemplateHandle, Ready), String>,
    },
    Gone {
        key: Key,
        generation: u64,
        why: String,
    },
    List {
        reply: oneshot::Sender<Vec<WarmTemplate>>,
    },
    Capacity(usize),
    Clear,
}

/// Handle to the pool of warm templates. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct WarmPool {
    tx: mpsc::UnboundedSender<PoolCommand>,
}

impl WarmPool {
    /// Starts the pool's actor; it ends, stopping every template, when the last handle is dropped.
    pub(crate) fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let actor = Pool {
            entries: HashMap::new(),
            generation: 0,
            capacity: DEFAULT_CAPACITY,
            tx: tx.downgrade(),
        };
        tokio::spawn(actor.run(rx));
        Self { tx }
    }

    /// Forks the run `command` describes from a ready template; `started` learns its pid before it may run (and
    /// connect to the result server). The error says why it must start cold instead.
    pub(crate) async fn fork(
        &self,
        command: &PytestCommand,
        run_id: &str,
        started: impl FnOnce(u32),
    ) -> Result<(WarmChild, ProcessGroup), String> {
        if let Some(why) = key::must_run_cold(&command.args, &command.env) {
            return Err(why);
        }
        if !can_adopt() {
            return Err("the daemon cannot adopt forked processes (no child subreaper)".to_owned());
        }
        let Some(pytest_args) = command.args.strip_prefix(&["-m".to_owned(), "pytest".to_owned()]) else {
            return Err("the command does not run pytest as a module".to_owned());
        };
        let template = self
            .checkout(Key::of(command))
            .await
            .ok_or_else(|| "no warm template is ready for this project yet".to_owned())?;
        let pipes = Pipes::new().map_err(|err| format!("cannot make the run's pipes: {err}"))?;
        let request = ForkRequest {
            run_id: run_id.to_owned(),
            args: pytest_args.to_vec(),
            env: key::per_run_env(command),
            pipes,
        };
        let forked = template.fork(request).await.map_err(|failure| match failure {
            ForkFailure::Stale(why) => format!("the warm template is out of date ({why}); a fresh one is starting"),
            ForkFailure::Failed(why) => format!("the warm template could not fork: {why}"),
        })?;
        // Recorded as the daemon's own before it may run, so nothing else reaps it; killed if anything below fails.
        let group = process::adopt(forked.pid);
        let child = WarmChild::new(forked.pid, forked.stdout, forked.stderr)
            .map_err(|err| format!("cannot watch the forked run: {err}"))?;
        started(child.id());
        nix::unistd::write(&forked.go, b"g").map_err(|err| format!("cannot release the forked run: {err}"))?;
        Ok((child, group))
    }

    async fn checkout(&self, key: Key) -> Option<TemplateHandle> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(PoolCommand::Checkout { key, reply }).ok()?;
        answer.await.ok().flatten()
    }

    /// A run of `command` imported `modules` (installed ones, in import order).
    pub(crate) fn learned(&self, command: &PytestCommand, modules: Vec<String>) {
        let _ = self.tx.send(PoolCommand::Learned {
            key: Key::of(command),
            modules,
        });
    }

    /// The templates, for `listRuns`.
    pub(crate) async fn list(&self) -> Vec<WarmTemplate> {
        let (reply, answer) = oneshot::channel();
        if self.tx.send(PoolCommand::List { reply }).is_err() {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }

    /// Sets how many templates may live at once; extra ones stop, least recently used first.
    pub(crate) fn set_capacity(&self, templates: u32) {
        let _ = self
            .tx
            .send(PoolCommand::Capacity(usize::try_from(templates).unwrap_or(usize::MAX)));
    }

    /// Stops every template (warm starts were turned off).
    pub(crate) fn clear(&self) {
        let _ = self.tx.send(PoolCommand::Clear);
    }
}

/// Whether a forked run can become the daemon's child: only when the daemon is a child subreaper.
fn can_adopt() -> bool {
    static ADOPTS: OnceLock<bool> = OnceLock::new();
    *ADOPTS.get_or_init(|| nix::sys::prctl::get_child_subreaper().unwrap_or(false))
}

struct Live {
    handle: TemplateHandle,
    /// How many learned modules it was asked to preload.
    requested: usize,
    ready: Ready,
    generation: u64,
    runs: u64,
    since: Instant,
}

#[derive(Default)]
struct Entry {
    live: Option<Live>,
    /// The generation being started, if one is.
    starting: Option<u64>,
    learned: Vec<String>,
    learned_set: HashSet<String>,
    /// How many learned modules the template being started was asked to preload.
    requested: usize,
    /// The last start that failed, and when.
    failed: Option<(String, Instant)>,
    last_used: Option<Instant>,
    /// Runs that asked for a template.
    checkouts: u64,
}

struct Pool {
    entries: HashMap<Key, Entry>,
    generation: u64,
    capacity: usize,
    tx: mpsc::WeakUnboundedSender<PoolCommand>,
}

impl Pool {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<PoolCommand>) {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = rx.recv() => match command {
                    Some(command) => self.handle(command),
                    None => break,
                },
                _ = sweep.tick() => self.sweep(),
            }
        }
    }

    fn handle(&mut self, command: PoolCommand) {
        match command {
            PoolCommand::Checkout { key, reply } => {
                let _ = reply.send(self.checkout(key));
            }
            PoolCommand::Learned { key, modules } => self.learned(key, modules),
            PoolCommand::Started {
                key,
                generation,
                result,
            } => self.started(&key, generation, result),
            PoolCommand::Gone { key, generation, why } => self.gone(key, generation, &why),
            PoolCommand::List { reply } => {
                let _ = reply.send(self.list());
            }
            PoolCommand::Capacity(capacity) => {
                self.capacity = capacity.max(1);
                while self.count() > self.capacity && self.stop_least_recent(None) {}
            }
            PoolCommand::Clear => {
                for entry in self.entries.values_mut() {
                    entry.live = None;
                    entry.starting = None;
                }
            }
        }
    }

    /// A ready template for `key`. A project's first run starts cold and starts no template: its template starts
    /// when the run has said what it imports, so the template preloads all of it at once (or at the project's
    /// second run, if the first never said).
    fn checkout(&mut self, key: Key) -> Option<TemplateHandle> {
        let entry = self.entries.entry(key.clone()).or_default();
        entry.last_used = Some(Instant::now());
        entry.checkouts += 1;
        if let Some(live) = &mut entry.live {
            live.runs += 1;
            return Some(live.handle.clone());
        }
        if entry.checkouts >= 2 {
            self.start(key);
        }
        None
    }

    fn learned(&mut self, key: Key, modules: Vec<String>) {
        let entry = self.entries.entry(key.clone()).or_default();
        let mut new = false;
        for module in modules {
            if entry.learned.len() >= MAX_LEARNED {
                break;
            }
            if entry.learned_set.insert(module.clone()) {
                entry.learned.push(module);
                new = true;
            }
        }
        // A project that asked for a template gets one now. A template started before any run said what it
        // imports is replaced at once; later ones at most every REFRESH_EVERY, so a plugin that names modules
        // anew on every run costs little.
        let refresh = match &entry.live {
            Some(live) => new && (live.requested == 0 || live.since.elapsed() >= REFRESH_EVERY),
            None => entry.checkouts > 0,
        };
        if refresh {
            self.start(key);
        }
    }

    /// Starts a template for `key` in the background unless one is starting or the last try failed recently.
    fn start(&mut self, key: Key) {
        let Some(tx) = self.tx.upgrade() else { return };
        let Some(entry) = self.entries.get(&key) else { return };
        if entry.starting.is_some() || entry.failed.as_ref().is_some_and(|(_, at)| at.elapsed() < RETRY_AFTER) {
            return;
        }
        self.make_room(&key);
        self.generation += 1;
        let generation = self.generation;
        let Some(entry) = self.entries.get_mut(&key) else {
            return;
        };
        entry.starting = Some(generation);
        entry.requested = entry.learned.len();
        let preload = entry.learned.clone();
        let watch = config_files(&key.cwd);
        tokio::spawn(async move {
            let gone_tx = tx.clone();
            let gone_key = key.clone();
            let gone = Box::new(move |why: String| {
                let _ = gone_tx.send(PoolCommand::Gone {
                    key: gone_key,
                    generation,
                    why,
                });
            });
            let result = template::start(&key, &preload, &watch, gone).await;
            let _ = tx.send(PoolCommand::Started {
                key,
                generation,
                result,
            });
        });
    }

    /// Stops the least recently used template when the cap is reached.
    fn make_room(&mut self, for_key: &Key) {
        // A replacement takes its predecessor's place once ready: no other project loses its template for it.
        let replacing = self.entries.get(for_key).is_some_and(|e| e.live.is_some());
        if !replacing && self.count() >= self.capacity {
            self.stop_least_recent(Some(for_key));
        }
    }

    /// Templates live or starting.
    fn count(&self) -> usize {
        self.entries
            .values()
            .map(|e| usize::from(e.live.is_some()) + usize::from(e.starting.is_some()))
            .sum()
    }

    /// Stops the least recently used live template other than `spare`'s; says whether there was one.
    fn stop_least_recent(&mut self, spare: Option<&Key>) -> bool {
        let victim = self
            .entries
            .iter()
            .filter(|(key, e)| Some(*key) != spare && e.live.is_some())
            .min_by_key(|(_, e)| e.last_used)
            .map(|(key, _)| key.clone());
        match victim.and_then(|key| self.entries.get_mut(&key)) {
            Some(victim) => {
                victim.live = None;
                true
            }
            None => false,
        }
    }

    fn started(&mut self, key: &Key, generation: u64, result: Result<(TemplateHandle, Ready), String>) {
        let Some(entry) = self.entries.get_mut(key) else { return };
        if entry.starting != Some(generation) {
            // Superseded (warm starts were turned off meanwhile): the handle is dropped, the template ends.
            return;
        }
        entry.starting = None;
        match result {
            Ok((handle, ready)) => {
                tracing::info!(
                    cwd = %key.cwd.display(),
                    pid = ready.pid,
                    modules = ready.modules,
                    preloaded = ready.preloaded.len(),
                    failed = ready.failed.len(),
                    seconds = ready.seconds,
                    python = %ready.python,
                    config = ready.config.as_deref().unwrap_or("-"),
                    "warm template ready"
                );
                if !ready.failed.is_empty() {
                    tracing::debug!(failed = ?ready.failed, "modules the template could not preload");
                }
                entry.failed = None;
                entry.live = Some(Live {
                    handle,
                    requested: entry.requested,
                    ready,
                    generation,
                    runs: 0,
                    since: Instant::now(),
                });
            }
            Err(why) => {
                tracing::warn!(cwd = %key.cwd.display(), %why, "no warm template: runs of this project start cold");
                entry.failed = Some((why, Instant::now()));
            }
        }
    }

    fn gone(&mut self, key: Key, generation: u64, why: &str) {
        let Some(entry) = self.entries.get_mut(&key) else {
            return;
        };
        if entry.live.as_ref().is_some_and(|live| live.generation == generation) {
            entry.live = None;
        }
        tracing::info!(cwd = %key.cwd.display(), why, "warm template ended");
        if why.starts_with("stale") {
            self.start(key);
        }
    }

    fn sweep(&mut self) {
        for (key, entry) in &mut self.entries {
            let idle = entry.last_used.is_none_or(|at| at.elapsed() >= IDLE_AFTER);
            if idle && entry.live.take().is_some() {
                tracing::info!(cwd = %key.cwd.display(), "warm template stopped: idle");
            }
        }
    }

    fn list(&self) -> Vec<WarmTemplate> {
        let mut out = Vec::new();
        for (key, entry) in &self.entries {
            let idle_ms = entry
                .last_used
                .map_or(0, |at| u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX));
            let base = |pid, state, modules, runs| WarmTemplate {
                cwd: key.cwd.display().to_string(),
                python: key.python.display().to_string(),
                pid,
                state,
                modules,
                rss_bytes: rss(pid).unwrap_or(0),
                runs,
                idle_ms,
            };
            if let Some(live) = &entry.live {
                out.push(base(
                    live.ready.pid,
                    TemplateState::Ready,
                    live.ready.modules,
                    live.runs,
                ));
            }
            if entry.starting.is_some() {
                out.push(base(0, TemplateState::Starting, 0, 0));
            }
        }
        out.sort_by(|a, b| a.cwd.cmp(&b.cwd).then(a.python.cmp(&b.python)));
        out
    }
}

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> io::Result<u64> {
    if pid == 0 {
        return Ok(0);
    }
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm"))?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| io::Error::other("unreadable statm"))?;
    Ok(pages * procfs::page_size())
}

/// pytest's configuration files a template must not outlive a change of: in `cwd` and every directory above it,
/// whether they exist or not (one created later counts as a change).
fn config_files(cwd: &Path) -> Vec<PathBuf> {
    cwd.ancestors()
        .flat_map(|dir| CONFIG_FILES.iter().map(move |name| dir.join(name)))
        .collect()
}
