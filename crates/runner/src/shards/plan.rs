//! Splitting a run's tests into shards: whole files only (a module's fixtures are set up in one process), balanced
//! by remembered durations with the longest-processing-time-first rule (the longest file goes to the shard with
//! the least work so far). Unknown tests count as the average known one, so with nothing remembered the split
//! falls back to counts. Pure and deterministic: the same units and durations give the same shards everywhere.

use std::collections::{BTreeMap, HashMap};

/// What pytest pays per test beyond its own duration (setup, reporting), in microseconds: it makes a thousand
/// zero-second tests weigh something, so counts still matter among them.
const PER_TEST_OVERHEAD_US: u64 = 500;

/// Remembered durations, in seconds, by test id.
pub type Durations = HashMap<String, f64>;

/// One file's share of a run: the whole file, or some of its tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The file, relative to the project (as in test ids).
    pub file: String,
    /// The test ids selected in it; empty when the whole file runs.
    pub ids: Vec<String>,
    /// For a whole file: the ids remembered in it (to estimate its weight and to name what a crash lost).
    pub known: Vec<String>,
    /// Estimated seconds.
    pub weight: f64,
}

impl Unit {
    /// A whole file.
    pub fn file(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            ids: Vec::new(),
            known: Vec::new(),
            weight: 0.0,
        }
    }

    /// What the shard passes as `testIds` for this unit.
    pub fn selection(&self) -> Vec<String> {
        if self.ids.is_empty() {
            vec![self.file.clone()]
        } else {
            self.ids.clone()
        }
    }

    /// The tests this unit is expected to run, as far as anyone knows.
    pub fn expected(&self) -> &[String] {
        if self.ids.is_empty() {
            &self.known
        } else {
            &self.ids
        }
    }
}

/// The file a test id lives in: the part before the first `::`.
pub fn file_of(id: &str) -> &str {
    id.split_once("::").map_or(id, |(file, _)| file)
}

/// Groups test ids by file, files in the order first seen, ids in their order, without duplicates. An id that
/// names a file (no `::`) makes that file whole.
pub fn units_from_ids(ids: &[String]) -> Vec<Unit> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_file: HashMap<&str, (bool, Vec<String>)> = HashMap::new();
    for id in ids {
        let file = file_of(id);
        let entry = by_file.entry(file).or_insert_with(|| {
            order.push(file);
            (false, Vec::new())
        });
        if file == id.as_str() {
            entry.0 = true;
        } else if !entry.1.contains(id) {
            entry.1.push(id.clone());
        }
    }
    order
        .into_iter()
        .filter_map(|file| {
            let (whole, ids) = by_file.remove(file)?;
            Some(if whole {
                Unit::file(file)
            } else {
                Unit {
                    ids,
                    ..Unit::file(file)
                }
            })
        })
        .collect()
}

/// Sets each unit's weight (and a whole file's `known` ids) from `durations`. A test not remembered weighs the
/// average of the remembered tests of this selection (of all remembered tests when none is; one second when
/// nothing is remembered: then the split is by counts); a whole file with no remembered test weighs the average
/// remembered file.
pub fn weigh(units: &mut [Unit], durations: &Durations) {
    let mut by_file: HashMap<&str, Vec<&String>> = HashMap::new();
    if units.iter().any(|u| u.ids.is_empty()) {
        for id in durations.keys() {
            by_file.entry(file_of(id)).or_default().push(id);
        }
    }
    for unit in units.iter_mut().filter(|u| u.ids.is_empty()) {
        let mut known: Vec<String> = by_file
            .get(unit.file.as_str())
            .map(|ids| ids.iter().map(|id| (*id).clone()).collect())
            .unwrap_or_default();
        known.sort();
        unit.known = known;
    }
    // In whole microseconds: integer sums do not depend on the order of the ids, so neither does the plan.
    let selected: Vec<u64> = units
        .iter()
        .flat_map(|u| u.expected().iter())
        .filter_map(|id| durations.get(id).map(|s| micros(*s)))
        .collect();
    let average = mean(&selected)
        .or_else(|| mean(&durations.values().map(|s| micros(*s)).collect::<Vec<_>>()))
        .unwrap_or(1_000_000);
    let cost = |id: &String| durations.get(id).map_or(average, |s| micros(*s)) + PER_TEST_OVERHEAD_US;
    let mut weights: Vec<Option<u64>> = Vec::with_capacity(units.len());
    let mut known_files = Vec::new();
    for unit in units.iter() {
        let expected = unit.expected();
        if expected.is_empty() {
            weights.push(None);
        } else {
            let weight: u64 = expected.iter().map(cost).sum();
            if unit.ids.is_empty() {
                known_files.push(weight);
            }
            weights.push(Some(weight));
        }
    }
    let average_file = mean(&known_files).unwrap_or(average + PER_TEST_OVERHEAD_US);
    for (unit, weight) in units.iter_mut().zip(weights) {
        unit.weight = seconds(weight.unwrap_or(average_file));
    }
}

