//! `runTests`: admit a run, stream its events as notifications, answer with its result.

use pytestd_protocol::runs::{RunTestsParams, RunTestsResult};
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::errors::from_runner;
use crate::notify::RunNotifier;
use crate::params::parse;
use crate::service::Backend;

pub(crate) async fn handle(backend: &Backend, params: Value) -> Result<RunTestsResult> {
    let params: RunTestsParams = parse(params)?;
    // If this future is dropped ($/cancelRequest, exit), the ticket's drop cancels the run.
    let mut ticket = backend.coordinator.submit(params).await.map_err(from_runner)?;
    let notifier = RunNotifier::new(&backend.client, &backend.barriers, ticket.run_id());
    while let Some(event) = ticket.next_event().await {
        notifier.send(event).await;
    }
    backend.barriers.wait(&backend.client).await;
    ticket.result().await.map_err(from_runner)
}
