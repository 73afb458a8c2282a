//! Standard input that tells when it reaches end of file: a client that closes our stdin is gone, and its runs
//! must be stopped even though requests are still in flight.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::Notify;

/// Wraps a reader; `eof` is notified once it returns end of file.
pub(crate) struct EofAware<R> {
    inner: R,
    eof: Arc<Notify>,
}

impl<R> EofAware<R> {
    pub(crate) fn new(inner: R) -> (Self, Arc<Notify>) {
        let eof = Arc::new(Notify::new());
        (
            Self {
                inner,
                eof: eof.clone(),
            },
            eof,
        )
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for EofAware<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            if buf.filled().len() == before && buf.remaining() > 0 {
                // notify_one stores a permit, so a waiter that starts waiting later still wakes.
                self.eof.notify_one();
            }
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn signals_end_of_file_once_the_data_is_read() {
        let (mut reader, eof) = EofAware::new(&b"abc"[..]);
        let mut out = String::new();
        reader.read_to_string(&mut out).await.unwrap();
        assert_eq!(out, "abc");
        tokio::time::timeout(Duration::from_secs(1), eof.notified()).await.unwrap();
    }
}