fn micros(seconds: f64) -> u64 {
    // Durations are finite and non-negative when remembered; anything else weighs nothing.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let us = (seconds * 1e6).round().clamp(0.0, 1e15) as u64;
    us
}

#[allow(clippy::cast_precision_loss)] // exact below 2^53 µs, some 285 years
fn seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

fn mean(values: &[u64]) -> Option<u64> {
    let total: u64 = values.iter().sum();
    (!values.is_empty()).then(|| total / values.len() as u64)
}

/// Deals `units` into at most `shards` non-empty shards: heaviest first (ties by file name), each to the shard
/// with the least work so far (ties to the lowest index).
pub fn balance(mut units: Vec<Unit>, shards: usize) -> Vec<Vec<Unit>> {
    units.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.file.cmp(&b.file)));
    let count = shards.clamp(1, units.len().max(1));
    let mut out: Vec<(f64, Vec<Unit>)> = (0..count).map(|_| (0.0, Vec::new())).collect();
    for unit in units {
        let lightest = out
            .iter()
            .enumerate()
            .min_by(|(i, a), (j, b)| a.0.total_cmp(&b.0).then_with(|| i.cmp(j)))
            .map_or(0, |(i, _)| i);
        out[lightest].0 += unit.weight;
        out[lightest].1.push(unit);
    }
    out.into_iter()
        .map(|(_, units)| units)
        .filter(|units| !units.is_empty())
        .collect()
}

/// Each unit's weight summed per shard, for the log.
pub fn loads(shards: &[Vec<Unit>]) -> Vec<f64> {
    shards.iter().map(|s| s.iter().map(|u| u.weight).sum()).collect()
}

/// A shard should have at least this much remembered work, in microseconds, before `auto` adds one: below it
/// the interpreter start-up of another pytest costs more than the shard saves.
const AUTO_MIN_WORK_PER_SHARD_US: u64 = 500_000;

/// What `"auto"` means: one shard per core, no more than `maxParallel` (more would only queue) nor the files to
/// split; and when every test's duration is remembered, no more shards than half-seconds of work.
pub fn auto_count(cores: usize, max_parallel: usize, units: &[Unit], all_known: bool) -> usize {
    let mut n = cores.min(max_parallel).min(units.len()).max(1);
    if all_known {
        let total: u64 = units.iter().map(|u| micros(u.weight)).sum();
        let by_work = usize::try_from(total / AUTO_MIN_WORK_PER_SHARD_US).unwrap_or(usize::MAX);
        n = n.min(by_work.max(1));
    }
    n
}

/// Whether every test the units are expected to run has a remembered duration (and each unit some test).
pub fn all_known(units: &[Unit], durations: &Durations) -> bool {
    units
        .iter()
        .all(|u| !u.expected().is_empty() && u.expected().iter().all(|id| durations.contains_key(id)))
}

