//! What to do with one message body before tower-lsp-server sees it: pass it on, or answer it with an error under
//! the request's own id whenever that id can be read.
//!
//! tower-lsp-server answers a body it cannot decode with id `null`, and a `$/` request it does not know with
//! nothing at all; so such bodies are turned here into a request to a private method that answers with the error
//! chosen below. A string holding a lone surrogate escape (`"\ud800"`) is refused with -32602 naming the field:
//! replacing it with U+FFFD would silently run or select something other than what the client named.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Request, Response};

/// The private method that refused input is turned into.
pub(crate) const MALFORMED_METHOD: &str = "pytestd/$malformed";

/// JSON-RPC's code for input that is not a readable message.
pub(crate) const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

/// The lifecycle messages a passing body is, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Lifecycle {
    pub(crate) shutdown: bool,
    pub(crate) exit: bool,
}

/// What becomes of a body.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    /// A JSON-RPC message tower-lsp-server handles itself.
    Pass(Lifecycle),
    /// Answered with this error under `id` (`null` when it cannot be read).
    Refuse { id: Value, code: i64, message: String },
}

/// A JSON-RPC message as tower-lsp-server's codec reads one: its own `Message` type is private, and this is its
/// shape. Being untagged, it is read from a buffered copy of the whole body, which reads every string, also of fields
/// that neither a request nor a response has.
#[derive(Deserialize)]
#[serde(untagged)]
enum Message {
    Response(#[allow(dead_code)] Response),
    Request(Request),
}

/// Decides what becomes of a well-framed body.
pub(crate) fn classify(body: &[u8]) -> Verdict {
    // Only what tower-lsp-server can read is passed on: a body it cannot read ends its input for good (tokio-util's
    // reader stops at the first decoding error). It reads the body as UTF-8, then as a `Message`; reading it here as
    // a `Request` alone would let through a bad byte or a lone surrogate in a field the request does not have.
    let message = std::str::from_utf8(body)
        .ok()
        .and_then(|text| serde_json::from_str::<Message>(text).ok());
    match message {
        Some(Message::Request(request)) => {
            let (method, id) = (request.method(), request.id());
            if let (true, Some(id)) = (method.starts_with("$/") && method != "$/cancelRequest", id) {
                return Verdict::Refuse {
                    id: json!(id),
                    code: METHOD_NOT_FOUND,
                    message: format!("method not found: {method}"),
                };
            }
            return Verdict::Pass(Lifecycle {
                shutdown: method == "shutdown" && id.is_some(),
                exit: method == "exit" && id.is_none(),
            });
        }
        Some(Message::Response(_)) => return Verdict::Pass(Lifecycle::default()),
        None => {}
    }
    if std::str::from_utf8(body).is_err() {
        return Verdict::Refuse {
            id: scan_id(body),
            code: PARSE_ERROR,
            message: "parse error: the message is not valid UTF-8".to_owned(),
        };
    }
    let id = scan_id(body);
    if let Err(err) = serde_json::from_slice::<IgnoredAny>(body) {
        return Verdict::Refuse {
            id,
            code: PARSE_ERROR,
            message: format!("parse error: {err}"),
        };
    }
    // Valid JSON that is not a message: find out where, to name the field.
    let mut de = serde_json::Deserializer::from_slice(body);
    if let Err(err) = serde_path_to_error::deserialize::<_, Value>(&mut de) {
        // IgnoredAny took the escape's hex digits, so a failing escape here is a surrogate without its pair.
        let inner = err.inner().to_string();
        if inner.contains("surrogate") || inner.contains("hex escape") {
            return Verdict::Refuse {
                id,
                code: INVALID_PARAMS,
                message: format!(
                    "invalid params: {}: a lone surrogate escape (such as \\ud800) is not a Unicode character; \
                     strings must be valid UTF-16 in JSON escapes",
                    err.path()
                ),
            };
        }
    }
    Verdict::Refuse {
        id,
        code: INVALID_REQUEST,
        message: "invalid request: not a JSON-RPC 2.0 message".to_owned(),
    }
}

/// The frame that makes tower-lsp-server answer `id` with `code` and `message`.
pub(crate) fn refusal(id: &Value, code: i64, message: &str) -> Vec<u8> {
    let body = json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": MALFORMED_METHOD,
        "params": { "code": code, "message": message },
    });
    frame(body.to_string().as_bytes())
}

