//! The instance actor (the design note's `PytestSubprocessInstance`): one per run. It owns the run's pytest
//! process group, its cancellation, its secret token and its result stream, and ends by producing the run's
//! result. Control messages (cancel) win over output in its select loop, and its outbox is bounded, so a slow
//! client slows pytest down instead of growing memory, yet a cancel still lands at once.

use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pytestd_protocol::discovery::TestNode;
use pytestd_protocol::notifications::Stream;
use pytestd_protocol::plugin::PluginMessage;
use pytestd_protocol::runs::{CollectionError, Location, Resources, RunStatus, RunTestsParams, RunTestsResult};
use tokio::io::BufReader;
use tokio::sync::mpsc;
use tokio::time::sleep_until;

use super::command::{self, Paths};
use super::outbox::{finished_event, Outbox, OUTBOX_HIGH_WATER};
use crate::config::RunnerConfig;
use crate::events::{JobKind, RunEvent, RunOutcome};
use crate::process::lines::{LineReader, MAX_OUTPUT_LINE};
use crate::process::monitor::Monitor;
use crate::process::pipe_poll::{poll_now, POLL_EVERY};
use crate::process::{self, ProcessGroup, RunChild};
use crate::results::outcome::Tally;
use crate::results::result_server::Routes;
use crate::results::verdict::{self, Exit, Stop};

/// How long, after pytest exited, its pipes and result stream may take to close.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Warnings kept in a run's result; a suite that warns a million times still counts them all.
const MAX_WARNINGS: usize = 1000;
/// Lines of pytest's error output kept to explain a failure to start or a crash.
const TAIL_LINES: usize = 30;

/// What an instance can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InstanceCommand {
    /// Stop the run: SIGTERM to the group, SIGKILL after the grace; a second cancel kills at once.
    Cancel,
    /// The group's memory is over the run's limit: kill it now.
    MemoryLimit {
        /// The limit, in bytes.
        limit: u64,
        /// What was measured, in bytes.
        rss: u64,
    },
}

/// What others hold of a running instance.
#[derive(Debug, Clone)]
pub(crate) struct InstanceHandle {
    mailbox: mpsc::UnboundedSender<InstanceCommand>,
}

impl InstanceHandle {
    /// Sends a command; a finished instance ignores it.
    pub(crate) fn send(&self, command: InstanceCommand) {
        let _ = self.mailbox.send(command);
    }
}

/// Live figures of a run, read by `listRuns`.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub(crate) pid: AtomicU32,
    pub(crate) tests: AtomicU64,
    pub(crate) rss_bytes: AtomicU64,
    pub(crate) peak_rss_bytes: AtomicU64,
    pub(crate) cpu_ms: AtomicU64,
    /// Bytes of whole lines the result server took from the plugin's stream (after the hello).
    pub(crate) stream_bytes: AtomicU64,
}

impl Progress {
    pub(crate) fn resources(&self) -> Resources {
        Resources {
            peak_rss_bytes: self.peak_rss_bytes.load(Ordering::Relaxed),
            cpu_ms: self.cpu_ms.load(Ordering::Relaxed),
        }
    }
}

/// Everything shared by all instances of a daemon.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) routes: Routes,
    pub(crate) paths: Paths,
    pub(crate) monitor: Monitor,
    pub(crate) warm: crate::warm::WarmPool,
}

/// An instance not started yet: waiting in the queue, or about to be spawned.
pub(crate) struct Instance {
    pub(crate) run_id: String,
    params: RunTestsParams,
    kind: JobKind,
    config: RunnerConfig,
    token: String,
    handle: InstanceHandle,
    mailbox: mpsc::UnboundedReceiver<InstanceCommand>,
    events: mpsc::Sender<RunEvent>,
    progress: Arc<Progress>,
    shared: Arc<Shared>,
    submitted: Instant,
}

impl Instance {
    pub(crate) fn new(
        run_id: String,
        params: RunTestsParams,
        kind: JobKind,
        config: RunnerConfig,
        events: mpsc::Sender<RunEvent>,
        shared: Arc<Shared>,
    ) -> (InstanceHandle, Arc<Progress>, Self) {
        let (tx, mailbox) = mpsc::unbounded_channel();
        let handle = InstanceHandle { mailbox: tx };
        let progress = Arc::new(Progress::default());
        let instance = Self {
            run_id,
            params,
            kind,
            config,
            token: uuid::Uuid::new_v4().simple().to_string(),
            handle: handle.clone(),
            mailbox,
            events,
            progress: progress.clone(),
            shared,
            submitted: Instant::now(),
        };
        (handle, progress, instance)
    }

