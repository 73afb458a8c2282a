//! Standard input, checked frame by frame before tower-lsp-server reads it.
//!
//! tower-lsp-server stops reading for good after one message it cannot decode (tokio-util's `FramedRead` ends its
//! stream on a decoder error), which would let one bad line from a client end the daemon. So each frame is checked
//! here first: a body that is not JSON, or not a JSON-RPC message, and a header block without a usable
//! `Content-Length`, are replaced by a request to a private method whose handler answers with the matching error
//! (id `null`, as JSON-RPC prescribes). The daemon keeps serving. The reader also tells when stdin ends: a client
//! that closes it is gone.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use serde_json::json;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::Notify;
use tower_lsp_server::jsonrpc::{Request, Response};

/// The private method that malformed input is turned into.
pub(crate) const MALFORMED_METHOD: &str = "pytestd/$malformed";

const MAX_HEADER: usize = 8 * 1024;
const MAX_BODY: usize = 1 << 30;
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// Wraps a reader of LSP frames; `eof` is notified once it ends.
pub(crate) struct FrameGuard<R> {
    inner: R,
    input: Vec<u8>,
    output: Vec<u8>,
    sent: usize,
    /// Bytes of an oversized body still to throw away.
    skip: usize,
    done: bool,
    eof: Arc<Notify>,
    chunk: Box<[u8]>,
}

impl<R> FrameGuard<R> {
    pub(crate) fn new(inner: R) -> (Self, Arc<Notify>) {
        let eof = Arc::new(Notify::new());
        let guard = Self {
            inner,
            input: Vec::new(),
            output: Vec::new(),
            sent: 0,
            skip: 0,
            done: false,
            eof: eof.clone(),
            chunk: vec![0; 64 * 1024].into_boxed_slice(),
        };
        (guard, eof)
    }

    /// The next frame to hand on, if the input holds a whole one.
    fn next_frame(&mut self) -> Option<Vec<u8>> {
        if self.skip > 0 {
            let n = self.skip.min(self.input.len());
            self.input.drain(..n);
            self.skip -= n;
            if self.skip > 0 {
                return None;
            }
        }
        let Some(end) = find(&self.input, b"\r\n\r\n") else {
            if self.input.len() > MAX_HEADER {
                self.input.clear();
                return Some(malformed(PARSE_ERROR, "a header block longer than 8 KiB was dropped"));
            }
            return None;
        };
        let length = content_length(&self.input[..end]);
        let Some(length) = length else {
            self.input.drain(..end + 4);
            return Some(malformed(
                PARSE_ERROR,
                "a message without a valid Content-Length header was dropped",
            ));
        };
        if length > MAX_BODY {
            self.input.drain(..end + 4);
            self.skip = length;
            return Some(malformed(PARSE_ERROR, "a message larger than 1 GiB was dropped"));
        }
        if self.input.len() < end + 4 + length {
            return None;
        }
        let body: Vec<u8> = self.input.drain(..end + 4 + length).skip(end + 4).collect();
        Some(check(&body).map_or_else(|(code, message)| malformed(code, &message), |()| frame(&body)))
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
                this.input.extend_from_slice(chunk.filled());
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(headers: &[u8]) -> Option<usize> {
    let headers = std::str::from_utf8(headers).ok()?;
    headers.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

/// Whether `body` is a JSON-RPC message tower-lsp-server can decode; otherwise the error to answer with.
fn check(body: &[u8]) -> Result<(), (i64, String)> {
    if let Err(err) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        return Err((PARSE_ERROR, format!("parse error: {err}")));
    }
    if serde_json::from_slice::<Response>(body).is_ok() || serde_json::from_slice::<Request>(body).is_ok() {
        return Ok(());
    }
    Err((
        INVALID_REQUEST,
        "invalid request: not a JSON-RPC 2.0 message".to_owned(),
    ))
}

fn malformed(code: i64, message: &str) -> Vec<u8> {
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "method": MALFORMED_METHOD,
        "params": { "code": code, "message": message },
    });
    frame(body.to_string().as_bytes())
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;

    use super::*;

    async fn filtered(input: &[u8]) -> String {
        let (mut guard, eof) = FrameGuard::new(input);
        let mut out = String::new();
        guard.read_to_string(&mut out).await.unwrap();
        tokio::time::timeout(Duration::from_secs(1), eof.notified())
            .await
            .unwrap();
        out
    }

    #[tokio::test]
    async fn passes_good_frames_through() {
        let msg = r#"{"jsonrpc":"2.0","id":1,"method":"x"}"#;
        let input = format!(
            "content-length: {}\r\nContent-Type: application/vscode-jsonrpc\r\n\r\n{msg}",
            msg.len()
        );
        assert_eq!(
            filtered(input.as_bytes()).await,
            format!("Content-Length: {}\r\n\r\n{msg}", msg.len())
        );
    }

    #[tokio::test]
    async fn turns_bad_json_into_a_parse_error_request_and_goes_on() {
        let good = r#"{"jsonrpc":"2.0","id":2,"method":"x"}"#;
        let mut input = b"Content-Length: 5\r\n\r\n{oops".to_vec();
        input.extend_from_slice(&frame(good.as_bytes()));
        let out = filtered(&input).await;
        assert!(out.contains(MALFORMED_METHOD) && out.contains("-32700"), "{out}");
        assert!(out.ends_with(good), "{out}");
    }

    #[tokio::test]
    async fn json_that_is_not_json_rpc_is_an_invalid_request() {
        let out = filtered(b"Content-Length: 9\r\n\r\n{\"a\": 1}\n").await;
        assert!(out.contains("-32600"), "{out}");
    }

    #[tokio::test]
    async fn a_header_without_length_is_dropped_with_an_error() {
        let out = filtered(b"Foo: bar\r\n\r\n").await;
        assert!(out.contains("Content-Length header"), "{out}");
    }
}
