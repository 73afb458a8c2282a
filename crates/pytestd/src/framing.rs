//! Splits the client's byte stream into LSP frames, and keeps splitting after input that is not one.
//!
//! A frame is a header block (`Name: value\r\n` lines, one of them `Content-Length`, then `\r\n`) and a body of
//! that many bytes. Anything else costs the one message it spoils: it becomes an [`Item::Bad`] that carries the
//! bytes where the message's id may still be read, and splitting resumes at the next `Content-Length:` header.
//! Two facts make that resumption safe and quick:
//! - `content-length:` followed by digits and a raw CR LF can never occur inside a JSON text (outside a string it
//!   is not a token, inside one a raw CR is not allowed), so a body that holds it is known to be broken before it
//!   has all arrived, and the frame inside it is recovered at once instead of waiting for bytes that never come;
//! - an oversized `Content-Length` is refused on sight, and its body is never buffered: bytes are dropped until
//!   the next header, keeping only a window the size of the header's name.

use serde::de::IgnoredAny;

/// The largest body accepted. A `runTests` naming 200 000 test ids is about 16 MB.
pub(crate) const MAX_BODY: u64 = 256 * 1024 * 1024;
/// The largest header block, and the most input kept while waiting to see whether it is a message.
const MAX_HEADER: usize = 8 * 1024;
/// The most bytes after a broken header block awaited in the hope that they are a JSON body with an id.
const MAX_PEEK: usize = 64 * 1024;
const MARK: &[u8] = b"content-length:";

/// One unit of input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Item {
    /// The body of a well-framed message (not yet checked to be JSON-RPC).
    Body(Vec<u8>),
    /// Input that is not a frame: why, and bytes from which the message's id may be read (possibly none).
    Bad { reason: String, bytes: Vec<u8> },
}

/// The splitter's state: bytes not yet consumed.
#[derive(Default)]
pub(crate) struct Splitter {
    buf: Vec<u8>,
    /// After a broken message: drop everything up to the next `Content-Length:` without a word, since those bytes
    /// are the rest of the message that was already answered.
    resync: bool,
    /// How much of a pending body was already searched for an embedded header.
    scanned: usize,
}

enum Headers {
    /// A well-formed header block: where the body starts and its length.
    Complete { body_start: usize, length: u64 },
    /// Could still become a header block.
    Incomplete,
    /// Not a usable header block; `end` is where its blank line ends, if it has one.
    Bad { reason: String, end: Option<usize> },
}

impl Splitter {
    /// Adds input.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next item, if the input holds a whole one; with `eof`, whatever is left is flushed as a bad item.
    pub(crate) fn next(&mut self, eof: bool) -> Option<Item> {
        if self.resync {
            match find_mark(&self.buf, 0) {
                Some(at) => {
                    self.buf.drain(..at);
                    self.resync = false;
                }
                None => {
                    let keep = if eof { 0 } else { MARK.len() - 1 };
                    self.buf.drain(..self.buf.len().saturating_sub(keep));
                    return None;
                }
            }
        }
        let blank = self.buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        self.buf.drain(..blank);
        if self.buf.is_empty() {
            return None;
        }
        match parse_headers(&self.buf) {
            Headers::Complete { body_start, length } => self.body(body_start, length, eof),
            Headers::Incomplete if !eof => None,
            Headers::Incomplete => Some(self.take_bad("end of input inside a header block".to_owned(), None)),
            Headers::Bad { reason, end } => self.broken_headers(reason, end, eof),
        }
    }

