//! The sharded run: finds what to split, plans the shards, submits them to the coordinator as jobs of this run
//! (they take slots and queue like any job; a cancel of the run reaches every one of them there, queued ones never
//! start), streams their events tagged with their shard, and merges their results into the run's one result.
//!
//! The run's own time limit counts from its first pytest process; when it passes, the run is cancelled as a whole
//! and ends `timedOut`. A shard that crashes does not stop the others; the tests it never ran are named and
//! reported as errors.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pytestd_protocol::coverage::{CoverageOptions, CoverageParam};
use pytestd_protocol::discovery::NodeKind;
use pytestd_protocol::runs::{
    CollectionError, CollectionSkip, Outcome, ResultsMode, RunStatus, RunTestsParams, RunTestsResult,
};
use pytestd_protocol::shards::Shards;
use tokio::sync::{mpsc, watch};
use tokio::time::sleep_until;

use super::find::{self, Selection};
use super::memory::{Memory, PlanRecord, ProjectMemory};
use super::merge::{self, ShardResult};
use super::plan::{self, Unit};
use super::stamp::{self, Listing};
use super::{ChildJob, ShardEvent};
use crate::config::RunnerConfig;
use crate::coordinator::Coordinator;
use crate::error::RunnerError;
use crate::events::{JobKind, RunEvent, RunOutcome};

/// What the coordinator hands a sharded run.
pub(crate) struct Context {
    pub(crate) run_id: String,
    pub(crate) params: RunTestsParams,
    pub(crate) config: RunnerConfig,
    pub(crate) coordinator: Coordinator,
    pub(crate) memory: Memory,
    pub(crate) events: mpsc::Sender<ShardEvent>,
    /// Becomes true when the run is cancelled (the coordinator cancels its jobs itself).
    pub(crate) cancelled: watch::Receiver<bool>,
}

/// Runs the sharded run to its end.
pub(crate) async fn run(ctx: Context) -> RunOutcome {
    let submitted = Instant::now();
    let limit = ctx
        .params
        .timeout_ms
        .map(Duration::from_millis)
        .or(ctx.config.default_timeout);
    let mut task = Task {
        out: Emitter { tx: Some(ctx.events) },
        run_id: ctx.run_id,
        params: ctx.params,
        config: ctx.config,
        coordinator: ctx.coordinator,
        memory: ctx.memory,
        cancelled: ctx.cancelled,
        submitted,
        first_started: None,
        limit,
        timed_out: false,
    };
    let result = match task.plan().await {
        Ok(planned) => task.run_shards(planned).await,
        Err(ended) => *ended,
    };
    task.finish(result).await
}

/// Sends the run's events to its requester; a requester that went away only stops the events.
struct Emitter {
    tx: Option<mpsc::Sender<ShardEvent>>,
}

impl Emitter {
    async fn send(&mut self, shard: Option<u32>, event: RunEvent) {
        if let Some(tx) = &self.tx {
            if tx.send(ShardEvent { shard, event }).await.is_err() {
                self.tx = None;
            }
        }
    }

    async fn log(&mut self, text: String) {
        self.send(None, RunEvent::Log(text)).await;
    }
}

/// What the plan decided.
struct Planned {
    /// The shards' units; one shard runs the client's selection as it came.
    shards: Vec<Vec<Unit>>,
    /// Shards select whole files found by a walk.
    whole_files: bool,
    /// How many tests will run, when known before they start.
    total: Option<u64>,
    /// Files that failed to collect, or were skipped whole, when the tests were listed: no shard runs them.
    errors: Vec<CollectionError>,
    skips: Vec<CollectionSkip>,
}

/// One shard while it runs.
struct Shard {
    units: Vec<Unit>,
    started: bool,
    collected: Option<u64>,
    reported: HashSet<String>,
    result: Option<RunTestsResult>,
}

enum FromChild {
    Event(usize, RunEvent),
    Done(usize, Box<Result<RunOutcome, RunnerError>>),
}

struct Task {
    out: Emitter,
    run_id: String,
    params: RunTestsParams,
    config: RunnerConfig,
    coordinator: Coordinator,
    memory: Memory,
    cancelled: watch::Receiver<bool>,
    submitted: Instant,
    first_started: Option<Instant>,
    limit: Option<Duration>,
    timed_out: bool,
}

type Ended = Box<RunTestsResult>;

