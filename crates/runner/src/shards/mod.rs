//! Sharded runs: one run's tests split by file across several pytest processes of the same run, balanced by the
//! durations pytestd remembers, streamed under the one run id with each event naming its shard, and merged into
//! one result. `runTests` with `shards` and `pytestd run --shards` both come here.
//!
//! - `find`: which files the selection holds, without collecting when that can be avoided;
//! - `plan`: the split, whole files by longest-processing-time first;
//! - `memory`, `stamp`: what is remembered per project between runs (durations, the files found, the tree's stamp);
//! - `durations`: the project's own durations file (pytest-split's format) for `--partition duration:M/N`;
//! - `task`: the sharded run itself, whose shards are jobs of the coordinator (slots, queue, cancel);
//! - `merge`: their results as one.

pub mod durations;
pub(crate) mod find;
pub mod memory;
pub mod merge;
pub mod plan;
pub mod stamp;
pub(crate) mod task;

use pytestd_protocol::runs::RunTestsParams;
use pytestd_protocol::shards::Shards;

use crate::config::RunnerConfig;
use crate::error::RunnerError;
use crate::events::{JobKind, RunEvent};

/// An event of a run, with the shard it comes from (`None`: the run itself, or a run that is not sharded).
#[derive(Debug, Clone, PartialEq)]
pub struct ShardEvent {
    /// The shard's index, from 0.
    pub shard: Option<u32>,
    /// What happened.
    pub event: RunEvent,
}

/// A job a sharded run asks the coordinator for: a shard, or the collection that finds what to split.
#[derive(Debug)]
pub(crate) struct ChildJob {
    pub(crate) run_id: String,
    pub(crate) params: RunTestsParams,
    pub(crate) kind: JobKind,
    pub(crate) shard: Option<u32>,
}

/// The cores `"auto"` counts on.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Whether a submitted job is a sharded run. One shard, or `"auto"` where only one process may run (one core or
/// `maxParallel` 1), or a debug run under `"auto"`, is a plain run; a debug run cannot be split.
pub(crate) fn is_sharded(params: &RunTestsParams, kind: JobKind, config: &RunnerConfig) -> Result<bool, RunnerError> {
    if kind != JobKind::Run {
        return Ok(false);
    }
    let debug = params.debug.as_ref().and_then(|d| d.options()).is_some();
    match params.shards {
        None | Some(Shards::Count(1)) => Ok(false),
        Some(Shards::Count(_)) if debug => Err(RunnerError::InvalidParams {
            field: "shards",
            reason: "a debug run is one pytest process: it cannot be split into shards".to_owned(),
        }),
        Some(Shards::Count(_)) => Ok(true),
        Some(Shards::Auto) => Ok(!debug && cores().min(config.max_parallel as usize) > 1),
    }
}

#[cfg(test)]
mod tests {
    use pytestd_protocol::debug::DebugParam;

    use super::*;

    #[test]
    fn only_runs_asking_for_more_than_one_shard_are_sharded_and_debug_runs_never() {
        let config = RunnerConfig::default();
        let params = |shards, debug| RunTestsParams {
            cwd: "/p".into(),
            shards,
            debug,
            ..RunTestsParams::default()
        };
        assert!(!is_sharded(&params(None, None), JobKind::Run, &config).unwrap());
        assert!(!is_sharded(&params(Some(Shards::Count(1)), None), JobKind::Run, &config).unwrap());
        assert!(is_sharded(&params(Some(Shards::Count(3)), None), JobKind::Run, &config).unwrap());
        assert!(!is_sharded(&params(Some(Shards::Count(3)), None), JobKind::Discover, &config).unwrap());
        let debug = Some(DebugParam::Enabled(true));
        let err = is_sharded(&params(Some(Shards::Count(2)), debug.clone()), JobKind::Run, &config).unwrap_err();
        assert!(err.to_string().contains("shards"), "{err}");
        assert!(!is_sharded(&params(Some(Shards::Auto), debug), JobKind::Run, &config).unwrap());
        let one = RunnerConfig {
            max_parallel: 1,
            ..RunnerConfig::default()
        };
        assert!(!is_sharded(&params(Some(Shards::Auto), None), JobKind::Run, &one).unwrap());
    }
}
