//! Escaped processes: what a run started that left its process group (a test that daemonizes a grandchild with
//! `setsid` and a double fork). The daemon makes itself a child subreaper, so such a process, once its parents
//! are gone, becomes the daemon's child instead of init's and stays findable. When a run ends, every live
//! descendant of the daemon that carries the run's id in its environment (or descends from one that does, or
//! from the run's group) is killed with SIGKILL, reaped, and named in the result. Adopted processes that die on
//! their own are reaped when their SIGCHLD arrives. When the daemon stops, whatever is still below it is killed.
//! What this guarantees and what it does not is in ARCHITECTURE.md, "Escaped processes".

mod reap;
mod table;

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

use pytestd_protocol::runs::EscapedProcess;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;

use table::{Proc, Table};

/// The pytest leaders the daemon started, which tokio waits for: never reaped here. Spawning holds the lock until
/// the new pid is in, and reaping holds it while it checks and waits, so neither sees the other half done.
static OWN_CHILDREN: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// How much of a command line the result repeats.
const COMMAND_CHARS: usize = 200;

/// Locks the set of children that only their owners may wait for.
pub(crate) fn own_children() -> MutexGuard<'static, BTreeSet<i32>> {
    OWN_CHILDREN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes the daemon a child subreaper and starts reaping the processes it adopts; the task ends when the returned
/// handle is aborted. Without the subreaper (a kernel that refuses it) escaped processes go to init as before:
/// they are still killed at the run's end while one of their ancestors below the daemon is alive.
pub(crate) fn start_reaper() -> Option<JoinHandle<()>> {
    if let Err(err) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(%err, "cannot become a child subreaper: processes that leave a run's group may outlive it");
    }
    let mut sigchld = match signal(SignalKind::child()) {
        Ok(stream) => stream,
        Err(err) => {
            tracing::warn!(%err, "cannot watch SIGCHLD: adopted processes are reaped only when a run ends");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        // Signals that arrive during a sweep are merged into one, so a burst of deaths costs one more sweep.
        while sigchld.recv().await.is_some() {
            let _ = tokio::task::spawn_blocking(reap_orphans).await;
        }
    }))
}

/// Reaps adopted processes that have died.
fn reap_orphans() {
    let table = Table::read();
    let zombies: Vec<Proc> = table.orphan_zombies(&own_children()).into_iter().cloned().collect();
    for zombie in &zombies {
        reap::reap(zombie, &OWN_CHILDREN);
    }
}

/// Kills and reaps every process of run `run_id` that left its process group `run_pgrp`, and says which.
pub(crate) async fn kill_escaped(run_id: &str, run_pgrp: i32) -> Vec<EscapedProcess> {
    let needle = format!("{}={run_id}", pytestd_protocol::plugin::ENV_RUN_ID).into_bytes();
    let found = tokio::task::spawn_blocking(move || {
        let table = Table::read();
        let victims: Vec<Proc> = table
            .escaped(Some(run_pgrp), &own_children(), |pid| carries(pid, &needle))
            .into_iter()
            .cloned()
            .collect();
        sweep(&victims)
    })
    .await;
    found.unwrap_or_default()
}

/// Kills and reaps every process still below the daemon, whoever started it; for a daemon that is stopping.
pub(crate) async fn kill_all_escaped() {
    let found = tokio::task::spawn_blocking(|| {
        let table = Table::read();
        let victims: Vec<Proc> = table
            .escaped(None, &own_children(), |_| true)
            .into_iter()
            .cloned()
            .collect();
        sweep(&victims)
    })
    .await;
    for process in found.unwrap_or_default() {
        tracing::warn!(pid = process.pid, command = %process.command, "killed a leftover process as the daemon stops");
    }
}

/// Kills `victims`, names them while they can still be read, and waits for them to go.
fn sweep(victims: &[Proc]) -> Vec<EscapedProcess> {
    if victims.is_empty() {
        return Vec::new();
    }
    let described: Vec<(i32, String)> = victims.iter().map(|v| (v.pid, command_of(v.pid))).collect();
    let killed = reap::kill_all(victims);
    let named = killed
        .iter()
        .filter_map(|k| described.iter().find(|(pid, _)| *pid == k.pid))
        .map(|(pid, command)| EscapedProcess {
            pid: u32::try_from(*pid).unwrap_or_default(),
            command: command.clone(),
        })
        .collect();
    reap::reap_all(killed, &OWN_CHILDREN);
    named
}

/// Whether process `pid` has `needle` (`NAME=value`) in its environment as it was when it started.
fn carries(pid: i32, needle: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|environ| environ.split(|&b| b == 0).any(|var| var == needle))
}

/// A process's command line, else its name, cut to a readable length.
fn command_of(pid: i32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let mut text = String::from_utf8_lossy(&cmdline).replace('\0', " ").trim().to_owned();
    if text.is_empty() {
        text = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap_or_default()
            .trim()
            .to_owned();
    }
    match text.char_indices().nth(COMMAND_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The sentence `errors` gets for one killed process.
pub(crate) fn message(process: &EscapedProcess) -> String {
    format!(
        "killed process {} ({}) that left the run's process group",
        process.pid, process.command
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_process() {
        let process = EscapedProcess {
            pid: 12345,
            command: "sleep 600".into(),
        };
        assert_eq!(
            message(&process),
            "killed process 12345 (sleep 600) that left the run's process group"
        );
    }

    #[test]
    fn reads_this_process_s_command_and_environment() {
        let me = i32::try_from(std::process::id()).unwrap();
        assert!(!command_of(me).is_empty());
        if let Ok(path) = std::env::var("PATH") {
            assert!(carries(me, format!("PATH={path}").as_bytes()));
        }
        assert!(!carries(me, b"PYTESTD_NO_SUCH_VARIABLE=1"));
    }
}