    /// Tells the requester it waits at `position` (the channel is fresh, so this never blocks).
    pub(crate) fn announce_queued(&self, position: u32) {
        let _ = self.events.try_send(RunEvent::Queued { position });
    }

    /// Ends a run that never started.
    pub(crate) fn cancel_unstarted(self) -> RunOutcome {
        let mut outbox = Outbox::new(self.events);
        outbox.push(RunEvent::Log("cancelled while queued".into()));
        let result = empty_result(
            &self.run_id,
            RunStatus::Cancelled,
            ms(self.submitted.elapsed()),
            Vec::new(),
        );
        outbox.push(finished_event(&result));
        outbox.try_flush();
        RunOutcome {
            result,
            discovered: Vec::new(),
        }
    }

    /// Runs pytest to its end and returns the run's result.
    pub(crate) async fn run(self) -> RunOutcome {
        let queued_ms = ms(self.submitted.elapsed());
        let Self {
            run_id,
            params,
            kind,
            config,
            token,
            handle,
            mut mailbox,
            events,
            progress,
            shared,
            ..
        } = self;
        let mut outbox = Outbox::new(events);
        let command = match command::build(&params, &config, &shared.paths, &run_id, &token, kind) {
            Ok(command) => command,
            Err(message) => return outbox.finish(not_started(&run_id, queued_ms, message)).await.into(),
        };
        let python = command.program.display().to_string();
        let (plugin_tx, mut plugin_rx) = mpsc::channel(256);
        let mut route = Some(shared.routes.register(&run_id, &token, progress.clone(), plugin_tx));
        let started = Instant::now();
        let (mut child, group, cold_because) =
            match start(&command, &params, &config, &shared, &run_id, &progress).await {
                Ok(spawned) => spawned,
                Err(err) => {
                    let message = format!("cannot start {python}: {err}");
                    return outbox.finish(not_started(&run_id, queued_ms, message)).await.into();
                }
            };
        let pid = child.id();
        progress.pid.store(pid, Ordering::Relaxed);
        let memory_limit = params.memory_limit_bytes.or(config.default_memory_limit);
        let _watch = shared.monitor.watch(group.id(), progress.clone(), memory_limit, handle);
        outbox.push(RunEvent::Started {
            pid,
            args: command.display_args(),
            warm: child.is_warm(),
        });
        let how = match (&cold_because, child.is_warm()) {
            (_, true) => "forked pytest from the warm template".to_owned(),
            (Some(why), false) => format!("started pytest ({why})"),
            (None, false) => "started pytest".to_owned(),
        };
        outbox.push(RunEvent::Log(format!(
            "{how}, pid {pid}: {}",
            command.display_args().join(" ")
        )));

        let mut stdout = child
            .take_stdout()
            .map(|s| LineReader::new(BufReader::new(s), MAX_OUTPUT_LINE));
        let mut stderr = child
            .take_stderr()
            .map(|s| LineReader::new(BufReader::new(s), MAX_OUTPUT_LINE));
        let mut plugin_open = true;
        let mut mailbox_open = true;
        let mut state = RunState {
            stream_discovered: kind == JobKind::Discover,
            ..RunState::default()
        };
        if params.results == Some(pytestd_protocol::runs::ResultsMode::Summary) {
            state.tally = crate::results::outcome::Tally::summary_only();
        }
        let timeout = params.timeout_ms.map(Duration::from_millis).or(config.default_timeout);
        let timeout_at = timeout.map(|t| started + t);
        let mut kill_at: Option<Instant> = None;
        let mut exit: Option<ExitStatus> = None;
        let mut drain_until: Option<Instant> = None;
        let mut output_at = started + POLL_EVERY;
        let far = || Instant::now() + Duration::from_secs(86_400);

        loop {
            if exit.is_some() && !plugin_open && stdout.is_none() && stderr.is_none() {
                break;
            }
            let reading = outbox.len() < OUTBOX_HIGH_WATER;
            tokio::select! {
                biased;
                command = mailbox.recv(), if mailbox_open && exit.is_none() => match command {
                    Some(InstanceCommand::Cancel) => {
                        if state.stop.is_some() {
                            outbox.push(RunEvent::Log("cancelled again: killing the process group now".into()));
                            group.kill();
                            kill_at = None;
                        } else {
                            state.stop = Some(Stop::Cancelled);
                            kill_at = Some(stop_group(&group, &config, &mut outbox, "cancelled"));
                        }
                    }
                    Some(InstanceCommand::MemoryLimit { limit, rss }) => {
                        if !matches!(state.stop, Some(Stop::MemoryLimit { .. })) {
                            // Memory can grow fast: no grace period, the group dies now.
                            state.stop = Some(Stop::MemoryLimit { limit, rss });
                            outbox.push(RunEvent::Log(format!(
                                "memory {rss} bytes over the limit of {limit} bytes: killing the process group"
                            )));
                            group.kill();
                            kill_at = None;
                        }
                    }
                    // Every handle is gone: nobody can cancel any more, the run just goes on.
                    None => mailbox_open = false,
                },
                () = sleep_until(kill_at.unwrap_or_else(far).into()), if kill_at.is_some() && exit.is_none() => {
                    outbox.push(RunEvent::Log("grace period over: killing the process group".into()));
                    group.kill();
                    kill_at = None;
                }
                () = sleep_until(timeout_at.unwrap_or_else(far).into()), if timeout_at.is_some() && state.stop.is_none() && exit.is_none() => {
                    state.stop = Some(Stop::TimedOut);
                    kill_at = Some(stop_group(&group, &config, &mut outbox, "timed out"));
                }
                status = child.wait(), if exit.is_none() => {
                    let status = status.unwrap_or_else(|err| {
                        tracing::warn!(%err, "cannot wait for pytest");
                        ExitStatus::from_raw(0x7f00)
                    });
                    exit = Some(status);
                    if group.is_alive() {
                        // After a stop the group is being killed anyway; otherwise these processes leaked.
                        if state.stop.is_none() {
                            outbox.push(RunEvent::Log("pytest left processes behind in its group: killing them".into()));
                            tracing::warn!(run_id = %run_id, "killed processes leaked by pytest");
                        }
                        group.kill();
                    }
                    // No plugin can connect for this run any more; if none did, its result stream ends here.
                    route = None;
                    drain_until = Some(Instant::now() + DRAIN_GRACE);
                    // What pytest wrote last is read now, not at the next tick.
                    output_at = Instant::now();
                }
                () = sleep_until(drain_until.unwrap_or_else(far).into()), if drain_until.is_some() => {
                    tracing::warn!(run_id = %run_id, "pytest's streams stayed open after it exited; ending the run");
                    break;
                }
                sent = outbox.send_one(), if !outbox.is_empty() => {
                    if !sent {
                        tracing::debug!(run_id = %run_id, "the requester went away; the run goes on unobserved");
                    }
                }
                message = plugin_rx.recv(), if plugin_open && reading => match message {
                    Some(mut message) => {
                        // The plugin sends in bursts (every 20 ms): what already arrived is taken in this turn and
                        // its events go to the requester at once (see `Outbox::try_flush`).
                        loop {
                            let finishing = matches!(message, PluginMessage::SessionFinish { .. });
                            state.on_plugin(message, &mut outbox, &progress);
                            if finishing {
                                // The last look at the group while it is whole, for the run's resource figures.
                                shared.monitor.sample_group(group.id()).await;
                            }
                            if outbox.len() >= OUTBOX_HIGH_WATER {
                                break;
                            }
                            match plugin_rx.try_recv() {
                                Ok(next) => message = next,
                                Err(_) => break,
                            }
                        }
                        outbox.try_flush();
                    }
                    None => plugin_open = false,
                },
                () = sleep_until(output_at.into()), if (stdout.is_some() || stderr.is_some()) && reading => {
                    // pytest's pipes are read on this timer, not when written to (see `pipe_poll`).
                    state.read_output(Stream::Stdout, &mut stdout, &mut outbox);
                    state.read_output(Stream::Stderr, &mut stderr, &mut outbox);
                    outbox.try_flush();
                    output_at = Instant::now() + POLL_EVERY;
                }
            }
        }
        if let (Some(modules), Some(_)) = (state.imports.take(), state.session_exit) {
            shared.warm.learned(&command, modules);
        }
        let run_pgid = group.id();
        drop(route);
        drop(group);
        let escaped = crate::process::escapees::kill_escaped(&run_id, run_pgid).await;
        let stream_complete =
            recover_undelivered(&mut state, &mut plugin_rx, command.journal(), &progress, &mut outbox).await;

        let exit = exit.map_or(Exit::Unknown, |status| match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            (None, None) => Exit::Unknown,
        });
        let verdict = verdict::judge(&verdict::Facts {
            stop: state.stop,
            exit,
            session_exit: state.session_exit,
            exiting: state.exiting,
            last_started: state.tally.last_running(),
            stream_complete,
            plugin_connected: state.connected,
            python: &python,
            timeout_ms: timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            peak_rss: progress.peak_rss_bytes.load(Ordering::Relaxed),
            discovery: kind.is_discovery(),
            collect_errors: state.collect_errors,
            run_error: state.run_error.as_deref(),
            tail: &state.tail,
        });
        for result in state.tally.finish_running(verdict.unfinished.as_deref()) {
            outbox.push(RunEvent::TestResult(Box::new(result)));
        }
        let mut errors = state.errors;
        errors.extend(verdict.errors);
        errors.extend(escaped.iter().map(crate::process::escapees::message));
        let coverage = match &command.coverage_dir {
            Some(dir) if state.coverage_written => {
                let per_test = params
                    .coverage
                    .as_ref()
                    .and_then(|c| c.options())
                    .and_then(|c| c.per_test)
                    .unwrap_or(false);
                match read_coverage(&dir.path().join("coverage.json"), per_test).await {
                    Ok(coverage) => Some(coverage),
                    Err(why) => {
                        errors.push(why);
                        None
                    }
                }
            }
            Some(_) if state.stop.is_none() && state.run_error.is_none() && state.session_exit.is_some() => {
                errors.push("the run measured no coverage: coverage.py's report was not written".to_owned());
                None
            }
            _ => None,
        };
        let summary = state.tally.summary();
        let discovered = std::mem::take(&mut state.discovered);
        let result = RunTestsResult {
            run_id,
            status: verdict.status,
            exit_code: verdict.exit_code,
            signal: verdict.signal,
            summary,
            results: state.tally.into_results(),
            errors,
            collection_errors: state.collection_errors,
            collection_skips: state.collection_skips,
            warnings: state.warnings,
            warning_count: state.warning_count,
            duration_ms: ms(started.elapsed()),
            queued_ms,
            resources: progress.resources(),
            coverage,
            escaped_processes: escaped,
        };
        RunOutcome {
            result: outbox.finish(result).await,
            discovered,
        }
    }
}

