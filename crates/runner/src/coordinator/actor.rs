//! The coordinator's actor: the table of live runs and of sharded runs, the FIFO queue and the slot count, and
//! what the daemon sets up once for them (runtime directory, result server, monitor, reaper, warm pool). Only its
//! task touches the table; the [`Coordinator`] handle sends it [`Command`]s.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use pytestd_protocol::config::Settings;
use pytestd_protocol::runs::{CancelState, ListRunsResult, RunFailure, RunInfo, RunState, RunStatus, RunTestsResult};
use tokio::sync::{mpsc, oneshot, watch};

use super::runtime_dir::RuntimeDir;
use super::{Command, Coordinator, Events, RunSpec, RunTicket};
use crate::config::RunnerConfig;
use crate::error::RunnerError;
use crate::events::{JobKind, RunOutcome};
use crate::process::monitor::Monitor;
use crate::results::result_server::{ResultServer, Routes};
use crate::run::command::Paths;
use crate::run::instance::{Instance, InstanceCommand, InstanceHandle, Progress, Shared};
use crate::shards::memory::Memory;
use crate::shards::ChildJob;

/// Events a run may have waiting for its requester before the run's actor waits.
const EVENT_BUFFER: usize = 256;
/// How many finished run ids are remembered, so a late cancel answers "alreadyFinished".
const REMEMBERED_FINISHED: usize = 4096;
/// How many recent failures `listRuns` shows.
const REMEMBERED_FAILURES: usize = 32;

/// Creates the private runtime directory and the result server, starts the actor that owns them, and returns its
/// handle.
pub(super) fn start(config: RunnerConfig) -> Result<Coordinator, RunnerError> {
    let runtime = RuntimeDir::create()?;
    let routes = Routes::default();
    let server = ResultServer::bind(&runtime.socket_path(), routes.clone()).map_err(RunnerError::RuntimeDir)?;
    let monitor = Monitor::default();
    let sampler = monitor.start();
    let reaper = crate::process::escapees::start_reaper();
    let warm = crate::warm::WarmPool::start();
    let shared = Arc::new(Shared {
        routes,
        paths: Paths {
            socket: runtime.socket_path(),
            runtime: runtime.path().to_owned(),
        },
        monitor,
        warm: warm.clone(),
    });
    let (tx, rx) = mpsc::unbounded_channel();
    let memory = Memory::start(crate::shards::memory::default_dir());
    let actor = Actor {
        config,
        shared,
        memory: memory.clone(),
        groups: HashMap::new(),
        runs: HashMap::new(),
        queue: VecDeque::new(),
        running: 0,
        finished: Recent::default(),
        shutdown_waiters: None,
        self_tx: tx.downgrade(),
        failures: VecDeque::new(),
        _sampler: AbortOnDrop(sampler),
        _reaper: reaper.map(AbortOnDrop),
        _server: server,
        _runtime: runtime,
    };
    tokio::spawn(actor.run(rx));
    Ok(Coordinator { tx, memory, warm })
}

struct Entry {
    cwd: String,
    submitted: Instant,
    progress: Arc<Progress>,
    handle: InstanceHandle,
    waiting: Option<Box<Instance>>,
    result_tx: oneshot::Sender<RunOutcome>,
    /// The sharded run this job is part of.
    parent: Option<Parent>,
}

/// Which sharded run a job belongs to, and which of its shards it is (`None`: the collection that finds them).
#[derive(Debug, Clone)]
struct Parent {
    group: String,
    shard: Option<u32>,
}

/// A sharded run: its task plans and merges; its jobs are entries of their own, which it lists.
struct Group {
    cwd: String,
    submitted: Instant,
    /// Its jobs so far, in the order they were submitted.
    children: Vec<String>,
    cancelled: watch::Sender<bool>,
    result_tx: oneshot::Sender<RunOutcome>,
}

struct Actor {
    config: RunnerConfig,
    shared: Arc<Shared>,
    memory: Memory,
    /// Sharded runs by id; their jobs are in `runs`.
    groups: HashMap<String, Group>,
    runs: HashMap<String, Entry>,
    queue: VecDeque<String>,
    running: u32,
    finished: Recent,
    shutdown_waiters: Option<Vec<oneshot::Sender<()>>>,
    self_tx: mpsc::WeakUnboundedSender<Command>,
    /// Recent runs that ended in error or timed out, newest last.
    failures: VecDeque<Failure>,
    _sampler: AbortOnDrop,
    /// Reaps the processes the daemon adopts as a child subreaper.
    _reaper: Option<AbortOnDrop>,
    // Declared last so they are dropped last: the socket and directory outlive every run of this actor.
    _server: ResultServer,
    _runtime: RuntimeDir,
}

