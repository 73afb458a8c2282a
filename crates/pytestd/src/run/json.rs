//! `--json`: newline-delimited JSON events on stdout that mirror the protocol's notifications
//! (`{"event":"testResult","runId":…,"testId":…}`), ending with `runFinished` carrying the whole result.

use std::io::Write;

use pytestd_protocol::notifications::{
    CollectionErrorNotification, RunFinished, RunOutput, RunQueued, RunStarted, TestResultNotification, TestStarted,
};
use pytestd_protocol::runs::RunTestsResult;
use pytestd_runner::RunEvent;
use serde::Serialize;
use serde_json::{json, Value};

/// Writes one run's events as JSON lines.
pub(crate) struct JsonEvents<W: Write> {
    out: W,
    run_id: String,
}

impl<W: Write> JsonEvents<W> {
    pub(crate) fn new(out: W, run_id: &str) -> Self {
        Self {
            out,
            run_id: run_id.to_owned(),
        }
    }

    /// The line for `event`, if it has one; `Finished` waits for [`JsonEvents::finished`], which has the result.
    pub(crate) fn event(&mut self, event: &RunEvent) -> std::io::Result<()> {
        let run_id = self.run_id.clone();
        match event {
            RunEvent::Queued { position } => self.emit(
                "runQueued",
                &RunQueued {
                    run_id,
                    position: *position,
                },
            ),
            RunEvent::Started { pid, args } => self.emit(
                "runStarted",
                &RunStarted {
                    run_id,
                    pid: *pid,
                    args: args.clone(),
                },
            ),
            RunEvent::TestStarted { test_id } => self.emit(
                "testStarted",
                &TestStarted {
                    run_id,
                    test_id: test_id.clone(),
                },
            ),
            RunEvent::TestResult(result) => self.emit(
                "testResult",
                &TestResultNotification {
                    run_id,
                    result: (**result).clone(),
                },
            ),
            RunEvent::Output { stream, text } => self.emit(
                "runOutput",
                &RunOutput {
                    run_id,
                    stream: *stream,
                    text: text.clone(),
                },
            ),
            RunEvent::Log(message) => self.emit("log", &json!({"runId": run_id, "message": message})),
            RunEvent::Collected { count } => self.emit("collected", &json!({"runId": run_id, "count": count})),
            RunEvent::DebugReady { host, port } => {
                self.emit("debugReady", &json!({"runId": run_id, "host": host, "port": port}))
            }
            RunEvent::CollectionError(error) => self.emit(
                "collectionError",
                &CollectionErrorNotification {
                    run_id,
                    error: (**error).clone(),
                },
            ),
            RunEvent::Discovered(_) | RunEvent::Finished { .. } => Ok(()),
        }
    }

    /// The last line: `runFinished` with the notification's fields and the whole `result`.
    pub(crate) fn finished(&mut self, result: &RunTestsResult) -> std::io::Result<()> {
        let finished = RunFinished {
            run_id: self.run_id.clone(),
            status: result.status,
            summary: result.summary,
            duration_ms: result.duration_ms,
        };
        let mut value = serde_json::to_value(finished)?;
        value["result"] = serde_json::to_value(result)?;
        self.emit("runFinished", &value)
    }

    fn emit(&mut self, name: &str, payload: &impl Serialize) -> std::io::Result<()> {
        let mut value = serde_json::to_value(payload)?;
        if let Value::Object(fields) = &mut value {
            fields.insert("event".into(), Value::from(name));
        }
        serde_json::to_writer(&mut self.out, &value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_flat_lines_named_by_event() {
        let mut out = Vec::new();
        let mut events = JsonEvents::new(&mut out, "r1");
        events
            .event(&RunEvent::TestStarted {
                test_id: "t.py::a".into(),
            })
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"event\":\"testStarted\",\"runId\":\"r1\",\"testId\":\"t.py::a\"}\n"
        );
    }
}