/// The files of `ids`, sorted: for logs and for remembering a plan.
pub fn files_of(ids: &[String]) -> Vec<String> {
    let mut files: BTreeMap<&str, ()> = BTreeMap::new();
    for id in ids {
        files.insert(file_of(id), ());
    }
    files.into_keys().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn names(shards: &[Vec<Unit>]) -> Vec<Vec<&str>> {
        shards
            .iter()
            .map(|s| s.iter().map(|u| u.file.as_str()).collect())
            .collect()
    }

    #[test]
    fn ids_group_by_file_and_a_file_id_makes_the_file_whole() {
        let units = units_from_ids(&ids(&["b.py::x", "a.py::y", "b.py::z", "b.py::x", "c.py", "c.py::q"]));
        assert_eq!(units.len(), 3);
        assert_eq!(
            (units[0].file.as_str(), units[0].ids.clone()),
            ("b.py", ids(&["b.py::x", "b.py::z"]))
        );
        assert_eq!(units[1].ids, ids(&["a.py::y"]));
        assert!(units[2].ids.is_empty(), "c.py is whole: {:?}", units[2]);
        assert_eq!(units[2].selection(), ids(&["c.py"]));
    }

    #[test]
    fn without_durations_the_split_is_by_counts() {
        let all = ids(&["a.py::1", "a.py::2", "a.py::3", "b.py::1", "b.py::2", "c.py::1"]);
        let mut units = units_from_ids(&all);
        weigh(&mut units, &Durations::new());
        assert_eq!(names(&balance(units.clone(), 2)), [vec!["a.py"], vec!["b.py", "c.py"]]);
        assert_eq!(balance(units.clone(), 10).len(), 3, "never more shards than files");
        assert!(balance(Vec::new(), 4).is_empty());
    }

    #[test]
    fn durations_decide_and_the_longest_file_goes_first_to_the_lightest_shard() {
        let all = ids(&["big.py::1", "s1.py::1", "s2.py::1", "s3.py::1", "s3.py::2", "new.py::1"]);
        let durations: Durations = [
            ("big.py::1", 3.0),
            ("s1.py::1", 1.0),
            ("s2.py::1", 1.0),
            ("s3.py::1", 0.5),
        ]
        .into_iter()
        .map(|(id, s)| (id.to_owned(), s))
        .collect();
        let mut units = units_from_ids(&all);
        weigh(&mut units, &durations);
        // s3.py::2 and new.py::1 are unknown: each weighs the average known test, 1.375 s.
        let new = units.iter().find(|u| u.file == "new.py").unwrap();
        assert!((new.weight - 1.3755).abs() < 1e-9, "{new:?}");
        let shards = balance(units, 2);
        assert_eq!(
            names(&shards),
            [vec!["big.py", "s1.py"], vec!["s3.py", "new.py", "s2.py"]]
        );
        let loads = loads(&shards);
        assert!((loads[0] - loads[1]).abs() < 1.0, "{loads:?}");
    }

    #[test]
    fn whole_files_weigh_their_remembered_tests_and_unknown_files_the_average_file() {
        let durations: Durations = [("a.py::1", 2.0), ("a.py::2", 2.0), ("b.py::1", 1.0)]
            .into_iter()
            .map(|(id, s)| (id.to_owned(), s))
            .collect();
        let mut units = vec![Unit::file("a.py"), Unit::file("b.py"), Unit::file("c.py")];
        weigh(&mut units, &durations);
        assert_eq!(units[0].known, ids(&["a.py::1", "a.py::2"]));
        assert!((units[0].weight - 4.001).abs() < 1e-9);
        assert!((units[2].weight - (units[0].weight + units[1].weight) / 2.0).abs() < 1e-9);
        assert!(!all_known(&units, &durations), "c.py has no remembered test");
    }

    #[test]
    fn the_plan_is_deterministic_whatever_the_order_of_the_ids() {
        let mut all: Vec<String> = (0..40).map(|i| format!("t{}.py::x{i}", i % 9)).collect();
        let durations: Durations = all
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), (i % 5) as f64))
            .collect();
        let plan = |ids: &[String]| {
            let mut units = units_from_ids(ids);
            weigh(&mut units, &durations);
            let mut shards: Vec<Vec<String>> = balance(units, 3)
                .iter()
                .map(|s| {
                    let mut ids: Vec<String> = s.iter().flat_map(Unit::selection).collect();
                    ids.sort();
                    ids
                })
                .collect();
            shards.sort();
            shards
        };
        let first = plan(&all);
        all.reverse();
        assert_eq!(plan(&all), first);
        let mut union: Vec<String> = first.concat();
        union.sort();
        all.sort();
        assert_eq!(union, all, "every id once");
    }

    #[test]
    fn auto_is_cores_capped_by_max_parallel_files_and_remembered_work() {
        let mut units: Vec<Unit> = (0..10).map(|i| Unit::file(&format!("f{i}.py"))).collect();
        assert_eq!(auto_count(8, 4, &units, false), 4);
        assert_eq!(auto_count(2, 4, &units, false), 2);
        assert_eq!(auto_count(8, 16, &units[..3], false), 3);
        for unit in &mut units {
            unit.weight = 0.1;
        }
        assert_eq!(auto_count(8, 8, &units, true), 2, "one second of work: two shards");
        for unit in &mut units {
            unit.weight = 0.01;
        }
        assert_eq!(auto_count(8, 8, &units, true), 1);
    }
}
