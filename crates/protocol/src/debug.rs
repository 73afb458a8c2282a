//! Debug runs: pytest under debugpy, listening on loopback for a DAP client (an editor, nvim-dap, a script).

use serde::{Deserialize, Serialize};

/// `runTests`' `debug`: `true`, or the details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DebugParam {
    /// `true`: debug with the defaults; `false`: an ordinary run.
    Enabled(bool),
    /// Debug with these settings.
    Options(DebugOptions),
}

impl DebugParam {
    /// The settings of a debug run, or `None` for an ordinary run.
    pub fn options(&self) -> Option<DebugOptions> {
        match self {
            Self::Enabled(false) => None,
            Self::Enabled(true) => Some(DebugOptions::default()),
            Self::Options(options) => Some(options.clone()),
        }
    }
}

/// Where debugpy listens and how long it waits for a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DebugOptions {
    /// Address to listen on; a loopback address (default `127.0.0.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port to listen on; default a free one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// How long to wait for a client to attach before the run ends `error` (default 60 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_client_ms: Option<u64>,
}

/// How long a debug run waits for its client when the request does not say.
pub const DEFAULT_WAIT_FOR_CLIENT_MS: u64 = 60_000;

/// `debugReady`: debugpy accepts connections; attach a DAP client to `host`:`port` (`"request": "attach"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugReady {
    /// The run.
    pub run_id: String,
    /// The address debugpy listens on.
    pub host: String,
    /// The port debugpy listens on.
    pub port: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_false_or_details() {
        let on: DebugParam = serde_json::from_str("true").unwrap();
        assert_eq!(on.options(), Some(DebugOptions::default()));
        let off: DebugParam = serde_json::from_str("false").unwrap();
        assert_eq!(off.options(), None);
        let given: DebugParam = serde_json::from_str(r#"{"port":5678,"waitForClientMs":10}"#).unwrap();
        assert_eq!(given.options().unwrap().port, Some(5678));
        assert!(serde_json::from_str::<DebugParam>(r#"{"prot":5678}"#).is_err());
    }
}
