//! Gives the memory a large request freed back to the kernel once the daemon goes quiet.
//!
//! A `runTests` answered with every result (`results: "full"`) briefly needs several times the size of its response:
//! the results, tower-lsp-server's `serde_json::Value` of them (the largest part), the text of the response and its
//! frame. All of it is freed once the frame is written, but glibc keeps freed memory for reuse, and most of it lies
//! in pages between chunks still in use, which it hands back only when asked (`malloc_trim`). Without that, a daemon
//! that answered one 200 000-test run stayed at almost its peak (409 of 446 MB) until it exited.
//!
//! [`Trimmer`] counts the bytes the protocol moves; once at least [`TRIM_AFTER`] went through since the last trim
//! and then a whole [`QUIET`] went by with less than [`QUIET_BYTES`] moved, it calls [`release_free_memory`] once.
//! Trimming in a quiet moment keeps it off the path of a stream of results; a quiet moment that allows a little
//! traffic keeps a client that polls from holding it off; the threshold keeps those polls from trimming every second.
//! An idle daemon's watcher sleeps until something moves.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Bytes moved after which a quiet moment is worth a trim: below this, what a request freed is too little to matter.
const TRIM_AFTER: u64 = 1024 * 1024;
/// How long the streams must be quiet before a trim.
const QUIET: Duration = Duration::from_secs(1);
/// The most bytes moved in [`QUIET`] that still count as quiet: a poll or a slow trickle of results, not a stream.
const QUIET_BYTES: u64 = 64 * 1024;

/// Hands free heap pages back to the kernel; whether any were. With glibc it is `malloc_trim(0)`, which releases
/// the free pages of every arena, not only those at the top of the heap; elsewhere it does nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn release_free_memory() -> bool {
    // SAFETY: malloc_trim takes a plain integer and works on the allocator's own free lists under its arena locks;
    // glibc documents it as safe to call from any thread at any time (MT-Safe), and it frees nothing in use.
    unsafe { libc::malloc_trim(0) != 0 }
}

/// Hands free heap pages back to the kernel; whether any were. Only glibc needs asking; elsewhere it does nothing.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_free_memory() -> bool {
    false
}

/// Watches the protocol's traffic and trims the heap when it goes quiet after a large amount.
pub(crate) struct Trimmer {
    /// Bytes moved on either stream since the daemon started.
    moved: AtomicU64,
    activity: Notify,
    quiet: Duration,
    /// Trims done, for the tests.
    trims: AtomicU64,
}

impl Default for Trimmer {
    fn default() -> Self {
        Self::with_quiet(QUIET)
    }
}

impl Trimmer {
    fn with_quiet(quiet: Duration) -> Self {
        Self {
            moved: AtomicU64::new(0),
            activity: Notify::new(),
            quiet,
            trims: AtomicU64::new(0),
        }
    }

    /// Notes `bytes` moved on either stream.
    fn moved(&self, bytes: usize) {
        if bytes > 0 {
            self.moved.fetch_add(bytes as u64, Ordering::Relaxed);
            // A stored permit is enough: the watcher only needs to know that something moved since it last looked.
            self.activity.notify_one();
        }
    }

    /// The watcher: runs for the life of the daemon.
    pub(crate) async fn run(self: Arc<Self>) {
        let mut trimmed_at = 0;
        loop {
            self.activity.notified().await;
            // Wait out the traffic, a window at a time, until a window is quiet.
            loop {
                let before = self.moved.load(Ordering::Relaxed);
                tokio::time::sleep(self.quiet).await;
                if self.moved.load(Ordering::Relaxed) - before < QUIET_BYTES {
                    break;
                }
            }
            let moved = self.moved.load(Ordering::Relaxed);
            if moved - trimmed_at < TRIM_AFTER {
                continue;
            }
            trimmed_at = moved;
            // It walks the whole heap under the arenas' locks: a blocking call, kept off the runtime's workers.
            let started = std::time::Instant::now();
            match tokio::task::spawn_blocking(release_free_memory).await {
                Ok(released) => tracing::debug!(released, took = ?started.elapsed(), "trimmed the heap"),
                Err(err) => tracing::warn!(%err, "trimming the heap failed"),
            }
            self.trims.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Wraps one of the protocol's streams so that its traffic is counted.
    pub(crate) fn watch<S>(self: &Arc<Self>, stream: S) -> Watched<S> {
        Watched {
            inner: stream,
            trimmer: self.clone(),
        }
    }
}

/// A stream whose bytes a [`Trimmer`] counts.
pub(crate) struct Watched<S> {
    inner: S,
    trimmer: Arc<Trimmer>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.trimmer.moved(buf.filled().len() - before);
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = polled {
            self.trimmer.moved(written);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn counts_what_goes_through_both_ways() {
        let trimmer = Arc::new(Trimmer::default());
        let mut input = trimmer.watch(&b"hello"[..]);
        let mut read = Vec::new();
        input.read_to_end(&mut read).await.unwrap();
        let mut output = trimmer.watch(Vec::new());
        output.write_all(b"world!").await.unwrap();
        assert_eq!(
            (read.as_slice(), output.inner.as_slice()),
            (&b"hello"[..], &b"world!"[..])
        );
        assert_eq!(trimmer.moved.load(Ordering::Relaxed), 11);
    }

    #[tokio::test]
    async fn trims_once_the_streams_are_quiet_after_enough_traffic() {
        let quiet = Duration::from_millis(20);
        let trimmer = Arc::new(Trimmer::with_quiet(quiet));
        let watcher = tokio::spawn(trimmer.clone().run());
        let trims = || trimmer.trims.load(Ordering::Relaxed);
        trimmer.moved(10);
        tokio::time::sleep(quiet * 5).await;
        assert_eq!(trims(), 0, "too little traffic is not worth a trim");
        trimmer.moved(usize::try_from(TRIM_AFTER).unwrap());
        // A trickle (a client's polls) does not hold the trim off.
        tokio::time::timeout(Duration::from_secs(10), async {
            while trims() == 0 {
                trimmer.moved(1);
                tokio::time::sleep(quiet / 4).await;
            }
        })
        .await
        .expect("no trim after enough traffic, with only a trickle since");
        watcher.abort();
    }

    #[test]
    fn releasing_free_memory_is_callable_at_any_time() {
        // The glibc call on a heap that has just freed a large block: it must not crash, whatever it returns.
        drop(vec![0u8; 8 * 1024 * 1024]);
        let _ = release_free_memory();
    }
}