/// Starts the run's pytest: forked from the project's warm template when the run may be and one is ready, else
/// cold. Also says why it started cold, when it could have been forked.
async fn start(
    command: &command::PytestCommand,
    params: &RunTestsParams,
    config: &RunnerConfig,
    shared: &Shared,
    run_id: &str,
    progress: &Progress,
) -> std::io::Result<(RunChild, ProcessGroup, Option<String>)> {
    let why_cold = if !config.warm_start || params.warm == Some(false) {
        None
    } else {
        match shared
            .warm
            .fork(command, run_id, |pid| progress.pid.store(pid, Ordering::Relaxed))
            .await
        {
            Ok((child, group)) => return Ok((RunChild::Warm(child), group, None)),
            Err(why) => Some(why),
        }
    };
    let (child, group) = process::spawn_in_group(command.to_tokio())?;
    Ok((RunChild::Cold(child), group, why_cold))
}

/// Folds in the lines pytest queued that the socket did not deliver, read from the run's journal, when pytest died
/// before its session finished. Returns whether the daemon now has every line the plugin queued.
async fn recover_undelivered(
    state: &mut RunState,
    plugin_rx: &mut mpsc::Receiver<PluginMessage>,
    journal: &std::path::Path,
    progress: &Progress,
    outbox: &mut Outbox,
) -> bool {
    if state.session_exit.is_some() {
        return true;
    }
    if !state.connected {
        return false;
    }
    // The stream may still be open (a process outside the group holds the socket): take what arrived, no more.
    plugin_rx.close();
    while let Ok(message) = plugin_rx.try_recv() {
        state.on_plugin(message, outbox, progress);
    }
    let delivered = progress.stream_bytes.load(Ordering::Acquire);
    let lost = crate::results::journal::undelivered(journal, delivered).await;
    if !lost.is_empty() {
        outbox.push(RunEvent::Log(format!(
            "pytest died with {} message(s) not sent yet: read them from the run's journal",
            lost.len()
        )));
    }
    for message in lost {
        state.on_plugin(message, outbox, progress);
    }
    true
}

