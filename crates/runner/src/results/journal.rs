//! Reads a run's journal after pytest died: the lines the plugin queued that its socket did not deliver.
//!
//! The plugin copies every line into the journal (a file it maps into memory) as it queues it, and sends in 20 ms
//! batches; a pytest that dies without warning (SIGKILL, a segfault, closed descriptors) leaves its last lines only
//! there. Layout (see `ENV_JOURNAL`): 8 bytes little-endian, the stream offset of the data's first byte, then the
//! stream's bytes from there on, then zeros. The daemon knows how many bytes of whole lines the socket delivered;
//! every whole line past that is replayed.

use std::path::Path;

use pytestd_protocol::plugin::PluginMessage;

const HEADER: usize = 8;

/// The messages in `journal` past the first `delivered` bytes of the stream. A missing or unreadable journal
/// holds none; so does a line the plugin did not finish copying.
pub(crate) async fn undelivered(journal: &Path, delivered: u64) -> Vec<PluginMessage> {
    match tokio::fs::read(journal).await {
        Ok(bytes) => parse(&bytes, delivered),
        Err(err) => {
            tracing::warn!(%err, journal = %journal.display(), "cannot read the run's journal");
            Vec::new()
        }
    }
}

fn parse(bytes: &[u8], delivered: u64) -> Vec<PluginMessage> {
    let Some((header, data)) = bytes.split_first_chunk::<HEADER>() else {
        return Vec::new();
    };
    let base = u64::from_le_bytes(*header);
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let skip = usize::try_from(delivered.saturating_sub(base)).unwrap_or(usize::MAX);
    let Some(unsent) = data[..end].get(skip..) else {
        return Vec::new();
    };
    let mut messages = Vec::new();
    // split_inclusive: the last piece lacks its newline when the plugin died while copying it.
    for line in unsent.split_inclusive(|&b| b == b'\n') {
        let Some(line) = line.strip_suffix(b"\n") else {
            break;
        };
        match serde_json::from_str::<PluginMessage>(&String::from_utf8_lossy(line)) {
            Ok(PluginMessage::Hello { .. }) => {}
            Ok(message) => messages.push(message),
            Err(err) => tracing::warn!(%err, "ignored a malformed journal line"),
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(base: u64, data: &str, room: usize) -> Vec<u8> {
        let mut bytes = base.to_le_bytes().to_vec();
        bytes.extend_from_slice(data.as_bytes());
        bytes.resize(bytes.len() + room, 0);
        bytes
    }

    const STARTED: &str = "{\"type\":\"testStarted\",\"nodeid\":\"t.py::a\"}\n";
    const FINISHED: &str = "{\"type\":\"sessionFinish\",\"exitStatus\":0}\n";

    #[test]
    fn replays_the_whole_lines_past_what_was_delivered() {
        let data = format!("{STARTED}{FINISHED}{{\"type\":\"coll");
        let bytes = journal(0, &data, 100);
        assert_eq!(parse(&bytes, 0).len(), 2);
        let rest = parse(&bytes, STARTED.len() as u64);
        assert_eq!(rest, [PluginMessage::SessionFinish { exit_status: 0 }]);
        assert!(parse(&bytes, (STARTED.len() + FINISHED.len()) as u64).is_empty());
        assert!(parse(&bytes, 1 << 40).is_empty());
    }

    #[test]
    fn counts_from_the_data_offset_after_a_rewind() {
        let bytes = journal(1000, &format!("{STARTED}{FINISHED}"), 0);
        let rest = parse(&bytes, 1000 + STARTED.len() as u64);
        assert_eq!(rest, [PluginMessage::SessionFinish { exit_status: 0 }]);
        // Delivered counts below the data's offset cannot happen; everything in the journal is then replayed.
        assert_eq!(parse(&bytes, 10).len(), 2);
    }

    #[test]
    fn an_empty_or_short_journal_holds_nothing() {
        assert!(parse(&[], 0).is_empty());
        assert!(parse(&[1, 2, 3], 0).is_empty());
        assert!(parse(&journal(0, "", 4096), 0).is_empty());
    }
}
