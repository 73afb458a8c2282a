//! The fuzz targets' bodies, one function per target, shared by the libFuzzer binaries (`fuzz_targets/`) and the
//! stable-toolchain harness (`tests/harness.rs`).
//!
//! The daemon's input code is compiled here from its own source files rather than through a library: `pytestd` is a
//! binary crate, and the few files that split and check its input depend on nothing else of it but each other (and
//! on `crate::` paths, which the module names below reproduce). Exposing them as a `[lib]` would make them public
//! API of the daemon for the fuzzer's sake alone. The result server's line splitter is taken from the runner the
//! same way; the types (`pytestd-protocol`) and settings (`pytestd-runner`) are ordinary dependencies.

// Each target uses only part of what these files hold. They are formatted where they live: `cargo fmt` here would
// look for their `#[cfg(test)]` modules beside this file.
#[allow(dead_code)]
#[rustfmt::skip]
#[path = "../../crates/pytestd/src/envelope.rs"]
mod envelope;
#[allow(dead_code)]
#[rustfmt::skip]
#[path = "../../crates/pytestd/src/errors.rs"]
mod errors;
#[allow(dead_code)]
#[rustfmt::skip]
#[path = "../../crates/pytestd/src/framing.rs"]
mod framing;
#[allow(dead_code)]
#[rustfmt::skip]
#[path = "../../crates/runner/src/process/lines.rs"]
mod lines;
#[allow(dead_code)]
#[rustfmt::skip]
#[path = "../../crates/pytestd/src/params.rs"]
mod params;
#[allow(dead_code)]
#[rustfmt::skip]
#[path = "../../crates/pytestd/src/stdin.rs"]
mod stdin;

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use pytestd_protocol::config::{ConfigurationChange, Settings};
use pytestd_protocol::discovery::DiscoverTestsParams;
use pytestd_protocol::plugin::PluginMessage;
use pytestd_protocol::runs::{CancelRunParams, ListRunsParams, RunTestsParams};
use pytestd_runner::RunnerConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, BufReader, ReadBuf};
use tower_lsp_server::jsonrpc::{Request, Response};

/// Separates the pieces of garbage in the framing target's structured mode.
const SEPARATOR: u8 = 0xA7;

/// Standard input as the daemon filters it, fed in chunks of 1 to 256 bytes.
///
/// The first byte picks the chunk size, the second the mode:
/// - even: the rest is raw input. Whatever it is, every frame handed on to tower-lsp-server must be one that its
///   codec decodes (so that it keeps reading), and every refusal must carry a JSON-RPC error code.
/// - odd: the rest is pieces of garbage (split at 0xA7), each followed by a good `listRuns` frame. A piece without
///   `content-length` in it cannot announce a body that swallows the next frame, so every good frame must come
///   through whole, exactly once and in order, whatever the garbage and the chunking.
pub fn framing(data: &[u8]) {
    let [chunk, mode, rest @ ..] = data else {
        return;
    };
    let chunk = usize::from(*chunk) + 1;
    if mode % 2 == 0 {
        check_frames(&guarded(rest, chunk));
        return;
    }
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for (i, piece) in rest.split(|&b| b == SEPARATOR).enumerate() {
        if !contains_ignoring_case(piece, b"content-length") {
            input.extend_from_slice(piece);
        }
        let body = format!(r#"{{"jsonrpc":"2.0","id":"ok-{i}","method":"listRuns","params":{{}}}}"#);
        input.extend_from_slice(&envelope::frame(body.as_bytes()));
        expected.push(body.into_bytes());
    }
    let passed: Vec<Vec<u8>> = check_frames(&guarded(&input, chunk))
        .into_iter()
        .filter(|body| {
            !body
                .windows(envelope::MALFORMED_METHOD.len())
                .any(|w| w == envelope::MALFORMED_METHOD.as_bytes())
        })
        .collect();
    assert!(
        passed == expected,
        "good frames lost or changed: passed {:?}",
        passed.iter().map(|b| String::from_utf8_lossy(b)).collect::<Vec<_>>()
    );
}

/// One result connection's bytes as the result server reads them: split into lines by the runner's `LineReader`
/// (with a small buffer and line limit, both picked by the first byte, so that cuts and refills happen), each line
/// parsed as a `PluginMessage`.
///
/// Checks: no line is longer than the limit allows (invalid UTF-8 replaced, the cut marker added); the count of
/// complete bytes, from which a dead pytest's journal is replayed, always ends at a newline of the input and, at the
/// end, at its last one; a message that parses serializes to JSON that parses back to the same message.
pub fn plugin_lines(data: &[u8]) {
    let [config, input @ ..] = data else {
        return;
    };
    let capacity = usize::from(config & 0x0f) + 1;
    let limit = (usize::from(config >> 4) + 1) * 64;
    block_on(async {
        let mut reader = lines::LineReader::new(BufReader::with_capacity(capacity, input), limit);
        let mut last_complete = 0;
        // Reading a slice cannot fail.
        while let Some(line) = reader.next_line().await.unwrap_or(None) {
            // Each byte kept may become U+FFFD (3 bytes), and a cut line gets a marker of fewer than 32.
            assert!(
                line.len() <= 3 * limit + 32,
                "a line of {} bytes with a limit of {limit}",
                line.len()
            );
            let complete = usize::try_from(reader.complete_bytes()).unwrap_or(usize::MAX);
            assert!(
                complete >= last_complete && complete <= input.len(),
                "complete bytes {complete}"
            );
            assert!(
                complete == 0 || input[complete - 1] == b'\n',
                "complete bytes {complete} not after a newline"
            );
            last_complete = complete;
            if let Ok(message) = serde_json::from_str::<PluginMessage>(&line) {
                round_trip(&message);
            }
        }
        let end = input.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
        assert_eq!(usize::try_from(reader.complete_bytes()).ok(), Some(end));
    });
}

/// Any JSON value as the params of each of pytestd's requests, as `initializationOptions` and as a configuration
/// change, through the daemon's own `params::parse` and the runner's settings validation.
///
/// Checks: nothing panics; a refusal is an invalid-params error; whatever is accepted serializes to JSON that is
/// accepted again as the same value.
pub fn params(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    accepted::<RunTestsParams>(&value);
    accepted::<DiscoverTestsParams>(&value);
    accepted::<CancelRunParams>(&value);
    accepted::<ListRunsParams>(&value);
    if let Some(settings) = accepted::<Settings>(&value) {
        if settings.validate().is_ok() {
            // What `initialize` and `didChangeConfiguration` do with valid settings; a refusal is fine, a panic not.
            let _ = RunnerConfig::default().with(&settings);
        }
    }
    if let Some(ConfigurationChange {
        pytestd: Some(settings),
    }) = accepted::<ConfigurationChange>(&value)
    {
        let _ = settings.validate();
    }
}

/// `value` parsed as the daemon parses a request's params; checked to round-trip when accepted.
fn accepted<T: DeserializeOwned + Serialize + std::fmt::Debug>(value: &Value) -> Option<T> {
    match params::parse::<T>(value.clone()) {
        Ok(parsed) => {
            round_trip(&parsed);
            Some(parsed)
        }
        Err(err) => {
            assert_eq!(err.code.code(), -32602, "{err:?}");
            None
        }
    }
}

/// `value` serialized and parsed back must serialize the same (numbers compared as numbers: a float may come
/// back a last bit off, which is serde_json's, not the protocol's).
fn round_trip<T: DeserializeOwned + Serialize + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap_or_else(|err| panic!("{value:?} does not serialize: {err}"));
    let again: T = serde_json::from_str(&json).unwrap_or_else(|err| panic!("{json} does not parse back: {err}"));
    let (first, second) = (to_value(value), to_value(&again));
    assert!(same(&first, &second), "{json} changed on a round trip: {second}");
}

