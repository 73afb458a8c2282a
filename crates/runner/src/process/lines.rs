//! Splits a child's pipe into lines without trusting it: invalid UTF-8 is replaced, and a line longer than the
//! limit is cut with a marker rather than buffered without bound.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Longest line of a child's output kept whole.
pub(crate) const MAX_OUTPUT_LINE: usize = 64 * 1024;
const CUT_MARKER: &str = " [pytestd: line cut]";

/// Reads lines from a buffered pipe.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    cut: bool,
    limit: usize,
    /// Bytes of the current line read so far, before any cut.
    partial: u64,
    /// Bytes of every complete line returned so far, newlines included.
    complete: u64,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// Reads lines of at most `limit` bytes.
    pub(crate) fn new(inner: R, limit: usize) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            cut: false,
            limit,
            partial: 0,
            complete: 0,
        }
    }

    /// Bytes of the stream up to the end of the last line that ended with a newline.
    pub(crate) fn complete_bytes(&self) -> u64 {
        self.complete
    }

    /// The next line without its newline, or `None` at end of stream. Cancel-safe: bytes already read stay
    /// buffered for the next call.
    pub(crate) async fn next_line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                if self.buf.is_empty() && !self.cut {
                    return Ok(None);
                }
                return Ok(Some(self.take_line()));
            }
            let (chunk, found) = match memchr(available) {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            let room = self.limit.saturating_sub(self.buf.len());
            if chunk.len() > room {
                self.cut = true;
            }
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let consumed = found.unwrap_or(available.len());
            self.inner.consume(consumed);
            self.partial += consumed as u64;
            if found.is_some() {
                self.complete += std::mem::take(&mut self.partial);
                return Ok(Some(self.take_line()));
            }
        }
    }

    fn take_line(&mut self) -> String {
        let mut line = String::from_utf8_lossy(&self.buf).into_owned();
        if line.ends_with('\r') {
            line.pop();
        }
        if std::mem::take(&mut self.cut) {
            line.push_str(CUT_MARKER);
        }
        self.buf.clear();
        line
    }
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all_lines(input: &[u8]) -> Vec<String> {
        let mut reader = LineReader::new(tokio::io::BufReader::with_capacity(7, input), MAX_OUTPUT_LINE);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().await.unwrap() {
            out.push(line);
        }
        out
    }

    #[tokio::test]
    async fn keeps_a_last_line_without_newline() {
        assert_eq!(all_lines(b"a\r\nbb\nccc").await, ["a", "bb", "ccc"]);
    }

    #[tokio::test]
    async fn replaces_invalid_utf8() {
        assert_eq!(all_lines(b"ok \xff\n").await, ["ok \u{fffd}"]);
    }

    #[tokio::test]
    async fn cuts_overlong_lines_and_goes_on() {
        let mut input = vec![b'x'; MAX_OUTPUT_LINE + 10];
        input.extend_from_slice(b"\nnext\n");
        let lines = all_lines(&input).await;
        assert_eq!(lines.len(), 2);
        assert!(lines[0].ends_with(CUT_MARKER));
        assert_eq!(lines[0].len(), MAX_OUTPUT_LINE + CUT_MARKER.len());
        assert_eq!(lines[1], "next");
    }
}
