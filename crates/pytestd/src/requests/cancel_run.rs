//! `cancelRun`: stop a queued or running run. Answered at once; the run's own response follows when it ends.

use pytestd_protocol::runs::{CancelRunParams, CancelRunResult};
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::errors::from_runner;
use crate::params::parse;
use crate::service::Backend;

pub(crate) async fn handle(backend: &Backend, params: Value) -> Result<CancelRunResult> {
    let CancelRunParams { run_id } = parse(params)?;
    let state = backend.coordinator.cancel(&run_id).await.map_err(from_runner)?;
    Ok(CancelRunResult { run_id, state })
}
