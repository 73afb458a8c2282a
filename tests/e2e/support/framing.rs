//! LSP base-protocol framing for the harness: `Content-Length` headers around JSON bodies.
//!
//! The daemon's stdout is read on a thread of its own, so a test can wait on a channel with a timeout instead of
//! blocking on a pipe that may never deliver.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::mpsc::{self, Receiver};
use std::thread;

use serde_json::Value;

/// What the reader thread hands over: a parsed message, or why the stream could not be read.
pub type Frame = Result<Value, String>;

/// Writes one framed message.
pub fn write_frame(out: &mut impl Write, body: &[u8]) -> io::Result<()> {
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(body)?;
    out.flush()
}

/// Reads frames from `input` until end of stream; the channel disconnects when the stream ends.
pub fn spawn_reader(input: impl Read + Send + 'static) -> Receiver<Frame> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut input = BufReader::new(input);
        loop {
            let frame = match read_frame(&mut input) {
                Ok(None) => return,
                Ok(Some(body)) => serde_json::from_slice(&body).map_err(|e| {
                    format!(
                        "daemon wrote a body that is not JSON ({e}): {}",
                        String::from_utf8_lossy(&body)
                    )
                }),
                Err(e) => Err(format!("cannot read the daemon's stdout: {e}")),
            };
            let stop = frame.is_err();
            // The test may have finished and dropped the receiver; nothing is left to do then.
            if tx.send(frame).is_err() || stop {
                return;
            }
        }
    });
    rx
}

/// Reads one frame's body; `None` at a clean end of stream between frames.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return match length {
                None => Ok(None),
                Some(_) => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "end of stream inside headers",
                )),
            };
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad header line {header:?}")))?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            let n = value
                .trim()
                .parse::<usize>()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            length = Some(n);
        }
    }
    let length = length.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "frame without Content-Length"))?;
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_with_extra_headers_and_end_cleanly() {
        let mut bytes = Vec::new();
        write_frame(&mut bytes, br#"{"a":1}"#).unwrap();
        bytes.extend_from_slice(b"content-length: 2\r\nContent-Type: application/vscode-jsonrpc\r\n\r\n{}");
        let mut input = &bytes[..];
        assert_eq!(read_frame(&mut input).unwrap().unwrap(), br#"{"a":1}"#);
        assert_eq!(read_frame(&mut input).unwrap().unwrap(), b"{}");
        assert!(read_frame(&mut input).unwrap().is_none());
    }
}
