//! The engine of pytestd: a coordinator that admits runs under a parallelism limit, one instance actor per run
//! owning its pytest process group, and the shared result server that routes each plugin's stream to its run.
//!
//! Invariant: every submitted run produces exactly one final result, and no pytest process group outlives the
//! instance actor that owns it.
//!
//! The files at the top are the crate's vocabulary (settings, errors, a run's events); each folder is one concern,
//! listed with the modules below.

#![deny(missing_docs)]

pub mod config;
pub mod coordinator; // coordinator/: the actor that admits, queues and cancels runs; its handle; the runtime directory
pub mod error;
pub mod events;
mod plugin; // plugin/: the pytest plugin (Python), embedded and written out at start
mod process; // process/: process groups, escaped processes, resource monitor, reading a child's pipes
mod results; // results/: result server, journal, per-test outcomes, a run's verdict, coverage report
mod run; // run/: one run's instance actor and what it owns: command, selection, outbox
pub mod shards; // shards/: one run split across several pytest processes
mod warm; // warm/: warm templates that runs are forked from

pub use config::RunnerConfig;
pub use coordinator::{Coordinator, RunSpec, RunTicket};
pub use error::RunnerError;
pub use events::{JobKind, RunEvent, RunOutcome};
pub use results::coverage_report;
pub use shards::ShardEvent;