impl Task {
    fn cwd(&self) -> PathBuf {
        PathBuf::from(&self.params.cwd)
    }

    fn is_cancelled(&self) -> bool {
        *self.cancelled.borrow()
    }

    /// When the run's time is up, if it has a limit and a pytest has started.
    fn deadline(&self) -> Option<Instant> {
        Some(self.first_started? + self.limit?).filter(|_| !self.timed_out)
    }

    fn started(&mut self) {
        self.first_started.get_or_insert_with(Instant::now);
    }

    /// The time is up: the run is cancelled as a whole (every job of it), and ends `timedOut`.
    fn time_out(&mut self) {
        self.timed_out = true;
        self.coordinator.cancel_detached(&self.run_id);
    }

    /// The result of a run that ends before its shards: cancelled, timed out, or an error.
    fn ended(&self, status: RunStatus, errors: Vec<String>) -> Ended {
        let (status, errors) = if self.timed_out {
            (RunStatus::TimedOut, vec![self.timeout_message()])
        } else if self.is_cancelled() {
            (RunStatus::Cancelled, Vec::new())
        } else {
            (status, errors)
        };
        let mut result = empty(&self.run_id, status, errors);
        result.queued_ms = ms(self.submitted.elapsed());
        Box::new(result)
    }

    fn timeout_message(&self) -> String {
        let limit = self.limit.map_or(0, ms);
        format!("the run exceeded its timeout of {limit} ms")
    }

    /// Waits for `future` unless the run is cancelled first.
    async fn unless_cancelled<T>(&mut self, future: impl std::future::Future<Output = T>) -> Option<T> {
        if self.is_cancelled() {
            return None;
        }
        let mut cancelled = self.cancelled.clone();
        tokio::select! {
            value = future => Some(value),
            _ = cancelled.wait_for(|c| *c) => None,
        }
    }

    async fn plan(&mut self) -> Result<Planned, Ended> {
        let cwd = self.cwd();
        let given = self.params.test_ids.clone().unwrap_or_default();
        let selection = find::classify(&cwd, &given);
        let project = self.params.cwd.clone();
        let memory = self.memory.clone();
        let remembered = match self.unless_cancelled(memory.load(&project)).await {
            Some(remembered) => remembered,
            None => return Err(self.ended(RunStatus::Cancelled, Vec::new())),
        };
        let found = Instant::now();
        let (mut units, whole_files, mut errors, mut skips, how) = match selection {
            Selection::Direct(units) => (units, false, Vec::new(), Vec::new(), "as named".to_owned()),
            Selection::Dirs(dirs) => {
                let key = find::plan_key(&self.params, &self.config, &dirs);
                let listing = self.walk(&remembered, key).await?;
                let plan = remembered.plan(key);
                let fresh = listing.as_ref().zip(plan).filter(|(listing, plan)| {
                    let files: HashSet<String> = plan.files.iter().cloned().collect();
                    listing.stamp(&files) == plan.stamp
                });
                if let Some((listing, plan)) = fresh {
                    let units: Vec<Unit> = plan.files.iter().map(|f| Unit::file(f)).collect();
                    let how = format!(
                        "{} files remembered from the last collection, the project unchanged since ({} entries walked in {:.1} ms)",
                        units.len(),
                        listing.len(),
                        found.elapsed().as_secs_f64() * 1000.0
                    );
                    (units, true, Vec::new(), Vec::new(), how)
                } else {
                    let (units, errors, skips, how) = self.collect().await?;
                    self.remember_plan(key, listing.as_ref(), &units, &errors, &skips);
                    (units, false, errors, skips, how)
                }
            }
            Selection::Mixed => {
                let (units, errors, skips, how) = self.collect().await?;
                (units, false, errors, skips, how)
            }
        };
        plan::weigh(&mut units, &remembered.durations);
        let all_known = plan::all_known(&units, &remembered.durations);
        let count = match self.params.shards {
            Some(Shards::Count(n)) => n as usize,
            Some(Shards::Auto) | None => {
                plan::auto_count(super::cores(), self.config.max_parallel as usize, &units, all_known)
            }
        };
        let stop_early = self.params.stop_on_collection_errors == Some(true) && !errors.is_empty();
        if count <= 1 || units.len() <= 1 || stop_early {
            // One process: it runs the selection as it came and reports everything itself, exactly as unsharded.
            self.out
                .log(format!(
                    "one shard: {} file(s) found {how}, nothing to split",
                    units.len()
                ))
                .await;
            errors.clear();
            skips.clear();
            return Ok(Planned {
                shards: vec![units],
                whole_files: false,
                total: None,
                errors,
                skips,
            });
        }
        let total = units
            .iter()
            .all(|u| !u.ids.is_empty())
            .then(|| units.iter().map(|u| u.ids.len() as u64).sum());
        let shards = plan::balance(units, count);
        let loads = plan::loads(&shards);
        // With nothing remembered, every test weighs the same and an estimate in seconds would mean nothing.
        let counted = remembered.durations.is_empty();
        let detail: Vec<String> = shards
            .iter()
            .zip(&loads)
            .enumerate()
            .map(|(i, (units, load))| {
                if counted {
                    format!("shard {i}: {} file(s)", units.len())
                } else {
                    format!("shard {i}: {} file(s), ~{load:.2} s", units.len())
                }
            })
            .collect();
        let basis = if counted {
            "test counts (no durations remembered yet)"
        } else if all_known {
            "remembered durations"
        } else {
            "remembered durations, unknown tests as the average"
        };
        self.out
            .log(format!(
                "{} shards by file, balanced by {basis}; files found {how}: {}",
                shards.len(),
                detail.join("; ")
            ))
            .await;
        Ok(Planned {
            shards,
            whole_files,
            total,
            errors,
            skips,
        })
    }

