//! The LSP lifecycle (initialize, configuration, shutdown) and the dispatch of pytestd's own requests.

use pytestd_protocol::config::{ConfigurationChange, Settings};
use pytestd_protocol::discovery::DiscoverTestsResult;
use pytestd_protocol::runs::{CancelRunResult, ListRunsResult, RunTestsResult};
use pytestd_protocol::PROTOCOL_VERSION;
use pytestd_runner::Coordinator;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    DidChangeConfigurationParams, InitializeParams, InitializeResult, InitializedParams, MessageType,
    ServerCapabilities, ServerInfo,
};
use tower_lsp_server::{Client, LanguageServer};

use crate::errors::{from_runner, invalid_params};
use crate::ordered::Barriers;
use crate::requests;

/// State shared by every handler. Runs live in the coordinator; this holds only handles.
pub(crate) struct Backend {
    pub(crate) client: Client,
    pub(crate) coordinator: Coordinator,
    pub(crate) barriers: Barriers,
}

impl Backend {
    pub(crate) async fn run_tests(&self, params: Value) -> Result<RunTestsResult> {
        requests::run_tests::handle(self, params).await
    }

    pub(crate) async fn discover_tests(&self, params: Value) -> Result<DiscoverTestsResult> {
        requests::discover_tests::handle(self, params).await
    }

    pub(crate) async fn cancel_run(&self, params: Value) -> Result<CancelRunResult> {
        requests::cancel_run::handle(self, params).await
    }

    pub(crate) async fn list_runs(&self, params: Value) -> Result<ListRunsResult> {
        requests::list_runs::handle(self, params).await
    }

    /// Answers input that [`crate::stdin::FrameGuard`] could not pass on, with the error it chose.
    pub(crate) async fn malformed(&self, params: Value) -> Result<()> {
        Err(crate::errors::malformed(&params))
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        if let Some(options) = params.initialization_options.filter(|o| !o.is_null()) {
            let settings: Settings = serde_path_to_error::deserialize(options)
                .map_err(|err| invalid_params(&format!("initializationOptions.{}", err.path()), err.inner()))?;
            settings
                .validate()
                .map_err(|err| invalid_params(&format!("initializationOptions.{}", err.field), &err.reason))?;
            self.coordinator.configure(settings).await.map_err(from_runner)?;
        }
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                experimental: Some(json!({ "pytestd": { "protocolVersion": PROTOCOL_VERSION } })),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "pytestd".to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        tracing::info!("client initialized");
    }

    async fn shutdown(&self) -> Result<()> {
        self.coordinator.shutdown().await;
        Ok(())
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let outcome = match serde_path_to_error::deserialize::<_, ConfigurationChange>(params.settings) {
            Ok(ConfigurationChange { pytestd: None }) => return,
            Ok(ConfigurationChange {
                pytestd: Some(settings),
            }) => match settings.validate() {
                Ok(()) => self.coordinator.configure(settings).await.map_err(|e| e.to_string()),
                Err(err) => Err(format!("settings.pytestd.{err}")),
            },
            Err(err) => Err(format!("settings.{}: {}", err.path(), err.inner())),
        };
        if let Err(message) = outcome {
            // A notification has no response: say it where the user looks, and keep the old settings.
            tracing::warn!(%message, "configuration change refused");
            self.client
                .show_message(
                    MessageType::ERROR,
                    format!("pytestd: configuration change refused: {message}"),
                )
                .await;
        }
    }
}
