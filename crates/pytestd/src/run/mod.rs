//! `pytestd run` and `pytestd discover`: the terminal and CI front end. A run goes through the same coordinator and
//! instance actors as the daemon's `runTests` (in-process: submit a `RunTestsParams`, consume the ticket's events),
//! so there is one code path for running pytest.
//!
//! Here stdout is the user's terminal (or a pipe to a script), not the protocol: that is `serve` only. Output goes
//! through `std::io::stdout().lock()` and `writeln!`, so the crate-wide `print_stdout` lint keeps guarding `serve`.

pub(crate) mod args;
mod coverage_table;
mod discover;
mod json;
mod junit;
mod last_failed;
mod partition;
mod progress;
mod shards;
mod style;
mod summary;
mod targets;

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pytestd_protocol::coverage::{CoverageOptions, CoverageParam};
use pytestd_protocol::runs::{CollectionError, RunStatus, RunTestsParams, RunTestsResult};
use pytestd_runner::{Coordinator, JobKind, RunEvent, RunnerConfig};
use tokio::signal::unix::{signal, SignalKind};

use self::args::{python, targets, RunArgs};
use self::json::JsonEvents;
use self::last_failed::LastFailed;
use self::progress::{Progress, Verbosity};
use self::style::Style;
use self::summary::exit;

pub(crate) use self::discover::main as discover_main;

/// `pytestd run`.
pub(crate) fn main(args: &RunArgs) -> ExitCode {
    ExitCode::from(block_on(run(args)))
}

/// Runs `future` on a fresh multi-threaded runtime; an exit code of 3 if there is none to be had.
fn block_on(future: impl Future<Output = u8>) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("pytestd: cannot start the async runtime: {err}");
            return exit::INTERNAL_ERROR;
        }
    };
    let code = runtime.block_on(future);
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

/// Where a run's events go: a person's terminal, or a script reading JSON lines (one writer per pytest process,
/// so each line names the run it comes from).
enum Sink {
    Human(Progress),
    Json(Vec<JsonEvents<std::io::Stdout>>),
}

impl Sink {
    fn event(&mut self, job: usize, event: &RunEvent) {
        match self {
            Self::Human(progress) => progress.event(event),
            Self::Json(events) => {
                // A reader that went away (`| head`) only loses events; the run goes on and its exit code stands.
                if let Some(events) = events.get_mut(job) {
                    let _ = events.event(event);
                }
            }
        }
    }
}

async fn run(args: &RunArgs) -> u8 {
    let started = Instant::now();
    let (project, given_ids) = match targets(&args.targets, args.rootdir.as_deref()) {
        Ok(targets) => (targets.rootdir, targets.ids),
        Err(err) => {
            eprintln!("pytestd: {err}");
            return exit::USAGE_ERROR;
        }
    };
    let timeout_ms = match args.timeout {
        None => None,
        Some(secs) if secs.is_finite() && secs > 0.0 => Some((secs * 1000.0).ceil() as u64),
        Some(secs) => {
            eprintln!("pytestd: --timeout must be a positive number of seconds, got {secs}");
            return exit::USAGE_ERROR;
        }
    };
    let terminal = std::io::stdout().is_terminal();
    let style = Style {
        color: args.color.enabled(terminal),
    };
    let verbosity = if args.quiet {
        Verbosity::Quiet
    } else if args.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let mut config = RunnerConfig::default();
    if let Some(n) = args.max_parallel {
        config.max_parallel = n;
    }
    let coordinator = match Coordinator::start(config) {
        Ok(coordinator) => coordinator,
        Err(err) => {
            eprintln!("pytestd: cannot start the runner: {err}");
            return exit::INTERNAL_ERROR;
        }
    };
    let code = run_with(
        args,
        &coordinator,
        &project,
        given_ids,
        timeout_ms,
        style,
        verbosity,
        terminal,
        started,
    )
    .await;
    coordinator.shutdown().await;
    code
}

