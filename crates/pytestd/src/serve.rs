//! Runs the daemon: the coordinator, the JSON-RPC service on stdin/stdout, and an orderly stop on `exit`, end of
//! stdin, SIGTERM or SIGINT that leaves no pytest process behind.
//!
//! The exit code depends only on what the client sent, never on which of two racing events the daemon saw first:
//! 1 for `exit` without `shutdown` before it (as LSP says), else 0. End of stdin is how a script or a dying editor
//! leaves, and it stops everything as `shutdown` would, so it exits 0 with or without `shutdown`; SIGTERM and
//! SIGINT too.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pytestd_protocol::methods;
use pytestd_runner::config::MAX_LIVE_RUNS;
use pytestd_runner::{Coordinator, RunnerConfig};
use tokio::signal::unix::{signal, SignalKind};
use tower_lsp_server::{LspService, Server};

use crate::envelope::MALFORMED_METHOD;
use crate::memory::Trimmer;
use crate::ordered::{Barriers, OrderedSocket};
use crate::service::Backend;
use crate::stdin::{FrameGuard, Observed};

/// How many requests tower-lsp-server works on at once. Every message, `cancelRun` and `$/cancelRequest`
/// included, waits while this many handlers are in flight, and each pending `runTests` holds one until its run
/// ends. Sized above the most runs the coordinator admits, so a cancel is always read at once.
const CONCURRENCY: usize = MAX_LIVE_RUNS as usize + 1024;
/// The longest an orderly stop may take: the kill ladder of every run, with room to spare.
const STOP_BOUND: Duration = Duration::from_secs(60);

pub(crate) fn run() -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let code = runtime.block_on(serve());
    // The stdin reader thread may be blocked in read(2); do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

async fn serve() -> anyhow::Result<ExitCode> {
    let coordinator = Coordinator::start(RunnerConfig::default()).context("cannot start the run coordinator")?;
    let barriers = Barriers::default();
    let (service, socket) = LspService::build(|client| Backend {
        client,
        coordinator: coordinator.clone(),
        barriers: barriers.clone(),
    })
    .custom_method(methods::RUN_TESTS, Backend::run_tests)
    .custom_method(methods::DISCOVER_TESTS, Backend::discover_tests)
    .custom_method(methods::CANCEL_RUN, Backend::cancel_run)
    .custom_method(methods::LIST_RUNS, Backend::list_runs)
    .custom_method(MALFORMED_METHOD, Backend::malformed)
    .finish();

    // Returns what a large response freed to the kernel once the protocol goes quiet; it runs as long as the runtime.
    let trimmer = Arc::new(Trimmer::default());
    tokio::spawn(trimmer.clone().run());
    let (stdin, eof, observed) = FrameGuard::new(trimmer.watch(crate::stdio::input()));
    let server = Server::new(
        stdin,
        trimmer.watch(crate::stdio::output()),
        OrderedSocket::new(socket, barriers.clone()),
    )
    .concurrency_level(CONCURRENCY)
    .serve(service);
    tokio::pin!(server);
    let mut sigterm = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut sigint = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;

    let (why, served) = tokio::select! {
        // Biased: when stdin ends, tower-lsp-server's loop ends too, and either may be seen first.
        biased;
        () = eof.notified() => ("end of stdin", false),
        () = &mut server => ("exit notification", true),
        _ = sigterm.recv() => ("SIGTERM", false),
        _ = sigint.recv() => ("SIGINT", false),
    };
    tracing::info!(reason = why, "stopping: cancelling every run");
    if why == "end of stdin" {
        // tower-lsp-server drops notifications once its input ends; responses still go out, unordered by nothing.
        barriers.close();
    }
    if tokio::time::timeout(STOP_BOUND, coordinator.shutdown()).await.is_err() {
        tracing::error!("runs did not stop in time; their process groups are killed as the daemon exits");
    }
    if !served {
        // Let the cancelled runs' responses go out while the client may still read them.
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut server).await;
    }
    let code = exit_code(&observed);
    tracing::info!(shutdown = observed.shutdown(), exit = observed.exit(), ?code, "stopped");
    Ok(code)
}

fn exit_code(observed: &Observed) -> ExitCode {
    if observed.exit() && !observed.shutdown() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
