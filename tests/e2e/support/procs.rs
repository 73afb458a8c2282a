//! Watching processes from outside: finding the ones a test's runs started, and waiting for them to die.
//!
//! Every daemon the harness starts, and every run a test asks for, carries `PYTESTD_E2E_MARK=<uuid>` in its
//! environment; children inherit it, so `/proc/*/environ` names every process that belongs to one test, down to
//! grandchildren in other process groups.

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
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
        let left = run_pids(marker, spared);
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

/// Live processes tagged with `marker`, except `spared` (the daemon itself) and the daemon's warm templates: the
/// processes of a daemon's runs.
pub fn run_pids(marker: &str, spared: u32) -> Vec<i32> {
    let mut pids = pids_with_marker(marker);
    pids.retain(|&pid| u32::try_from(pid) != Ok(spared) && !is_daemons_own(pid));
    pids
}

/// Whether `pid` belongs to the daemon rather than to a run: a warm template (`python -m pytestd_warm`; a run
/// forked from one shows its own `python -m pytest` command line), or a child of the daemon between fork and exec.
pub fn is_daemons_own(pid: i32) -> bool {
    fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
        let mut args = cmdline.split(|&b| b == 0);
        let program = args.next().unwrap_or_default();
        program.ends_with(b"/pytestd") || args.any(|arg| arg == b"pytestd_warm")
    })
}

/// Pause between two scans of a [`Sampler`].
const SAMPLE_PAUSE: Duration = Duration::from_millis(1);

/// What a [`Sampler`] saw: how many scans of /proc it made and the most run processes alive in one scan.
#[derive(Debug, Clone, Copy)]
pub struct Samples {
    /// Scans of /proc made.
    pub count: usize,
    /// The most processes alive at one scan.
    pub max_alive: usize,
}

/// Counts a daemon's run processes over and over on a thread of its own, for as long as it lives.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Samples>>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Starts scanning for processes tagged with `marker`, except `spared`.
    pub fn start(marker: &str, spared: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Samples { count: 0, max_alive: 0 }));
        let (marker, thread_stop, thread_seen) = (marker.to_owned(), stop.clone(), seen.clone());
        let thread = thread::spawn(move || {
            while !thread_stop.load(Ordering::SeqCst) {
                let alive = run_pids(&marker, spared).len();
                {
                    let mut seen = thread_seen.lock().unwrap();
                    seen.count += 1;
                    seen.max_alive = seen.max_alive.max(alive);
                }
                // A scan takes about a millisecond; the pause halves the CPU it burns, leaving more to pytest, while
                // any moment is still at most ~2 ms from a scan.
                thread::sleep(SAMPLE_PAUSE);
            }
        });
        Sampler {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    /// What was seen so far.
    pub fn samples(&self) -> Samples {
        *self.seen.lock().unwrap()
    }

    /// Stops scanning and returns everything that was seen.
    pub fn finish(mut self) -> Samples {
        self.halt();
        self.samples()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.halt();
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
