//! `runTests`: admit a run, stream its events as notifications, answer with its result.

use pytestd_protocol::runs::{RunTestsParams, RunTestsResult};
use pytestd_runner::JobKind;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::errors::from_runner;
use crate::params::parse;
use crate::service::Backend;

pub(crate) async fn handle(backend: &Backend, params: Value) -> Result<RunTestsResult> {
    let params: RunTestsParams = parse(params)?;
    let ticket = backend
        .coordinator
        .submit(params, JobKind::Run)
        .await
        .map_err(from_runner)?;
    Ok(super::follow(backend, ticket).await?.result)
}
