//! Standard input, checked frame by frame before tower-lsp-server reads it.
//!
//! tower-lsp-server stops reading for good after one message it cannot decode (tokio-util's `FramedRead` ends its
//! stream on a decoder error), which would let one bad byte from a client end the daemon. So the input is split
//! into frames here ([`crate::framing`]), each body is checked ([`crate::envelope`]), and whatever tower-lsp-server
//! would choke on or leave unanswered is replaced by a request to a private method that answers with the chosen
//! error. tower-lsp-server only ever sees well-formed frames, and the daemon keeps serving.
//!
//! The reader also tells when stdin ends (a client that closes it is gone) and whether `shutdown` and `exit` were
//! sent: the exit code depends on what the client sent, not on which of two racing events the daemon saw first.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::Notify;

use crate::envelope::{classify, frame, refusal, scan_id, Verdict, PARSE_ERROR};
use crate::framing::{Item, Splitter};

/// What the client has sent of the lifecycle so far, as read off stdin.
#[derive(Default)]
pub(crate) struct Observed {
    shutdown: AtomicBool,
    exit: AtomicBool,
}

impl Observed {
    /// Whether a `shutdown` request came.
    pub(crate) fn shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Whether an `exit` notification came.
    pub(crate) fn exit(&self) -> bool {
        self.exit.load(Ordering::SeqCst)
    }
}

/// Wraps a reader of LSP frames; `eof` is notified once it ends.
pub(crate) struct FrameGuard<R> {
    inner: R,
    splitter: Splitter,
    output: Vec<u8>,
    sent: usize,
    done: bool,
    eof: Arc<Notify>,
    observed: Arc<Observed>,
    chunk: Box<[u8]>,
}

impl<R> FrameGuard<R> {
    pub(crate) fn new(inner: R) -> (Self, Arc<Notify>, Arc<Observed>) {
        let eof = Arc::new(Notify::new());
        let observed = Arc::new(Observed::default());
        let guard = Self {
            inner,
            splitter: Splitter::default(),
            output: Vec::new(),
            sent: 0,
            done: false,
            eof: eof.clone(),
            observed: observed.clone(),
            chunk: vec![0; 64 * 1024].into_boxed_slice(),
        };
        (guard, eof, observed)
    }

    /// The next frame to hand on, if the input holds a whole item.
    fn next_frame(&mut self) -> Option<Vec<u8>> {
        Some(match self.splitter.next(self.done)? {
            Item::Body(body) => match classify(&body) {
                Verdict::Pass(lifecycle) => {
                    if lifecycle.shutdown {
                        self.observed.shutdown.store(true, Ordering::SeqCst);
                    }
                    if lifecycle.exit {
                        self.observed.exit.store(true, Ordering::SeqCst);
                    }
                    frame(&body)
                }
                Verdict::Refuse { id, code, message } => {
                    tracing::warn!(%id, code, %message, "request refused before dispatch");
                    refusal(&id, code, &message)
                }
            },
            Item::Bad { reason, bytes } => {
                let id = scan_id(&bytes);
                tracing::warn!(%id, %reason, "malformed input dropped");
                refusal(
                    &id,
                    PARSE_ERROR,
                    &format!("parse error: {reason}; the message was dropped"),
                )
            }
        })
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for FrameGuard<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.sent < this.output.len() {
                let n = buf.remaining().min(this.output.len() - this.sent);
                buf.put_slice(&this.output[this.sent..this.sent + n]);
                this.sent += n;
                return Poll::Ready(Ok(()));
            }
            if let Some(frame) = this.next_frame() {
                this.output = frame;
                this.sent = 0;
                continue;
            }
            if this.done {
                return Poll::Ready(Ok(()));
            }
            let mut chunk = ReadBuf::new(&mut this.chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut chunk))?;
            if chunk.filled().is_empty() {
                this.done = true;
                // notify_one keeps a permit, so a waiter that starts waiting later still wakes.
                this.eof.notify_one();
            } else {
                this.splitter.push(chunk.filled());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::envelope::MALFORMED_METHOD;

    async fn filtered(input: &[u8]) -> (String, Arc<Observed>) {
        let (mut guard, eof, observed) = FrameGuard::new(input);
        let mut out = String::new();
        guard.read_to_string(&mut out).await.unwrap();
        tokio::time::timeout(Duration::from_secs(1), eof.notified())
            .await
            .unwrap();
        (out, observed)
    }

    #[tokio::test]
    async fn passes_good_frames_through() {
        let msg = r#"{"jsonrpc":"2.0","id":1,"method":"x"}"#;
        let input = format!(
            "content-length: {}\r\nContent-Type: application/vscode-jsonrpc\r\n\r\n{msg}",
            msg.len()
        );
        let (out, _) = filtered(input.as_bytes()).await;
        assert_eq!(out, format!("Content-Length: {}\r\n\r\n{msg}", msg.len()));
    }

    #[tokio::test]
    async fn turns_bad_json_into_a_parse_error_request_and_goes_on() {
        let good = r#"{"jsonrpc":"2.0","id":2,"method":"x"}"#;
        let mut input = b"Content-Length: 5\r\n\r\n{oops".to_vec();
        input.extend_from_slice(&frame(good.as_bytes()));
        let (out, _) = filtered(&input).await;
        assert!(out.contains(MALFORMED_METHOD) && out.contains("-32700"), "{out}");
        assert!(out.ends_with(good), "{out}");
    }

    #[tokio::test]
    async fn json_that_is_not_json_rpc_is_an_invalid_request() {
        let (out, _) = filtered(b"Content-Length: 9\r\n\r\n{\"a\": 1}\n").await;
        assert!(out.contains("-32600"), "{out}");
    }

    #[tokio::test]
    async fn a_header_without_length_is_dropped_with_an_error() {
        let (out, _) = filtered(b"Foo: bar\r\n\r\n").await;
        assert!(out.contains("without Content-Length"), "{out}");
    }

    #[tokio::test]
    async fn shutdown_and_exit_are_observed_in_order_of_input() {
        let mut input = frame(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#);
        let (_, observed) = filtered(&input).await;
        assert!(observed.shutdown() && !observed.exit());
        input.extend_from_slice(&frame(br#"{"jsonrpc":"2.0","method":"exit"}"#));
        let (_, observed) = filtered(&input).await;
        assert!(observed.shutdown() && observed.exit());
    }
}
