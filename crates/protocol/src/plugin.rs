//! The stream between the embedded pytest plugin and the daemon's result server.
//!
//! The plugin connects to the result server's socket, sends [`PluginMessage::Hello`] with its run id and secret
//! token, and waits for one [`ServerReply`] line. After `welcome` it sends one JSON object per line until
//! [`PluginMessage::SessionFinish`], then closes. Field names are camelCase, like the JSON-RPC surface.

use serde::{Deserialize, Serialize};

/// Environment variable holding the result server's socket path.
pub const ENV_SOCKET: &str = "PYTESTD_SOCKET";
/// Environment variable holding the run id.
pub const ENV_RUN_ID: &str = "PYTESTD_RUN_ID";
/// Environment variable holding the run's secret token.
pub const ENV_TOKEN: &str = "PYTESTD_TOKEN";
/// Environment variable that puts the plugin in discovery mode when set to `discover`.
pub const ENV_MODE: &str = "PYTESTD_MODE";
/// Environment variable naming a file with the selected test ids, one per line.
pub const ENV_SELECT_FILE: &str = "PYTESTD_SELECT_FILE";
/// Environment variable with a debug run's settings, as JSON: `{"host", "port", "waitForClientMs"}`.
pub const ENV_DEBUG: &str = "PYTESTD_DEBUG";
/// Environment variable with a coverage run's settings, as JSON: `{"dataFile", "branch", "include", "omit",
/// "perTest", "report"}`; `report` is where the controlling process writes coverage.py's JSON report.
pub const ENV_COVERAGE: &str = "PYTESTD_COVERAGE";
/// Environment variable naming the run's journal: a file the plugin maps into memory and copies every line into
/// as it queues it, so that the daemon can read what the socket did not deliver when pytest dies. Its first 8
/// bytes (little-endian) are the stream offset of the data that follows; the data are the bytes the socket carries
/// after the hello, then zeros.
pub const ENV_JOURNAL: &str = "PYTESTD_JOURNAL";
/// Environment variable that asks the plugin to name, at the end of the session, the installed modules the run
/// imported (`imports`), so the daemon's warm template for the project can preload them.
pub const ENV_RECORD_IMPORTS: &str = "PYTESTD_RECORD_IMPORTS";
/// Module name under which pytest loads the plugin (`-p <name>`).
pub const PLUGIN_MODULE: &str = "pytestd_plugin";

