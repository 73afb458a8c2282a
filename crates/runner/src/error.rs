//! Errors the runner reports to its callers.

use std::io;

/// Why the runner could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// A setting or request field has a value the runner cannot use.
    #[error("invalid {field}: {reason}")]
    InvalidParams {
        /// The offending field, as named in the protocol.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A live run already uses the requested run id.
    #[error("run id {0} is already in use by a live run")]
    DuplicateRunId(String),
    /// No run with this id is known.
    #[error("unknown run id {0}")]
    UnknownRun(String),
    /// The queue of waiting runs is full.
    #[error("the run queue is full ({limit} runs waiting); retry when runs finish or raise maxQueued")]
    QueueFull {
        /// The `maxQueued` limit in force.
        limit: u32,
    },
    /// The coordinator has stopped (the daemon is shutting down).
    #[error("pytestd is shutting down")]
    ShuttingDown,
    /// The daemon's private runtime directory or result socket could not be set up.
    #[error("cannot set up the runtime directory: {0}")]
    RuntimeDir(#[source] io::Error),
}
