//! Method names of the pytestd JSON-RPC protocol, shared by the daemon and its clients.

/// Request: run tests; answered when the run ends.
pub const RUN_TESTS: &str = "runTests";
/// Request: cancel a queued or running run.
pub const CANCEL_RUN: &str = "cancelRun";
/// Request: collect the tree of tests without running them.
pub const DISCOVER_TESTS: &str = "discoverTests";
/// Request: list the runs that are queued or running.
pub const LIST_RUNS: &str = "listRuns";

/// Notification: a run waits for a free slot.
pub const RUN_QUEUED: &str = "runQueued";
/// Notification: a run's pytest process has started.
pub const RUN_STARTED: &str = "runStarted";
/// Notification: a test has started.
pub const TEST_STARTED: &str = "testStarted";
/// Notification: a test has finished, with its outcome.
pub const TEST_RESULT: &str = "testResult";
/// Notification: a batch of discovered test nodes.
pub const TESTS_DISCOVERED: &str = "testsDiscovered";
/// Notification: a line the run's pytest printed.
pub const RUN_OUTPUT: &str = "runOutput";
/// Notification: a run has ended; its runTests response follows.
pub const RUN_FINISHED: &str = "runFinished";
/// Notification: a file failed to collect.
pub const COLLECTION_ERROR: &str = "collectionError";
/// Notification: a debug run's debugpy accepts connections.
pub const DEBUG_READY: &str = "debugReady";
