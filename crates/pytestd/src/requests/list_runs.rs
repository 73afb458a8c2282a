//! `listRuns`: the runs that are queued or running.

use pytestd_protocol::runs::{ListRunsParams, ListRunsResult};
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::errors::from_runner;
use crate::params::parse;
use crate::service::Backend;

pub(crate) async fn handle(backend: &Backend, params: Value) -> Result<ListRunsResult> {
    let ListRunsParams {} = parse(params)?;
    backend.coordinator.list().await.map_err(from_runner)
}
