//! `discoverTests`: collect the tree of tests (pytest `--collect-only`) as a job under the same slots, queue and
//! cancellation as runs; nodes stream as `testsDiscovered` batches (unless `stream: false`) and the response holds
//! them all.

use pytestd_protocol::discovery::{DiscoverTestsParams, DiscoverTestsResult, DiscoveryStatus};
use pytestd_protocol::runs::{RunStatus, RunTestsParams};
use pytestd_runner::JobKind;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::errors::from_runner;
use crate::params::parse;
use crate::service::Backend;

pub(crate) async fn handle(backend: &Backend, params: Value) -> Result<DiscoverTestsResult> {
    let DiscoverTestsParams {
        run_id,
        cwd,
        args,
        python,
        env,
        timeout_ms,
        stream,
    } = parse(params)?;
    let job = RunTestsParams {
        run_id,
        cwd,
        args,
        python,
        env,
        timeout_ms,
        ..RunTestsParams::default()
    };
    // Unstreamed, the runner neither sends the nodes as events nor keeps a second copy of them.
    let kind = if stream.unwrap_or(true) {
        JobKind::Discover
    } else {
        JobKind::DiscoverUnstreamed
    };
    let ticket = backend.coordinator.submit(job, kind).await.map_err(from_runner)?;
    let outcome = super::follow(backend, ticket).await?;
    let result = outcome.result;
    Ok(DiscoverTestsResult {
        run_id: result.run_id,
        status: match result.status {
            RunStatus::Passed | RunStatus::Failed => DiscoveryStatus::Complete,
            RunStatus::Cancelled => DiscoveryStatus::Cancelled,
            RunStatus::TimedOut => DiscoveryStatus::TimedOut,
            RunStatus::Error => DiscoveryStatus::Error,
        },
        tests: outcome.discovered,
        errors: result.errors,
        collection_errors: result.collection_errors,
        duration_ms: result.duration_ms,
    })
}