#[allow(clippy::too_many_arguments)] // One call site; a struct for these would only rename them.
async fn run_with(
    args: &RunArgs,
    coordinator: &Coordinator,
    project: &std::path::Path,
    given_ids: Vec<String>,
    timeout_ms: Option<u64>,
    style: Style,
    verbosity: Verbosity,
    terminal: bool,
    started: Instant,
) -> u8 {
    let cwd = project.display().to_string();
    let python = python(args.common.python.as_deref(), project);
    let pytest_args = (!args.pytest_args.is_empty()).then(|| args.pytest_args.clone());
    let cache = LastFailed::for_project(project);
    let note = |text: &str| {
        if !args.json && verbosity != Verbosity::Quiet {
            eprintln!("pytestd: {text}");
        }
    };

    // The selection: the ids given, narrowed to last time's failures, then to this machine's partition.
    let args_ids = given_ids.clone();
    let mut test_ids = given_ids;
    let mut known = false;
    if args.last_failed {
        let failed: Vec<String> = cache
            .load()
            .into_iter()
            .filter(|id| test_ids.is_empty() || test_ids.iter().any(|given| within(id, given)))
            .collect();
        if failed.is_empty() {
            note("--last-failed: no failures recorded, running every selected test");
        } else {
            note(&format!(
                "--last-failed: running the {} tests that failed last time",
                failed.len()
            ));
            test_ids = failed;
            known = true;
        }
    }
    let shards = args.max_parallel.map_or(1, |n| n as usize);
    let mut total = None;
    // Files that failed to collect when the tests were listed up front: no shard runs them, so they are
    // reported here.
    let mut collection_errors = Vec::new();
    if args.partition.is_some() || shards > 1 {
        // Partitions and shards need the tests themselves: ids given may name files, classes or directories.
        let ids = if known {
            test_ids.clone()
        } else {
            let params = RunTestsParams {
                cwd: cwd.clone(),
                test_ids: (!test_ids.is_empty()).then(|| test_ids.clone()),
                args: pytest_args.clone(),
                python: python.clone(),
                timeout_ms,
                ..RunTestsParams::default()
            };
            let (outcome, interrupted) = match discover::collect(coordinator, params).await {
                Ok(collected) => collected,
                Err(code) => return code,
            };
            let code = summary::exit_code(&outcome.result, interrupted);
            // A module that fails to import does not stop the others: it is reported with the run's result.
            let complete = outcome.result.status == RunStatus::Passed && !interrupted;
            if !complete && code != exit::OK && code != exit::NO_TESTS_COLLECTED {
                eprintln!("pytestd: collecting the tests to run failed");
                for error in &outcome.result.errors {
                    eprintln!("{}", error.trim_end());
                }
                return code;
            }
            collection_errors = outcome.result.collection_errors.clone();
            discover::test_ids(&outcome)
        };
        let ids = match args.partition {
            Some(partition) => {
                let share = partition.select(&ids);
                note(&format!(
                    "partition {partition}: {} of {} tests",
                    share.len(),
                    ids.len()
                ));
                share
            }
            None => ids,
        };
        if ids.is_empty() && (collection_errors.is_empty() || args.partition.is_some()) {
            note("no tests to run");
            return exit::NO_TESTS_COLLECTED;
        }
        total = Some(ids.len() as u64);
        test_ids = ids;
    }
    // Nothing collected but broken files: one pytest over the selection reports them itself.
    let only_errors = test_ids.is_empty() && !collection_errors.is_empty();
    if only_errors {
        test_ids = args_ids.clone();
        collection_errors.clear();
    }
    let groups = if shards > 1 && !only_errors {
        shards::split(&test_ids, shards)
    } else {
        vec![test_ids]
    };
    if groups.len() > 1 {
        note(&format!(
            "running {} tests in {} pytest processes",
            total.unwrap_or_default(),
            groups.len()
        ));
    }
    let coverage = args.coverage();
    // A split run's processes each keep their coverage data here; it is combined once they have all ended.
    let coverage_scratch = match (&coverage, groups.len() > 1) {
        (Some(_), true) => match tempfile::tempdir() {
            Ok(dir) => Some(dir),
            Err(err) => {
                eprintln!("pytestd: cannot create a directory for the coverage data: {err}");
                return exit::INTERNAL_ERROR;
            }
        },
        _ => None,
    };
    let mut shard_data = Vec::new();
    let mut tickets = Vec::new();
    for (shard, ids) in groups.into_iter().enumerate() {
        let coverage = match (&coverage, &coverage_scratch) {
            (Some(options), Some(scratch)) => {
                let data_file = scratch.path().join(format!("shard-{shard}.coverage"));
                shard_data.push(data_file.clone());
                Some(CoverageOptions {
                    data_file: Some(data_file.display().to_string()),
                    lcov: None,
                    xml: None,
                    ..options.clone()
                })
            }
            (options, _) => options.clone(),
        };
        let params = RunTestsParams {
            cwd: cwd.clone(),
            test_ids: (!ids.is_empty()).then_some(ids),
            args: pytest_args.clone(),
            python: python.clone(),
            timeout_ms,
            coverage: coverage.map(CoverageParam::Options),
            ..RunTestsParams::default()
        };
        match coordinator.submit(params, JobKind::Run).await {
            Ok(ticket) => tickets.push(ticket),
            Err(err) => return discover::submit_failed(&err),
        }
    }
    let run_ids: Vec<String> = tickets.iter().map(|t| t.run_id().to_owned()).collect();
    let mut sink = if args.json {
        Sink::Json(
            run_ids
                .iter()
                .map(|id| JsonEvents::new(std::io::stdout(), id))
                .collect(),
        )
    } else {
        Sink::Human(Progress::new(style, verbosity, terminal, total))
    };
    for error in &collection_errors {
        sink.event(0, &RunEvent::CollectionError(Box::new(error.clone())));
    }
    let mut sigint = match signal(SignalKind::interrupt()) {
        Ok(sigint) => sigint,
        Err(err) => {
            eprintln!("pytestd: cannot watch SIGINT: {err}");
            return exit::INTERNAL_ERROR;
        }
    };
    // Each job's events come through one channel, tagged with the job, in the order each job produced them.
    let (events_tx, mut events) = tokio::sync::mpsc::channel(256);
    let jobs: Vec<_> = tickets
        .into_iter()
        .enumerate()
        .map(|(job, mut ticket)| {
            let events_tx = events_tx.clone();
            tokio::spawn(async move {
                while let Some(event) = ticket.next_event().await {
                    if events_tx.send((job, event)).await.is_err() {
                        break;
                    }
                }
                ticket.result().await
            })
        })
        .collect();
    drop(events_tx);
    let mut interrupted = false;
    // The order tests finished in, for the JUnit file (pytest writes testcases in run order).
    let mut finished_order = Vec::new();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some((job, event)) => {
                    if let RunEvent::TestResult(test) = &event {
                        finished_order.push(test.test_id.clone());
                    }
                    sink.event(job, &event);
                }
                None => break,
            },
            _ = sigint.recv() => {
                // The first Ctrl-C stops the run (SIGTERM, then SIGKILL after the grace period); a second kills now.
                if !interrupted {
                    eprintln!("\npytestd: interrupted, stopping pytest (Ctrl-C again to kill it at once)");
                }
                interrupted = true;
                for run_id in &run_ids {
                    let _ = coordinator.cancel(run_id).await;
                }
            }
        }
    }
    if let Sink::Human(progress) = &mut sink {
        progress.finish();
    }
    let mut results = Vec::new();
    for job in jobs {
        match job.await {
            Ok(Ok(outcome)) => results.push(outcome.result),
            Ok(Err(err)) => {
                eprintln!("pytestd: {err}");
                return exit::INTERNAL_ERROR;
            }
            Err(err) => {
                eprintln!("pytestd: a run failed inside pytestd: {err}");
                return exit::INTERNAL_ERROR;
            }
        }
    }
    let Some(mut result) = shards::merge(results) else {
        eprintln!("pytestd: no run was started");
        return exit::INTERNAL_ERROR;
    };
    add_collection_errors(&mut result, collection_errors);
    let mut coverage_failed = false;
    if let (Some(options), Some(scratch)) = (&coverage, &coverage_scratch) {
        let combined =
            pytestd_runner::coverage_report::combine(python.as_deref(), project, &shard_data, options, scratch.path())
                .await;
        match combined {
            Ok(combined) => result.coverage = Some(combined),
            Err(why) => {
                eprintln!("pytestd: {why}");
                coverage_failed = true;
            }
        }
    }

    let result = &result;
    let wall = started.elapsed();
    if let Err(err) = cache.record(result) {
        eprintln!("pytestd: cannot remember the failed tests for --last-failed: {err}");
    }
    let mut code = summary::exit_code(result, interrupted);
    if coverage_failed {
        code = code.max(exit::INTERNAL_ERROR);
    }
    if let Some(path) = &args.junit_xml {
        if let Err(err) = junit::write(path, result, &finished_order, wall.as_secs_f64(), &args.pytest_args) {
            eprintln!("pytestd: cannot write {}: {err}", path.display());
            code = code.max(exit::INTERNAL_ERROR);
        }
    }
    match &mut sink {
        Sink::Json(events) => {
            if let Some(events) = events.first_mut() {
                let _ = events.finished(result);
            }
        }
        Sink::Human(_) => {
            let mut text = summary::render(result, &cwd, wall, style, verbosity == Verbosity::Quiet);
            text.push_str(&summary::warnings(result, style, verbosity == Verbosity::Quiet));
            if let Some(coverage) = &result.coverage {
                text.push_str(&coverage_table::render(coverage, style));
            }
            text.push_str(&summary::final_line(&summary::Counts::of(result), wall, style));
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
    code
}

/// Files that failed to collect before the run was split: reported as `runTests` reports them, and the run then
/// fails as pytest's `--continue-on-collection-errors` makes it fail.
fn add_collection_errors(result: &mut RunTestsResult, errors: Vec<CollectionError>) {
    if errors.is_empty() {
        return;
    }
    for error in &errors {
        result
            .errors
            .push(format!("error collecting {}:\n{}", error.node_id, error.traceback));
    }
    result.collection_errors.extend(errors);
    if result.status == RunStatus::Passed {
        result.status = RunStatus::Failed;
    }
    if matches!(result.exit_code, Some(0 | 5)) {
        result.exit_code = Some(1);
    }
}

/// Whether test `id` lies within `given` (the same id, or a file, directory, class or function containing it).
fn within(id: &str, given: &str) -> bool {
    let given = given.trim_end_matches('/');
    id == given
        || [format!("{given}::"), format!("{given}/"), format!("{given}[")]
            .iter()
            .any(|prefix| id.starts_with(prefix.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_lie_within_their_files_directories_and_classes() {
        assert!(within("tests/t.py::C::test_a[1]", "tests"));
        assert!(within("tests/t.py::C::test_a[1]", "tests/"));
        assert!(within("tests/t.py::C::test_a[1]", "tests/t.py::C"));
        assert!(within("tests/t.py::C::test_a[1]", "tests/t.py::C::test_a"));
        assert!(!within("tests/t.py::C::test_ab", "tests/t.py::C::test_a"));
        assert!(!within("tests2/t.py::x", "tests"));
    }
}
