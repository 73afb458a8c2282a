//! Turns a run's events into protocol notifications, and mirrors them on the shared output channel
//! (`window/logMessage`), each line prefixed with the run's short id (and in a sharded run, the shard's index).

use pytestd_protocol::debug::DebugReady;
use pytestd_protocol::discovery::TestsDiscovered;
use pytestd_protocol::methods;
use pytestd_protocol::notifications::{
    CollectionErrorNotification, RunFinished, RunOutput, RunQueued, RunStarted, TestResultNotification, TestStarted,
};
use pytestd_runner::{RunEvent, ShardEvent};
use tower_lsp_server::ls_types::notification::{LogMessage, Notification};
use tower_lsp_server::ls_types::{LogMessageParams, MessageType};
use tower_lsp_server::Client;

use crate::ordered::Barriers;

macro_rules! notification {
    ($name:ident, $params:ty, $method:expr) => {
        pub(crate) enum $name {}
        impl Notification for $name {
            type Params = $params;
            const METHOD: &'static str = $method;
        }
    };
}

notification!(RunQueuedN, RunQueued, methods::RUN_QUEUED);
notification!(RunStartedN, RunStarted, methods::RUN_STARTED);
notification!(TestStartedN, TestStarted, methods::TEST_STARTED);
notification!(TestResultN, TestResultNotification, methods::TEST_RESULT);
notification!(RunOutputN, RunOutput, methods::RUN_OUTPUT);
notification!(RunFinishedN, RunFinished, methods::RUN_FINISHED);
notification!(TestsDiscoveredN, TestsDiscovered, methods::TESTS_DISCOVERED);
notification!(CollectionErrorN, CollectionErrorNotification, methods::COLLECTION_ERROR);
notification!(DebugReadyN, DebugReady, methods::DEBUG_READY);

/// Sends one run's events to the client.
pub(crate) struct RunNotifier<'a> {
    client: &'a Client,
    barriers: &'a Barriers,
    run_id: String,
    prefix: String,
}

impl<'a> RunNotifier<'a> {
    pub(crate) fn new(client: &'a Client, barriers: &'a Barriers, run_id: &str) -> Self {
        Self {
            client,
            barriers,
            run_id: run_id.to_owned(),
            prefix: prefix(run_id),
        }
    }

    /// Sends the notification for `event`, and its line on the shared output channel where it has one.
    pub(crate) async fn send(&self, tagged: ShardEvent) {
        let run_id = self.run_id.clone();
        let ShardEvent { shard, event } = tagged;
        let prefix = shard.map_or_else(|| self.prefix.clone(), |shard| shard_prefix(&self.run_id, shard));
        let log = |line: String| self.log(&prefix, line);
        match event {
            RunEvent::Queued { position } => {
                log(format!("pytestd: queued at position {position}")).await;
                self.notify::<RunQueuedN>(RunQueued {
                    run_id,
                    shard,
                    position,
                })
                .await;
            }
            RunEvent::Started { pid, args, warm } => {
                self.notify::<RunStartedN>(RunStarted {
                    run_id,
                    shard,
                    pid,
                    args,
                    warm,
                })
                .await;
            }
            RunEvent::TestStarted { test_id } => {
                self.notify::<TestStartedN>(TestStarted { run_id, shard, test_id })
                    .await;
            }
            RunEvent::TestResult(result) => {
                self.notify::<TestResultN>(TestResultNotification {
                    run_id,
                    shard,
                    result: *result,
                })
                .await;
            }
            RunEvent::Output { stream, text } => {
                log(text.clone()).await;
                self.notify::<RunOutputN>(RunOutput {
                    run_id,
                    shard,
                    stream,
                    text,
                })
                .await;
            }
            RunEvent::Log(text) => log(format!("pytestd: {text}")).await,
            RunEvent::Collected { count } => log(format!("pytestd: collected {count} tests")).await,
            RunEvent::CollectionError(error) => {
                let place = match error.line {
                    Some(line) => format!("{}:{line}", error.path),
                    None => error.path.clone(),
                };
                log(format!("pytestd: error collecting {place}: {}", error.message)).await;
                self.notify::<CollectionErrorN>(CollectionErrorNotification {
                    run_id,
                    shard,
                    error: *error,
                })
                .await;
            }
            RunEvent::DebugReady { host, port } => {
                self.notify::<DebugReadyN>(DebugReady { run_id, host, port }).await;
            }
            RunEvent::Discovered(tests) => {
                self.notify::<TestsDiscoveredN>(TestsDiscovered { run_id, tests }).await;
            }
            RunEvent::Finished {
                status,
                summary,
                duration_ms,
            } => {
                self.notify::<RunFinishedN>(RunFinished {
                    run_id,
                    status,
                    summary,
                    duration_ms,
                })
                .await;
            }
        }
    }

    async fn notify<N: Notification>(&self, params: N::Params) {
        self.barriers.notify::<N>(self.client, params).await;
    }

    async fn log(&self, prefix: &str, line: String) {
        let message = LogMessageParams {
            typ: MessageType::LOG,
            message: format!("{prefix}{line}"),
        };
        self.notify::<LogMessage>(message).await;
    }
}

/// `[<first 8 characters of the run id>] `: one line on the shared channel always names its run.
pub(crate) fn prefix(run_id: &str) -> String {
    let short: String = run_id.chars().take(8).collect();
    format!("[{short}] ")
}

/// `[<first 8 characters of the run id>/<shard>] `: a sharded run's line names its shard too.
fn shard_prefix(run_id: &str, shard: u32) -> String {
    let short: String = run_id.chars().take(8).collect();
    format!("[{short}/{shard}] ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_takes_eight_characters_not_bytes() {
        assert_eq!(prefix("0123456789"), "[01234567] ");
        assert_eq!(prefix("ééééééééé"), "[éééééééé] ");
        assert_eq!(prefix("ab"), "[ab] ");
        assert_eq!(shard_prefix("0123456789", 3), "[01234567/3] ");
    }
}
