//! `discoverTests`: the tree of tests pytest collects for a project, without running them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Parameters of `discoverTests`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscoverTestsParams {
    /// Client-chosen id (cancel it with `cancelRun`), unique among live runs; a new UUID v4 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Absolute project directory; pytest collects there with `--rootdir=<cwd>`.
    pub cwd: String,
    /// Extra pytest arguments (paths to collect, `-k`, `-m`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Python interpreter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// Environment variables, over the daemon's `env` setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// Time limit in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Stream the nodes as `testsDiscovered` while pytest collects (default `true`); `false` sends none, and the
    /// tree comes only in the response: one copy of it, for clients that wait for the response anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

/// What a node of the tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeKind {
    /// A directory.
    Directory,
    /// A Python package (a directory with `__init__.py`).
    Package,
    /// A test file (or a module collected for doctests).
    Module,
    /// A test class (`Test*` or `unittest.TestCase`), possibly nested.
    Class,
    /// A parametrized test function: the parent of its cases.
    Function,
    /// A test: what `pytest --collect-only -q` lists, and what `runTests` takes as an id.
    Test,
}

/// One node of the collected tree. Parents come before their children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestNode {
    /// pytest node id (for tests, exactly as `pytest --collect-only -q` prints it).
    pub id: String,
    /// Display name: the last part of the id (a file name, a class name, `test_x[case]`).
    pub name: String,
    /// What the node is.
    pub kind: NodeKind,
    /// The enclosing node; absent for top-level nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// File, relative to `cwd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based line of the definition, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Names of the markers that apply to a test (its own, its class's, its module's), without `parametrize`,
    /// `usefixtures` and `filterwarnings`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<String>,
}

/// How a discovery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DiscoveryStatus {
    /// Collection finished; files that failed to collect are listed in `errors`, the rest is in `tests`.
    Complete,
    /// Cancelled by `cancelRun` or `$/cancelRequest`.
    Cancelled,
    /// Past its `timeoutMs`.
    TimedOut,
    /// pytest could not collect at all (bad arguments, crash, interpreter or pytest missing).
    Error,
}

/// The response to `discoverTests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverTestsResult {
    /// The discovery's run id.
    pub run_id: String,
    /// How it ended.
    pub status: DiscoveryStatus,
    /// Every collected node, parents first.
    pub tests: Vec<TestNode>,
    /// Collection errors, one per file that failed, and failures of pytest itself.
    pub errors: Vec<String>,
    /// Files that failed to collect, one entry each (also described in `errors`).
    #[serde(default)]
    pub collection_errors: Vec<crate::runs::CollectionError>,
    /// Wall time, in milliseconds.
    pub duration_ms: u64,
}

/// `testsDiscovered` notification: a batch of nodes, streamed while pytest collects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestsDiscovered {
    /// The discovery's run id.
    pub run_id: String,
    /// Nodes, parents before children (a parent may come in an earlier batch).
    pub tests: Vec<TestNode>,
}
