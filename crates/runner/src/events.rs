//! What a run tells its requester while it goes, in order; the daemon turns each into a notification.

use pytestd_protocol::discovery::TestNode;
use pytestd_protocol::notifications::Stream;
use pytestd_protocol::runs::{CollectionError, RunStatus, Summary, TestResult};

/// One thing that happened in a run. A run's events end with [`RunEvent::Finished`].
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// The run waits for a slot, at this 1-based position.
    Queued {
        /// Place in the queue.
        position: u32,
    },
    /// pytest has started.
    Started {
        /// Its process id.
        pid: u32,
        /// Its full command line.
        args: Vec<String>,
        /// Forked from the project's warm template rather than started cold.
        warm: bool,
    },
    /// Collection finished: this many tests will run.
    Collected {
        /// The number of selected tests.
        count: u64,
    },
    /// A test is about to run.
    TestStarted {
        /// The test's node id.
        test_id: String,
    },
    /// A test has finished.
    TestResult(Box<TestResult>),
    /// Nodes of the collected tree (discovery), parents first.
    Discovered(Vec<TestNode>),
    /// A file failed to collect.
    CollectionError(Box<CollectionError>),
    /// A debug run's debugpy accepts connections at `host`:`port`.
    DebugReady {
        /// The address.
        host: String,
        /// The port.
        port: u16,
    },
    /// A line pytest printed.
    Output {
        /// The pipe it came from.
        stream: Stream,
        /// The line, without its newline.
        text: String,
    },
    /// A line about the run from the daemon itself, for the shared output channel.
    Log(String),
    /// The run has ended.
    Finished {
        /// How.
        status: RunStatus,
        /// Count of tests per outcome.
        summary: Summary,
        /// Wall time of the run.
        duration_ms: u64,
    },
}

/// What a job does with pytest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Run the tests (`runTests`).
    Run,
    /// Only collect them (`discoverTests`), the tree streamed as [`RunEvent::Discovered`] batches as well as in
    /// the outcome.
    Discover,
    /// Only collect them, the tree only in the outcome (`discoverTests` with `stream: false`): a requester that
    /// waits for the outcome anyway gets one copy, and no event per batch.
    DiscoverUnstreamed,
}

impl JobKind {
    /// Whether the job only collects (either kind of discovery).
    pub fn is_discovery(self) -> bool {
        matches!(self, Self::Discover | Self::DiscoverUnstreamed)
    }
}

/// How a job ended: the run's result, and for a discovery the collected tree.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Status, results and errors.
    pub result: pytestd_protocol::runs::RunTestsResult,
    /// The collected tree (discovery only), parents first.
    pub discovered: Vec<TestNode>,
}