/// One line from the plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PluginMessage {
    /// First message: who is speaking.
    #[serde(rename_all = "camelCase")]
    Hello {
        /// The run id from the environment.
        run_id: String,
        /// The secret token from the environment.
        token: String,
        /// The plugin's process id.
        pid: u32,
        /// `pytest.__version__`.
        pytest_version: String,
    },
    /// Nodes of the collected tree (discovery mode), parents first.
    #[serde(rename_all = "camelCase")]
    Discovered {
        /// The nodes.
        nodes: Vec<crate::discovery::TestNode>,
    },
    /// Collection finished; `count` tests will run.
    #[serde(rename_all = "camelCase")]
    Collected {
        /// Number of selected test items.
        count: u64,
    },
    /// Requested test ids that matched no collected test.
    #[serde(rename_all = "camelCase")]
    NotFound {
        /// The ids, as requested (the first thousand).
        ids: Vec<String>,
        /// How many there are in all, when more than `ids` lists.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total: Option<u64>,
    },
    /// A test is about to run.
    #[serde(rename_all = "camelCase")]
    TestStarted {
        /// Its node id.
        nodeid: String,
        /// File of the test, relative to the rootdir.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// 1-based line of the test's definition.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
    },
    /// One phase of a test finished (`pytest_runtest_logreport`).
    Report(Box<PhaseReport>),
    /// A collector failed (`pytest_collectreport` with a failure).
    #[serde(rename_all = "camelCase")]
    CollectError {
        /// The collector's node id (usually a file).
        nodeid: String,
        /// pytest's description of the error.
        longrepr: String,
        /// The broken file, relative to the rootdir.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// 1-based line the error points at.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
        /// The exception in one line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// debugpy listens at `host`:`port` and waits for a client.
    #[serde(rename_all = "camelCase")]
    DebugReady {
        /// The address.
        host: String,
        /// The port.
        port: u16,
    },
    /// The run cannot go on, for a reason a person can act on (debugpy or coverage.py missing, no debugger
    /// attached in time); pytest exits next.
    #[serde(rename_all = "camelCase")]
    RunError {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// coverage.py's JSON report of the run is written at `path`.
    #[serde(rename_all = "camelCase")]
    Coverage {
        /// The report file.
        path: String,
    },
    /// A collector was skipped as a whole (a module calling `pytest.skip(allow_module_level=True)`).
    #[serde(rename_all = "camelCase")]
    CollectSkip {
        /// The collector's node id.
        nodeid: String,
        /// The skip reason.
        reason: String,
    },
    /// pytest recorded a warning.
    Warning(crate::runs::Warning),
    /// A test called `os._exit`: the interpreter ends now, with every earlier line already sent.
    #[serde(rename_all = "camelCase")]
    Exiting {
        /// The exit code passed to `os._exit`.
        code: i32,
    },
    /// The modules of the installation (standard library, site-packages) the run had imported by the end of its
    /// session, in import order; sent before `sessionFinish` when [`ENV_RECORD_IMPORTS`] is set.
    #[serde(rename_all = "camelCase")]
    Imports {
        /// Full module names.
        modules: Vec<String>,
    },
    /// pytest's session ended.
    #[serde(rename_all = "camelCase")]
    SessionFinish {
        /// pytest's exit status.
        exit_status: i32,
    },
}

/// The raw facts of one phase report; the daemon turns a test's reports into one result.
///
/// The plugin leaves out passing setup and call phases with nothing to tell (their time is carried by the next
/// report of the test), so a phase with no report passed. The teardown report is always sent: it ends the test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseReport {
    /// Node id of the test.
    pub nodeid: String,
    /// `setup`, `call` or `teardown`.
    pub when: String,
    /// pytest's raw outcome: `passed`, `failed` or `skipped`.
    pub outcome: String,
    /// The xfail reason, when the report carries `wasxfail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasxfail: Option<String>,
    /// Short message: the crash line of a failure, the reason of a skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// pytest's full failure text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longrepr: Option<String>,
    /// Seconds spent in this phase and in earlier passing phases the plugin did not send.
    #[serde(default)]
    pub duration: f64,
    /// When this report is a subtest's (`subtests` fixture, `unittest` `subTest`): how pytest describes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtest: Option<String>,
    /// Captured stdout that earlier phases of this test did not send yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    /// Captured stderr that earlier phases of this test did not send yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// Captured log records of this test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// The failure's traceback frames, outermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<crate::runs::Frame>,
    /// The innermost frame inside the rootdir.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_location: Option<crate::runs::Location>,
    /// The right side of a failed `==` assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The left side of a failed `==` assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

/// The result server's one-line answer to `hello`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ServerReply {
    /// The run id and token match a live run: go on.
    Welcome,
    /// The connection is not accepted; the plugin stops the session.
    Refused {
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_plugins_lines() {
        let hello: PluginMessage =
            serde_json::from_str(r#"{"type":"hello","runId":"r","token":"t","pid":7,"pytestVersion":"9.0.0"}"#)
                .unwrap();
        assert!(matches!(hello, PluginMessage::Hello { pid: 7, .. }));
        let report: PluginMessage = serde_json::from_str(
            r#"{"type":"report","nodeid":"t.py::a","when":"call","outcome":"skipped","wasxfail":"no","duration":0.5}"#,
        )
        .unwrap();
        let PluginMessage::Report(r) = report else {
            panic!("not a report")
        };
        assert_eq!(r.wasxfail.as_deref(), Some("no"));
        let fin: PluginMessage = serde_json::from_str(r#"{"type":"sessionFinish","exitStatus":1}"#).unwrap();
        assert_eq!(fin, PluginMessage::SessionFinish { exit_status: 1 });
    }

    #[test]
    fn replies_are_tagged() {
        assert_eq!(
            serde_json::to_string(&ServerReply::Welcome).unwrap(),
            r#"{"type":"welcome"}"#
        );
    }
}