/// `body` with its `Content-Length` header.
pub(crate) fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The top-level `"id"` of a JSON object, read leniently from the start of `bytes`: the text may be cut short,
/// followed by other bytes, or broken after the id. `null` unless it is an integer or a valid string, the ids
/// JSON-RPC allows.
pub(crate) fn scan_id(bytes: &[u8]) -> Value {
    Scanner { bytes, pos: 0 }.top_level_id().unwrap_or(Value::Null)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn top_level_id(&mut self) -> Option<Value> {
        self.expect(b'{')?;
        loop {
            self.skip_blank();
            let key_start = self.pos;
            self.skip_string()?;
            let key = &self.bytes[key_start..self.pos];
            self.expect(b':')?;
            self.skip_blank();
            let value_start = self.pos;
            self.skip_value()?;
            if key == b"\"id\"" {
                let value: Value = serde_json::from_slice(&self.bytes[value_start..self.pos]).ok()?;
                return (value.is_i64() || value.is_string()).then_some(value);
            }
            self.expect(b',')?;
        }
    }

    fn skip_blank(&mut self) {
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_blank();
        (self.bytes.get(self.pos) == Some(&byte)).then(|| self.pos += 1)
    }

    fn skip_string(&mut self) -> Option<()> {
        self.expect(b'"')?;
        loop {
            match self.bytes.get(self.pos)? {
                b'"' => {
                    self.pos += 1;
                    return Some(());
                }
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
    }

    /// Skips one value; containers by counting brackets outside strings. Fails at the end of the bytes.
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match *self.bytes.get(self.pos)? {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    self.pos += 1;
                }
                b',' | b'}' | b']' if depth == 0 => return Some(()),
                _ => self.pos += 1,
            }
            if depth == 0 && matches!(self.bytes.get(self.pos), Some(b',' | b'}' | b']')) {
                return Some(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_cut_broken_and_trailing_text() {
        assert_eq!(scan_id(br#"{"jsonrpc":"2.0","id":7,"method":"x"}"#), json!(7));
        assert_eq!(
            scan_id(br#" { "params": {"id": 1, "a": [1, {"id": 2}]}, "id" : "s" ,"#),
            json!("s")
        );
        assert_eq!(scan_id(br#"{"jsonrpc":"2.0","id":"cut"#), Value::Null);
        assert_eq!(scan_id(br#"{"jsonrpc":"2.0","id":"x\"y", oops"#), json!("x\"y"));
        assert_eq!(scan_id(br#"{"id":1.5}"#), Value::Null);
        assert_eq!(scan_id(br#"{"id":"\ud800"}"#), Value::Null);
        assert_eq!(scan_id(b"garbage"), Value::Null);
    }

    #[test]
    fn a_lone_surrogate_in_params_is_invalid_params_under_the_requests_id() {
        let body = br#"{"jsonrpc":"2.0","id":3,"method":"runTests","params":{"cwd":"\ud800"}}"#;
        let Verdict::Refuse { id, code, message } = classify(body) else {
            panic!("passed");
        };
        assert_eq!((id, code), (json!(3), -32602));
        assert!(
            message.contains("params.cwd") && message.contains("surrogate"),
            "{message}"
        );
    }

    #[test]
    fn unknown_dollar_requests_with_an_id_are_method_not_found_and_cancel_notifications_pass() {
        let verdict = classify(br#"{"jsonrpc":"2.0","id":"a","method":"$/foo"}"#);
        assert!(matches!(verdict, Verdict::Refuse { code: -32601, .. }), "{verdict:?}");
        let cancel = br#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#;
        assert_eq!(classify(cancel), Verdict::Pass(Lifecycle::default()));
        let notification = br#"{"jsonrpc":"2.0","method":"$/foo"}"#;
        assert_eq!(classify(notification), Verdict::Pass(Lifecycle::default()));
    }

    #[test]
    fn json_that_is_not_json_rpc_is_an_invalid_request_under_its_id() {
        let verdict = classify(br#"{"id": 4, "a": 1}"#);
        assert_eq!(
            verdict,
            Verdict::Refuse {
                id: json!(4),
                code: -32600,
                message: "invalid request: not a JSON-RPC 2.0 message".to_owned()
            }
        );
        assert!(matches!(classify(b"{oops"), Verdict::Refuse { code: -32700, .. }));
    }

    #[test]
    fn invalid_utf8_is_a_parse_error_under_the_id_even_in_a_field_nobody_reads() {
        for body in [
            &b"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"listRuns\",\"params\":{},\"extra\":\"\xff\"}"[..],
            b"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"listRuns\",\"params\":{\"x\":\"\xfe\"}}",
        ] {
            let verdict = classify(body);
            assert!(
                matches!(&verdict, Verdict::Refuse { id, code: -32700, .. } if *id == json!(5)),
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn a_lone_surrogate_in_a_field_no_message_has_is_refused_too() {
        // tower-lsp-server reads every string of a body, so this one would end its input if it were passed on.
        let body = br#"{"jsonrpc":"2.0","id":6,"method":"listRuns","params":{},"x":"\ud800"}"#;
        let verdict = classify(body);
        assert!(
            matches!(&verdict, Verdict::Refuse { id, code: -32602, .. } if *id == json!(6)),
            "{verdict:?}"
        );
    }

    #[test]
    fn shutdown_and_exit_are_noticed() {
        let shutdown = classify(br#"{"jsonrpc":"2.0","id":9,"method":"shutdown"}"#);
        assert_eq!(
            shutdown,
            Verdict::Pass(Lifecycle {
                shutdown: true,
                exit: false
            })
        );
        let exit = classify(br#"{"jsonrpc":"2.0","method":"exit"}"#);
        assert_eq!(
            exit,
            Verdict::Pass(Lifecycle {
                shutdown: false,
                exit: true
            })
        );
    }
}
