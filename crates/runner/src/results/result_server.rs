//! The shared result server ("Option A" of the design note): one Unix socket for the whole daemon. Each pytest's
//! plugin connects, names its run and proves it with the run's secret token; from then on its lines go straight
//! to that run's instance.
//!
//! A connection is held only while it can still become a run's stream, so a neighbour can neither feed a run
//! fake results nor starve the daemon of descriptors:
//! - the kernel names the connecting process ([`peer`]): it must run as the daemon's user and belong to the
//!   process group of a live run. A run's token sits in the environment of its processes, so a token read from
//!   there is useless to a process outside the run;
//! - its first line must be a `hello` naming that run with its token, within [`HELLO_DEADLINE`] of connecting;
//! - at most [`MAX_PER_RUN`] connections per run (its plugin's included) and [`MAX_CONNECTIONS`] in all are held;
//!   beyond that a connection is refused at once.
//!
//! Every refusal is a `refused` line, then the connection is closed; refusals are logged, at most
//! [`LOGGED_REFUSALS`] a second, so a flood cannot flood the log too.
//!
//! On Linux the socket is abstract: it has no file, so a killed daemon leaves none behind. `PYTESTD_SOCKET` then
//! holds its name with a leading `@` in place of the NUL byte, as ss(8) and systemd write abstract names.

mod peer;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pytestd_protocol::plugin::{PluginMessage, ServerReply};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::{timeout, timeout_at, Instant};

use crate::process::lines::LineReader;
use crate::run::instance::Progress;
use peer::Peer;

/// Longest line accepted from a plugin: captured output is bounded by the plugin well below this.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// Longest `hello` line: it holds two ids and a version, so a connection cannot make the daemon buffer more.
const MAX_HELLO: usize = 64 * 1024;
/// How long a connection may take to say `hello`; the plugin says it at once, at import.
pub(crate) const HELLO_DEADLINE: Duration = Duration::from_secs(5);
/// Connections held per run: its plugin needs one; the rest is room for a plugin restarted by a wrapper.
pub(crate) const MAX_PER_RUN: usize = 4;
/// Connections held in all, well under any usual descriptor limit.
pub(crate) const MAX_CONNECTIONS: usize = 1024;
/// Connections from no known run's group held while a run's pytest is being spawned (its group is not known yet).
/// Few: a run's own plugin connects once its pid is known; anyone else waits here, not in the runs' share.
pub(crate) const MAX_UNPLACED: usize = 64;
/// Refusals logged per second; the rest are counted.
const LOGGED_REFUSALS: u32 = 10;
/// How often a connection looks again for a run whose pytest is being spawned right now (its pid not yet known).
const SPAWN_POLL: Duration = Duration::from_millis(5);
/// Marks an abstract socket name in an address (`@name`), standing for the NUL byte an environment cannot hold.
pub(crate) const ABSTRACT_PREFIX: &str = "@";

/// What the server lets a connection cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    hello_deadline: Duration,
    per_run: usize,
    total: usize,
    /// Connections that may wait, at once, for the run being spawned to learn its pid.
    unplaced: usize,
}

impl Limits {
    /// The daemon's limits.
    pub(crate) const DEFAULT: Self = Self {
        hello_deadline: HELLO_DEADLINE,
        per_run: MAX_PER_RUN,
        total: MAX_CONNECTIONS,
        unplaced: MAX_UNPLACED,
    };
}

/// Where each live run's plugin stream must go, by run id.
#[derive(Clone, Default, Debug)]
pub(crate) struct Routes(Arc<Mutex<HashMap<String, Route>>>);

#[derive(Debug)]
struct Route {
    token: String,
    /// Taken by the first connection that proves the token: one plugin stream per run.
    sender: Option<mpsc::Sender<PluginMessage>>,
    /// The run's live figures: once pytest is spawned, `pid` is its pid, which is also its process group's id
    /// (every pytest leads its own group); 0 before.
    progress: Arc<Progress>,
    /// Connections from the run's process group held now.
    connections: Arc<AtomicUsize>,
}

