//! pytest's stdout and stderr, read on a timer instead of on readiness.
//!
//! pytest flushes its terminal after every test (a progress dot, or a line with `-v`). Read on readiness, each of
//! those flushes woke the daemon: at thousands of tests a second the wake-ups were more than half of the daemon's
//! CPU, taken from the cores pytest runs on. A pipe that is not registered with the event loop wakes nobody when
//! it is written to; the instance reads what it holds every [`POLL_EVERY`], so a burst of flushes costs one
//! wake-up and a line reaches the client at most that much later (results do not come this way: the plugin sends
//! them over the result socket).
//!
//! [`PolledPipe`] never arranges to be woken: it is read only through [`poll_now`], by its owner's timer.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use tokio::io::{AsyncRead, ReadBuf};

/// How often the instance reads pytest's output while pytest runs.
pub(crate) const POLL_EVERY: Duration = Duration::from_millis(20);
/// The pipe's capacity, asked of the kernel: what pytest can write between two reads before a write waits
/// (64 KiB by default; 1 MiB is what an unprivileged process may ask for, 50 MB/s at one read per 20 ms).
const PIPE_SIZE: i32 = 1 << 20;

/// The read end of a pipe, nonblocking and outside the event loop.
#[derive(Debug)]
pub(crate) struct PolledPipe {
    fd: OwnedFd,
}

impl PolledPipe {
    /// Takes the read end of a pipe (already deregistered from any event loop).
    pub(crate) fn new(fd: OwnedFd) -> io::Result<Self> {
        let flags = OFlag::from_bits_truncate(fcntl(fd.as_fd(), FcntlArg::F_GETFL)?);
        fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        // Best effort: a smaller pipe only means pytest may wait a little on a large burst of output.
        #[cfg(target_os = "linux")]
        let _ = fcntl(fd.as_fd(), FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
        Ok(Self { fd })
    }
}

impl AsyncRead for PolledPipe {
    /// `Pending` when the pipe is empty, without keeping the waker: see the module's comment.
    fn poll_read(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            match nix::unistd::read(self.fd.as_fd(), buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return Poll::Pending,
                Err(err) => return Poll::Ready(Err(err.into())),
            }
        }
    }
}

/// Polls `future` once, without a waker: its output if it is ready now.
pub(crate) fn poll_now<F: Future>(future: F) -> Option<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::process::lines::LineReader;

    #[test]
    fn reads_what_the_pipe_holds_and_then_its_end() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let mut lines = LineReader::new(tokio::io::BufReader::new(PolledPipe::new(read).unwrap()), 1024);
        assert!(poll_now(lines.next_line()).is_none(), "an empty pipe is not ready");
        let mut write = std::fs::File::from(write);
        write.write_all(b"one\ntw").unwrap();
        assert_eq!(poll_now(lines.next_line()).unwrap().unwrap().as_deref(), Some("one"));
        assert!(poll_now(lines.next_line()).is_none(), "half a line waits for the rest");
        write.write_all(b"o\n").unwrap();
        drop(write);
        assert_eq!(poll_now(lines.next_line()).unwrap().unwrap().as_deref(), Some("two"));
        assert_eq!(
            poll_now(lines.next_line()).unwrap().unwrap(),
            None,
            "then the end of the stream"
        );
    }
}