fn to_value<T: Serialize + std::fmt::Debug>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|err| panic!("{value:?} does not serialize: {err}"))
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || ((x - y) / x.abs().max(y.abs())).abs() < 1e-12,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// What the daemon's stdin guard hands on to tower-lsp-server, for `input` read in chunks of `chunk` bytes.
fn guarded(input: &[u8], chunk: usize) -> Vec<u8> {
    let (mut guard, _eof, _observed) = stdin::FrameGuard::new(Chunked { rest: input, chunk });
    let mut out = Vec::new();
    // Reading from memory cannot fail.
    block_on(guard.read_to_end(&mut out)).unwrap_or_default();
    out
}

/// A JSON-RPC message as tower-lsp-server's codec decodes one (its `Message` is private; this is its shape).
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Message {
    Response(Response),
    Request(Request),
}

/// Splits the guard's output into frames and checks each as tower-lsp-server's codec would read it: a
/// `Content-Length` header, that many bytes, valid UTF-8, a JSON-RPC message; a refusal names a JSON-RPC error
/// code. Returns the bodies.
fn check_frames(mut out: &[u8]) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    while !out.is_empty() {
        let header_end = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no header block: {:?}", String::from_utf8_lossy(out)));
        let header = std::str::from_utf8(&out[..header_end]).unwrap_or_default();
        let length: usize = header
            .strip_prefix("Content-Length: ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a header that is not a Content-Length: {header:?}"));
        let body = &out[header_end + 4..header_end + 4 + length];
        let text = std::str::from_utf8(body).unwrap_or_else(|_| panic!("a body that is not UTF-8: {body:?}"));
        assert!(
            serde_json::from_str::<Message>(text).is_ok(),
            "tower-lsp-server cannot decode this body: {text}"
        );
        if let Ok(request) = serde_json::from_str::<Request>(text) {
            if request.method() == envelope::MALFORMED_METHOD {
                let params = request.params().cloned().unwrap_or_default();
                let code = errors::malformed(&params).code.code();
                assert!(
                    (-32700..=-32600).contains(&code) && params["code"].as_i64() == Some(code),
                    "a refusal without a JSON-RPC error code: {text}"
                );
            }
        }
        bodies.push(body.to_vec());
        out = &out[header_end + 4 + length..];
    }
    bodies
}

fn contains_ignoring_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// Input from memory, at most `chunk` bytes a read, as a pipe delivers what the client wrote in pieces.
struct Chunked<'a> {
    rest: &'a [u8],
    chunk: usize,
}

impl AsyncRead for Chunked<'_> {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let n = self.chunk.min(self.rest.len()).min(buf.remaining());
        buf.put_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Poll::Ready(Ok(()))
    }
}

/// Runs a future that never waits on anything outside memory (so it is ready at its first poll, or soon after).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}
