//! Who is on the other end of a result connection, as the kernel says (SO_PEERCRED) and never as the peer claims:
//! its user and its process group. A run's token can leak (it sits in the environment of every process of the run),
//! so the process group, which only the kernel can vouch for, is what ties a connection to a run.

use nix::unistd::{geteuid, getpgid, Pid};
use tokio::net::UnixStream;

/// The connecting process, as the kernel names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer {
    /// The pid of the process that connected.
    pub(crate) pid: i32,
    /// Its process group now.
    pub(crate) pgid: i32,
}

/// Identifies the process behind `stream`; refuses one that runs as another user or that the kernel cannot name.
pub(crate) fn identify(stream: &UnixStream) -> Result<Peer, String> {
    let cred = stream
        .peer_cred()
        .map_err(|err| format!("cannot read the peer's credentials: {err}"))?;
    // An abstract socket has no file permissions: any user may connect, so the user is checked here.
    let own = geteuid().as_raw();
    if cred.uid() != own {
        return Err(format!(
            "the peer runs as uid {}, not as the daemon's uid {own}",
            cred.uid()
        ));
    }
    // No pid (or 0) means a peer in a PID namespace this daemon cannot see: nothing ties it to a run.
    let pid = cred
        .pid()
        .filter(|&pid| pid > 0)
        .ok_or("the kernel does not name the peer process")?;
    let pgid = getpgid(Some(Pid::from_raw(pid)))
        .map_err(|err| format!("cannot read the process group of peer pid {pid}: {err}"))?
        .as_raw();
    Ok(Peer { pid, pgid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_this_process_and_its_group() {
        let (a, _b) = UnixStream::pair().unwrap();
        let peer = identify(&a).unwrap();
        assert_eq!(peer.pid, i32::try_from(std::process::id()).unwrap());
        assert_eq!(peer.pgid, getpgid(None).unwrap().as_raw());
    }
}
