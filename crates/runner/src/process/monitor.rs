//! Resource monitoring: every running group's memory (RSS) and CPU time, summed over all processes of the group,
//! sampled from /proc at a fixed interval by one task for the whole daemon. A group over its memory limit is
//! reported to its instance, which kills it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::run::instance::{InstanceCommand, InstanceHandle, Progress};

/// How often running groups are sampled.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_millis(500);

/// The groups being watched, by process group id.
#[derive(Clone, Default)]
pub(crate) struct Monitor {
    groups: Arc<Mutex<HashMap<i32, Watched>>>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").finish_non_exhaustive()
    }
}

struct Watched {
    progress: Arc<Progress>,
    limit: Option<u64>,
    handle: InstanceHandle,
    tripped: bool,
}

/// Stops watching a group when dropped.
pub(crate) struct WatchGuard {
    monitor: Monitor,
    pgid: i32,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.monitor.lock().remove(&self.pgid);
    }
}

/// Memory and CPU of one group at one instant.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Usage {
    rss_bytes: u64,
    cpu_ticks: u64,
}

impl Monitor {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Watched>> {
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Watches group `pgid`, recording into `progress`; over `limit` bytes the instance is told once.
    pub(crate) fn watch(
        &self,
        pgid: i32,
        progress: Arc<Progress>,
        limit: Option<u64>,
        handle: InstanceHandle,
    ) -> WatchGuard {
        self.lock().insert(
            pgid,
            Watched {
                progress,
                limit,
                handle,
                tripped: false,
            },
        );
        WatchGuard {
            monitor: self.clone(),
            pgid,
        }
    }

    /// Starts the sampling task; it ends when the returned handle is aborted.
    pub(crate) fn start(&self) -> JoinHandle<()> {
        let monitor = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SAMPLE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if monitor.lock().is_empty() {
                    continue;
                }
                let sampling = monitor.clone();
                // Reading /proc is blocking file I/O: keep it off the async workers.
                if let Err(err) = tokio::task::spawn_blocking(move || sampling.sample(None)).await {
                    tracing::warn!(%err, "resource sampling failed");
                }
            }
        })
    }

    /// Samples now, only group `pgid` (for a run about to end), off the async workers.
    pub(crate) async fn sample_group(&self, pgid: i32) {
        let monitor = self.clone();
        let _ = tokio::task::spawn_blocking(move || monitor.sample(Some(pgid))).await;
    }

    fn sample(&self, only: Option<i32>) {
        let pgids: HashSet<i32> = match only {
            Some(pgid) => HashSet::from([pgid]),
            None => self.lock().keys().copied().collect(),
        };
        let usage = usage_by_group(&pgids);
        let ticks = procfs::ticks_per_second().max(1);
        let mut groups = self.lock();
        for (pgid, watched) in groups.iter_mut().filter(|(pgid, _)| pgids.contains(pgid)) {
            let Some(usage) = usage.get(pgid) else { continue };
            let progress = &watched.progress;
            progress.rss_bytes.store(usage.rss_bytes, Ordering::Relaxed);
            progress.peak_rss_bytes.fetch_max(usage.rss_bytes, Ordering::Relaxed);
            progress
                .cpu_ms
                .fetch_max(usage.cpu_ticks * 1000 / ticks, Ordering::Relaxed);
            if let Some(limit) = watched.limit.filter(|limit| usage.rss_bytes > *limit) {
                if !watched.tripped {
                    watched.tripped = true;
                    watched.handle.send(InstanceCommand::MemoryLimit {
                        limit,
                        rss: usage.rss_bytes,
                    });
                }
            }
        }
        // The leader's own high-water mark catches peaks between samples, and short runs.
        for (pgid, watched) in groups.iter().filter(|(pgid, _)| pgids.contains(pgid)) {
            if let Some(hwm) = leader_peak(*pgid) {
                watched.progress.peak_rss_bytes.fetch_max(hwm, Ordering::Relaxed);
            }
        }
    }
}

/// Sums memory and CPU over every live process of each group in `pgids`.
fn usage_by_group(pgids: &HashSet<i32>) -> HashMap<i32, Usage> {
    let mut usage: HashMap<i32, Usage> = HashMap::new();
    let Ok(processes) = procfs::process::all_processes() else {
        return usage;
    };
    let page = procfs::page_size();
    // Processes come and go while we read: any that vanished is skipped.
    for stat in processes.flatten().filter_map(|p| p.stat().ok()) {
        if !pgids.contains(&stat.pgrp) {
            continue;
        }
        let entry = usage.entry(stat.pgrp).or_default();
        entry.rss_bytes += stat.rss * page;
        let children = u64::try_from(stat.cutime.max(0) + stat.cstime.max(0)).unwrap_or(0);
        entry.cpu_ticks += stat.utime + stat.stime + children;
    }
    usage
}

fn leader_peak(pgid: i32) -> Option<u64> {
    let status = procfs::process::Process::new(pgid).ok()?.status().ok()?;
    status.vmhwm.map(|kib| kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_this_process_group() {
        let pgid = nix::unistd::getpgrp().as_raw();
        let usage = usage_by_group(&HashSet::from([pgid]));
        let ours = usage.get(&pgid).copied().unwrap_or_default();
        assert!(ours.rss_bytes > 1024 * 1024, "{ours:?}");
        assert!(leader_peak(std::process::id() as i32).is_some());
    }
}
