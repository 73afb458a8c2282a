//! The daemon's end of a warm template's control socket (the template's stdin). Out: an 8-byte big-endian length
//! and that much JSON, with file descriptors attached to the first bytes of a fork request. In: one JSON line per
//! answer. The template answers each message before the next is sent, so nothing is ever read ahead of its fds.

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::UnixStream;

/// Longest answer a template may give.
const MAX_ANSWER: usize = 1 << 20;

/// One template's control socket.
#[derive(Debug)]
pub(crate) struct Control {
    stream: UnixStream,
    buf: Vec<u8>,
}

impl Control {
    pub(crate) fn new(stream: UnixStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends `message`, with `fds` attached; the descriptors are duplicated into the template by the kernel and
    /// may be closed here afterwards.
    pub(crate) async fn send<M: Serialize>(&mut self, message: &M, fds: &[BorrowedFd<'_>]) -> io::Result<()> {
        let body = serde_json::to_vec(message).map_err(io::Error::other)?;
        let length = u64::try_from(body.len()).map_err(io::Error::other)?;
        let head = length.to_be_bytes();
        let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
        let socket = self.stream.as_raw_fd();
        let sent = loop {
            self.stream.writable().await?;
            let attempt = self.stream.try_io(Interest::WRITABLE, || {
                let rights = [ControlMessage::ScmRights(&raw)];
                let cmsgs: &[ControlMessage] = if raw.is_empty() { &[] } else { &rights };
                sendmsg::<()>(socket, &[IoSlice::new(&head)], cmsgs, MsgFlags::MSG_NOSIGNAL, None)
                    .map_err(io::Error::from)
            });
            match attempt {
                Ok(sent) => break sent,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Err(err),
            }
        };
        // The descriptors went with the first byte; the rest of the header, if any, and the body follow plainly.
        self.stream.write_all(&head[sent..]).await?;
        self.stream.write_all(&body).await
    }

    /// The next answer, or `None` when the template closed its end.
    pub(crate) async fn receive<A: DeserializeOwned>(&mut self) -> io::Result<Option<A>> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                return serde_json::from_slice(&line[..end])
                    .map(Some)
                    .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err));
            }
            if self.buf.len() > MAX_ANSWER {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the template's answer is too long",
                ));
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream as StdStream;

    use nix::sys::socket::{recvmsg, ControlMessageOwned};

    use super::*;

    #[tokio::test]
    async fn a_message_carries_its_descriptors_with_its_first_bytes() {
        let (ours, theirs) = StdStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        let mut control = Control::new(UnixStream::from_std(ours).unwrap());
        let (read, write) = nix::unistd::pipe().unwrap();
        control
            .send(&serde_json::json!({"fork": 1}), &[write.as_fd()])
            .await
            .unwrap();
        drop(write);

        let mut head = [0u8; 8];
        let mut space = nix::cmsg_space!([RawFd; 3]);
        let got = {
            let mut iov = [io::IoSliceMut::new(&mut head)];
            let msg = recvmsg::<()>(theirs.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::empty()).unwrap();
            let fds: Vec<RawFd> = msg
                .cmsgs()
                .unwrap()
                .filter_map(|c| match c {
                    ControlMessageOwned::ScmRights(fds) => Some(fds),
                    _ => None,
                })
                .flatten()
                .collect();
            (msg.bytes, fds)
        };
        assert_eq!(got.1.len(), 1, "one descriptor arrives");
        let mut theirs = theirs;
        let mut rest = vec![0u8; 8 - got.0];
        theirs.read_exact(&mut rest).unwrap();
        let mut all = head[..got.0].to_vec();
        all.extend(rest);
        let length = u64::from_be_bytes(all.try_into().unwrap());
        let mut body = vec![0u8; usize::try_from(length).unwrap()];
        theirs.read_exact(&mut body).unwrap();
        assert_eq!(body, br#"{"fork":1}"#);

        // The passed descriptor is the pipe's write end: what goes in comes out of our read end.
        let mut passed = file_of(got.1[0]);
        nix::unistd::close(got.1[0]).unwrap();
        passed.write_all(b"x").unwrap();
        drop(passed);
        let mut out = String::new();
        std::fs::File::from(read).read_to_string(&mut out).unwrap();
        assert_eq!(out, "x");

        theirs.write_all(b"{\"pid\": 7}\n").unwrap();
        let answer: serde_json::Value = control.receive().await.unwrap().unwrap();
        assert_eq!(answer["pid"], 7);
        drop(theirs);
        assert!(control.receive::<serde_json::Value>().await.unwrap().is_none());
    }

    /// A received descriptor as a file, without `unsafe`: opened again through /proc, the same pipe.
    fn file_of(fd: RawFd) -> std::fs::File {
        std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/self/fd/{fd}"))
            .unwrap()
    }
}