    fn body(&mut self, body_start: usize, length: u64, eof: bool) -> Option<Item> {
        if length > MAX_BODY {
            self.buf.drain(..body_start);
            self.resync = true;
            return Some(Item::Bad {
                reason: format!("a Content-Length of {length} is over the limit of {MAX_BODY} bytes"),
                bytes: Vec::new(),
            });
        }
        // Fits in usize: MAX_BODY does.
        let end = body_start + usize::try_from(length).unwrap_or(usize::MAX - body_start);
        if self.buf.len() >= end {
            self.scanned = 0;
            let body = &self.buf[body_start..end];
            let Err(err) = serde_json::from_slice::<IgnoredAny>(body) else {
                let body = body.to_vec();
                self.buf.drain(..end);
                return Some(Item::Body(body));
            };
            if let Some(at) = find_frame(body, 0) {
                return Some(self.cut_at_embedded_frame(body_start, at, format!("parse error: {err}")));
            }
            // A whole JSON value followed by what may be the next header: the length was a little too long.
            if let Peek::Value(value_end) = json_value_at(body, 0) {
                let rest = &self.buf[body_start + value_end..];
                let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
                if !matches!(parse_headers(rest), Headers::Bad { .. }) {
                    let reason = format!("a body shorter than its Content-Length of {length}");
                    return Some(self.cut_at_embedded_frame(body_start, value_end, reason));
                }
            }
            let item = if err.is_eof() {
                // The body was cut short: its rest follows, so the id may be read from there, and the rest is
                // dropped up to the next header.
                self.resync = true;
                let bytes = self.buf[body_start..self.buf.len().min(body_start + MAX_PEEK)].to_vec();
                let reason = format!("parse error: {err} (is the Content-Length of {length} shorter than the body?)");
                Item::Bad { reason, bytes }
            } else {
                Item::Bad {
                    reason: format!("parse error: {err}"),
                    bytes: body.to_vec(),
                }
            };
            self.buf.drain(..end);
            return Some(item);
        }
        let from = self.scanned.saturating_sub(64);
        if let Some(at) = find_frame(&self.buf[body_start..], from) {
            self.scanned = 0;
            let reason = format!("a body shorter than its Content-Length of {length}");
            return Some(self.cut_at_embedded_frame(body_start, at, reason));
        }
        self.scanned = self.buf.len() - body_start;
        if eof {
            self.scanned = 0;
            let reason = format!("end of input inside a body of {length} bytes");
            return Some(self.take_bad(reason, Some(body_start)));
        }
        None
    }

    /// A body that holds the start of another frame at `at`: the body up to there is the bad message.
    fn cut_at_embedded_frame(&mut self, body_start: usize, at: usize, reason: String) -> Item {
        let bytes = self.buf[body_start..body_start + at].to_vec();
        self.buf.drain(..body_start + at);
        Item::Bad { reason, bytes }
    }

    fn broken_headers(&mut self, reason: String, end: Option<usize>, eof: bool) -> Option<Item> {
        if let Some(end) = end {
            // Garbage glued to the front of a good frame (`abcContent-Length: 5`) spoils its header block: the good
            // frame starts at its header line.
            if let Some(at) = find_frame(&self.buf[..end], 1) {
                let bytes: Vec<u8> = self.buf.drain(..at).collect();
                return Some(Item::Bad { reason, bytes });
            }
            // The block ends: a JSON body may follow, carrying the id to answer.
            return match json_value_at(&self.buf, end) {
                Peek::Value(value_end) => {
                    let bytes = self.buf[end..value_end].to_vec();
                    self.buf.drain(..value_end);
                    Some(Item::Bad { reason, bytes })
                }
                Peek::Wait if !eof && self.buf.len() - end < MAX_PEEK => None,
                Peek::Wait | Peek::NotJson => {
                    self.buf.drain(..end);
                    self.resync = true;
                    Some(Item::Bad {
                        reason,
                        bytes: Vec::new(),
                    })
                }
            };
        }
        // No header block at all: a message sent without headers, or bytes that are no message.
        if matches!(self.buf.first(), Some(b'{' | b'[')) {
            match json_value_at(&self.buf, 0) {
                Peek::Value(value_end) => {
                    let bytes = self.buf[..value_end].to_vec();
                    self.buf.drain(..value_end);
                    return Some(Item::Bad {
                        reason: "a message without a Content-Length header".to_owned(),
                        bytes,
                    });
                }
                Peek::Wait if !eof && self.buf.len() < MAX_PEEK => return None,
                Peek::Wait | Peek::NotJson => {}
            }
        }
        if let Some(at) = find_mark(&self.buf, 1) {
            let bytes: Vec<u8> = self.buf.drain(..at).collect();
            return Some(Item::Bad { reason, bytes });
        }
        if eof || self.buf.len() > MAX_PEEK {
            let bytes: Vec<u8> = self.buf.drain(..).collect();
            self.resync = true;
            return Some(Item::Bad { reason, bytes });
        }
        None
    }

    /// Everything from `from` on (or from the start) is one bad message.
    fn take_bad(&mut self, reason: String, from: Option<usize>) -> Item {
        let bytes = self.buf[from.unwrap_or(0)..].to_vec();
        self.buf.clear();
        Item::Bad { reason, bytes }
    }
}

