//! Warm templates as `listRuns` shows them: per project, interpreter and environment, a Python process that has
//! imported pytest and the installed modules earlier runs used, from which runs are forked.

use serde::{Deserialize, Serialize};

/// What a template is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TemplateState {
    /// Importing; runs of its project start cold meanwhile.
    Starting,
    /// Runs of its project are forked from it.
    Ready,
}

/// One warm template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarmTemplate {
    /// The project directory its runs start in.
    pub cwd: String,
    /// Its interpreter.
    pub python: String,
    /// Its process id (0 while the process is being started).
    pub pid: u32,
    /// Starting or ready.
    pub state: TemplateState,
    /// Modules it holds imported (0 while starting).
    pub modules: u32,
    /// Its resident memory, in bytes; the runs forked from it share most of it.
    pub rss_bytes: u64,
    /// Runs forked from it so far.
    pub runs: u64,
    /// Time since a run last used it, in milliseconds; idle templates are stopped.
    pub idle_ms: u64,
}
