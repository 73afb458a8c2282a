//! Notifications the daemon sends about a run; every one carries the run's id.

use serde::{Deserialize, Serialize};

use crate::runs::{CollectionError, RunStatus, Summary, TestResult};

/// `runQueued`: the run waits for a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunQueued {
    /// The run.
    pub run_id: String,
    /// In a sharded run, the shard (from 0) this comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
    /// 1-based place in the queue.
    pub position: u32,
}

/// `runStarted`: the run's pytest process is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStarted {
    /// The run.
    pub run_id: String,
    /// In a sharded run, the shard (from 0) this comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
    /// Process id of pytest (leader of its process group).
    pub pid: u32,
    /// The full command line.
    pub args: Vec<String>,
    /// pytest was forked from the project's warm template rather than started cold; it runs exactly that
    /// command line.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warm: bool,
}

/// `testStarted`: a test is about to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStarted {
    /// The run.
    pub run_id: String,
    /// In a sharded run, the shard (from 0) this comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
    /// The test's node id.
    pub test_id: String,
}

/// `testResult`: a test has finished; carries every field of [`TestResult`] beside the run id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResultNotification {
    /// The run.
    pub run_id: String,
    /// In a sharded run, the shard (from 0) this comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
    /// The result.
    #[serde(flatten)]
    pub result: TestResult,
}

/// `collectionError`: a file failed to collect; carries every field of [`CollectionError`] beside the run id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionErrorNotification {
    /// The run.
    pub run_id: String,
    /// In a sharded run, the shard (from 0) this comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
    /// The error.
    #[serde(flatten)]
    pub error: CollectionError,
}

/// Which pipe a line of output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stream {
    /// pytest's standard output.
    Stdout,
    /// pytest's standard error.
    Stderr,
}

/// `runOutput`: a line pytest printed (without its newline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunOutput {
    /// The run.
    pub run_id: String,
    /// In a sharded run, the shard (from 0) this comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
    /// The pipe.
    pub stream: Stream,
    /// The text.
    pub text: String,
}

/// `runFinished`: the run has ended; its `runTests` response follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunFinished {
    /// The run.
    pub run_id: String,
    /// How it ended.
    pub status: RunStatus,
    /// Count of tests per outcome.
    pub summary: Summary,
    /// Wall time of the run, in milliseconds.
    pub duration_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::Outcome;

    #[test]
    fn test_result_notification_is_flat() {
        let n = TestResultNotification {
            run_id: "r".into(),
            shard: None,
            result: TestResult {
                duration_ms: 0.25,
                ..TestResult::new("t.py::a", Outcome::Passed)
            },
        };
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"runId":"r","testId":"t.py::a","outcome":"passed","durationMs":0.25}"#
        );
    }

    #[test]
    fn a_shard_is_named_only_in_sharded_runs() {
        let n = TestStarted {
            run_id: "r".into(),
            shard: Some(2),
            test_id: "t.py::a".into(),
        };
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"runId":"r","shard":2,"testId":"t.py::a"}"#
        );
    }
}