enum Peek {
    /// A whole JSON value, ending here.
    Value(usize),
    /// Nothing yet, or the start of a value.
    Wait,
    NotJson,
}

fn json_value_at(buf: &[u8], at: usize) -> Peek {
    let mut values = serde_json::Deserializer::from_slice(&buf[at..]).into_iter::<IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => Peek::Value(at + values.byte_offset()),
        None => Peek::Wait,
        Some(Err(err)) if err.is_eof() => Peek::Wait,
        Some(Err(_)) => Peek::NotJson,
    }
}

fn parse_headers(buf: &[u8]) -> Headers {
    let mut pos = 0;
    let mut length: Option<Result<u64, String>> = None;
    let mut problem: Option<String> = None;
    while let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') {
        let raw = &buf[pos..pos + nl];
        let end = pos + nl + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or_else(|| {
            problem.get_or_insert_with(|| "a header line that does not end with CR LF".to_owned());
            raw
        });
        if line.is_empty() {
            if let Some(reason) = problem {
                return Headers::Bad { reason, end: Some(end) };
            }
            return match length {
                Some(Ok(length)) => Headers::Complete {
                    body_start: end,
                    length,
                },
                Some(Err(reason)) => Headers::Bad { reason, end: Some(end) },
                None => Headers::Bad {
                    reason: "a header block without Content-Length".to_owned(),
                    end: Some(end),
                },
            };
        }
        let Some((name, value)) = split_header(line) else {
            return Headers::Bad {
                reason: "bytes that are not a header".to_owned(),
                end: None,
            };
        };
        if name.eq_ignore_ascii_case(b"content-length") {
            let parsed = parse_length(value);
            if matches!((&length, &parsed), (Some(Ok(a)), Ok(b)) if a != b) {
                problem.get_or_insert_with(|| "two different Content-Length headers".to_owned());
            }
            length = Some(parsed);
        }
        pos = end;
        if pos > MAX_HEADER {
            break;
        }
    }
    if buf.len() > MAX_HEADER {
        return Headers::Bad {
            reason: format!("a header block longer than {MAX_HEADER} bytes"),
            end: None,
        };
    }
    if could_be_header(&buf[pos..]) {
        Headers::Incomplete
    } else {
        Headers::Bad {
            reason: "bytes that are not a header".to_owned(),
            end: None,
        }
    }
}

fn split_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    let valid = !name.is_empty() && name.iter().all(|&b| is_token(b)) && value.iter().all(|&b| is_value(b));
    valid.then_some((name, value))
}

fn parse_length(value: &[u8]) -> Result<u64, String> {
    let text = String::from_utf8_lossy(value);
    let digits = text.trim_matches([' ', '\t']);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: only overflow can fail, and that is over any limit.
        return Ok(digits.parse().unwrap_or(u64::MAX));
    }
    Err(format!("a Content-Length that is not a number: {digits:?}"))
}

/// Whether `partial` (a line without its end yet) may still turn out to be a header line.
fn could_be_header(partial: &[u8]) -> bool {
    let partial = partial.strip_suffix(b"\r").unwrap_or(partial);
    match partial.iter().position(|&b| b == b':') {
        Some(colon) => split_header(partial).is_some() && colon > 0,
        None => partial.iter().all(|&b| is_token(b)),
    }
}

/// RFC 9110's `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_value(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// The first `content-length:` (any case) at or after `from`.
fn find_mark(buf: &[u8], from: usize) -> Option<usize> {
    if buf.len() < from + MARK.len() {
        return None;
    }
    buf[from..]
        .windows(MARK.len())
        .position(|w| w.eq_ignore_ascii_case(MARK))
        .map(|at| at + from)
}

/// The first `content-length:` at or after `from` that is followed by digits and CR LF: a header line that no JSON
/// text can contain.
fn find_frame(buf: &[u8], mut from: usize) -> Option<usize> {
    while let Some(at) = find_mark(buf, from) {
        let rest = &buf[at + MARK.len()..];
        let rest = trim_start(rest);
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && trim_start(&rest[digits..]).starts_with(b"\r\n") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let blank = bytes.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    &bytes[blank..]
}

#[cfg(test)]
mod tests;
