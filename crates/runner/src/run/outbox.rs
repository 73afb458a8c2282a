//! A run's events on their way to its requester. The instance actor pushes; the outbox sends when the requester
//! has room, so the actor's select loop never blocks on a slow client.

use std::collections::VecDeque;

use pytestd_protocol::runs::RunTestsResult;
use tokio::sync::mpsc;

use crate::events::RunEvent;

/// How many waiting events make the instance stop reading pytest until the requester catches up.
pub(crate) const OUTBOX_HIGH_WATER: usize = 512;

/// Events on their way to the requester. Unbounded in type, bounded in practice: the actor stops reading
/// pytest while more than [`OUTBOX_HIGH_WATER`] wait.
pub(crate) struct Outbox {
    queue: VecDeque<RunEvent>,
    tx: Option<mpsc::Sender<RunEvent>>,
}

impl Outbox {
    pub(crate) fn new(tx: mpsc::Sender<RunEvent>) -> Self {
        Self {
            queue: VecDeque::new(),
            tx: Some(tx),
        }
    }

    pub(crate) fn push(&mut self, event: RunEvent) {
        if self.tx.is_some() {
            self.queue.push_back(event);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Sends the oldest event when the requester has room; false when the requester is gone.
    pub(crate) async fn send_one(&mut self) -> bool {
        let closed = match &self.tx {
            None => return std::future::pending().await,
            Some(tx) => match tx.reserve().await {
                Ok(permit) => {
                    if let Some(event) = self.queue.pop_front() {
                        permit.send(event);
                    }
                    false
                }
                Err(_) => true,
            },
        };
        if closed {
            self.tx = None;
            self.queue.clear();
        }
        !closed
    }

    /// Hands the requester every waiting event it has room for, without waiting. After a burst of lines this
    /// wakes the requester once for all of them: one event per turn of the actor's loop would wake it (and the
    /// writer behind it) once per event, which cost more daemon CPU than the events themselves.
    pub(crate) fn try_flush(&mut self) {
        let Some(tx) = &self.tx else { return };
        while let Some(event) = self.queue.pop_front() {
            match tx.try_send(event) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(event)) => {
                    self.queue.push_front(event);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.tx = None;
                    self.queue.clear();
                    return;
                }
            }
        }
    }

    /// Sends everything left, then `runFinished`; the result goes back to the coordinator.
    pub(crate) async fn finish(mut self, result: RunTestsResult) -> RunTestsResult {
        self.push(RunEvent::Log(format!(
            "finished: {} in {} ms ({} tests)",
            result.status.as_str(),
            result.duration_ms,
            result.summary.total
        )));
        self.push(finished_event(&result));
        if let Some(tx) = self.tx.take() {
            for event in self.queue.drain(..) {
                if tx.send(event).await.is_err() {
                    break;
                }
            }
        }
        result
    }
}

pub(crate) fn finished_event(result: &RunTestsResult) -> RunEvent {
    RunEvent::Finished {
        status: result.status,
        summary: result.summary,
        duration_ms: result.duration_ms,
    }
}