    /// Walks the project for its stamp (see `stamp.rs`), off the async threads.
    async fn walk(&mut self, remembered: &ProjectMemory, key: u64) -> Result<Option<Listing>, Ended> {
        let planned = remembered.plan(key).map(|p| p.files.clone()).unwrap_or_default();
        let tested = remembered.durations.keys().map(|id| plan::file_of(id).to_owned());
        let all: Vec<String> = planned.into_iter().chain(tested).collect();
        let extensions = stamp::extensions(all.iter().map(String::as_str));
        let root = self.cwd();
        let walk = tokio::task::spawn_blocking(move || Listing::walk(&root, &extensions));
        match self.unless_cancelled(walk).await {
            Some(listing) => Ok(listing.ok().flatten()),
            None => Err(self.ended(RunStatus::Cancelled, Vec::new())),
        }
    }

    /// Remembers what a collection found, stamped with the tree as it was just before it collected, unless the
    /// walk missed a kind of file that holds tests (then the stamp would not see it change).
    fn remember_plan(
        &self,
        key: u64,
        listing: Option<&Listing>,
        units: &[Unit],
        errors: &[CollectionError],
        skips: &[CollectionSkip],
    ) {
        let Some(listing) = listing else { return };
        let mut files: Vec<String> = units.iter().map(|u| u.file.clone()).collect();
        files.extend(errors.iter().map(|e| e.path.clone()));
        files.extend(skips.iter().map(|s| plan::file_of(&s.node_id).to_owned()));
        files.sort();
        files.dedup();
        if !listing.covers(files.iter().map(String::as_str)) {
            // The walk did not look at files of a kind that holds tests; the next walk will, and remember then.
            return;
        }
        let set: HashSet<String> = files.iter().cloned().collect();
        self.memory.record_plan(
            &self.params.cwd,
            PlanRecord {
                key,
                stamp: listing.stamp(&set),
                files,
                generation: 0,
            },
        );
    }

