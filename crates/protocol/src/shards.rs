//! Sharded runs: `runTests` with `shards` splits one run's tests by file across several pytest processes of that
//! run. Here are the parameter (`N` or `"auto"`) and what `listRuns` says of each shard.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::runs::RunState;

/// The most shards one run may ask for; each is a pytest process, and they queue behind `maxParallel` anyway.
pub const MAX_SHARDS: u32 = 256;

/// How many pytest processes share one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shards {
    /// Exactly this many (at least 1, at most [`MAX_SHARDS`]); fewer when the run has fewer files.
    Count(u32),
    /// As many as help: the cores, capped by `maxParallel` and by the files to run.
    Auto,
}

impl Serialize for Shards {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Count(n) => serializer.serialize_u32(*n),
            Self::Auto => serializer.serialize_str("auto"),
        }
    }
}

impl<'de> Deserialize<'de> for Shards {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShardsVisitor)
    }
}

struct ShardsVisitor;

impl ShardsVisitor {
    fn count<E: serde::de::Error>(n: u64) -> Result<Shards, E> {
        match u32::try_from(n) {
            Ok(n @ 1..=MAX_SHARDS) => Ok(Shards::Count(n)),
            _ => Err(E::custom(format!(
                "expected a number of shards from 1 to {MAX_SHARDS} or \"auto\", got {n}"
            ))),
        }
    }
}

impl serde::de::Visitor<'_> for ShardsVisitor {
    type Value = Shards;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a number of shards from 1 to {MAX_SHARDS} or \"auto\"")
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Shards, E> {
        Self::count(n)
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Shards, E> {
        Self::count(u64::try_from(n).map_err(|_| E::custom(format!("expected a positive number of shards, got {n}")))?)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Shards, E> {
        if text == "auto" {
            Ok(Shards::Auto)
        } else {
            Err(E::custom(format!(
                "expected a number of shards from 1 to {MAX_SHARDS} or \"auto\", got {text:?}"
            )))
        }
    }
}

impl std::str::FromStr for Shards {
    type Err = String;

    /// `N` or `auto`, as the command line takes it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "auto" {
            return Ok(Self::Auto);
        }
        match text.parse::<u32>() {
            Ok(n @ 1..=MAX_SHARDS) => Ok(Self::Count(n)),
            _ => Err(format!(
                "expected a number from 1 to {MAX_SHARDS} or \"auto\", got {text:?}"
            )),
        }
    }
}

/// One shard of a sharded run in `listRuns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardInfo {
    /// The shard's index, from 0.
    pub shard: u32,
    /// Queued or running.
    pub state: RunState,
    /// Its pytest's process id, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Tests with a result so far.
    pub test_count: u64,
    /// Resident memory of its process group at the last sample, in bytes.
    pub rss_bytes: u64,
    /// Highest resident memory seen so far, in bytes.
    pub peak_rss_bytes: u64,
    /// CPU time used so far, in milliseconds.
    pub cpu_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_auto_round_trip_and_the_rest_is_refused_by_name() {
        assert_eq!(serde_json::from_str::<Shards>("4").unwrap(), Shards::Count(4));
        assert_eq!(serde_json::from_str::<Shards>("\"auto\"").unwrap(), Shards::Auto);
        assert_eq!(serde_json::to_string(&Shards::Count(3)).unwrap(), "3");
        assert_eq!(serde_json::to_string(&Shards::Auto).unwrap(), "\"auto\"");
        for bad in ["0", "-1", "257", "1.5", "\"four\"", "null", "[]", "\"Auto\""] {
            let err = serde_json::from_str::<Shards>(bad).unwrap_err().to_string();
            assert!(err.contains("shards") || err.contains("auto"), "{bad}: {err}");
        }
        assert_eq!("auto".parse::<Shards>(), Ok(Shards::Auto));
        assert_eq!("2".parse::<Shards>(), Ok(Shards::Count(2)));
        assert!("0".parse::<Shards>().is_err());
    }
}
