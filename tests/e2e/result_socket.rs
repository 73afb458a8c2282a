//! The result socket under attack by neighbours: a flood of connections that never say hello neither holds the
//! daemon's descriptors nor stops runs; a run's own processes get a few connections at most, closed when they stay
//! silent; and a daemon killed outright leaves nothing that the next daemon does not clean up.
//!
//! The helpers at the end (a run's environment, a client of the socket) serve spoof.rs too.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{SocketAddr, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::support::{assert_status, new_run_id, result, result_ids, wait_until, Daemon, REPLY, RUN};

const GATE_TEST: &str = "test_gate.py::test_waits_for_gate";
/// Connections in the flood: far more than the daemon holds at once, far fewer than this process may open.
const FLOOD: usize = 2000;

#[test]
fn a_flood_of_connections_from_outside_every_run_is_closed_at_once_and_runs_go_on() {
    let gates = tempfile::tempdir().unwrap();
    let gate = gates.path().join("gate");
    let mut daemon = Daemon::start();
    let run_id = new_run_id();
    let mut params = daemon.run_params("slow", &[GATE_TEST]);
    params["runId"] = json!(run_id);
    params["env"]["PYTESTD_E2E_GATE"] = json!(gate.display().to_string());
    let request = daemon.request("runTests", params.clone());
    let pytest = pid_of(&daemon.wait_run_notification("runStarted", &run_id, RUN));
    let address = run_environment(pytest)["PYTESTD_SOCKET"].clone();
    let pytestd = parent_of(pytest);
    let baseline = open_descriptors(pytestd);

    let flood: Vec<UnixStream> = (0..FLOOD).map(|_| connect(&address)).collect();
    // Every one of them is still open here, yet the daemon holds none: it closed each as it came in.
    wait_until(RUN, "the daemon to close the flood's connections", || {
        open_descriptors(pytestd) < baseline + 20
    });

    std::fs::write(&gate, "open").unwrap();
    let run = daemon.response(request, RUN).unwrap();
    assert_status(&run, "passed");
    assert_eq!(result_ids(&run), [GATE_TEST.to_owned()].into());
    params["runId"] = json!(new_run_id());
    let again = daemon.run(params, RUN);
    assert_status(&again, "passed");

    for mut stream in flood {
        let said = read_to_close(&mut stream);
        assert!(said.contains("not in the process group of any live run"), "{said}");
    }
}

/// Opens 20 idle connections from inside its run and sorts out how the daemon answered each.
const IDLE_FROM_INSIDE: &str = r#"
import os
import select
import socket
import time


def connect():
    address = os.environ["PYTESTD_SOCKET"]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(30)
    conn.connect("\0" + address[1:] if address.startswith("@") else address)
    return conn


def read_to_close(conn):
    data = b""
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            return data.decode()
        data += chunk


def test_idle_connections_are_capped_and_closed():
    started = time.monotonic()
    conns = [connect() for _ in range(20)]
    # Refusals come at once; the connections the daemon holds stay silent until their hello deadline.
    held, refused = list(conns), []
    while len(held) > 3 and time.monotonic() - started < 3:
        ready, _, _ = select.select(held, [], [], 0.1)
        refused += [read_to_close(conn) for conn in ready]
        held = [conn for conn in held if conn not in ready]
    assert len(held) == 3, "the plugin's connection and 3 more are held: %r" % refused
    assert all("too many connections from the process group" in text for text in refused), refused
    closed = [read_to_close(conn) for conn in held]
    assert all("no hello within 5000 ms" in text for text in closed), closed
    assert 4 < time.monotonic() - started < 30
"#;

#[test]
fn a_runs_own_idle_connections_are_capped_and_closed_after_the_hello_deadline() {
    let project = tempfile::tempdir().unwrap();
    fs::write(project.path().join("test_idle.py"), IDLE_FROM_INSIDE).unwrap();
    let mut daemon = Daemon::start();
    let mut params = daemon.run_params("slow", &[]);
    params["cwd"] = json!(project.path().display().to_string());
    let run = daemon.run(params, RUN);
    let id = "test_idle.py::test_idle_connections_are_capped_and_closed";
    assert_eq!(result(&run, id)["outcome"], "passed", "{}", result(&run, id));
    assert_status(&run, "passed");
}