/// Removes a run's route when the run no longer takes results.
pub(crate) struct RouteGuard {
    routes: Routes,
    run_id: String,
}

impl Drop for RouteGuard {
    fn drop(&mut self) {
        self.routes.lock().remove(&self.run_id);
    }
}

/// Which run a connecting process group belongs to.
enum Join {
    /// This run's; the slot counts the connection against the run's cap.
    Run(String, RunSlot),
    /// This run's, but the run holds as many connections as it may.
    Full(String),
    /// No run's yet, but a run's pytest is being spawned: its pid, so its group, is not known yet.
    NotYet,
    /// No live run's.
    NoRun,
}

/// One connection counted against a run's cap, until dropped.
struct RunSlot(Arc<AtomicUsize>);

impl RunSlot {
    fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < max).then_some(n + 1))
            .ok()
            .map(|_| Self(count.clone()))
    }
}

impl Drop for RunSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Routes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Route>> {
        // The map stays consistent even if a holder panicked: every critical section is a single map operation.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Accepts one connection for `run_id` with `token`, from the process group led by the pid `progress` records;
    /// its messages go to `sender`.
    pub(crate) fn register(
        &self,
        run_id: &str,
        token: &str,
        progress: Arc<Progress>,
        sender: mpsc::Sender<PluginMessage>,
    ) -> RouteGuard {
        self.lock().insert(
            run_id.to_owned(),
            Route {
                token: token.to_owned(),
                sender: Some(sender),
                progress,
                connections: Arc::default(),
            },
        );
        RouteGuard {
            routes: self.clone(),
            run_id: run_id.to_owned(),
        }
    }

    fn join(&self, pgid: i32, per_run: usize) -> Join {
        let routes = self.lock();
        let mut spawning = false;
        for (run_id, route) in routes.iter() {
            match route.progress.pid.load(Ordering::Relaxed) {
                0 => spawning = true,
                leader if i32::try_from(leader) == Ok(pgid) => {
                    return match RunSlot::take(&route.connections, per_run) {
                        Some(slot) => Join::Run(run_id.clone(), slot),
                        None => Join::Full(run_id.clone()),
                    };
                }
                _ => {}
            }
        }
        if spawning {
            Join::NotYet
        } else {
            Join::NoRun
        }
    }

    /// Hands the stream of `group_run` to a hello from its process group naming `run_id` with `token`, with the
    /// run's live figures, where the stream's length is kept.
    fn claim(&self, group_run: &str, run_id: &str, token: &str) -> Result<Claimed, &'static str> {
        let mut routes = self.lock();
        if run_id != group_run {
            return Err(if routes.contains_key(run_id) {
                "the hello names another run than the one whose process group connected"
            } else {
                "unknown run id"
            });
        }
        let route = routes.get_mut(run_id).ok_or("unknown run id")?;
        if !constant_time_eq(route.token.as_bytes(), token.as_bytes()) {
            return Err("wrong token");
        }
        let sender = route.sender.take().ok_or("this run already has a result connection")?;
        Ok((sender, route.progress.clone()))
    }
}

/// A run's stream, claimed: where its messages go, and its live figures.
type Claimed = (mpsc::Sender<PluginMessage>, Arc<Progress>);

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The accept loop; aborted when dropped.
pub(crate) struct ResultServer {
    task: JoinHandle<()>,
}

impl Drop for ResultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ResultServer {
    /// Listens on `address` (`@name` for an abstract socket, else a path) and routes connections by `routes`.
    pub(crate) fn bind(address: &Path, routes: Routes) -> std::io::Result<Self> {
        Self::bind_with(address, routes, Limits::DEFAULT)
    }

