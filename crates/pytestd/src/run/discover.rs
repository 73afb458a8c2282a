//! `pytestd discover`, and the discovery `--partition` needs first: a collect-only job under the coordinator.

use std::io::Write;
use std::process::ExitCode;

use pytestd_protocol::discovery::{DiscoverTestsResult, DiscoveryStatus, NodeKind};
use pytestd_protocol::runs::{RunStatus, RunTestsParams};
use pytestd_runner::{Coordinator, JobKind, RunOutcome, RunnerConfig, RunnerError};
use tokio::signal::unix::{signal, SignalKind};

use super::args::{python, targets, DiscoverArgs};
use super::summary::{exit, exit_code};

/// Runs a discovery to its end; Ctrl-C cancels it. `Err` is the exit code to stop with.
pub(crate) async fn collect(coordinator: &Coordinator, params: RunTestsParams) -> Result<(RunOutcome, bool), u8> {
    let mut ticket = coordinator
        .submit(params, JobKind::Discover)
        .await
        .map_err(|err| submit_failed(&err))?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(|err| {
        eprintln!("pytestd: cannot watch SIGINT: {err}");
        exit::INTERNAL_ERROR
    })?;
    let mut interrupted = false;
    loop {
        tokio::select! {
            event = ticket.next_event() => if event.is_none() { break },
            _ = sigint.recv() => {
                interrupted = true;
                let _ = coordinator.cancel(ticket.run_id()).await;
            }
        }
    }
    let outcome = ticket.result().await.map_err(|err| {
        eprintln!("pytestd: {err}");
        exit::INTERNAL_ERROR
    })?;
    Ok((outcome, interrupted))
}

/// The ids of the tests (not files, classes or functions) a discovery found, in collection order.
pub(crate) fn test_ids(outcome: &RunOutcome) -> Vec<String> {
    outcome
        .discovered
        .iter()
        .filter(|node| node.kind == NodeKind::Test)
        .map(|node| node.id.clone())
        .collect()
}

/// What a refused submission exits with: a bad argument is a usage error.
pub(crate) fn submit_failed(err: &RunnerError) -> u8 {
    eprintln!("pytestd: {err}");
    match err {
        RunnerError::InvalidParams { .. } => exit::USAGE_ERROR,
        _ => exit::INTERNAL_ERROR,
    }
}

/// `pytestd discover`.
pub(crate) fn main(args: &DiscoverArgs) -> ExitCode {
    ExitCode::from(super::block_on(discover(args)))
}

async fn discover(args: &DiscoverArgs) -> u8 {
    let (project, paths) = match targets(&args.targets, args.rootdir.as_deref()) {
        Ok(targets) => (targets.rootdir, targets.ids),
        Err(err) => {
            eprintln!("pytestd: {err}");
            return exit::USAGE_ERROR;
        }
    };
    // The targets go to pytest as its own arguments, before the ones after `--`.
    let pytest_args: Vec<String> = paths.into_iter().chain(args.pytest_args.iter().cloned()).collect();
    // One job per process: a warm template would be started and never used.
    let config = RunnerConfig {
        warm_start: false,
        ..RunnerConfig::default()
    };
    let coordinator = match Coordinator::start(config) {
        Ok(coordinator) => coordinator,
        Err(err) => {
            eprintln!("pytestd: cannot start the runner: {err}");
            return exit::INTERNAL_ERROR;
        }
    };
    let params = RunTestsParams {
        cwd: project.display().to_string(),
        args: (!pytest_args.is_empty()).then_some(pytest_args),
        python: python(args.common.python.as_deref(), &project),
        ..RunTestsParams::default()
    };
    let collected = collect(&coordinator, params).await;
    coordinator.shutdown().await;
    let (outcome, interrupted) = match collected {
        Ok(collected) => collected,
        Err(code) => return code,
    };
    let ids = test_ids(&outcome);
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let result = &outcome.result;
        let tree = DiscoverTestsResult {
            run_id: result.run_id.clone(),
            status: match result.status {
                RunStatus::Passed | RunStatus::Failed => DiscoveryStatus::Complete,
                RunStatus::Cancelled => DiscoveryStatus::Cancelled,
                RunStatus::TimedOut => DiscoveryStatus::TimedOut,
                RunStatus::Error => DiscoveryStatus::Error,
            },
            tests: outcome.discovered.clone(),
            errors: result.errors.clone(),
            collection_errors: result.collection_errors.clone(),
            duration_ms: result.duration_ms,
        };
        serde_json::to_writer_pretty(&mut out, &tree)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        for error in &outcome.result.errors {
            eprintln!("{}", error.trim_end());
        }
        ids.iter().try_for_each(|id| writeln!(out, "{id}"))
    };
    if let Err(err) = written.and_then(|()| out.flush()) {
        eprintln!("pytestd: cannot write the test ids: {err}");
        return exit::INTERNAL_ERROR;
    }
    match exit_code(&outcome.result, interrupted) {
        exit::OK if ids.is_empty() => exit::NO_TESTS_COLLECTED,
        code => code,
    }
}