/// `pytestd` serving on a pipe that stays open, with its temporary directory in `tmp`.
struct Served(Child);

impl Served {
    fn start(tmp: &Path) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_pytestd"))
            .env("TMPDIR", tmp)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let served = Self(child);
        wait_until(REPLY, "the daemon's runtime directory", || {
            served.runtime_dir(tmp).is_some()
        });
        served
    }

    /// The runtime directory whose pid file names this daemon.
    fn runtime_dir(&self, tmp: &Path) -> Option<PathBuf> {
        let pid = self.0.id().to_string();
        fs::read_dir(tmp).unwrap().flatten().map(|e| e.path()).find(|dir| {
            fs::read_to_string(dir.join("daemon.pid")).is_ok_and(|owner| owner.split(' ').next() == Some(&pid))
        })
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_killed_daemon_leaves_no_socket_and_the_next_daemon_removes_its_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut killed = Served::start(tmp.path());
    let killed_dir = killed.runtime_dir(tmp.path()).unwrap();
    let live = Served::start(tmp.path());
    let live_dir = live.runtime_dir(tmp.path()).unwrap();

    killed.0.kill().unwrap();
    killed.0.wait().unwrap();
    assert!(
        killed_dir.is_dir(),
        "nothing removes a killed daemon's directory but the next daemon"
    );
    assert_eq!(sockets_under(tmp.path()), Vec::<PathBuf>::new());

    let next = Served::start(tmp.path());
    assert!(!killed_dir.exists(), "the next daemon left the dead one's directory");
    assert!(live_dir.is_dir(), "the next daemon removed a live daemon's directory");
    assert!(next.runtime_dir(tmp.path()).is_some());
}

fn sockets_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            found.extend(sockets_under(&entry.path()));
        } else if kind.is_socket() {
            found.push(entry.path());
        }
    }
    found
}

fn pid_of(run_started: &serde_json::Value) -> i32 {
    i32::try_from(run_started["pid"].as_i64().unwrap()).unwrap()
}

fn parent_of(pid: i32) -> i32 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (in parentheses, possibly holding ") ") are: state, parent pid, …
    let (_, rest) = stat.rsplit_once(") ").unwrap();
    rest.split(' ').nth(1).unwrap().parse().unwrap()
}

fn open_descriptors(pid: i32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// The environment of process `pid`, as any process of the same user can read it.
pub(crate) fn run_environment(pid: i32) -> HashMap<String, String> {
    // runStarted comes as soon as pytest is spawned: until it has exec'd, /proc shows the daemon's environment.
    let read = || -> HashMap<String, String> {
        let environ = fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        environ
            .split(|&b| b == 0)
            .filter_map(|var| {
                let (name, value) = std::str::from_utf8(var).ok()?.split_once('=')?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect()
    };
    wait_until(REPLY, "pytest's environment to hold PYTESTD_SOCKET", || {
        read().contains_key("PYTESTD_SOCKET")
    });
    read()
}

/// Connects to a result socket address as `PYTESTD_SOCKET` gives it (`@name` for an abstract socket).
pub(crate) fn connect(address: &str) -> UnixStream {
    let stream = match address.strip_prefix('@') {
        Some(name) => UnixStream::connect_addr(&SocketAddr::from_abstract_name(name).unwrap()),
        None => UnixStream::connect(address),
    }
    .unwrap_or_else(|err| panic!("cannot connect to the result socket {address}: {err}"));
    stream.set_read_timeout(Some(REPLY)).unwrap();
    stream
}

/// Sends `lines`, then returns everything the daemon says until it closes the connection.
pub(crate) fn say(stream: &mut UnixStream, lines: &str) -> String {
    // A connection refused on sight (from outside every run) may be closed before anything is written.
    if let Err(err) = stream.write_all(lines.as_bytes()) {
        assert!(
            matches!(
                err.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "cannot write to the result socket: {err}"
        );
    }
    read_to_close(stream)
}

/// Everything the daemon says until it closes the connection (a reset after its reply counts as closing).
pub(crate) fn read_to_close(stream: &mut UnixStream) -> String {
    let mut said = Vec::new();
    match stream.read_to_end(&mut said) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(err) => panic!("the daemon kept the connection open: {err}; it said {said:?}"),
    }
    String::from_utf8(said).unwrap()
}
