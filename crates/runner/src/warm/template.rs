//! One warm template: its process (`python -m pytestd_warm`, the leader of its own process group, killed with it)
//! and the actor that owns its control socket and serves fork requests one at a time.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use pytestd_protocol::plugin::ENV_RUN_ID;
use serde::{Deserialize, Serialize};
use tokio::io::BufReader;
use tokio::sync::{mpsc, oneshot};

use super::child::Pipes;
use super::control::Control;
use super::key::Key;
use crate::process::lines::LineReader;
use crate::process::{self, ProcessGroup};

/// How long a template may take to import what it preloads.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a fork may take to be answered.
const FORK_TIMEOUT: Duration = Duration::from_secs(10);
/// Room in a template's original environment block for the id of a run forked from it: the run's process writes
/// its id there, so /proc/<pid>/environ ties it and its descendants to the run (see escapees).
const RUN_ID_ROOM: usize = 256;
/// The template's module, beside the plugin in the runtime directory.
const MODULE: &str = "pytestd_warm";
/// Room in a template's command line for that of a run forked from it, so ps and /proc show the run's
/// `python -m pytest ...` (cut to this length).
const COMMAND_ROOM: usize = 2048;

/// What a ready template says of itself.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Ready {
    pub(crate) pid: u32,
    pub(crate) modules: u32,
    pub(crate) preloaded: Vec<String>,
    pub(crate) failed: Vec<String>,
    pub(crate) seconds: f64,
    pub(crate) python: String,
    /// "prepared" when pytest's configuration was made ahead for the runs (see `pytestd_warm.py`), else why not.
    #[serde(default)]
    pub(crate) config: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Answer {
    Ready(Ready),
    Unsafe(String),
    Pid(i32),
    Stale(String),
    Error(String),
}

#[derive(Serialize)]
struct Preload<'a> {
    preload: &'a [String],
    watch: &'a [PathBuf],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fork<'a> {
    args: &'a [String],
    env: &'a BTreeMap<String, String>,
    run_id: &'a str,
}

#[derive(Serialize)]
struct ForkMessage<'a> {
    fork: Fork<'a>,
}

/// Why a fork did not happen; the run then starts cold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ForkFailure {
    /// The template is out of date and has ended; a fresh one should be started.
    Stale(String),
    /// The template could not fork, or is gone.
    Failed(String),
}

/// A run to fork.
pub(crate) struct ForkRequest {
    pub(crate) run_id: String,
    /// pytest's arguments (what follows `python -m pytest`).
    pub(crate) args: Vec<String>,
    /// The run's own environment variables.
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) pipes: Pipes,
}

/// A forked run: its pid and the daemon's ends of its pipes.
#[derive(Debug)]
pub(crate) struct Forked {
    pub(crate) pid: i32,
    pub(crate) stdout: OwnedFd,
    pub(crate) stderr: OwnedFd,
    /// Writing a byte here releases the run; closing it unwritten ends the run before it starts.
    pub(crate) go: OwnedFd,
}

struct Job {
    request: ForkRequest,
    reply: oneshot::Sender<Result<Forked, ForkFailure>>,
}

/// What others hold of a template. The template ends when every handle is gone.
#[derive(Debug, Clone)]
pub(crate) struct TemplateHandle {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl TemplateHandle {
    /// Forks a run, which waits for its go.
    pub(crate) async fn fork(&self, request: ForkRequest) -> Result<Forked, ForkFailure> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { request, reply })
            .await
            .map_err(|_| ForkFailure::Failed("the warm template has ended".to_owned()))?;
        answer
            .await
            .unwrap_or_else(|_| Err(ForkFailure::Failed("the warm template has ended".to_owned())))
    }
}