impl Actor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = rx.recv().await {
            tracing::trace!(?command, "coordinator command");
            match command {
                Command::Submit { params, kind, reply } => {
                    let _ = reply.send(self.submit(*params, kind));
                }
                Command::Cancel { run_id, reply } => {
                    let answer = self.cancel(&run_id);
                    if let Some(reply) = reply {
                        let _ = reply.send(answer);
                    }
                }
                Command::List { reply } => {
                    let _ = reply.send(self.list());
                }
                Command::Configure { settings, reply } => {
                    let _ = reply.send(self.configure(&settings));
                }
                Command::Finished { run_id, outcome } => self.finished(&run_id, *outcome),
                Command::SubmitChildren { group, jobs, reply } => {
                    let _ = reply.send(self.submit_children(&group, jobs));
                }
                Command::GroupFinished { run_id, outcome } => self.group_finished(&run_id, *outcome),
                Command::Shutdown { reply } => self.shutdown(reply),
            }
        }
    }

    fn submit(&mut self, params: RunSpec, kind: JobKind) -> Result<RunTicket, RunnerError> {
        if self.shutdown_waiters.is_some() {
            return Err(RunnerError::ShuttingDown);
        }
        let run_id = match &params.run_id {
            Some(id) if id.trim().is_empty() => return Err(invalid("runId", "must not be empty")),
            Some(id) => id.clone(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        if self.runs.contains_key(&run_id) || self.groups.contains_key(&run_id) {
            return Err(RunnerError::DuplicateRunId(run_id));
        }
        if !Path::new(&params.cwd).is_absolute() {
            return Err(invalid("cwd", "must be an absolute path"));
        }
        let waits = self.running >= self.config.max_parallel || !self.queue.is_empty();
        if waits && self.queue.len() >= self.config.max_queued as usize {
            return Err(RunnerError::QueueFull {
                limit: self.config.max_queued,
            });
        }
        if crate::shards::is_sharded(&params, kind, &self.config)? {
            return self.submit_group(run_id, params);
        }
        self.admit(run_id, params, kind, None)
    }

    /// Creates a job's instance and starts it, or queues it; `parent` names the sharded run it belongs to.
    fn admit(
        &mut self,
        run_id: String,
        params: RunSpec,
        kind: JobKind,
        parent: Option<Parent>,
    ) -> Result<RunTicket, RunnerError> {
        let waits = self.running >= self.config.max_parallel || !self.queue.is_empty();
        let coordinator = self.handle()?;
        let (events_tx, events) = mpsc::channel(EVENT_BUFFER);
        let (result_tx, result) = oneshot::channel();
        let cwd = params.cwd.clone();
        // A sharded run remembers its merged durations itself; a discovery has none.
        let remember = (parent.is_none() && kind == JobKind::Run).then(|| cwd.clone());
        let (handle, progress, instance) = Instance::new(
            run_id.clone(),
            params,
            kind,
            self.config.clone(),
            events_tx,
            self.shared.clone(),
        );
        self.finished.remove(&run_id);
        let mut entry = Entry {
            cwd,
            submitted: Instant::now(),
            progress,
            handle,
            waiting: None,
            result_tx,
            parent,
        };
        if waits {
            self.queue.push_back(run_id.clone());
            instance.announce_queued(u32::try_from(self.queue.len()).unwrap_or(u32::MAX));
            entry.waiting = Some(Box::new(instance));
        } else {
            self.launch(instance);
        }
        self.runs.insert(run_id.clone(), entry);
        Ok(RunTicket {
            run_id,
            events: Events::Job(events),
            result: Some(result),
            coordinator,
            remember,
        })
    }

    fn handle(&self) -> Result<Coordinator, RunnerError> {
        Ok(Coordinator {
            tx: self.self_tx.upgrade().ok_or(RunnerError::ShuttingDown)?,
            memory: self.memory.clone(),
            warm: self.shared.warm.clone(),
        })
    }

    fn launch(&mut self, instance: Instance) {
        self.running += 1;
        let run_id = instance.run_id.clone();
        let task = tokio::spawn(instance.run());
        let tx = self.self_tx.clone();
        tokio::spawn(async move {
            // A panicking actor still answers its request; its process group died with it (ProcessGroup::drop).
            let outcome = task.await.unwrap_or_else(|err| {
                tracing::error!(%run_id, %err, "run actor failed");
                crashed(&run_id, &err.to_string()).into()
            });
            if let Some(tx) = tx.upgrade() {
                let _ = tx.send(Command::Finished {
                    run_id,
                    outcome: Box::new(outcome),
                });
            }
        });
    }

    /// Admits a sharded run: its task finds the files, plans, and submits its jobs back here.
    fn submit_group(&mut self, run_id: String, params: RunSpec) -> Result<RunTicket, RunnerError> {
        let coordinator = self.handle()?;
        let (events_tx, events) = mpsc::channel(EVENT_BUFFER);
        let (result_tx, result) = oneshot::channel();
        let (cancel_tx, cancelled) = watch::channel(false);
        let cwd = params.cwd.clone();
        let context = crate::shards::task::Context {
            run_id: run_id.clone(),
            params,
            config: self.config.clone(),
            coordinator: coordinator.clone(),
            memory: self.memory.clone(),
            events: events_tx,
            cancelled,
        };
        let task = tokio::spawn(crate::shards::task::run(context));
        let tx = self.self_tx.clone();
        let id = run_id.clone();
        tokio::spawn(async move {
            // A panicking task still answers its request; its jobs' tickets went with it, which cancels them.
            let outcome = task.await.unwrap_or_else(|err| {
                tracing::error!(run_id = %id, %err, "sharded run failed");
                crashed(&id, &err.to_string()).into()
            });
            if let Some(tx) = tx.upgrade() {
                let _ = tx.send(Command::GroupFinished {
                    run_id: id,
                    outcome: Box::new(outcome),
                });
            }
        });
        self.finished.remove(&run_id);
        self.groups.insert(
            run_id.clone(),
            Group {
                cwd,
                submitted: Instant::now(),
                children: Vec::new(),
                cancelled: cancel_tx,
                result_tx,
            },
        );
        Ok(RunTicket {
            run_id,
            events: Events::Sharded(events),
            result: Some(result),
            coordinator,
            remember: None,
        })
    }

    /// Admits a sharded run's jobs, one after the other in the queue. They were counted when the run was admitted,
    /// so the queue's limit does not refuse them; a cancelled or finished run gets none.
    fn submit_children(&mut self, group: &str, jobs: Vec<ChildJob>) -> Result<Vec<RunTicket>, RunnerError> {
        if self.shutdown_waiters.is_some() {
            return Err(RunnerError::ShuttingDown);
        }
        match self.groups.get(group) {
            Some(g) if !*g.cancelled.borrow() => {}
            _ => return Err(RunnerError::UnknownRun(group.to_owned())),
        }
        if let Some(job) = jobs
            .iter()
            .find(|job| self.runs.contains_key(&job.run_id) || self.groups.contains_key(&job.run_id))
        {
            return Err(RunnerError::DuplicateRunId(job.run_id.clone()));
        }
        let mut tickets = Vec::with_capacity(jobs.len());
        for job in jobs {
            let parent = Parent {
                group: group.to_owned(),
                shard: job.shard,
            };
            let id = job.run_id.clone();
            tickets.push(self.admit(job.run_id, job.params, job.kind, Some(parent))?);
            if let Some(g) = self.groups.get_mut(group) {
                g.children.push(id);
            }
        }
        Ok(tickets)
    }

    fn group_finished(&mut self, run_id: &str, outcome: RunOutcome) {
        if let Some(group) = self.groups.remove(run_id) {
            if matches!(outcome.result.status, RunStatus::Error | RunStatus::TimedOut) {
                self.remember_failure(run_id, group.cwd.clone(), &outcome.result);
            }
            let _ = group.result_tx.send(outcome);
        }
        self.finished.insert(run_id.to_owned());
        self.answer_shutdown();
    }

    /// Answers `shutdown` once no run is left.
    fn answer_shutdown(&mut self) {
        if self.runs.is_empty() && self.groups.is_empty() {
            for waiter in self.shutdown_waiters.iter_mut().flat_map(std::mem::take) {
                let _ = waiter.send(());
            }
        }
    }

    fn pump(&mut self) {
        while self.running < self.config.max_parallel {
            let Some(run_id) = self.queue.pop_front() else { break };
            if let Some(instance) = self.runs.get_mut(&run_id).and_then(|e| e.waiting.take()) {
                self.launch(*instance);
            }
        }
    }

    fn cancel(&mut self, run_id: &str) -> Result<CancelState, RunnerError> {
        if let Some(group) = self.groups.get_mut(run_id) {
            // Its task sees this and starts nothing more; every job it has is cancelled here and now.
            group.cancelled.send_replace(true);
            let children = group.children.clone();
            for child in children {
                if self.runs.contains_key(&child) {
                    let _ = self.cancel(&child);
                }
            }
            return Ok(CancelState::Cancelled);
        }
        let Some(entry) = self.runs.get_mut(run_id) else {
            return if self.finished.contains(run_id) {
                Ok(CancelState::AlreadyFinished)
            } else {
                Err(RunnerError::UnknownRun(run_id.to_owned()))
            };
        };
        match entry.waiting.take() {
            Some(instance) => {
                self.queue.retain(|id| id != run_id);
                let outcome = instance.cancel_unstarted();
                self.complete(run_id, outcome);
            }
            None => entry.handle.send(InstanceCommand::Cancel),
        }
        Ok(CancelState::Cancelled)
    }

    fn finished(&mut self, run_id: &str, outcome: RunOutcome) {
        self.running = self.running.saturating_sub(1);
        self.complete(run_id, outcome);
        self.pump();
    }

    fn complete(&mut self, run_id: &str, outcome: RunOutcome) {
        if let Some(entry) = self.runs.remove(run_id) {
            // A shard's failure is its run's, which is remembered when it ends.
            let failed = matches!(outcome.result.status, RunStatus::Error | RunStatus::TimedOut);
            if failed && entry.parent.is_none() {
                self.remember_failure(run_id, entry.cwd.clone(), &outcome.result);
            }
            let _ = entry.result_tx.send(outcome);
        }
        self.finished.insert(run_id.to_owned());
        self.answer_shutdown();
    }

    fn remember_failure(&mut self, run_id: &str, cwd: String, result: &RunTestsResult) {
        let reason = result
            .errors
            .last()
            .map_or_else(|| "no reason was recorded".to_owned(), |e| first_line(e).to_owned());
        self.failures.push_back(Failure {
            run_id: run_id.to_owned(),
            cwd,
            status: result.status,
            reason,
            ended: Instant::now(),
        });
        if self.failures.len() > REMEMBERED_FAILURES {
            self.failures.pop_front();
        }
    }

    fn list(&self) -> ListRunsResult {
        let info = |run_id: &String, entry: &Entry, state| RunInfo {
            run_id: run_id.clone(),
            state,
            cwd: entry.cwd.clone(),
            pid: Some(entry.progress.pid.load(Ordering::Relaxed)).filter(|pid| *pid != 0),
            test_count: entry.progress.tests.load(Ordering::Relaxed),
            elapsed_ms: millis(entry.submitted.elapsed()),
            rss_bytes: entry.progress.rss_bytes.load(Ordering::Relaxed),
            peak_rss_bytes: entry.progress.peak_rss_bytes.load(Ordering::Relaxed),
            cpu_ms: entry.progress.cpu_ms.load(Ordering::Relaxed),
            shards: None,
        };
        // A sharded run is listed once, as itself, with its jobs' figures summed and each shard's beside them.
        let mut running: Vec<_> = self
            .runs
            .iter()
            .filter(|(_, e)| e.waiting.is_none() && e.parent.is_none())
            .collect();
        running.sort_by_key(|(_, e)| e.submitted);
        let mut runs: Vec<RunInfo> = running
            .into_iter()
            .map(|(id, e)| info(id, e, RunState::Running))
            .collect();
        runs.extend(
            self.groups
                .iter()
                .map(|(id, group)| self.group_info(id, group))
                .filter(|group| group.state == RunState::Running),
        );
        runs.sort_by_key(|run| std::cmp::Reverse(run.elapsed_ms));
        let mut listed = HashSet::new();
        for id in &self.queue {
            let Some(entry) = self.runs.get(id) else { continue };
            match &entry.parent {
                None => runs.push(info(id, entry, RunState::Queued)),
                Some(parent) => {
                    if let Some(group) = self.groups.get(&parent.group) {
                        let group = self.group_info(&parent.group, group);
                        if group.state == RunState::Queued && listed.insert(parent.group.clone()) {
                            runs.push(group);
                        }
                    }
                }
            }
        }
        ListRunsResult {
            runs,
            max_parallel: self.config.max_parallel,
            running: self.running,
            queued: u32::try_from(self.queue.len()).unwrap_or(u32::MAX),
            templates: Vec::new(),
            recent_failures: self
                .failures
                .iter()
                .rev()
                .map(|f| RunFailure {
                    run_id: f.run_id.clone(),
                    cwd: f.cwd.clone(),
                    status: f.status,
                    reason: f.reason.clone(),
                    ended_ms_ago: millis(f.ended.elapsed()),
                })
                .collect(),
        }
    }

    /// A sharded run in `listRuns`: queued while every job it has waits, else running.
    fn group_info(&self, run_id: &str, group: &Group) -> RunInfo {
        let jobs: Vec<(&Entry, Option<u32>)> = group
            .children
            .iter()
            .filter_map(|id| self.runs.get(id))
            .map(|entry| (entry, entry.parent.as_ref().and_then(|p| p.shard)))
            .collect();
        let waiting = !jobs.is_empty() && jobs.iter().all(|(e, _)| e.waiting.is_some());
        let load =
            |e: &Entry, f: fn(&Progress) -> &std::sync::atomic::AtomicU64| f(&e.progress).load(Ordering::Relaxed);
        let sum = |f: fn(&Progress) -> &std::sync::atomic::AtomicU64| jobs.iter().map(|(e, _)| load(e, f)).sum();
        let shards = jobs
            .iter()
            .filter_map(|(e, shard)| {
                Some(pytestd_protocol::shards::ShardInfo {
                    shard: (*shard)?,
                    state: if e.waiting.is_some() {
                        RunState::Queued
                    } else {
                        RunState::Running
                    },
                    pid: Some(e.progress.pid.load(Ordering::Relaxed)).filter(|pid| *pid != 0),
                    test_count: load(e, |p| &p.tests),
                    rss_bytes: load(e, |p| &p.rss_bytes),
                    peak_rss_bytes: load(e, |p| &p.peak_rss_bytes),
                    cpu_ms: load(e, |p| &p.cpu_ms),
                })
            })
            .collect();
        RunInfo {
            run_id: run_id.to_owned(),
            state: if waiting { RunState::Queued } else { RunState::Running },
            cwd: group.cwd.clone(),
            pid: None,
            test_count: sum(|p| &p.tests),
            elapsed_ms: millis(group.submitted.elapsed()),
            rss_bytes: sum(|p| &p.rss_bytes),
            peak_rss_bytes: sum(|p| &p.peak_rss_bytes),
            cpu_ms: sum(|p| &p.cpu_ms),
            shards: Some(shards),
        }
    }

    fn configure(&mut self, settings: &Settings) -> Result<(), RunnerError> {
        self.config = self.config.with(settings)?;
        if self.config.warm_start {
            self.shared.warm.set_capacity(self.config.warm_templates);
        } else {
            self.shared.warm.clear();
        }
        self.pump();
        Ok(())
    }

    fn shutdown(&mut self, reply: oneshot::Sender<()>) {
        self.shutdown_waiters.get_or_insert_with(Vec::new).push(reply);
        // Sharded runs first, so their tasks submit nothing more; their jobs are cancelled with them, once.
        let live: Vec<String> = self
            .groups
            .keys()
            .cloned()
            .chain(
                self.runs
                    .iter()
                    .filter(|(_, e)| e.parent.is_none())
                    .map(|(id, _)| id.clone()),
            )
            .collect();
        for run_id in live {
            let _ = self.cancel(&run_id);
        }
        self.answer_shutdown();
    }
}

fn invalid(field: &'static str, reason: &str) -> RunnerError {
    RunnerError::InvalidParams {
        field,
        reason: reason.to_owned(),
    }
}

fn crashed(run_id: &str, why: &str) -> RunTestsResult {
    RunTestsResult {
        run_id: run_id.to_owned(),
        status: RunStatus::Error,
        exit_code: None,
        signal: None,
        summary: Default::default(),
        results: Default::default(),
        errors: vec![format!("internal error in pytestd: {why}")],
        collection_errors: Vec::new(),
        collection_skips: Vec::new(),
        warnings: Vec::new(),
        warning_count: 0,
        duration_ms: 0,
        queued_ms: 0,
        resources: Default::default(),
        coverage: None,
        escaped_processes: Vec::new(),
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

struct Failure {
    run_id: String,
    cwd: String,
    status: RunStatus,
    reason: String,
    ended: Instant,
}

/// Aborts a background task when the actor that owns it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The most recently finished run ids, oldest forgotten first.
#[derive(Default)]
struct Recent {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl Recent {
    fn insert(&mut self, id: String) {
        if self.set.insert(id.clone()) {
            self.order.push_back(id);
            if self.order.len() > REMEMBERED_FINISHED {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }

    fn remove(&mut self, id: &str) {
        if self.set.remove(id) {
            self.order.retain(|x| x != id);
        }
    }

    fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }
}