    /// Collects the selection (`--collect-only`, a job of this run) and groups the tests by file.
    async fn collect(&mut self) -> Result<(Vec<Unit>, Vec<CollectionError>, Vec<CollectionSkip>, String), Ended> {
        let started = Instant::now();
        let params = RunTestsParams {
            run_id: None,
            cwd: self.params.cwd.clone(),
            test_ids: self.params.test_ids.clone(),
            args: self.params.args.clone(),
            python: self.params.python.clone(),
            env: self.params.env.clone(),
            ..RunTestsParams::default()
        };
        let job = ChildJob {
            run_id: format!("{}/collect", self.run_id),
            params,
            kind: JobKind::Discover,
            shard: None,
        };
        let mut ticket = match self.coordinator.submit_children(&self.run_id, vec![job]).await {
            Ok(mut tickets) if tickets.len() == 1 => tickets.remove(0),
            Ok(_) => return Err(self.ended(RunStatus::Error, vec!["pytestd could not start collecting".into()])),
            Err(err) => return Err(self.ended(RunStatus::Error, vec![format!("cannot collect the tests: {err}")])),
        };
        loop {
            let deadline = self.deadline();
            tokio::select! {
                event = ticket.next_event() => match event {
                    Some(RunEvent::Queued { position }) => self.out.send(None, RunEvent::Queued { position }).await,
                    Some(RunEvent::Started { .. }) => self.started(),
                    Some(RunEvent::Log(text)) => self.out.log(format!("collecting the tests to split: {text}")).await,
                    Some(_) => {}
                    None => break,
                },
                () = sleep_until(deadline.unwrap_or_else(far).into()), if deadline.is_some() => self.time_out(),
            }
        }
        let outcome = match ticket.result().await {
            Ok(outcome) => outcome,
            Err(err) => return Err(self.ended(RunStatus::Error, vec![err.to_string()])),
        };
        let result = outcome.result;
        match result.status {
            RunStatus::Passed | RunStatus::Failed => {}
            status => {
                // pytest could not collect (its command line, the interpreter): the run ends as one would.
                let mut ended = self.ended(status, result.errors);
                ended.exit_code = result.exit_code;
                ended.signal = result.signal;
                return Err(ended);
            }
        }
        let ids: Vec<String> = outcome
            .discovered
            .iter()
            .filter(|node| node.kind == NodeKind::Test)
            .map(|node| node.id.clone())
            .collect();
        let units = plan::units_from_ids(&ids);
        let how = format!(
            "by collecting ({} tests in {} files in {} ms)",
            ids.len(),
            units.len(),
            ms(started.elapsed())
        );
        Ok((units, result.collection_errors, result.collection_skips, how))
    }

    fn child_params(&self, index: usize, units: &[Unit], several: bool, scratch: Option<&Path>) -> RunTestsParams {
        let test_ids = if several {
            Some(units.iter().flat_map(Unit::selection).collect())
        } else {
            self.params.test_ids.clone()
        };
        let coverage = match (self.coverage(), scratch) {
            (Some(options), Some(scratch)) => Some(CoverageParam::Options(CoverageOptions {
                data_file: Some(scratch.join(format!("shard-{index}.coverage")).display().to_string()),
                lcov: None,
                xml: None,
                ..options
            })),
            _ => self.params.coverage.clone(),
        };
        RunTestsParams {
            run_id: Some(format!("{}/shard-{index}", self.run_id)),
            test_ids,
            shards: None,
            coverage,
            ..self.params.clone()
        }
    }

    fn coverage(&self) -> Option<CoverageOptions> {
        self.params.coverage.as_ref().and_then(CoverageParam::options)
    }