/// Starts the kill ladder and returns when SIGKILL is due.
fn stop_group(group: &ProcessGroup, config: &RunnerConfig, outbox: &mut Outbox, why: &str) -> Instant {
    outbox.push(RunEvent::Log(format!(
        "{why}: sending SIGTERM to the process group, SIGKILL in {} ms",
        config.kill_grace.as_millis()
    )));
    group.terminate();
    Instant::now() + config.kill_grace
}

/// What the run has learned so far.
#[derive(Default)]
struct RunState {
    tally: Tally,
    errors: Vec<String>,
    tail: VecDeque<String>,
    stop: Option<Stop>,
    session_exit: Option<i32>,
    exiting: Option<i32>,
    connected: bool,
    collect_errors: usize,
    collection_errors: Vec<CollectionError>,
    discovered: Vec<TestNode>,
    /// Discovered nodes also go out as events (otherwise they are only kept, not copied).
    stream_discovered: bool,
    /// Why the plugin ended the session before it began (debugpy or coverage.py missing, no debugger attached).
    run_error: Option<String>,
    /// The plugin wrote coverage.py's report into the run's coverage directory.
    coverage_written: bool,
    /// Collectors skipped as a whole.
    collection_skips: Vec<pytestd_protocol::runs::CollectionSkip>,
    /// The first warnings pytest recorded, and how many there were.
    warnings: Vec<pytestd_protocol::runs::Warning>,
    warning_count: u64,
    /// The installed modules the run imported, for the project's warm template.
    imports: Option<Vec<String>>,
}

