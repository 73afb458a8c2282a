//! Wire types of pytestd: the JSON-RPC surface editors and scripts speak, and the newline-delimited JSON stream the
//! embedded pytest plugin sends back to the daemon.
//!
//! This crate holds serde types and constants only. It performs no I/O, so clients, the daemon and tests can share
//! one definition of every message. The protocol is described with examples in this crate's README.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
pub mod coverage;
pub mod debug;
pub mod discovery;
pub mod methods;
pub mod notifications;
pub mod plugin;
pub mod runs;
pub mod shards;
pub mod warm;

/// Version of the JSON-RPC protocol, announced in `capabilities.experimental.pytestd.protocolVersion`.
pub const PROTOCOL_VERSION: u32 = 1;
