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
mod style;
mod summary;
mod targets;

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pytestd_protocol::coverage::CoverageParam;
use pytestd_protocol::runs::{RunStatus, RunTestsParams};
use pytestd_protocol::shards::Shards;
use pytestd_runner::shards::plan::Durations;
use pytestd_runner::shards::{durations, merge};
use pytestd_runner::{Coordinator, JobKind, RunEvent, RunnerConfig, ShardEvent};
use tokio::signal::unix::{signal, SignalKind};

use self::args::{python, targets, RunArgs};
use self::json::JsonEvents;
use self::last_failed::LastFailed;
use self::partition::Partition;
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

/// Where a run's events go: a person's terminal, or a script reading JSON lines.
enum Sink {
    Human(Progress),
    Json(JsonEvents<std::io::Stdout>),
}

impl Sink {
    fn event(&mut self, shard: Option<u32>, event: &RunEvent) {
        match self {
            Self::Human(progress) => progress.event(event),
            // A reader that went away (`| head`) only loses events; the run goes on and its exit code stands.
            Self::Json(events) => {
                let _ = events.event(shard, event);
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
    let mut config = RunnerConfig {
        // One run per process: a warm template would be started and never used.
        warm_start: false,
        ..RunnerConfig::default()
    };
    // Every shard asked for runs at once; `auto` counts the cores itself.
    match args.shards {
        Some(Shards::Count(n)) => config.max_parallel = n.max(config.max_parallel),
        Some(Shards::Auto) => {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            config.max_parallel = u32::try_from(cores).unwrap_or(u32::MAX).max(1);
        }
        None => {}
    }
    let coordinator = match Coordinator::start(config) {
        Ok(coordinator) => coordinator,
        Err(err) => {
            eprintln!("pytestd: cannot start the runner: {err}");
            return exit::INTERNAL_ERROR;
        }
    };
    let view = View {
        style,
        verbosity,
        terminal,
    };
    let code = run_with(args, &coordinator, &project, given_ids, timeout_ms, view, started).await;
    coordinator.shutdown().await;
    code
}

/// How the run is shown.
#[derive(Clone, Copy)]
struct View {
    style: Style,
    verbosity: Verbosity,
    terminal: bool,
}

async fn run_with(
    args: &RunArgs,
    coordinator: &Coordinator,
    project: &std::path::Path,
    given_ids: Vec<String>,
    timeout_ms: Option<u64>,
    view: View,
    started: Instant,
) -> u8 {
    let View {
        style,
        verbosity,
        terminal,
    } = view;
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
    let mut total = None;
    // Files that failed to collect when the tests were listed for the partition: no one runs them, so they are
    // reported here.
    let mut collection_errors = Vec::new();
    if let Some(partition) = args.partition {
        let durations = match partition_durations(args, project, partition) {
            Ok(durations) => durations,
            Err(code) => return code,
        };
        // A partition needs the tests themselves: ids given may name files, classes or directories.
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
        let share = partition.select(&ids, &durations);
        note(&format!(
            "partition {partition}: {} of {} tests",
            share.len(),
            ids.len()
        ));
        if share.is_empty() && (collection_errors.is_empty() || partition.count > 1) {
            note("no tests to run");
            return exit::NO_TESTS_COLLECTED;
        }
        total = Some(share.len() as u64);
        test_ids = share;
    }
    // Nothing collected but broken files: one pytest over the selection reports them itself.
    if test_ids.is_empty() && !collection_errors.is_empty() {
        test_ids = args_ids.clone();
        collection_errors.clear();
    }
    let params = RunTestsParams {
        cwd: cwd.clone(),
        test_ids: (!test_ids.is_empty()).then_some(test_ids),
        args: pytest_args.clone(),
        python: python.clone(),
        timeout_ms,
        coverage: args.coverage().map(CoverageParam::Options),
        shards: args.shards,
        ..RunTestsParams::default()
    };
    let mut ticket = match coordinator.submit(params, JobKind::Run).await {
        Ok(ticket) => ticket,
        Err(err) => return discover::submit_failed(&err),
    };
    let run_id = ticket.run_id().to_owned();
    let mut sink = if args.json {
        Sink::Json(JsonEvents::new(std::io::stdout(), &run_id))
    } else {
        Sink::Human(Progress::new(style, verbosity, terminal, total))
    };
    for error in &collection_errors {
        sink.event(None, &RunEvent::CollectionError(Box::new(error.clone())));
    }
    let mut sigint = match signal(SignalKind::interrupt()) {
        Ok(sigint) => sigint,
        Err(err) => {
            eprintln!("pytestd: cannot watch SIGINT: {err}");
            return exit::INTERNAL_ERROR;
        }
    };
    let mut interrupted = false;
    // The order tests finished in, for the JUnit file (pytest writes testcases in run order).
    let mut finished_order = Vec::new();
    loop {
        tokio::select! {
            event = ticket.next_shard_event() => match event {
                Some(ShardEvent { shard, event }) => {
                    if let RunEvent::TestResult(test) = &event {
                        finished_order.push(test.test_id.clone());
                    }
                    sink.event(shard, &event);
                }
                None => break,
            },
            _ = sigint.recv() => {
                // The first Ctrl-C stops the run (SIGTERM, then SIGKILL after the grace period); a second kills now.
                if !interrupted {
                    eprintln!("\npytestd: interrupted, stopping pytest (Ctrl-C again to kill it at once)");
                }
                interrupted = true;
                let _ = coordinator.cancel(&run_id).await;
            }
        }
    }
    if let Sink::Human(progress) = &mut sink {
        progress.finish();
    }
    let mut result = match ticket.result().await {
        Ok(outcome) => outcome.result,
        Err(err) => {
            eprintln!("pytestd: {err}");
            return exit::INTERNAL_ERROR;
        }
    };
    merge::add_collected_problems(&mut result, collection_errors, Vec::new());

    let result = &result;
    let wall = started.elapsed();
    if let Err(err) = cache.record(result) {
        eprintln!("pytestd: cannot remember the failed tests for --last-failed: {err}");
    }
    let mut code = summary::exit_code(result, interrupted);
    // A coverage run whose data could not be combined, or reported, is not a success whatever the tests did.
    if args.coverage().is_some() && result.coverage.is_none() && !interrupted {
        code = code.max(exit::INTERNAL_ERROR);
    }
    if args.store_durations.is_some() {
        let file = args.durations_file(project, true);
        match durations::store(&file, &durations::of_result(result)) {
            Ok(count) => note(&format!("stored the durations of {count} tests in {}", file.display())),
            Err(err) => {
                eprintln!("pytestd: cannot store the durations: {err}");
                code = code.max(exit::INTERNAL_ERROR);
            }
        }
    }
    if let Some(path) = &args.junit_xml {
        if let Err(err) = junit::write(path, result, &finished_order, wall.as_secs_f64(), &args.pytest_args) {
            eprintln!("pytestd: cannot write {}: {err}", path.display());
            code = code.max(exit::INTERNAL_ERROR);
        }
    }
    match &mut sink {
        Sink::Json(events) => {
            let _ = events.finished(result);
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

/// The durations a `duration:M/N` partition splits by: the project's durations file. Without one every test
/// counts the same (a warning says so); a file that cannot be read or is not a durations file is a usage error,
/// since machines that read it differently would overlap.
fn partition_durations(args: &RunArgs, project: &std::path::Path, partition: Partition) -> Result<Durations, u8> {
    if partition.kind != partition::Kind::Duration {
        return Ok(Durations::new());
    }
    let file = args.durations_file(project, false);
    match durations::read(&file) {
        Ok(durations) => Ok(durations),
        Err(durations::DurationsError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "pytestd: no durations file {} (write one with --store-durations): splitting by test counts",
                file.display()
            );
            Ok(Durations::new())
        }
        Err(err) => {
            eprintln!("pytestd: {err}");
            Err(exit::USAGE_ERROR)
        }
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