    async fn run_shards(&mut self, planned: Planned) -> RunTestsResult {
        let Planned {
            shards: planned_units,
            whole_files,
            total,
            errors: listed_errors,
            skips: listed_skips,
        } = planned;
        let shard_count = planned_units.len();
        let several = shard_count > 1;
        // Each shard keeps its coverage data here; it is combined once they have all ended.
        let scratch = match (self.coverage(), several) {
            (Some(_), true) => match tempfile::tempdir() {
                Ok(dir) => Some(dir),
                Err(err) => {
                    return *self.ended(
                        RunStatus::Error,
                        vec![format!(
                            "cannot create a directory for the shards' coverage data: {err}"
                        )],
                    )
                }
            },
            _ => None,
        };
        let jobs: Vec<ChildJob> = planned_units
            .iter()
            .enumerate()
            .map(|(index, units)| ChildJob {
                run_id: format!("{}/shard-{index}", self.run_id),
                params: self.child_params(index, units, several, scratch.as_ref().map(tempfile::TempDir::path)),
                kind: JobKind::Run,
                shard: u32::try_from(index).ok(),
            })
            .collect();
        let tickets = match self.coordinator.submit_children(&self.run_id, jobs).await {
            Ok(tickets) => tickets,
            Err(err) => return *self.ended(RunStatus::Error, vec![format!("cannot start the shards: {err}")]),
        };
        for error in &listed_errors {
            self.out
                .send(None, RunEvent::CollectionError(Box::new(error.clone())))
                .await;
        }
        if let Some(count) = total {
            self.out.send(None, RunEvent::Collected { count }).await;
        }
        let mut shards: Vec<Shard> = planned_units
            .into_iter()
            .map(|units| Shard {
                units,
                started: false,
                collected: None,
                reported: HashSet::new(),
                result: None,
            })
            .collect();
        let mut durations: HashMap<String, f64> = HashMap::new();
        let mut seen_collection: HashSet<String> = listed_errors.iter().map(|e| e.node_id.clone()).collect();
        let mut announced = total.is_some() || !several;
        let (tx, mut rx) = mpsc::channel::<FromChild>(256);
        for (index, mut ticket) in tickets.into_iter().enumerate() {
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(event) = ticket.next_event().await {
                    if tx.send(FromChild::Event(index, event)).await.is_err() {
                        // The run's task is gone: dropping the ticket cancels the shard.
                        return;
                    }
                }
                let _ = tx.send(FromChild::Done(index, Box::new(ticket.result().await))).await;
            });
        }
        drop(tx);
        let mut pending = shards.len();
        while pending > 0 {
            let deadline = self.deadline();
            let item = tokio::select! {
                item = rx.recv() => item,
                () = sleep_until(deadline.unwrap_or_else(far).into()), if deadline.is_some() => {
                    self.time_out();
                    continue;
                }
            };
            let Some(item) = item else { break };
            match item {
                FromChild::Done(index, outcome) => {
                    pending -= 1;
                    let result = (*outcome).map_or_else(
                        |err| empty(&self.run_id, RunStatus::Error, vec![err.to_string()]),
                        |o| o.result,
                    );
                    shards[index].result = Some(result);
                }
                FromChild::Event(index, event) => {
                    let tag = u32::try_from(index).ok();
                    match event {
                        RunEvent::Started { pid, args, warm } => {
                            self.started();
                            shards[index].started = true;
                            self.out.send(tag, RunEvent::Started { pid, args, warm }).await;
                        }
                        RunEvent::Collected { count } if several => {
                            shards[index].collected = Some(count);
                            self.out
                                .send(tag, RunEvent::Log(format!("collected {count} tests")))
                                .await;
                            if !announced && shards.iter().all(|s| s.collected.is_some()) {
                                announced = true;
                                let count = shards.iter().filter_map(|s| s.collected).sum();
                                self.out.send(None, RunEvent::Collected { count }).await;
                            }
                        }
                        RunEvent::TestResult(result) => {
                            durations.insert(result.test_id.clone(), result.duration_ms / 1000.0);
                            shards[index].reported.insert(result.test_id.clone());
                            self.out.send(tag, RunEvent::TestResult(result)).await;
                        }
                        RunEvent::CollectionError(error) => {
                            if seen_collection.insert(error.node_id.clone()) {
                                self.out.send(tag, RunEvent::CollectionError(error)).await;
                            }
                        }
                        // The run finishes once, when every shard has.
                        RunEvent::Finished { .. } | RunEvent::Discovered(_) => {}
                        other => self.out.send(tag, other).await,
                    }
                }
            }
        }
        let duration_ms = self.first_started.map_or(0, |t| ms(t.elapsed()));
        let queued_ms = self
            .first_started
            .map_or_else(|| ms(self.submitted.elapsed()), |t| ms(t - self.submitted));
        let deselecting = may_deselect(self.config.pytest_args.iter().chain(self.params.args.iter().flatten()));
        let mut lost_results = Vec::new();
        let mut lost_errors = Vec::new();
        let mut results = Vec::new();
        for (index, shard) in shards.into_iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let result = shard
                .result
                .unwrap_or_else(|| empty(&self.run_id, RunStatus::Error, vec!["the shard's job vanished".into()]));
            if result.status == RunStatus::Error && shard.started {
                let why = match result.errors.first() {
                    Some(error) => format!("shard {index} ended early: {}", first_line(error)),
                    None => format!("shard {index} ended early"),
                };
                // A whole file's remembered tests would all have run, unless the arguments deselect some: then
                // only the file is named, when none of its tests reported.
                let trust_memory = !deselecting;
                let expected: Vec<String> = shard
                    .units
                    .iter()
                    .filter(|u| !u.ids.is_empty() || trust_memory)
                    .flat_map(|u| u.expected().to_vec())
                    .collect();
                let lost = merge::lost(&expected, &shard.reported, &why);
                let files: Vec<String> = shard
                    .units
                    .iter()
                    .filter(|u| u.ids.is_empty() && (u.known.is_empty() || !trust_memory))
                    .filter(|u| !shard.reported.iter().any(|id| plan::file_of(id) == u.file))
                    .map(|u| u.file.clone())
                    .collect();
                if !lost.is_empty() || !files.is_empty() {
                    lost_errors.push(merge::lost_sentence(index, &lost, &files));
                }
                for test in &lost {
                    self.out
                        .send(Some(index), RunEvent::TestResult(Box::new(test.clone())))
                        .await;
                }
                lost_results.extend(lost);
            }
            results.push(ShardResult {
                index,
                result,
                whole_files,
            });
        }
        let mut merged = merge::merge(&self.run_id, results, duration_ms, queued_ms);
        merge::add_collected_problems(&mut merged, listed_errors, listed_skips);
        merged.errors.extend(lost_errors);
        let keep_results = self.params.results != Some(ResultsMode::Summary);
        for test in lost_results {
            merged.summary.add(Outcome::Error);
            if keep_results {
                merged.results.insert(test.test_id.clone(), test);
            }
        }
        if self.timed_out {
            merged.status = RunStatus::TimedOut;
            merged.errors.push(self.timeout_message());
        }
        if let (Some(options), Some(scratch)) = (self.coverage(), &scratch) {
            self.combine_coverage(&mut merged, &options, scratch.path(), shard_count)
                .await;
        }
        self.memory.record_durations(&self.params.cwd, durations);
        merged
    }

    /// Combines the shards' coverage data into one report, as one process's would be.
    async fn combine_coverage(
        &self,
        merged: &mut RunTestsResult,
        options: &CoverageOptions,
        scratch: &Path,
        shards: usize,
    ) {
        let data: Vec<PathBuf> = (0..shards)
            .map(|i| scratch.join(format!("shard-{i}.coverage")))
            .collect();
        let python = self.params.python.as_deref().or(self.config.python.as_deref());
        let options = CoverageOptions {
            data_file: None,
            ..options.clone()
        };
        match crate::results::coverage_report::combine(python, &self.cwd(), &data, &options, scratch).await {
            Ok(coverage) => {
                merged.coverage = Some(coverage);
                if let Some(keep) = self.coverage().and_then(|o| o.data_file) {
                    if let Err(err) = std::fs::copy(scratch.join(".coverage"), &keep) {
                        merged
                            .errors
                            .push(format!("cannot keep the coverage data in {keep}: {err}"));
                    }
                }
            }
            Err(why) => merged.errors.push(why),
        }
    }

    /// Sends the run's last events and hands its result to the coordinator.
    async fn finish(mut self, result: RunTestsResult) -> RunOutcome {
        self.out
            .log(format!(
                "finished: {} in {} ms ({} tests)",
                result.status.as_str(),
                result.duration_ms,
                result.summary.total
            ))
            .await;
        self.out
            .send(
                None,
                RunEvent::Finished {
                    status: result.status,
                    summary: result.summary,
                    duration_ms: result.duration_ms,
                },
            )
            .await;
        RunOutcome {
            result,
            discovered: Vec::new(),
        }
    }
}

