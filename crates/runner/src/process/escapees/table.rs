//! One look at /proc, and the choices made from it: which live processes escaped a run's process group, and which
//! dead processes the daemon adopted and must reap. The choices are pure functions of the snapshot, so they are
//! tested on made-up tables.

use std::collections::{BTreeSet, HashMap};

/// What the snapshot keeps of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Proc {
    pub(super) pid: i32,
    pub(super) ppid: i32,
    pub(super) pgrp: i32,
    pub(super) zombie: bool,
    /// Start time in clock ticks since boot: with the pid, it names one process even after its pid is reused.
    pub(super) start: u64,
}

/// Every process visible at one instant, seen from the daemon.
#[derive(Debug)]
pub(super) struct Table {
    me: i32,
    my_pgrp: i32,
    procs: HashMap<i32, Proc>,
}

impl Table {
    /// Reads /proc now; processes that vanish while it is read are left out.
    pub(super) fn read() -> Self {
        let procs = procfs::process::all_processes()
            .map(|all| {
                all.flatten()
                    .filter_map(|p| p.stat().ok())
                    .map(|s| proc_of(&s))
                    .collect()
            })
            .unwrap_or_default();
        Self::new(
            std::process::id().try_into().unwrap_or(i32::MAX),
            nix::unistd::getpgrp().as_raw(),
            procs,
        )
    }

    pub(super) fn new(me: i32, my_pgrp: i32, procs: Vec<Proc>) -> Self {
        let procs = procs.into_iter().map(|p| (p.pid, p)).collect();
        Self { me, my_pgrp, procs }
    }

    /// The daemon's own children that are not a run's: pytest leaders (`own`) and helpers it started in its own
    /// group. Only their owners (tokio, std) may wait for them.
    fn is_own_child(&self, p: &Proc, own: &BTreeSet<i32>) -> bool {
        p.ppid == self.me && (own.contains(&p.pid) || p.pgrp == self.my_pgrp)
    }

    /// The chain from `pid` up to (not including) the daemon, or `None` when the daemon is not an ancestor.
    fn ancestry(&self, pid: i32) -> Option<Vec<&Proc>> {
        let mut chain = Vec::new();
        let mut at = self.procs.get(&pid)?;
        // Bounded by the table's size, so a cycle seen through a racy snapshot cannot loop forever.
        for _ in 0..=self.procs.len() {
            chain.push(at);
            if at.ppid == self.me {
                return Some(chain);
            }
            at = self.procs.get(&at.ppid)?;
        }
        None
    }

    /// Live descendants of the daemon outside the daemon's own children and outside `run_pgrp` (a group being
    /// killed as a whole), that belong to the run: themselves or an ancestor below the daemon are in `run_pgrp` or
    /// satisfy `marked` (they carry the run's id in their environment). With `run_pgrp` `None`, every such
    /// descendant, whoever it belongs to (the daemon is stopping).
    pub(super) fn escaped(
        &self,
        run_pgrp: Option<i32>,
        own: &BTreeSet<i32>,
        mut marked: impl FnMut(i32) -> bool,
    ) -> Vec<&Proc> {
        let mut found: Vec<&Proc> = self
            .procs
            .values()
            .filter(|p| !p.zombie && p.pid != self.me && Some(p.pgrp) != run_pgrp)
            .filter(|p| {
                let Some(chain) = self.ancestry(p.pid) else {
                    return false;
                };
                let top = chain.last().copied().unwrap_or(p);
                if self.is_own_child(top, own) {
                    return false;
                }
                match run_pgrp {
                    None => true,
                    Some(group) => chain.iter().any(|q| q.pgrp == group || marked(q.pid)),
                }
            })
            .collect();
        found.sort_by_key(|p| p.pid);
        found
    }

    /// Dead processes the daemon adopted (their parent died first) and that no one else will wait for.
    pub(super) fn orphan_zombies(&self, own: &BTreeSet<i32>) -> Vec<&Proc> {
        let mut found: Vec<&Proc> = self
            .procs
            .values()
            .filter(|p| p.zombie && p.ppid == self.me && !self.is_own_child(p, own))
            .collect();
        found.sort_by_key(|p| p.pid);
        found
    }
}

