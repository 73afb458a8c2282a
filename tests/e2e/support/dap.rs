//! A minimal Debug Adapter Protocol client: enough of DAP to attach to debugpy, set breakpoints, see where a
//! thread stopped and let it go on. Messages are framed like LSP (`Content-Length`), over TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A DAP connection to a debug adapter.
pub struct Dap {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    seq: i64,
}

impl Dap {
    /// Connects to `host`:`port`; every later read waits at most `timeout`.
    pub fn connect(host: &str, port: u16, timeout: Duration) -> Self {
        let stream = TcpStream::connect((host, port)).unwrap_or_else(|e| panic!("connect to {host}:{port}: {e}"));
        stream.set_read_timeout(Some(timeout)).expect("set the read timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone the stream"));
        Self {
            writer: stream,
            reader,
            seq: 0,
        }
    }

    /// Sends a request.
    pub fn request(&mut self, command: &str, arguments: Value) {
        self.seq += 1;
        let body = json!({"seq": self.seq, "type": "request", "command": command, "arguments": arguments});
        let body = body.to_string();
        write!(self.writer, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write a DAP request");
    }

    /// Reads messages until one matches, within `timeout`; panics naming `what` otherwise.
    pub fn wait(&mut self, what: &str, timeout: Duration, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let message = self.read();
            if matches(&message) {
                return message;
            }
        }
        panic!("no DAP {what} within {timeout:?}");
    }

    /// Waits for the response to `command`.
    pub fn response(&mut self, command: &str, timeout: Duration) -> Value {
        self.wait(&format!("response to {command}"), timeout, |m| {
            m["type"] == "response" && m["command"] == command
        })
    }

    /// Waits for the event `event`.
    pub fn event(&mut self, event: &str, timeout: Duration) -> Value {
        self.wait(&format!("event {event}"), timeout, |m| {
            m["type"] == "event" && m["event"] == event
        })
    }

    /// Attaches as VS Code does: initialize, attach, breakpoints in `source` at `lines`, configurationDone.
    pub fn attach_with_breakpoints(&mut self, source: &str, lines: &[u32], timeout: Duration) {
        self.request(
            "initialize",
            json!({"adapterID": "debugpy", "clientID": "pytestd-tests", "linesStartAt1": true,
                   "columnsStartAt1": true, "pathFormat": "path"}),
        );
        self.response("initialize", timeout);
        self.request("attach", json!({"justMyCode": true}));
        self.event("initialized", timeout);
        let breakpoints: Vec<Value> = lines.iter().map(|line| json!({"line": line})).collect();
        self.request(
            "setBreakpoints",
            json!({"source": {"path": source}, "breakpoints": breakpoints}),
        );
        let set = self.response("setBreakpoints", timeout);
        assert!(
            set["body"]["breakpoints"]
                .as_array()
                .is_some_and(|b| b.iter().all(|b| b["verified"] == true)),
            "breakpoints not verified: {set}"
        );
        self.request("configurationDone", json!({}));
    }

    /// The innermost frame of the stopped thread `thread_id`: (path, line).
    pub fn top_frame(&mut self, thread_id: &Value, timeout: Duration) -> (String, u64) {
        self.request("stackTrace", json!({"threadId": thread_id}));
        let trace = self.response("stackTrace", timeout);
        let frame = &trace["body"]["stackFrames"][0];
        (
            frame["source"]["path"].as_str().unwrap_or_default().to_owned(),
            frame["line"].as_u64().unwrap_or_default(),
        )
    }

    fn read(&mut self) -> Value {
        let mut length = None;
        loop {
            let mut line = String::new();
            let read = self.reader.read_line(&mut line).expect("read a DAP header");
            assert!(read > 0, "the debug adapter closed the connection");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length:") {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("a DAP message without Content-Length")];
        self.reader.read_exact(&mut body).expect("read a DAP body");
        serde_json::from_slice(&body).expect("a DAP body is JSON")
    }
}