impl RunState {
    fn on_plugin(&mut self, message: PluginMessage, outbox: &mut Outbox, progress: &Progress) {
        match message {
            PluginMessage::Hello { pytest_version, .. } => {
                self.connected = true;
                tracing::debug!(%pytest_version, "plugin connected");
            }
            PluginMessage::Collected { count } => outbox.push(RunEvent::Collected { count }),
            PluginMessage::NotFound { ids, total } => {
                let total = total.unwrap_or(ids.len() as u64).max(ids.len() as u64);
                self.errors.push(not_found_message(&ids, total));
            }
            PluginMessage::TestStarted { nodeid, path, line } => {
                let location = path.zip(line).map(|(path, line)| Location { path, line });
                self.tally.start(&nodeid, location);
                outbox.push(RunEvent::TestStarted { test_id: nodeid });
            }
            PluginMessage::Report(report) => {
                if let Some(result) = self.tally.report(*report) {
                    outbox.push(RunEvent::TestResult(Box::new(result)));
                    progress.tests.store(self.tally.count(), Ordering::Relaxed);
                }
            }
            PluginMessage::CollectError {
                nodeid,
                longrepr,
                path,
                line,
                message,
            } => {
                self.collect_errors += 1;
                self.errors.push(format!("error collecting {nodeid}:\n{longrepr}"));
                let error = collection_error(nodeid, longrepr, path, line, message);
                self.collection_errors.push(error.clone());
                outbox.push(RunEvent::CollectionError(Box::new(error)));
            }
            PluginMessage::Discovered { nodes } if self.stream_discovered => {
                self.discovered.extend(nodes.iter().cloned());
                outbox.push(RunEvent::Discovered(nodes));
            }
            PluginMessage::Discovered { mut nodes } => self.discovered.append(&mut nodes),
            PluginMessage::DebugReady { host, port } => {
                outbox.push(RunEvent::Log(format!(
                    "debugpy listens on {host}:{port}: attach a debugger (DAP) there"
                )));
                outbox.push(RunEvent::DebugReady { host, port });
            }
            PluginMessage::RunError { message } => {
                outbox.push(RunEvent::Log(message.clone()));
                self.run_error = Some(message);
            }
            PluginMessage::Coverage { .. } => self.coverage_written = true,
            PluginMessage::CollectSkip { nodeid, reason } => {
                self.collection_skips.push(pytestd_protocol::runs::CollectionSkip {
                    node_id: nodeid,
                    reason,
                });
            }
            PluginMessage::Warning(warning) => {
                self.warning_count += 1;
                if self.warnings.len() < MAX_WARNINGS {
                    self.warnings.push(warning);
                }
            }
            PluginMessage::Imports { modules } => self.imports = Some(modules),
            PluginMessage::SessionFinish { exit_status } => self.session_exit = Some(exit_status),
            PluginMessage::Exiting { code } => self.exiting = Some(code),
        }
    }