/// Whether pytest arguments may deselect collected tests (`-k`, `-m`, `--deselect`, `--lf`, …), so that a whole
/// file need not run every test remembered in it.
fn may_deselect<'a>(args: impl Iterator<Item = &'a String>) -> bool {
    const DESELECTING: [&str; 7] = ["-k", "-m", "--deselect", "--lf", "--last-failed", "--sw", "--stepwise"];
    args.map(String::as_str).any(|arg| {
        DESELECTING.iter().any(|flag| {
            arg == *flag || (arg.starts_with(flag) && (flag.len() == 2 || arg[flag.len()..].starts_with('=')))
        })
    })
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(86_400)
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

fn empty(run_id: &str, status: RunStatus, errors: Vec<String>) -> RunTestsResult {
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
        queued_ms: 0,
        resources: Default::default(),
        coverage: None,
        escaped_processes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deselecting_arguments_are_recognized_in_every_spelling() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        for deselecting in [
            &["-k", "fast"][..],
            &["-kfast"],
            &["-m", "slow"],
            &["--deselect=a.py::t"],
            &["--lf"],
        ] {
            assert!(may_deselect(args(deselecting).iter()), "{deselecting:?}");
        }
        for plain in [&["-x"][..], &["--maxfail=2"], &["-v", "--tb=short"], &["--lfx"]] {
            assert!(!may_deselect(args(plain).iter()), "{plain:?}");
        }
    }
}