pub(super) fn proc_of(stat: &procfs::process::Stat) -> Proc {
    Proc {
        pid: stat.pid,
        ppid: stat.ppid,
        pgrp: stat.pgrp,
        zombie: matches!(stat.state, 'Z' | 'X'),
        start: stat.starttime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: i32 = 100;
    const MY_PGRP: i32 = 90;

    fn p(pid: i32, ppid: i32, pgrp: i32) -> Proc {
        Proc {
            pid,
            ppid,
            pgrp,
            zombie: false,
            start: 1,
        }
    }

    fn dead(pid: i32, ppid: i32, pgrp: i32) -> Proc {
        Proc {
            zombie: true,
            ..p(pid, ppid, pgrp)
        }
    }

    fn pids(found: &[&Proc]) -> Vec<i32> {
        found.iter().map(|p| p.pid).collect()
    }

    /// The daemon (100) runs pytest 200 (group 200) with a worker 201; 300 is a daemonized grandchild of that run
    /// (its own session), 301 its child; 400 a helper in the daemon's own group; 500 someone else's process.
    fn table() -> Table {
        Table::new(
            ME,
            MY_PGRP,
            vec![
                p(1, 0, 1),
                p(ME, 1, MY_PGRP),
                p(200, ME, 200),
                p(201, 200, 200),
                p(300, ME, 300),
                p(301, 300, 300),
                p(400, ME, MY_PGRP),
                p(500, 1, 500),
            ],
        )
    }

    #[test]
    fn a_daemonized_grandchild_carrying_the_run_id_is_found_with_its_children() {
        let own = BTreeSet::from([200]);
        let table = table();
        let found = table.escaped(Some(200), &own, |pid| pid == 300);
        assert_eq!(pids(&found), [300, 301]);
    }

    #[test]
    fn processes_of_other_runs_and_the_daemons_helpers_are_left_alone() {
        let own = BTreeSet::from([200]);
        assert!(table().escaped(Some(200), &own, |_| false).is_empty());
        // Another run's group: its own group is killed by its own instance.
        assert!(table()
            .escaped(Some(700), &own, |pid| pid == 200 || pid == 201)
            .is_empty());
    }

    #[test]
    fn an_escapee_still_under_a_process_of_the_group_belongs_to_the_run() {
        // pytest (200) is gone; its worker 201 is adopted and dying; 202 left the group without the run's id.
        let table = Table::new(ME, MY_PGRP, vec![p(201, ME, 200), p(202, 201, 202)]);
        let found = table.escaped(Some(200), &BTreeSet::new(), |_| false);
        assert_eq!(pids(&found), [202]);
    }

    #[test]
    fn at_shutdown_every_descendant_but_the_daemons_own_children_is_escaped() {
        let table = table();
        let found = table.escaped(None, &BTreeSet::new(), |_| false);
        assert_eq!(pids(&found), [200, 201, 300, 301]);
        let found = table.escaped(None, &BTreeSet::from([200]), |_| false);
        assert_eq!(pids(&found), [300, 301]);
    }

    #[test]
    fn only_adopted_zombies_are_reaped() {
        let table = Table::new(
            ME,
            MY_PGRP,
            vec![
                dead(200, ME, 200),     // a pytest leader: tokio waits for it
                dead(201, ME, 200),     // pytest's child, adopted when pytest died
                dead(300, ME, 300),     // a daemonized grandchild that exited
                dead(400, ME, MY_PGRP), // a helper the daemon started: its owner waits
                dead(301, 300, 300),    // its parent will wait for it
                p(302, ME, 302),        // alive
            ],
        );
        assert_eq!(pids(&table.orphan_zombies(&BTreeSet::from([200]))), [201, 300]);
    }

    #[test]
    fn a_cycle_in_a_racy_snapshot_ends() {
        let table = Table::new(ME, MY_PGRP, vec![p(5, 6, 5), p(6, 5, 5)]);
        assert!(table.escaped(None, &BTreeSet::new(), |_| true).is_empty());
    }
}
