//! Daemon settings: `initializationOptions` of `initialize` and `settings.pytestd` of
//! `workspace/didChangeConfiguration`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Settings a client may give at initialize or change later. Every field is optional; absent fields keep their
/// current value (or the default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Python interpreter used for runs that do not name one (default: `python3`, else `python`, from PATH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// How many pytest subprocesses may run at once (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u32>,
    /// How many runs may wait for a slot (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queued: Option<u32>,
    /// Time between SIGTERM and SIGKILL when a run is stopped, in milliseconds (default 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_grace_ms: Option<u64>,
    /// Time limit for runs that set no `timeoutMs` of their own, in milliseconds (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Memory limit for runs that set no `memoryLimitBytes` of their own: RSS summed over the run's process group
    /// (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_bytes: Option<u64>,
    /// Arguments added to every pytest command line, before the run's own `args`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pytest_args: Option<Vec<String>>,
    /// Environment variables set for every run, under the run's own `env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
}

/// The `settings` object of `workspace/didChangeConfiguration`; pytestd reads its `pytestd` key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigurationChange {
    /// pytestd's own settings; other keys of `settings` belong to other tools and are ignored.
    #[serde(default)]
    pub pytestd: Option<Settings>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_camel_case_and_reject_unknown_keys() {
        let s: Settings = serde_json::from_str(r#"{"maxParallel":2,"killGraceMs":50,"env":{"A":"1"}}"#).unwrap();
        assert_eq!(s.max_parallel, Some(2));
        assert_eq!(s.kill_grace_ms, Some(50));
        assert_eq!(s.env.unwrap()["A"], "1");
        let err = serde_json::from_str::<Settings>(r#"{"maxParalel":2}"#).unwrap_err();
        assert!(err.to_string().contains("maxParalel"), "{err}");
    }
}
