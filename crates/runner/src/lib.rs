//! The engine of pytestd: a coordinator that admits runs under a parallelism limit, one instance actor per run
//! owning its pytest process group, and the shared result server that routes each plugin's stream to its run.
//!
//! Invariant: every submitted run produces exactly one final result, and no pytest process group outlives the
//! instance actor that owns it.

#![deny(missing_docs)]

mod command;
pub mod config;
pub mod coordinator;
pub mod coverage_report;
pub mod error;
mod escapees;
pub mod events;
mod instance;
mod journal;
mod lines;
mod monitor;
mod outbox;
mod outcome;
mod pipe_poll;
mod plugin;
mod process;
mod result_server;
mod runtime_dir;
mod selection;
pub mod shards;
mod verdict;
mod warm;

pub use config::RunnerConfig;
pub use coordinator::{Coordinator, RunSpec, RunTicket};
pub use error::RunnerError;
pub use events::{JobKind, RunEvent, RunOutcome};
pub use shards::ShardEvent;