    fn bind_with(address: &Path, routes: Routes, limits: Limits) -> std::io::Result<Self> {
        let listener = listen(address)?;
        let held = Arc::new(Semaphore::new(limits.total));
        let unplaced = Arc::new(Semaphore::new(limits.unplaced));
        let log = Arc::new(RefusalLog::default());
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let admitted = place(&stream, &routes, limits, &held, &unplaced);
                        match admitted {
                            Ok(placed) => {
                                tokio::spawn(serve_connection(stream, placed, routes.clone(), limits, log.clone()));
                            }
                            Err((peer, reason)) => {
                                // Closed at once, without a task: the reply is best effort, never awaited.
                                let _ = stream.try_write(&reply_line(&ServerReply::Refused { reason: reason.clone() }));
                                log.refused(peer, &reason);
                            }
                        }
                    }
                    Err(err) => {
                        tracing::warn!(%err, "result server cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        });
        Ok(Self { task })
    }
}

/// A connection the server takes on: from a run's group, holding one of the connections every run shares, or
/// from no known group while a run is being spawned, holding one of the few places to wait in.
enum Placed {
    Run {
        peer: Peer,
        run_id: String,
        slot: RunSlot,
        _held: OwnedSemaphorePermit,
    },
    Waiting {
        peer: Peer,
        held: Arc<Semaphore>,
        _waiting: OwnedSemaphorePermit,
    },
}

/// Decides at accept time, from the kernel's word on the peer, whether a connection is held and how: a process
/// outside every run is refused at once and never takes a connection a run's plugin may need.
fn place(
    stream: &UnixStream,
    routes: &Routes,
    limits: Limits,
    held: &Arc<Semaphore>,
    unplaced: &Arc<Semaphore>,
) -> Result<Placed, (Option<Peer>, String)> {
    let peer = peer::identify(stream).map_err(|reason| (None, reason))?;
    let too_many = || {
        (
            Some(peer),
            format!("too many result connections (at most {})", limits.total),
        )
    };
    match routes.join(peer.pgid, limits.per_run) {
        Join::Run(run_id, slot) => {
            let permit = held.clone().try_acquire_owned().map_err(|_| too_many())?;
            Ok(Placed::Run {
                peer,
                run_id,
                slot,
                _held: permit,
            })
        }
        Join::NotYet => {
            let waiting = unplaced.clone().try_acquire_owned().map_err(|_| {
                (
                    Some(peer),
                    format!(
                        "too many connections waiting for a run to start (at most {})",
                        limits.unplaced
                    ),
                )
            })?;
            Ok(Placed::Waiting {
                peer,
                held: held.clone(),
                _waiting: waiting,
            })
        }
        Join::Full(run_id) => Err((Some(peer), per_run_full(&run_id, limits.per_run))),
        Join::NoRun => Err((Some(peer), outside(peer))),
    }
}

fn per_run_full(run_id: &str, per_run: usize) -> String {
    format!(
        "too many connections from the process group of run {} (at most {per_run})",
        truncate(run_id)
    )
}

fn outside(peer: Peer) -> String {
    format!(
        "pid {} (process group {}) is not in the process group of any live run",
        peer.pid, peer.pgid
    )
}

fn listen(address: &Path) -> std::io::Result<UnixListener> {
    #[cfg(target_os = "linux")]
    if let Some(name) = address.to_str().and_then(|a| a.strip_prefix(ABSTRACT_PREFIX)) {
        use std::os::linux::net::SocketAddrExt;
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        let listener = std::os::unix::net::UnixListener::bind_addr(&address)?;
        listener.set_nonblocking(true)?;
        return UnixListener::from_std(listener);
    }
    UnixListener::bind(address)
}

async fn serve_connection(stream: UnixStream, placed: Placed, routes: Routes, limits: Limits, log: Arc<RefusalLog>) {
    let deadline = Instant::now() + limits.hello_deadline;
    let (peer, group_run, slot, _held) = match placed {
        Placed::Run {
            peer,
            run_id,
            slot,
            _held,
        } => (peer, run_id, slot, _held),
        Placed::Waiting { peer, held, _waiting } => {
            let joined = join_run(&routes, peer, limits.per_run, deadline).await;
            drop(_waiting);
            let (run_id, slot) = match joined {
                Ok(joined) => joined,
                Err(reason) => return refuse(stream, Some(peer), &reason, &log).await,
            };
            let Ok(permit) = held.try_acquire_owned() else {
                let reason = format!("too many result connections (at most {})", limits.total);
                return refuse(stream, Some(peer), &reason, &log).await;
            };
            (peer, run_id, slot, permit)
        }
    };
    let (read, write) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    let first = match timeout_at(deadline, LineReader::new(&mut reader, MAX_HELLO).next_line()).await {
        Ok(Ok(Some(line))) => line,
        Ok(Ok(None)) => return,
        Ok(Err(err)) => {
            tracing::warn!(%err, "result connection failed before its hello");
            return;
        }
        Err(_) => {
            drop(slot);
            let reason = format!("no hello within {} ms", limits.hello_deadline.as_millis());
            return refuse(write, Some(peer), &reason, &log).await;
        }
    };
    let (hello, claimed) = match admit(&first, &routes, &group_run) {
        Ok(admitted) => admitted,
        Err(reason) => {
            drop(slot);
            return refuse(write, Some(peer), &reason, &log).await;
        }
    };
    stream_lines(LineReader::new(reader, MAX_MESSAGE), write, hello, claimed).await;
}

/// Finds the run `peer` belongs to, waiting (until `deadline`) for a run whose pytest is being spawned.
async fn join_run(routes: &Routes, peer: Peer, per_run: usize, deadline: Instant) -> Result<(String, RunSlot), String> {
    loop {
        match routes.join(peer.pgid, per_run) {
            Join::Run(run_id, slot) => return Ok((run_id, slot)),
            Join::Full(run_id) => return Err(per_run_full(&run_id, per_run)),
            Join::NotYet if Instant::now() < deadline => tokio::time::sleep(SPAWN_POLL).await,
            Join::NotYet | Join::NoRun => return Err(outside(peer)),
        }
    }
}

async fn stream_lines(
    mut lines: LineReader<BufReader<tokio::net::unix::OwnedReadHalf>>,
    mut write: tokio::net::unix::OwnedWriteHalf,
    hello: PluginMessage,
    (sender, progress): Claimed,
) {
    if write_reply(&mut write, &ServerReply::Welcome).await.is_err() || sender.send(hello).await.is_err() {
        return;
    }
    // `write` stays open until the stream ends: the plugin takes its closing as the daemon's death.
    loop {
        let line = lines.next_line().await;
        // Counted before the line is handed on: the instance reads it once the stream ended, and replays from
        // the run's journal whatever lies beyond.
        progress.stream_bytes.store(lines.complete_bytes(), Ordering::Release);
        match line {
            Ok(Some(line)) => match serde_json::from_str::<PluginMessage>(&line) {
                Ok(PluginMessage::Hello { .. }) => tracing::warn!("ignored a second hello on a result connection"),
                Ok(message) => {
                    if sender.send(message).await.is_err() {
                        return;
                    }
                }
                Err(err) => tracing::warn!(%err, line = %truncate(&line), "ignored a malformed result line"),
            },
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(%err, "result connection failed");
                return;
            }
        }
    }
}

