//! pytestd's own requests, one file each.

pub(crate) mod cancel_run;
pub(crate) mod discover_tests;
pub(crate) mod list_runs;
pub(crate) mod run_tests;

use pytestd_runner::{RunOutcome, RunTicket};
use tower_lsp_server::jsonrpc::Result;

use crate::errors::from_runner;
use crate::notify::RunNotifier;
use crate::service::Backend;

/// Streams a job's events as notifications, then returns its outcome once every notification is ahead of the
/// response in the output. If this future is dropped ($/cancelRequest, exit), the ticket's drop cancels the job.
async fn follow(backend: &Backend, mut ticket: RunTicket) -> Result<RunOutcome> {
    let notifier = RunNotifier::new(&backend.client, &backend.barriers, ticket.run_id());
    while let Some(event) = ticket.next_shard_event().await {
        notifier.send(event).await;
    }
    backend.barriers.wait(&backend.client).await;
    ticket.result().await.map_err(from_runner)
}
