//! `--json`: newline-delimited JSON events on stdout that mirror the protocol's notifications
//! (`{"event":"testResult","runId":…,"testId":…}`, with `"shard":N` in a sharded run), ending with `runFinished`
//! carrying the whole result.

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

    /// The line for `event` (from `shard` of a sharded run), if it has one; `Finished` waits for
    /// [`JsonEvents::finished`], which has the result.
    pub(crate) fn event(&mut self, shard: Option<u32>, event: &RunEvent) -> std::io::Result<()> {
        let run_id = self.run_id.clone();
        let plain = |value: Value| match shard {
            Some(shard) => {
                let mut value = value;
                value["shard"] = Value::from(shard);
                value
            }
            None => value,
        };
        match event {
            RunEvent::Queued { position } => self.emit(
                "runQueued",
                &RunQueued {
                    run_id,
                    shard,
                    position: *position,
                },
            ),
            RunEvent::Started { pid, args, warm } => self.emit(
                "runStarted",
                &RunStarted {
                    run_id,
                    shard,
                    pid: *pid,
                    args: args.clone(),
                    warm: *warm,
                },
            ),
            RunEvent::TestStarted { test_id } => self.emit(
                "testStarted",
                &TestStarted {
                    run_id,
                    shard,
                    test_id: test_id.clone(),
                },
            ),
            RunEvent::TestResult(result) => self.emit(
                "testResult",
                &TestResultNotification {
                    run_id,
                    shard,
                    result: (**result).clone(),
                },
            ),
            RunEvent::Output { stream, text } => self.emit(
                "runOutput",
                &RunOutput {
                    run_id,
                    shard,
                    stream: *stream,
                    text: text.clone(),
                },
            ),
            RunEvent::Log(message) => self.emit("log", &plain(json!({"runId": run_id, "message": message}))),
            RunEvent::Collected { count } => self.emit("collected", &plain(json!({"runId": run_id, "count": count}))),
            RunEvent::DebugReady { host, port } => {
                self.emit("debugReady", &json!({"runId": run_id, "host": host, "port": port}))
            }
            RunEvent::CollectionError(error) => self.emit(
                "collectionError",
                &CollectionErrorNotification {
                    run_id,
                    shard,
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
            .event(
                None,
                &RunEvent::TestStarted {
                    test_id: "t.py::a".into(),
                },
            )
            .unwrap();
        events.event(Some(1), &RunEvent::Log("hi".into())).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"event\":\"testStarted\",\"runId\":\"r1\",\"testId\":\"t.py::a\"}\n\
             {\"event\":\"log\",\"message\":\"hi\",\"runId\":\"r1\",\"shard\":1}\n"
        );
    }
}