fn admit(line: &str, routes: &Routes, group_run: &str) -> Result<(PluginMessage, Claimed), String> {
    let hello: PluginMessage = serde_json::from_str(line).map_err(|err| format!("expected a hello message: {err}"))?;
    let PluginMessage::Hello { run_id, token, .. } = &hello else {
        return Err("expected a hello message first".to_owned());
    };
    let claimed = routes
        .claim(group_run, run_id, token)
        .map_err(|why| format!("{why} (run id {})", truncate(run_id)))?;
    Ok((hello, claimed))
}

/// Tells the peer why and closes the connection (by dropping `write`).
async fn refuse(mut write: impl AsyncWrite + Unpin, peer: Option<Peer>, reason: &str, log: &RefusalLog) {
    log.refused(peer, reason);
    let reply = ServerReply::Refused {
        reason: reason.to_owned(),
    };
    // A peer that never reads cannot hold the connection open: the reply gets a second at most.
    let _ = timeout(Duration::from_secs(1), write_reply(&mut write, &reply)).await;
}

fn reply_line(reply: &ServerReply) -> Vec<u8> {
    // A reply is a plain struct of strings: it always serializes.
    let mut line = serde_json::to_vec(reply).unwrap_or_default();
    line.push(b'\n');
    line
}

async fn write_reply(write: &mut (impl AsyncWrite + Unpin), reply: &ServerReply) -> std::io::Result<()> {
    write.write_all(&reply_line(reply)).await
}

