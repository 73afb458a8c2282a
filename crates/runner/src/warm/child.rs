//! A run's pytest forked from a warm template. The template forks it through an intermediate process that exits at
//! once, so the daemon (a child subreaper) adopts it and waits for it by pid, as tokio does for a cold pytest.
//! Its stdout and stderr are pipes the daemon made and owns the read ends of.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use tokio::net::unix::pipe;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// The pipes of a run about to be forked: the read ends stay here, the write ends and the go pipe's read end go
/// to the template.
pub(crate) struct Pipes {
    pub(crate) stdout: OwnedFd,
    pub(crate) stderr: OwnedFd,
    pub(crate) stdout_write: OwnedFd,
    pub(crate) stderr_write: OwnedFd,
    pub(crate) go_read: OwnedFd,
    pub(crate) go_write: OwnedFd,
}

impl Pipes {
    pub(crate) fn new() -> io::Result<Self> {
        let pipe = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(io::Error::from);
        let (stdout, stdout_write) = pipe()?;
        let (stderr, stderr_write) = pipe()?;
        let (go_read, go_write) = pipe()?;
        Ok(Self {
            stdout,
            stderr,
            stdout_write,
            stderr_write,
            go_read,
            go_write,
        })
    }
}

/// A forked run's process, once the daemon has recorded it as its own.
#[derive(Debug)]
pub(crate) struct WarmChild {
    pid: Pid,
    sigchld: Signal,
    status: Option<ExitStatus>,
    pub(crate) stdout: Option<pipe::Receiver>,
    pub(crate) stderr: Option<pipe::Receiver>,
}

impl WarmChild {
    /// Takes the run's process `pid` with the read ends of its pipes. The SIGCHLD stream is made before the first
    /// look at the process, so no death between a look and a wait goes unnoticed.
    pub(crate) fn new(pid: i32, stdout: OwnedFd, stderr: OwnedFd) -> io::Result<Self> {
        Ok(Self {
            pid: Pid::from_raw(pid),
            sigchld: signal(SignalKind::child())?,
            status: None,
            stdout: Some(pipe::Receiver::from_owned_fd(stdout)?),
            stderr: Some(pipe::Receiver::from_owned_fd(stderr)?),
        })
    }

    pub(crate) fn id(&self) -> u32 {
        u32::try_from(self.pid.as_raw()).unwrap_or_default()
    }

    /// Waits for the process to end and reaps it. Cancel-safe.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.status {
                return Ok(status);
            }
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => self.status = Some(ExitStatus::from_raw((code & 0xff) << 8)),
                Ok(WaitStatus::Signaled(_, signal, core)) => {
                    self.status = Some(ExitStatus::from_raw(signal as i32 | if core { 0x80 } else { 0 }));
                }
                Ok(_) => {
                    if self.sigchld.recv().await.is_none() {
                        return Err(io::Error::other("SIGCHLD can no longer be watched"));
                    }
                }
                Err(Errno::EINTR) => {}
                Err(err) => return Err(io::Error::from(err)),
            }
        }
    }
}
