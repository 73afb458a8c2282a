//! The runner's settings, with defaults, and how protocol [`Settings`] change them.

use std::collections::BTreeMap;
use std::time::Duration;

use pytestd_protocol::config::Settings;

use crate::error::RunnerError;

/// Upper bound on `maxParallel + maxQueued`, so the JSON-RPC layer can always hold every pending request and still
/// read a cancel (see the daemon's concurrency sizing).
pub const MAX_LIVE_RUNS: u32 = 16_384;

/// Settings in force for new runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerConfig {
    /// Interpreter for runs that do not name one; `None` means `python3`, else `python`, from PATH.
    pub python: Option<String>,
    /// Maximum number of pytest processes at once.
    pub max_parallel: u32,
    /// Maximum number of runs waiting for a slot.
    pub max_queued: u32,
    /// Time between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// Time limit for runs that set none.
    pub default_timeout: Option<Duration>,
    /// Memory limit (group RSS, bytes) for runs that set none.
    pub default_memory_limit: Option<u64>,
    /// Arguments given to every pytest before the run's own.
    pub pytest_args: Vec<String>,
    /// Environment for every run, under the run's own.
    pub env: BTreeMap<String, String>,
    /// Fork runs from warm templates (see the runner's `warm` module).
    pub warm_start: bool,
    /// At most this many warm templates at once.
    pub warm_templates: u32,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            python: None,
            max_parallel: 4,
            max_queued: 1024,
            kill_grace: Duration::from_millis(2000),
            default_timeout: None,
            default_memory_limit: None,
            pytest_args: Vec::new(),
            env: BTreeMap::new(),
            warm_start: true,
            warm_templates: 4,
        }
    }
}

impl RunnerConfig {
    /// Returns these settings changed by `settings`; fields absent there keep their value.
    pub fn with(&self, settings: &Settings) -> Result<Self, RunnerError> {
        let mut next = self.clone();
        if let Some(python) = &settings.python {
            if python.trim().is_empty() {
                return Err(invalid("python", "must not be empty"));
            }
            next.python = Some(python.clone());
        }
        if let Some(n) = settings.max_parallel {
            if n == 0 {
                return Err(invalid("maxParallel", "must be at least 1"));
            }
            next.max_parallel = n;
        }
        if let Some(n) = settings.max_queued {
            next.max_queued = n;
        }
        if next.max_parallel.saturating_add(next.max_queued) > MAX_LIVE_RUNS {
            return Err(invalid(
                "maxQueued",
                &format!("maxParallel + maxQueued must be at most {MAX_LIVE_RUNS}"),
            ));
        }
        if let Some(ms) = settings.kill_grace_ms {
            next.kill_grace = Duration::from_millis(ms);
        }
        if let Some(ms) = settings.timeout_ms {
            next.default_timeout = Some(Duration::from_millis(ms));
        }
        if let Some(bytes) = settings.memory_limit_bytes {
            next.default_memory_limit = Some(bytes);
        }
        if let Some(args) = &settings.pytest_args {
            next.pytest_args = args.clone();
        }
        if let Some(env) = &settings.env {
            next.env = env.clone();
        }
        if let Some(warm) = settings.warm_start {
            next.warm_start = warm;
        }
        if let Some(n) = settings.warm_templates {
            if n == 0 {
                return Err(invalid(
                    "warmTemplates",
                    "must be at least 1 (turn warmStart off instead)",
                ));
            }
            next.warm_templates = n;
        }
        Ok(next)
    }
}

fn invalid(field: &'static str, reason: &str) -> RunnerError {
    RunnerError::InvalidParams {
        field,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_keep_their_value() {
        let base = RunnerConfig::default().with(&Settings {
            max_parallel: Some(2),
            ..Settings::default()
        });
        let next = base.unwrap().with(&Settings::default()).unwrap();
        assert_eq!(next.max_parallel, 2);
        assert_eq!(next.max_queued, 1024);
    }

    #[test]
    fn zero_parallelism_and_huge_queues_are_refused_by_name() {
        let err = RunnerConfig::default()
            .with(&Settings {
                max_parallel: Some(0),
                ..Settings::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("maxParallel"));
        let err = RunnerConfig::default()
            .with(&Settings {
                max_queued: Some(u32::MAX),
                ..Settings::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("maxQueued"));
    }
}
