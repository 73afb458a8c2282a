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
    /// Start runs from warm templates: per project, interpreter and environment, a Python process that has
    /// imported pytest, its plugins and the installed modules earlier runs used, forked for each run (default
    /// true where the platform allows it). `false` stops the templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_start: Option<bool>,
    /// How many warm templates may live at once, one per project, interpreter and environment (default 4); the
    /// least recently used is stopped to make room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_templates: Option<u32>,
}

/// A setting that can only make every run fail: the field's path (`env["A=B"]`, `maxParallel`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSetting {
    /// Path of the offending field, relative to the settings object.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl Settings {
    /// Refuses values no run could succeed with: a NUL byte anywhere the operating system takes a C string (an
    /// environment entry, an argument, the interpreter's path), `=` or nothing as an environment name, and zero
    /// for a count or a limit. Bounds that depend on the daemon (the queue's size) are checked where it is known.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let invalid = |field: String, reason: &str| {
            Err(InvalidSetting {
                field,
                reason: reason.to_owned(),
            })
        };
        if let Some(python) = &self.python {
            if python.trim().is_empty() {
                return invalid("python".into(), "must not be empty");
            }
            if python.contains('\0') {
                return invalid("python".into(), "must not contain a NUL character");
            }
        }
        for (field, value) in [
            ("maxParallel", self.max_parallel.map(u64::from)),
            ("timeoutMs", self.timeout_ms),
            ("memoryLimitBytes", self.memory_limit_bytes),
            ("warmTemplates", self.warm_templates.map(u64::from)),
        ] {
            if value == Some(0) {
                return invalid(field.into(), "must be at least 1 (leave it out for no limit)");
            }
        }
        for (i, arg) in self.pytest_args.iter().flatten().enumerate() {
            if arg.contains('\0') {
                return invalid(format!("pytestArgs[{i}]"), "must not contain a NUL character");
            }
        }
        for (name, value) in self.env.iter().flatten() {
            let field = format!("env[{name:?}]");
            if name.is_empty() {
                return invalid(field, "an environment variable needs a name");
            }
            if name.contains('=') {
                return invalid(field, "an environment variable's name must not contain '='");
            }
            if name.contains('\0') || value.contains('\0') {
                return invalid(field, "an environment variable must not contain a NUL character");
            }
        }
        Ok(())
    }
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

    #[test]
    fn values_that_fail_every_run_are_refused_by_field() {
        let refused = |json: &str| {
            let settings: Settings = serde_json::from_str(json).unwrap();
            settings.validate().unwrap_err().to_string()
        };
        assert!(refused(r#"{"env":{"A\u0000B":"1"}}"#).starts_with(r#"env["A\0B"]: "#));
        assert!(refused(r#"{"env":{"A":"x\u0000"}}"#).contains("NUL"));
        assert!(refused(r#"{"env":{"A=B":"1"}}"#).contains("'='"));
        assert!(refused(r#"{"env":{"":"1"}}"#).contains("name"));
        assert!(refused(r#"{"timeoutMs":0}"#).starts_with("timeoutMs: "));
        assert!(refused(r#"{"maxParallel":0}"#).starts_with("maxParallel: "));
        assert!(refused(r#"{"memoryLimitBytes":0}"#).starts_with("memoryLimitBytes: "));
        assert!(refused(r#"{"pytestArgs":["-x","a\u0000"]}"#).starts_with("pytestArgs[1]: "));
        assert!(refused(r#"{"python":" "}"#).starts_with("python: "));
        let fine: Settings = serde_json::from_str(r#"{"env":{"A":"1=2"},"killGraceMs":0,"maxQueued":0}"#).unwrap();
        assert_eq!(fine.validate(), Ok(()));
    }
}