/// Starts a template for `key` that preloads `preload` and watches `watch`; `gone` is called once when it ends,
/// with the reason.
pub(crate) async fn start(
    key: &Key,
    preload: &[String],
    watch: &[PathBuf],
    gone: Box<dyn FnOnce(String) + Send>,
) -> Result<(TemplateHandle, Ready), String> {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(|err| err.to_string())?;
    ours.set_nonblocking(true).map_err(|err| err.to_string())?;
    let stream = tokio::net::UnixStream::from_std(ours).map_err(|err| err.to_string())?;
    let mut command = tokio::process::Command::new(&key.python);
    command
        .args(["-m", MODULE])
        .arg(" ".repeat(COMMAND_ROOM))
        .envs(&key.env)
        .env(ENV_RUN_ID, "x".repeat(RUN_ID_ROOM))
        .current_dir(&key.cwd)
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let (mut child, group) =
        process::spawn_in_group(command).map_err(|err| format!("cannot start {}: {err}", key.python.display()))?;
    if let Some(stderr) = child.stderr.take() {
        let pid = child.id().unwrap_or_default();
        tokio::spawn(log_stderr(pid, stderr));
    }
    let mut control = Control::new(stream);
    let ready = async {
        control
            .send(&Preload { preload, watch }, &[])
            .await
            .map_err(|err| format!("cannot talk to the template: {err}"))?;
        match control.receive::<Answer>().await {
            Ok(Some(Answer::Ready(ready))) => Ok(ready),
            Ok(Some(Answer::Unsafe(why))) => Err(why),
            Ok(Some(other)) => Err(format!("the template answered {other:?}")),
            Ok(None) => Err("the template exited while it started (its errors are in the log)".to_owned()),
            Err(err) => Err(format!("cannot read the template's answer: {err}")),
        }
    };
    let ready = match tokio::time::timeout(START_TIMEOUT, ready).await {
        Ok(Ok(ready)) => ready,
        Ok(Err(why)) => return Err(why),
        Err(_) => {
            return Err(format!(
                "the template did not get ready in {} s",
                START_TIMEOUT.as_secs()
            ))
        }
    };
    let (jobs, inbox) = mpsc::channel(64);
    tokio::spawn(serve(child, group, control, inbox, gone));
    Ok((TemplateHandle { jobs }, ready))
}

/// The template's actor: forks runs until the template is stale, dies, or every handle is gone.
async fn serve(
    mut child: tokio::process::Child,
    group: ProcessGroup,
    mut control: Control,
    mut inbox: mpsc::Receiver<Job>,
    gone: Box<dyn FnOnce(String) + Send>,
) {
    let why = loop {
        tokio::select! {
            biased;
            status = child.wait() => {
                break match status {
                    Ok(status) => format!("the template exited ({status})"),
                    Err(err) => format!("cannot wait for the template: {err}"),
                };
            }
            job = inbox.recv() => {
                let Some(Job { request, reply }) = job else { break "no longer used".to_owned() };
                let answer = fork(&mut control, request).await;
                let end = match &answer {
                    Err(ForkFailure::Stale(why)) => Some(format!("stale: {why}")),
                    Err(ForkFailure::Failed(why)) if why.starts_with("lost:") => Some(why.clone()),
                    _ => None,
                };
                let _ = reply.send(answer);
                if let Some(why) = end {
                    break why;
                }
            }
        }
    };
    drop(group);
    gone(why);
}

/// One fork: the request with the run's three descriptors, then the template's answer.
async fn fork(control: &mut Control, request: ForkRequest) -> Result<Forked, ForkFailure> {
    let ForkRequest {
        run_id,
        args,
        env,
        pipes,
    } = request;
    let message = ForkMessage {
        fork: Fork {
            args: &args,
            env: &env,
            run_id: &run_id,
        },
    };
    let fds = [
        pipes.stdout_write.as_fd(),
        pipes.stderr_write.as_fd(),
        pipes.go_read.as_fd(),
    ];
    let lost = |why: String| ForkFailure::Failed(format!("lost: {why}"));
    control
        .send(&message, &fds)
        .await
        .map_err(|err| lost(format!("cannot send the fork request: {err}")))?;
    let answer = tokio::time::timeout(FORK_TIMEOUT, control.receive::<Answer>())
        .await
        .map_err(|_| lost(format!("no answer to a fork in {} s", FORK_TIMEOUT.as_secs())))?;
    // The template has its own copies now; ours of the run's ends must go, or the run's pipes never close.
    let Pipes {
        stdout,
        stderr,
        go_write,
        ..
    } = pipes;
    match answer {
        Ok(Some(Answer::Pid(pid))) if pid > 0 => Ok(Forked {
            pid,
            stdout,
            stderr,
            go: go_write,
        }),
        Ok(Some(Answer::Stale(why))) => Err(ForkFailure::Stale(why)),
        Ok(Some(Answer::Error(why))) => Err(ForkFailure::Failed(why)),
        Ok(Some(other)) => Err(lost(format!("unexpected answer {other:?}"))),
        Ok(None) => Err(lost("the template exited".to_owned())),
        Err(err) => Err(lost(format!("cannot read the template's answer: {err}"))),
    }
}

/// The template's own error output (a module that failed to preload, a traceback), into the daemon's log.
async fn log_stderr(pid: u32, stderr: tokio::process::ChildStderr) {
    let mut lines = LineReader::new(BufReader::new(stderr), 4096);
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(template = pid, "{line}");
    }
}