    /// Takes every line `reader` holds now (at most until the outbox is full), and its end.
    fn read_output<R: tokio::io::AsyncBufRead + Unpin>(
        &mut self,
        stream: Stream,
        reader: &mut Option<LineReader<R>>,
        outbox: &mut Outbox,
    ) {
        while outbox.len() < OUTBOX_HIGH_WATER {
            let Some(lines) = reader.as_mut() else { return };
            match poll_now(lines.next_line()) {
                Some(line) => self.on_output(stream, line, reader, outbox),
                None => return,
            }
        }
    }

    fn on_output<R>(
        &mut self,
        stream: Stream,
        line: std::io::Result<Option<String>>,
        reader: &mut Option<LineReader<R>>,
        outbox: &mut Outbox,
    ) {
        match line {
            Ok(Some(text)) => {
                // What explains a failure: pytest's stderr, and its error lines on stdout (not the test report).
                if stream == Stream::Stderr || text.starts_with("INTERNALERROR") || text.starts_with("ERROR") {
                    if self.tail.len() == TAIL_LINES {
                        self.tail.pop_front();
                    }
                    self.tail.push_back(text.clone());
                }
                outbox.push(RunEvent::Output { stream, text });
            }
            Ok(None) => *reader = None,
            Err(err) => {
                tracing::warn!(%err, ?stream, "cannot read pytest's output");
                *reader = None;
            }
        }
    }
}

/// Reads coverage.py's JSON report of the run.
async fn read_coverage(
    report: &std::path::Path,
    per_test: bool,
) -> Result<pytestd_protocol::coverage::CoverageResult, String> {
    let text = tokio::fs::read(report)
        .await
        .map_err(|err| format!("cannot read coverage.py's report {}: {err}", report.display()))?;
    crate::results::coverage_report::parse(&text, per_test)
}

/// A collection error as clients get it; what the plugin could not work out comes from the node id and the text.
fn collection_error(
    node_id: String,
    traceback: String,
    path: Option<String>,
    line: Option<u32>,
    message: Option<String>,
) -> CollectionError {
    let path = path.unwrap_or_else(|| node_id.split("::").next().unwrap_or_default().to_owned());
    let message = message.unwrap_or_else(|| {
        traceback
            .lines()
            .rev()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .map(|line| line.trim_start_matches("E ").trim().to_owned())
            .unwrap_or_else(|| format!("error collecting {node_id}"))
    });
    CollectionError {
        node_id,
        path,
        line,
        message,
        traceback,
    }
}

fn not_found_message(ids: &[String], total: u64) -> String {
    const SHOWN: usize = 20;
    let mut text = format!("{total} requested test id(s) matched no collected test: ");
    text.push_str(&ids.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", "));
    let shown = ids.len().min(SHOWN) as u64;
    if total > shown {
        text.push_str(&format!(", and {} more", total - shown));
    }
    text
}

impl From<RunTestsResult> for RunOutcome {
    fn from(result: RunTestsResult) -> Self {
        Self {
            result,
            discovered: Vec::new(),
        }
    }
}

fn not_started(run_id: &str, queued_ms: u64, message: String) -> RunTestsResult {
    let mut result = empty_result(run_id, RunStatus::Error, 0, vec![message]);
    result.queued_ms = queued_ms;
    result
}

fn empty_result(run_id: &str, status: RunStatus, queued_ms: u64, errors: Vec<String>) -> RunTestsResult {
    RunTestsResult {
        run_id: run_id.to_owned(),
        status,
        exit_code: None,
        signal: None,
        summary: Default::default(),
        results: Default::default(),
        errors,
        collection_errors: Vec::new(),
        collection_skips: Vec::new(),
        warnings: Vec::new(),
        warning_count: 0,
        duration_ms: 0,
        queued_ms,
        resources: Resources::default(),
        coverage: None,
        escaped_processes: Vec::new(),
    }
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collection_error_without_details_takes_them_from_its_text() {
        let error = collection_error(
            "tests/test_b.py".into(),
            "Traceback:\nE   ModuleNotFoundError: No module named 'nope'\n".into(),
            None,
            None,
            None,
        );
        assert_eq!(error.path, "tests/test_b.py");
        assert_eq!(error.message, "ModuleNotFoundError: No module named 'nope'");
        assert_eq!(error.line, None);
    }

    #[test]
    fn not_found_lists_a_bounded_number_of_ids() {
        let ids: Vec<String> = (0..25).map(|i| format!("t.py::x{i}")).collect();
        let text = not_found_message(&ids, 25);
        assert!(text.starts_with("25 requested"));
        assert!(text.ends_with("and 5 more"));
    }
}
