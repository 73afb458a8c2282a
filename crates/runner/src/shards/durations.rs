//! A project's durations file, the one a project commits for `pytestd run --partition duration:M/N`: pytest-split's
//! `.test_durations` format, a JSON object `{node id: seconds}` (its older list of `[node id, seconds]` pairs is
//! read too), so either tool reads the other's file.

use std::collections::BTreeMap;
use std::path::Path;

use pytestd_protocol::runs::RunTestsResult;

use super::plan::Durations;

/// The file's name in the project root when none is given: pytest-split's.
pub const DEFAULT_FILE: &str = ".test_durations";

/// Why a durations file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DurationsError {
    /// It could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not a durations file.
    #[error("{path} is not a durations file ({{\"node id\": seconds}}): {reason}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Reads a durations file; entries that are not a finite, non-negative number of seconds are left out.
pub fn read(path: &Path) -> Result<Durations, DurationsError> {
    let bytes = std::fs::read(path).map_err(|source| DurationsError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&bytes).map_err(|reason| DurationsError::Format {
        path: path.display().to_string(),
        reason,
    })
}

/// Parses the file's text: `{id: seconds}` or `[[id, seconds], …]`.
pub fn parse(bytes: &[u8]) -> Result<Durations, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|err| err.to_string())?;
    let seconds = |v: &serde_json::Value| v.as_f64().filter(|s| s.is_finite() && *s >= 0.0);
    match value {
        serde_json::Value::Object(map) => Ok(map
            .iter()
            .filter_map(|(id, v)| Some((id.clone(), seconds(v)?)))
            .collect()),
        serde_json::Value::Array(pairs) => Ok(pairs
            .iter()
            .filter_map(|pair| {
                let pair = pair.as_array()?;
                Some((pair.first()?.as_str()?.to_owned(), seconds(pair.get(1)?)?))
            })
            .collect()),
        _ => Err("expected an object of node ids to seconds".to_owned()),
    }
}

/// The durations a run measured, in seconds: each test's setup, call and teardown together.
pub fn of_result(result: &RunTestsResult) -> Durations {
    result
        .results
        .iter()
        .map(|(id, test)| (id.clone(), test.duration_ms / 1000.0))
        .collect()
}

/// Writes `durations` merged over what `path` holds (tests that did not run keep their entry, as pytest-split
/// does), sorted, indented as pytest-split writes it; atomically, by a rename.
pub fn store(path: &Path, durations: &Durations) -> Result<usize, DurationsError> {
    let io = |source| DurationsError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut all: BTreeMap<String, f64> = match read(path) {
        Ok(old) => old.into_iter().collect(),
        Err(DurationsError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        // A file that is not a durations file is not ours to merge into: it is replaced.
        Err(DurationsError::Format { .. }) => BTreeMap::new(),
        Err(err) => return Err(err),
    };
    for (id, seconds) in durations {
        all.insert(id.clone(), round(*seconds));
    }
    let mut text = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut text, formatter);
    serde::Serialize::serialize(&all, &mut serializer).map_err(|err| io(err.into()))?;
    text.push(b'\n');
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, &text).map_err(io)?;
    tmp.persist(path).map_err(|err| io(err.error))?;
    Ok(all.len())
}

/// Microseconds are all a split needs, and they keep the file's diffs readable.
fn round(seconds: f64) -> f64 {
    (seconds * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pytest_splits_object_and_its_older_list_of_pairs() {
        let object = parse(br#"{"a.py::x": 1.5, "b.py::y": 0, "bad": "x", "neg": -1}"#).unwrap();
        assert_eq!(object.len(), 2);
        assert_eq!(object["a.py::x"], 1.5);
        let pairs = parse(br#"[["a.py::x", 2.0], ["b.py::y", 0.25], ["broken"]]"#).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs["b.py::y"], 0.25);
        assert!(parse(b"42").is_err());
        assert!(parse(b"{not json").is_err());
    }

    #[test]
    fn storing_merges_sorts_and_replaces_a_file_that_is_not_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        let first: Durations = [("b.py::y".to_owned(), 0.123_456_78), ("a.py::x".to_owned(), 1.0)].into();
        assert_eq!(store(&path, &first).unwrap(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\n    \"a.py::x\": 1.0,\n    \"b.py::y\": 0.123457\n}\n");
        let second: Durations = [("a.py::x".to_owned(), 2.0)].into();
        store(&path, &second).unwrap();
        let read_back = read(&path).unwrap();
        assert_eq!((read_back["a.py::x"], read_back["b.py::y"]), (2.0, 0.123_457));
        std::fs::write(&path, "garbage").unwrap();
        assert!(matches!(read(&path), Err(DurationsError::Format { .. })));
        assert_eq!(store(&path, &second).unwrap(), 1);
    }
}
