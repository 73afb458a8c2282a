//! The OS side of a run's processes: the process group every pytest runs in (here), the processes that escape it
//! ([`escapees`]), the sampling of each group's memory and CPU ([`monitor`]), and reading a child's output pipes
//! on a timer ([`pipe_poll`]) and line by line ([`lines`]).
//!
//! Process groups: every pytest runs as the leader of its own group, and the group is signalled as a whole so
//! that grandchildren die with it. A [`ProcessGroup`] kills its group when dropped.

pub(crate) mod escapees;
pub(crate) mod lines;
pub(crate) mod monitor;
pub(crate) mod pipe_poll;

use std::io;
use std::pin::Pin;
use std::process::ExitStatus;

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use crate::warm::WarmChild;
use pipe_poll::PolledPipe;

/// A run's output pipe, whichever way pytest was started.
pub(crate) type Output = Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// A pipe taken out of the event loop, to be read on a timer; `None` (the output lost, the run unharmed) if that
/// fails, which only a broken descriptor could make it do.
fn polled(fd: io::Result<std::os::fd::OwnedFd>) -> Option<Output> {
    match fd.and_then(PolledPipe::new) {
        Ok(pipe) => Some(Box::pin(pipe)),
        Err(err) => {
            tracing::warn!(%err, "cannot read pytest's output");
            None
        }
    }
}

/// A run's pytest: started cold by the daemon, or forked from a warm template and adopted.
#[derive(Debug)]
pub(crate) enum RunChild {
    Cold(Child),
    Warm(WarmChild),
}

impl RunChild {
    pub(crate) fn id(&self) -> u32 {
        match self {
            Self::Cold(child) => child.id().unwrap_or_default(),
            Self::Warm(child) => child.id(),
        }
    }

    pub(crate) fn is_warm(&self) -> bool {
        matches!(self, Self::Warm(_))
    }

    /// pytest's stdout, read on the instance's timer (see [`pipe_poll`]).
    pub(crate) fn take_stdout(&mut self) -> Option<Output> {
        let fd = match self {
            Self::Cold(child) => child.stdout.take().map(|s| s.into_owned_fd()),
            Self::Warm(child) => child.stdout.take().map(|s| s.into_nonblocking_fd()),
        };
        polled(fd?)
    }

    /// pytest's stderr, read on the instance's timer (see [`pipe_poll`]).
    pub(crate) fn take_stderr(&mut self) -> Option<Output> {
        let fd = match self {
            Self::Cold(child) => child.stderr.take().map(|s| s.into_owned_fd()),
            Self::Warm(child) => child.stderr.take().map(|s| s.into_nonblocking_fd()),
        };
        polled(fd?)
    }

    /// Waits for pytest to end. Cancel-safe.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        match self {
            Self::Cold(child) => child.wait().await,
            Self::Warm(child) => child.wait().await,
        }
    }
}

/// A process group owned by one run. Dropping it sends SIGKILL to whatever is left in the group.
#[derive(Debug)]
pub(crate) struct ProcessGroup {
    pgid: Pid,
}

impl ProcessGroup {
    /// The group's id (the leader's pid).
    pub(crate) fn id(&self) -> i32 {
        self.pgid.as_raw()
    }

    /// Asks every process in the group to stop.
    pub(crate) fn terminate(&self) {
        self.signal(Signal::SIGTERM);
    }

    /// Kills every process in the group at once.
    pub(crate) fn kill(&self) {
        self.signal(Signal::SIGKILL);
    }

    /// Whether any process of the group still exists (zombies included).
    pub(crate) fn is_alive(&self) -> bool {
        // Signal 0 checks for existence without delivering anything.
        !matches!(killpg(self.pgid, None), Err(Errno::ESRCH))
    }

    fn signal(&self, signal: Signal) {
        match killpg(self.pgid, signal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(err) => tracing::warn!(pgid = self.pgid.as_raw(), %signal, %err, "cannot signal process group"),
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
        escapees::own_children().remove(&self.pgid.as_raw());
    }
}

/// Starts `command` as the leader of a new process group.
pub(crate) fn spawn_in_group(mut command: Command) -> io::Result<(Child, ProcessGroup)> {
    command.process_group(0);
    // Held until the pid is recorded, so the reaper of adopted processes never waits for this child.
    let mut own = escapees::own_children();
    let child = command.spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| io::Error::other("the child exited before its pid was read"))?;
    let pgid = Pid::from_raw(i32::try_from(pid).map_err(io::Error::other)?);
    own.insert(pgid.as_raw());
    Ok((child, ProcessGroup { pgid }))
}

/// Takes `pid`, a process that made itself the leader of its own session and group and that the daemon adopted
/// (a run forked from a warm template), as the owner of that group. Recorded first, so the reaper of adopted
/// processes never waits for it.
pub(crate) fn adopt(pid: i32) -> ProcessGroup {
    escapees::own_children().insert(pid);
    ProcessGroup {
        pgid: Pid::from_raw(pid),
    }
}

/// The conventional name of a signal number (`SIGKILL`), or `signal N` for unknown ones.
pub(crate) fn signal_name(signal: i32) -> String {
    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use std::process::Stdio;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn killing_the_group_takes_the_grandchildren_along() {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("trap '' TERM; sleep 30 & echo $!; wait")
            .stdout(Stdio::piped());
        let (mut child, group) = spawn_in_group(command).unwrap();
        group.terminate();
        group.kill();
        let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(!status.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while group.is_alive() {
            assert!(std::time::Instant::now() < deadline, "group still alive");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn names_signals() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(15), "SIGTERM");
    }
}
