//! Ordering between notifications and responses.
//!
//! tower-lsp-server writes server-to-client notifications and responses from two separate channels, merged
//! without order, so a `runTests` response could overtake the run's last `testResult`. The protocol promises the
//! opposite. A handler therefore ends with a *barrier*: a private notification sent after its last real one and
//! swallowed by [`OrderedSocket`] when the writer reaches it. Once the barrier is reached, every notification
//! sent before it is in the output buffer, and the response can only come after.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{SplitSink, SplitStream};
use futures::{Sink, Stream, StreamExt};
use tokio::sync::{oneshot, watch};
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::{Client, ClientSocket, Loopback};

/// The barrier's method name; it never reaches the client.
const BARRIER_METHOD: &str = "pytestd/$barrier";
/// A barrier is waited for at most this long (the writer may be gone).
const BARRIER_TIMEOUT: Duration = Duration::from_secs(5);

enum BarrierNotification {}

impl Notification for BarrierNotification {
    type Params = u64;
    const METHOD: &'static str = BARRIER_METHOD;
}

/// Barriers waiting for the writer, by id; and whether notifications can still be written at all.
#[derive(Clone)]
pub(crate) struct Barriers {
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<()>>>>,
    next: Arc<AtomicU64>,
    closed: Arc<watch::Sender<bool>>,
}

impl Default for Barriers {
    fn default() -> Self {
        Self {
            waiting: Arc::default(),
            next: Arc::default(),
            closed: Arc::new(watch::channel(false).0),
        }
    }
}

impl Barriers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<()>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns once every notification sent through `client` before this call has been handed to the writer.
    pub(crate) async fn wait(&self, client: &Client) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut waiting = self.lock();
            if *self.closed.borrow() {
                return;
            }
            waiting.insert(id, tx);
        }
        self.notify::<BarrierNotification>(client, id).await;
        if tokio::time::timeout(BARRIER_TIMEOUT, rx).await.is_err() {
            tracing::warn!("notification barrier timed out");
        }
        self.lock().remove(&id);
    }

    /// No more notifications will be written (stdin ended, and tower-lsp-server stops the client stream with it):
    /// lets every barrier go, so the responses still pending can be written.
    pub(crate) fn close(&self) {
        let mut waiting = self.lock();
        self.closed.send_replace(true);
        waiting.clear();
    }

    /// Sends a notification, unless notifications can no longer be written: then it returns at once instead of
    /// waiting forever for a writer that is gone.
    pub(crate) async fn notify<N: Notification>(&self, client: &Client, params: N::Params) {
        let mut closed = self.closed.subscribe();
        if *closed.borrow_and_update() {
            return;
        }
        tokio::select! {
            () = client.send_notification::<N>(params) => {}
            _ = closed.wait_for(|closed| *closed) => {}
        }
    }

    fn release(&self, id: u64) {
        if let Some(tx) = self.lock().remove(&id) {
            let _ = tx.send(());
        }
    }
}

/// The client socket with barriers filtered out of its outgoing stream.
pub(crate) struct OrderedSocket {
    socket: ClientSocket,
    barriers: Barriers,
}

impl OrderedSocket {
    pub(crate) fn new(socket: ClientSocket, barriers: Barriers) -> Self {
        Self { socket, barriers }
    }
}

impl Stream for OrderedSocket {
    type Item = Request;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Request>> {
        loop {
            match self.socket.poll_next_unpin(cx) {
                Poll::Ready(Some(request)) if request.method() == BARRIER_METHOD => {
                    if let Some(id) = request.params().and_then(serde_json::Value::as_u64) {
                        self.barriers.release(id);
                    }
                }
                other => return other,
            }
        }
    }
}

impl Sink<Response> for OrderedSocket {
    type Error = <ClientSocket as Sink<Response>>::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.socket).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Response) -> Result<(), Self::Error> {
        Pin::new(&mut self.socket).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.socket).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.socket).poll_close(cx)
    }
}

impl Drop for OrderedSocket {
    fn drop(&mut self) {
        // Nobody will write any more: let every waiter go.
        self.barriers.close();
    }
}

impl Loopback for OrderedSocket {
    type RequestStream = SplitStream<Self>;
    type ResponseSink = SplitSink<Self, Response>;

    fn split(self) -> (Self::RequestStream, Self::ResponseSink) {
        let (sink, stream) = StreamExt::split(self);
        (stream, sink)
    }
}