/// Logs refusals, at most [`LOGGED_REFUSALS`] a second, and counts the rest.
#[derive(Default)]
struct RefusalLog(Mutex<RefusalWindow>);

#[derive(Default)]
struct RefusalWindow {
    started: Option<Instant>,
    logged: u32,
    unlogged: u64,
}

impl RefusalLog {
    fn refused(&self, peer: Option<Peer>, reason: &str) {
        let mut window = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if window
            .started
            .is_none_or(|started| now - started >= Duration::from_secs(1))
        {
            if window.unlogged > 0 {
                tracing::warn!(
                    count = window.unlogged,
                    "refused more result connections than were logged"
                );
            }
            *window = RefusalWindow {
                started: Some(now),
                logged: 0,
                unlogged: 0,
            };
        }
        if window.logged < LOGGED_REFUSALS {
            window.logged += 1;
            let pid = peer.map(|p| p.pid);
            let pgid = peer.map(|p| p.pgid);
            tracing::warn!(reason = %reason, ?pid, ?pgid, "refused a result connection");
        } else {
            window.unlogged += 1;
        }
    }
}

fn truncate(text: &str) -> &str {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use std::os::linux::net::SocketAddrExt;
    use std::path::PathBuf;

    use tokio::io::AsyncReadExt;

    use super::*;

    const WAIT: Duration = Duration::from_secs(10);

    fn address() -> PathBuf {
        PathBuf::from(format!("@pytestd-test-{}", uuid::Uuid::new_v4().simple()))
    }

    async fn connect(address: &Path) -> UnixStream {
        let name = address.to_str().unwrap().strip_prefix(ABSTRACT_PREFIX).unwrap();
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name).unwrap();
        let stream = std::os::unix::net::UnixStream::connect_addr(&address).unwrap();
        stream.set_nonblocking(true).unwrap();
        UnixStream::from_std(stream).unwrap()
    }

    /// Everything the server writes until it closes the connection.
    async fn read_to_close(stream: &mut UnixStream) -> String {
        let mut text = String::new();
        timeout(WAIT, stream.read_to_string(&mut text)).await.unwrap().unwrap();
        text
    }

    async fn connect_and_say(address: &Path, lines: &str) -> (String, UnixStream) {
        let mut stream = connect(address).await;
        stream.write_all(lines.as_bytes()).await.unwrap();
        let mut reply = Vec::new();
        while !reply.ends_with(b"\n") {
            let byte = timeout(WAIT, stream.read_u8()).await.unwrap().unwrap();
            reply.push(byte);
        }
        (String::from_utf8(reply).unwrap(), stream)
    }

    fn hello(run_id: &str, token: &str) -> String {
        format!(r#"{{"type":"hello","runId":"{run_id}","token":"{token}","pid":1,"pytestVersion":"9"}}"#) + "\n"
    }

    /// Live figures of a run whose pytest leads the process group `pgid` (0: not spawned yet).
    fn led_by(pgid: i32) -> Arc<Progress> {
        let progress = Arc::new(Progress::default());
        progress.pid.store(u32::try_from(pgid).unwrap(), Ordering::Relaxed);
        progress
    }

    /// This test process's group: its connections count as coming from a run led by it.
    fn own_group() -> i32 {
        nix::unistd::getpgid(None).unwrap().as_raw()
    }

    fn quick(per_run: usize, total: usize) -> Limits {
        Limits {
            hello_deadline: Duration::from_millis(500),
            per_run,
            total,
            unplaced: 8,
        }
    }

    #[tokio::test]
    async fn routes_a_proven_run_and_refuses_the_rest() {
        let address = address();
        let routes = Routes::default();
        let _server = ResultServer::bind(&address, routes.clone()).unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let _guard = routes.register("run-a", "secret", led_by(own_group()), tx);

        let (reply, _s) = connect_and_say(&address, &hello("run-b", "secret")).await;
        assert!(reply.contains("refused") && reply.contains("unknown run id"), "{reply}");
        let (reply, _s) = connect_and_say(&address, &hello("run-a", "guess")).await;
        assert!(reply.contains("wrong token"), "{reply}");

        let report = r#"{"type":"sessionFinish","exitStatus":0}"#;
        let (reply, _s) = connect_and_say(&address, &(hello("run-a", "secret") + "garbage\n" + report + "\n")).await;
        assert_eq!(reply.trim(), r#"{"type":"welcome"}"#);
        let first = timeout(WAIT, rx.recv()).await.unwrap().unwrap();
        assert!(matches!(first, PluginMessage::Hello { .. }));
        let next = timeout(WAIT, rx.recv()).await.unwrap().unwrap();
        assert_eq!(next, PluginMessage::SessionFinish { exit_status: 0 });

        let (reply, _s) = connect_and_say(&address, &hello("run-a", "secret")).await;
        assert!(reply.contains("already has a result connection"), "{reply}");
    }

    #[tokio::test]
    async fn refuses_the_right_token_from_outside_the_runs_process_group() {
        let address = address();
        let routes = Routes::default();
        let _server = ResultServer::bind(&address, routes.clone()).unwrap();
        let (tx, _rx) = mpsc::channel(8);
        let _guard = routes.register("run-a", "secret", led_by(own_group() + 1), tx);

        let (reply, _s) = connect_and_say(&address, &hello("run-a", "secret")).await;
        assert!(reply.contains("not in the process group of any live run"), "{reply}");
    }

    #[tokio::test]
    async fn a_hello_naming_another_run_than_the_groups_is_refused() {
        let address = address();
        let routes = Routes::default();
        let _server = ResultServer::bind(&address, routes.clone()).unwrap();
        let (tx, _rx) = mpsc::channel(8);
        let _mine = routes.register("mine", "a", led_by(own_group()), tx.clone());
        let _other = routes.register("other", "b", led_by(own_group() + 1), tx);

        let (reply, _s) = connect_and_say(&address, &hello("other", "b")).await;
        assert!(
            reply.contains("another run than the one whose process group connected"),
            "{reply}"
        );
    }

    #[tokio::test]
    async fn waits_for_the_pid_of_a_run_being_spawned() {
        let address = address();
        let routes = Routes::default();
        let _server = ResultServer::bind(&address, routes.clone()).unwrap();
        let (tx, _rx) = mpsc::channel(8);
        let progress = led_by(0);
        let _guard = routes.register("run-a", "secret", progress.clone(), tx);

        let mut stream = connect(&address).await;
        stream.write_all(hello("run-a", "secret").as_bytes()).await.unwrap();
        // The pid becomes known only after the connection came in, as when the instance is descheduled.
        tokio::time::sleep(Duration::from_millis(50)).await;
        progress
            .pid
            .store(u32::try_from(own_group()).unwrap(), Ordering::Relaxed);
        let mut reply = [0; 19];
        timeout(WAIT, stream.read_exact(&mut reply)).await.unwrap().unwrap();
        assert_eq!(&reply, b"{\"type\":\"welcome\"}\n");
    }

    #[tokio::test]
    async fn outsiders_wait_for_a_spawning_run_only_in_a_few_places_of_their_own() {
        let address = address();
        let routes = Routes::default();
        // Room for 8 waiting connections; the run's own cap is high, as the waiting ones here are in its group too.
        let _server = ResultServer::bind_with(&address, routes.clone(), quick(16, 32)).unwrap();
        let (tx, _rx) = mpsc::channel(8);
        let progress = led_by(0);
        let _guard = routes.register("run-a", "secret", progress.clone(), tx);
        // While the run is being spawned, nobody's group can be told apart: 8 may wait, the next is refused at once.
        let mut waiting = Vec::new();
        for _ in 0..8 {
            waiting.push(connect(&address).await);
        }
        let (reply, _) = connect_and_say(&address, "").await;
        assert!(reply.contains("waiting for a run to start"), "{reply}");
        // The run's own plugin still gets in once the pid is known.
        progress
            .pid
            .store(u32::try_from(own_group()).unwrap(), Ordering::Relaxed);
        let (reply, _stream) = connect_and_say(&address, &hello("run-a", "secret")).await;
        assert_eq!(reply, "{\"type\":\"welcome\"}\n");
    }

    #[tokio::test]
    async fn closes_a_connection_that_says_no_hello_in_time() {
        let address = address();
        let routes = Routes::default();
        let _server = ResultServer::bind_with(&address, routes.clone(), quick(4, 16)).unwrap();
        let (tx, _rx) = mpsc::channel(8);
        let _guard = routes.register("run-a", "secret", led_by(own_group()), tx);

        let started = Instant::now();
        let mut idle = connect(&address).await;
        let text = read_to_close(&mut idle).await;
        assert!(text.contains("no hello within 500 ms"), "{text}");
        assert!(started.elapsed() >= Duration::from_millis(500));
    }

    /// Opens `count` idle connections and returns, for each, what the server wrote and when it closed it.
    async fn idle_connections(address: &Path, count: usize) -> Vec<(String, Duration)> {
        let started = Instant::now();
        let mut readers = Vec::new();
        for _ in 0..count {
            let mut stream = connect(address).await;
            readers.push(tokio::spawn(async move {
                let text = read_to_close(&mut stream).await;
                (text, started.elapsed())
            }));
        }
        let mut closed = Vec::new();
        for reader in readers {
            closed.push(reader.await.unwrap());
        }
        closed
    }

    fn count(closed: &[(String, Duration)], reason: &str, before: Option<Duration>) -> usize {
        closed
            .iter()
            .filter(|(text, at)| text.contains(reason) && before.is_none_or(|before| *at < before))
            .count()
    }

    #[tokio::test]
    async fn caps_the_connections_of_a_run() {
        let address = address();
        let routes = Routes::default();
        let _server = ResultServer::bind_with(&address, routes.clone(), quick(2, 16)).unwrap();
        let (tx, _rx) = mpsc::channel(8);
        let _guard = routes.register("run-a", "secret", led_by(own_group()), tx);

        let closed = idle_connections(&address, 5).await;
        let at_once = Some(Duration::from_millis(500));
        assert_eq!(
            count(&closed, "too many connections from the process group", at_once),
            3,
            "{closed:?}"
        );
        assert_eq!(count(&closed, "no hello", None), 2, "{closed:?}");
    }

    #[tokio::test]
    async fn caps_the_connections_in_all() {
        let address = address();
        let routes = Routes::default();
        let _server = ResultServer::bind_with(&address, routes.clone(), quick(16, 2)).unwrap();
        let (tx, _rx) = mpsc::channel(8);
        let _guard = routes.register("run-a", "secret", led_by(own_group()), tx);

        let closed = idle_connections(&address, 5).await;
        let at_once = Some(Duration::from_millis(500));
        assert_eq!(count(&closed, "too many result connections", at_once), 3, "{closed:?}");
        assert_eq!(count(&closed, "no hello", None), 2, "{closed:?}");
    }

    #[test]
    fn compares_tokens_by_content() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
