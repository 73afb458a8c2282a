//! `--partition slice:M/N`, `hash:M/N` and `duration:M/N`: a deterministic share of the selected tests for machine M
//! of N, so N CI machines together run every test exactly once. `duration` gives each machine an equal share of the
//! time remembered in the project's durations file (whole files, longest first, as shards are planned), the way
//! pytest-split does with the same file.

use std::str::FromStr;

use pytestd_runner::shards::plan::{self, Durations};

/// How the tests are dealt out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Every Nth id in sorted order, starting at the (M-1)th.
    Slice,
    /// Ids whose FNV-1a hash is M-1 modulo N: a test keeps its machine when others are added or removed.
    Hash,
    /// Whole files balanced by the durations file; unknown tests count as the average known one.
    Duration,
}

/// Machine `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Partition {
    pub(crate) kind: Kind,
    pub(crate) index: u64,
    pub(crate) count: u64,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let usage = || format!("expected slice:M/N, hash:M/N or duration:M/N with 1 <= M <= N, got {text:?}");
        let (kind, share) = text.split_once(':').ok_or_else(usage)?;
        let kind = match kind {
            "slice" | "count" => Kind::Slice,
            "hash" => Kind::Hash,
            "duration" => Kind::Duration,
            _ => return Err(usage()),
        };
        let (index, count) = share.split_once('/').ok_or_else(usage)?;
        let index: u64 = index.trim().parse().map_err(|_| usage())?;
        let count: u64 = count.trim().parse().map_err(|_| usage())?;
        if index == 0 || count == 0 || index > count {
            return Err(usage());
        }
        Ok(Self { kind, index, count })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Slice => "slice",
            Kind::Hash => "hash",
            Kind::Duration => "duration",
        };
        write!(f, "{kind}:{}/{}", self.index, self.count)
    }
}

impl Partition {
    /// This partition's share of `ids`, sorted and without duplicates; `durations` for `duration:M/N`.
    pub(crate) fn select(&self, ids: &[String], durations: &Durations) -> Vec<String> {
        let mut sorted: Vec<String> = ids.to_vec();
        sorted.sort();
        sorted.dedup();
        let want = self.index - 1;
        match self.kind {
            Kind::Slice => sorted
                .into_iter()
                .zip((0..self.count).cycle())
                .filter(|&(_, slot)| slot == want)
                .map(|(id, _)| id)
                .collect(),
            Kind::Hash => sorted
                .into_iter()
                .filter(|id| fnv1a(id.as_bytes()) % self.count == want)
                .collect(),
            Kind::Duration => {
                let mut units = plan::units_from_ids(&sorted);
                plan::weigh(&mut units, durations);
                let count = usize::try_from(self.count).unwrap_or(usize::MAX);
                // Fewer files than machines leave the last machines without tests.
                let shards = plan::balance(units, count);
                let mut share: Vec<String> = usize::try_from(want)
                    .ok()
                    .and_then(|want| shards.get(want))
                    .map(|units| units.iter().flat_map(|u| u.selection()).collect())
                    .unwrap_or_default();
                share.sort();
                share
            }
        }
    }
}

/// 64-bit FNV-1a: stable across Rust versions and platforms, unlike `DefaultHasher`.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn parses_and_refuses_by_the_rules() {
        let p: Partition = "hash:2/3".parse().unwrap();
        assert_eq!((p.kind, p.index, p.count), (Kind::Hash, 2, 3));
        assert_eq!(p.to_string(), "hash:2/3");
        for bad in ["slice:0/3", "slice:4/3", "hash:1/0", "ring:1/2", "slice:1", "slice:a/b"] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_partition_kind_covers_the_ids_once() {
        let ids: Vec<String> = (0..50).map(|i| format!("t.py::test_{i}")).rev().collect();
        for kind in ["slice", "hash"] {
            let mut all = Vec::new();
            for m in 1..=3 {
                let share = format!("{kind}:{m}/3")
                    .parse::<Partition>()
                    .unwrap()
                    .select(&ids, &Durations::new());
                assert!(!share.is_empty(), "{kind}:{m}/3 is empty");
                all.extend(share);
            }
            all.sort();
            let mut want = ids.clone();
            want.sort();
            assert_eq!(all, want, "{kind}");
        }
    }

    #[test]
    fn slices_deal_sorted_ids_round_robin() {
        let ids: Vec<String> = ["d", "a", "c", "b", "e"].iter().map(|s| (*s).to_owned()).collect();
        let p: Partition = "slice:2/2".parse().unwrap();
        assert_eq!(p.select(&ids, &Durations::new()), ["b", "d"]);
    }

    #[test]
    fn duration_partitions_share_the_time_by_whole_files_and_cover_every_test_once() {
        let ids: Vec<String> = [
            "big.py::a",
            "big.py::b",
            "s1.py::a",
            "s2.py::a",
            "s3.py::a",
            "new.py::a",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let durations: Durations = [
            ("big.py::a", 2.0),
            ("big.py::b", 2.0),
            ("s1.py::a", 1.0),
            ("s2.py::a", 1.0),
            ("s3.py::a", 1.0),
        ]
        .into_iter()
        .map(|(id, s)| (id.to_owned(), s))
        .collect();
        let share = |m: u64| {
            format!("duration:{m}/2")
                .parse::<Partition>()
                .unwrap()
                .select(&ids, &durations)
        };
        assert_eq!(share(1), ["big.py::a", "big.py::b"]);
        assert_eq!(share(2), ["new.py::a", "s1.py::a", "s2.py::a", "s3.py::a"]);
        let mut shuffled = ids.clone();
        shuffled.reverse();
        let again = "duration:1/2"
            .parse::<Partition>()
            .unwrap()
            .select(&shuffled, &durations);
        assert_eq!(again, share(1), "the same whatever the order of the ids");
        let empty = "duration:3/3"
            .parse::<Partition>()
            .unwrap()
            .select(&ids[..2], &durations);
        assert!(empty.is_empty(), "one file, three machines: the third runs nothing");
    }
}
