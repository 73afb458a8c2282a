//! Killing escaped processes and waiting for them, one pid at a time. The daemon never waits for "any child":
//! tokio waits for each pytest it started by pid, and a wait for any child would steal those statuses.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::table::{proc_of, Proc};

/// How long killed processes may take to die and be reaped before the run's result goes out anyway.
const DEATH_WAIT: Duration = Duration::from_secs(2);
/// Pause between two looks at processes that are dying.
const POLL: Duration = Duration::from_millis(5);

/// The process `pid` as it is now, if it still exists.
fn now(pid: i32) -> Option<Proc> {
    procfs::process::Process::new(pid)
        .ok()?
        .stat()
        .ok()
        .map(|s| proc_of(&s))
}

/// SIGKILLs each of `victims` that is still the same process; returns those that were signalled.
pub(super) fn kill_all(victims: &[Proc]) -> Vec<Proc> {
    victims
        .iter()
        .filter(|v| now(v.pid).is_some_and(|p| p.start == v.start && !p.zombie))
        .filter(|v| match kill(Pid::from_raw(v.pid), Signal::SIGKILL) {
            Ok(()) => true,
            Err(Errno::ESRCH) => false,
            Err(err) => {
                tracing::warn!(pid = v.pid, %err, "cannot kill an escaped process");
                false
            }
        })
        .cloned()
        .collect()
}

/// Waits, at most [`DEATH_WAIT`], until each of `killed` is gone, reaping those that are the daemon's to reap.
/// `own` holds the children only their owners may wait for; it is locked around each wait, as spawning is.
pub(super) fn reap_all(killed: Vec<Proc>, own: &std::sync::Mutex<BTreeSet<i32>>) {
    let me = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
    let deadline = Instant::now() + DEATH_WAIT;
    let mut pending = killed;
    loop {
        pending.retain(|victim| match now(victim.pid) {
            // Gone, or its pid already names another process: someone reaped it.
            None => false,
            Some(p) if p.start != victim.start => false,
            Some(p) if p.zombie && p.ppid == me => !reap(&p, own),
            // Still dying, or dead and waited for by a parent that is not the daemon.
            Some(_) => true,
        });
        if pending.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            let pids: Vec<i32> = pending.iter().map(|p| p.pid).collect();
            tracing::warn!(?pids, "escaped processes were killed but are not gone yet");
            return;
        }
        std::thread::sleep(POLL);
    }
}

/// Reaps the dead child `zombie` unless it is one its owner waits for; true when it is no longer there to reap.
pub(super) fn reap(zombie: &Proc, own: &std::sync::Mutex<BTreeSet<i32>>) -> bool {
    let own = own.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if own.contains(&zombie.pid) {
        return false;
    }
    // Checked again under the lock: the pid must still be this very process, dead, and still the daemon's child.
    let me = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
    match now(zombie.pid) {
        Some(p) if p.start == zombie.start && p.zombie && p.ppid == me => {}
        _ => return true,
    }
    match waitpid(Pid::from_raw(zombie.pid), Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::StillAlive) => false,
        Ok(_) | Err(Errno::ECHILD) => true,
        Err(err) => {
            tracing::warn!(pid = zombie.pid, %err, "cannot reap an adopted process");
            true
        }
    }
}
