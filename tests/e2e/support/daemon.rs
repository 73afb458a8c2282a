//! `Daemon`: one pytestd process under test, spoken to over its stdio exactly as an editor would.
//!
//! Every message the daemon writes is kept in arrival order, so tests can both wait for a message and afterwards
//! assert on the order of everything that came before it.

use std::fs;
use std::io::Write;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use tempfile::NamedTempFile;

use super::framing::{spawn_reader, write_frame, Frame};
use super::procs::{self, Sampler, MARK_VAR};
use super::{brief, fixture, test_python, REPLY};

/// A JSON-RPC error object from a response.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorObj {
    /// The error code (`-32602`, …).
    pub code: i64,
    /// The human-readable message.
    pub message: String,
    /// Extra data, when the daemon sent any.
    pub data: Option<Value>,
}

/// A running pytestd with piped stdin/stdout; stderr goes to a temporary log printed when a test fails.
pub struct Daemon {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: Receiver<Frame>,
    messages: Vec<Value>,
    eof: bool,
    next_id: i64,
    stderr_log: NamedTempFile,
    marker: String,
    /// The daemon's cache directory (`XDG_CACHE_HOME`): what it remembers of projects stays with this test.
    _cache: tempfile::TempDir,
}

impl Daemon {
    /// Spawns pytestd (protocol on stdio) without initializing it.
    pub fn spawn() -> Self {
        let stderr_log = NamedTempFile::new().expect("create the daemon's stderr log");
        let marker = uuid::Uuid::new_v4().to_string();
        let cache = tempfile::tempdir().expect("create the daemon's cache directory");
        let mut child = Command::new(env!("CARGO_BIN_EXE_pytestd"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr_log.reopen().expect("reopen the stderr log"))
            // The marker tags the daemon and, by inheritance, every process it starts (see procs.rs).
            .env(MARK_VAR, &marker)
            .env("XDG_CACHE_HOME", cache.path())
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "debug".into()))
            // Concurrent runs of one fixture should not race to write bytecode into the repository.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .spawn()
            .expect("spawn pytestd");
        let stdout = child.stdout.take().expect("piped stdout");
        Daemon {
            stdin: child.stdin.take(),
            child,
            frames: spawn_reader(stdout),
            messages: Vec::new(),
            eof: false,
            next_id: 1,
            stderr_log,
            marker,
            _cache: cache,
        }
    }

    /// Spawns and initializes pytestd with the test Python and otherwise default settings.
    pub fn start() -> Self {
        Self::start_with(json!({}))
    }

    /// Spawns and initializes pytestd with `options` as `initializationOptions` (the test Python unless given).
    pub fn start_with(options: Value) -> Self {
        let mut daemon = Self::spawn();
        daemon.initialize(options);
        daemon
    }

    /// Sends `initialize` and `initialized`; returns the initialize result.
    pub fn initialize(&mut self, mut options: Value) -> Value {
        if options.get("python").is_none() {
            options["python"] = json!(test_python());
        }
        let params = json!({"processId": null, "capabilities": {}, "initializationOptions": options});
        let result = self
            .call("initialize", params, Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("initialize failed: {e:?}"));
        self.notify("initialized", json!({}));
        result
    }

    /// Asserts that no process started by this daemon's runs (grandchildren included) is alive after `timeout`.
    pub fn assert_run_processes_gone(&self, timeout: Duration) {
        procs::assert_marked_gone(&self.marker, self.child.id(), timeout);
    }

    /// The value of [`MARK_VAR`] this daemon and its runs carry.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the daemon itself (not to its runs).
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits i32"));
        kill(pid, signal).unwrap_or_else(|e| panic!("cannot send {signal} to pytestd: {e}"));
    }

    /// Starts counting this daemon's run processes continuously on another thread.
    pub fn sample_run_processes(&self) -> Sampler {
        Sampler::start(&self.marker, self.child.id())
    }

    /// How many responses to request `id` have arrived so far.
    pub fn response_count(&self, id: i64) -> usize {
        self.messages.iter().filter(|m| is_response(m) && m["id"] == id).count()
    }

    /// `runTests` params for a fixture project, tagged with the marker; no ids means the whole suite.
    pub fn run_params(&self, fixture_name: &str, test_ids: &[&str]) -> Value {
        let mut params = json!({"cwd": fixture(fixture_name), "env": {MARK_VAR: self.marker}});
        if !test_ids.is_empty() {
            params["testIds"] = json!(test_ids);
        }
        params
    }

    /// `discoverTests` params for a fixture project, tagged with the marker.
    pub fn discover_params(&self, fixture_name: &str) -> Value {
        json!({"cwd": fixture(fixture_name), "env": {MARK_VAR: self.marker}})
    }

    /// Discovers tests and returns the `discoverTests` result; panics if the response is an error.
    pub fn discover(&mut self, params: Value, timeout: Duration) -> Value {
        self.call("discoverTests", params, timeout)
            .unwrap_or_else(|e| panic!("discoverTests answered an error: {e:?}"))
    }

    /// Sends a request and returns its id.
    pub fn request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"jsonrpc": "2.0", "id": id, "method": method});
        with_params(&mut message, params);
        self.send(&message);
        id
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        let mut message = json!({"jsonrpc": "2.0", "method": method});
        with_params(&mut message, params);
        self.send(&message);
    }

    /// Sends a request and waits for its response.
    pub fn call(&mut self, method: &str, params: Value, timeout: Duration) -> Result<Value, ErrorObj> {
        let id = self.request(method, params);
        self.response(id, timeout)
    }

    /// Runs tests and returns the `runTests` result; panics if the response is an error.
    pub fn run(&mut self, params: Value, timeout: Duration) -> Value {
        self.call("runTests", params, timeout)
            .unwrap_or_else(|e| panic!("runTests answered an error: {e:?}"))
    }

    /// Writes bytes to the daemon's stdin as they are, for malformed input.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        stdin
            .write_all(bytes)
            .and_then(|()| stdin.flush())
            .expect("write to pytestd's stdin");
    }

    /// Closes the daemon's stdin (end of stream, which means exit).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits for the response to request `id`.
    pub fn response(&mut self, id: i64, timeout: Duration) -> Result<Value, ErrorObj> {
        let what = format!("the response to request {id}");
        let message = self.wait_message(&what, timeout, |m| is_response(m) && m["id"] == id);
        into_result(&message)
    }

    /// Waits for a message matching `matches` (looking at all messages so far first) and returns it.
    pub fn wait_message(&mut self, what: &str, timeout: Duration, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        let mut checked = 0;
        loop {
            if let Some(found) = self.messages[checked..].iter().find(|m| matches(m)) {
                return found.clone();
            }
            checked = self.messages.len();
            self.receive_more(what, timeout, deadline);
        }
    }

    /// Waits until `done` holds for the messages received so far; for conditions over many messages.
    pub fn wait_until_messages(&mut self, what: &str, timeout: Duration, done: impl Fn(&[Value]) -> bool) {
        let deadline = Instant::now() + timeout;
        while !done(&self.messages) {
            self.receive_more(what, timeout, deadline);
        }
    }

    /// Receives what arrives before `deadline`, failing the test if the output ended or the time is up.
    fn receive_more(&mut self, what: &str, timeout: Duration, deadline: Instant) {
        assert!(
            !self.eof,
            "pytestd closed its stdout while the test waited for {what}{}",
            self.recent()
        );
        let now = Instant::now();
        assert!(
            now < deadline,
            "timed out after {timeout:?} waiting for {what}{}",
            self.recent()
        );
        self.receive(deadline - now);
    }

    /// Waits for a notification whose method and params satisfy `matches`; returns its params.
    pub fn wait_notification(&mut self, timeout: Duration, matches: impl Fn(&str, &Value) -> bool) -> Value {
        let message = self.wait_message("a matching notification", timeout, |m| {
            is_notification(m) && matches(m["method"].as_str().unwrap_or_default(), &m["params"])
        });
        message["params"].clone()
    }

    /// Waits for notification `method` about run `run_id`; returns its params.
    pub fn wait_run_notification(&mut self, method: &str, run_id: &str, timeout: Duration) -> Value {
        let what = format!("{method} of run {run_id}");
        let message = self.wait_message(&what, timeout, |m| is_run_notification(m, method, run_id));
        message["params"].clone()
    }

    /// Params of every `method` notification about `run_id` received so far, in order.
    pub fn run_notifications(&self, method: &str, run_id: &str) -> Vec<Value> {
        self.messages
            .iter()
            .filter(|m| is_run_notification(m, method, run_id))
            .map(|m| m["params"].clone())
            .collect()
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> &[Value] {
        &self.messages
    }

    /// Waits for the daemon to exit; panics after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for pytestd") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "pytestd still running {timeout:?} after it was asked to exit"
            );
            // Keep reading, so a daemon blocked on a full stdout pipe can still get to its exit.
            self.receive(Duration::from_millis(20));
        }
    }

    /// Moves at most one frame from the reader thread into `messages`, waiting up to `timeout`.
    fn receive(&mut self, timeout: Duration) {
        match self.frames.recv_timeout(timeout) {
            Ok(Ok(message)) => self.messages.push(message),
            Ok(Err(e)) => panic!("{e}"),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                // Nothing will arrive any more; don't spin on the empty channel.
                thread::sleep(timeout.min(Duration::from_millis(20)));
            }
        }
    }

    fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("serialize a message");
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        write_frame(stdin, &body).expect("write to pytestd's stdin");
    }

    /// The last few messages, for failure messages.
    fn recent(&self) -> String {
        let start = self.messages.len().saturating_sub(12);
        let lines: Vec<String> = self.messages[start..]
            .iter()
            .map(|m| format!("\n  {}", brief(m)))
            .collect();
        format!("; last messages:{}", lines.concat())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // End of stdin is the daemon's cue to stop its runs and exit; give it the chance before forcing it.
        self.stdin.take();
        let deadline = Instant::now() + REPLY;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            eprintln!("pytestd did not exit after stdin closed; killing it");
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Never leak sleeping pytest processes into the next test, whatever went wrong.
        let left = procs::pids_with_marker(&self.marker);
        if !left.is_empty() {
            eprintln!("killing processes pytestd left behind: {}", procs::describe(&left));
            procs::kill_all(&left);
        }
        if thread::panicking() {
            let log = fs::read_to_string(self.stderr_log.path()).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(300)..].join("\n");
            eprintln!(
                "--- pytestd stderr (last {} lines) ---\n{tail}\n--- end of pytestd stderr ---",
                300
            );
        }
    }
}

/// Adds `params` to a message; `null` means none (as for `shutdown` and `exit`), so the member is left out.
fn with_params(message: &mut Value, params: Value) {
    if !params.is_null() {
        message["params"] = params;
    }
}

/// Whether `message` is a response (an id, and a result or an error; no method).
fn is_response(message: &Value) -> bool {
    message.get("method").is_none() && (message.get("result").is_some() || message.get("error").is_some())
}

/// Whether `message` is a notification (a method and no id).
fn is_notification(message: &Value) -> bool {
    message.get("method").is_some() && message.get("id").is_none()
}

fn is_run_notification(message: &Value, method: &str, run_id: &str) -> bool {
    is_notification(message) && message["method"] == method && message["params"]["runId"] == run_id
}

fn into_result(message: &Value) -> Result<Value, ErrorObj> {
    match message.get("error") {
        Some(error) => Err(ErrorObj {
            code: error["code"].as_i64().expect("error code"),
            message: error["message"].as_str().unwrap_or_default().to_owned(),
            data: error.get("data").cloned(),
        }),
        None => Ok(message["result"].clone()),
    }
}
