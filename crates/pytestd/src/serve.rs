//! Runs the daemon: the coordinator, the JSON-RPC service on stdin/stdout, and an orderly stop on `exit`, end of
//! stdin, SIGTERM or SIGINT that leaves no pytest process behind.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pytestd_protocol::methods;
use pytestd_runner::config::MAX_LIVE_RUNS;
use pytestd_runner::{Coordinator, RunnerConfig};
use tokio::signal::unix::{signal, SignalKind};
use tower_lsp_server::{LspService, Server};

use crate::ordered::{Barriers, OrderedSocket};
use crate::service::Backend;
use crate::stdin::{FrameGuard, MALFORMED_METHOD};

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
    let shutdown_requested = Arc::new(AtomicBool::new(false));
    let (service, socket) = LspService::build(|client| Backend {
        client,
        coordinator: coordinator.clone(),
        barriers: barriers.clone(),
        shutdown_requested: shutdown_requested.clone(),
    })
    .custom_method(methods::RUN_TESTS, Backend::run_tests)
    .custom_method(methods::DISCOVER_TESTS, Backend::discover_tests)
    .custom_method(methods::CANCEL_RUN, Backend::cancel_run)
    .custom_method(methods::LIST_RUNS, Backend::list_runs)
    .custom_method(MALFORMED_METHOD, Backend::malformed)
    .finish();

    let (stdin, eof) = FrameGuard::new(crate::stdio::input());
    let server = Server::new(
        stdin,
        crate::stdio::output(),
        OrderedSocket::new(socket, barriers.clone()),
    )
    .concurrency_level(CONCURRENCY)
    .serve(service);
    tokio::pin!(server);
    let mut sigterm = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut sigint = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;

    let (why, served) = tokio::select! {
        () = &mut server => ("exit notification", true),
        () = eof.notified() => ("end of stdin", false),
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
    tracing::info!("stopped");
    let clean = !served || shutdown_requested.load(Ordering::SeqCst);
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
