//! Watching processes from outside: finding the ones a test's runs started, and waiting for them to die.
//!
//! Every daemon the harness starts, and every run a test asks for, carries `PYTESTD_E2E_MARK=<uuid>` in its
//! environment; children inherit it, so `/proc/*/environ` names every process that belongs to one test, down to
//! grandchildren in other process groups.

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Name of the environment variable that tags a test's processes.
pub const MARK_VAR: &str = "PYTESTD_E2E_MARK";

/// How often deadline loops look at the outside world again.
const POLL: Duration = Duration::from_millis(20);

/// Live (non-zombie) processes whose environment holds `PYTESTD_E2E_MARK=<marker>`.
pub fn pids_with_marker(marker: &str) -> Vec<i32> {
    let needle = format!("{MARK_VAR}={marker}").into_bytes();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            // Processes may vanish or belong to other users while we look; those are not ours.
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|environ| environ.split(|&b| b == 0).any(|var| var == needle.as_slice()))
        })
        .filter(|&pid| is_alive(pid))
        .collect()
}

/// Whether `pid` names a process that still runs; a zombie has finished and only waits to be reaped.
pub fn is_alive(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may itself contain ") ".
    let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

/// Polls `done` until it holds; panics naming `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        thread::sleep(POLL);
    }
}

/// Asserts that every process tagged with `marker`, except `spared` (the daemon itself), is gone within `timeout`.
pub fn assert_marked_gone(marker: &str, spared: u32, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let mut left = pids_with_marker(marker);
        left.retain(|&pid| u32::try_from(pid) != Ok(spared));
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes still alive {timeout:?} later: {}",
            describe(&left)
        );
        thread::sleep(POLL);
    }
}

/// SIGKILLs the given processes; used to clean up after a daemon that failed to.
pub fn kill_all(pids: &[i32]) {
    for &pid in pids {
        // The process may have exited since it was listed; that is the outcome we wanted anyway.
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// `pid (command line)` for each process, for failure messages.
pub fn describe(pids: &[i32]) -> String {
    let described: Vec<String> = pids
        .iter()
        .map(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            format!("{pid} ({})", cmdline.trim())
        })
        .collect();
    described.join(", ")
}
