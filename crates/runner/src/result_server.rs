//! The shared result server ("Option A" of the design note): one Unix socket for the whole daemon. Each pytest's
//! plugin connects, names its run and proves it with the run's secret token; from then on its lines go straight
//! to that run's instance. A connection naming an unknown run, or with a wrong token, is refused and logged, so no
//! run can be fed another's results.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use pytestd_protocol::plugin::{PluginMessage, ServerReply};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::lines::LineReader;

/// Longest line accepted from a plugin: captured output is bounded by the plugin well below this.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Where each live run's plugin stream must go, by run id.
#[derive(Clone, Default, Debug)]
pub(crate) struct Routes(Arc<Mutex<HashMap<String, Route>>>);

#[derive(Debug)]
struct Route {
    token: String,
    /// Taken by the first connection that proves the token: one plugin stream per run.
    sender: Option<mpsc::Sender<PluginMessage>>,
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

impl Routes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Route>> {
        // The map stays consistent even if a holder panicked: every critical section is a single map operation.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Accepts one connection for `run_id` with `token`; its messages go to `sender`.
    pub(crate) fn register(&self, run_id: &str, token: &str, sender: mpsc::Sender<PluginMessage>) -> RouteGuard {
        self.lock().insert(
            run_id.to_owned(),
            Route {
                token: token.to_owned(),
                sender: Some(sender),
            },
        );
        RouteGuard {
            routes: self.clone(),
            run_id: run_id.to_owned(),
        }
    }

    fn claim(&self, run_id: &str, token: &str) -> Result<mpsc::Sender<PluginMessage>, &'static str> {
        let mut routes = self.lock();
        let route = routes.get_mut(run_id).ok_or("unknown run id")?;
        if !constant_time_eq(route.token.as_bytes(), token.as_bytes()) {
            return Err("wrong token");
        }
        route.sender.take().ok_or("this run already has a result connection")
    }
}

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
    /// Listens on `path` and routes connections by `routes`.
    pub(crate) fn bind(path: &Path, routes: Routes) -> std::io::Result<Self> {
        let listener = UnixListener::bind(path)?;
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::spawn(serve_connection(stream, routes.clone()));
                    }
                    Err(err) => {
                        tracing::warn!(%err, "result server cannot accept a connection");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        });
        Ok(Self { task })
    }
}

async fn serve_connection(stream: UnixStream, routes: Routes) {
    let (read, mut write) = stream.into_split();
    let mut lines = LineReader::new(BufReader::with_capacity(64 * 1024, read), MAX_MESSAGE);
    let first = match lines.next_line().await {
        Ok(Some(line)) => line,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(%err, "result connection failed before its hello");
            return;
        }
    };
    let (hello, sender) = match admit(&first, &routes) {
        Ok(admitted) => admitted,
        Err(reason) => {
            tracing::warn!(reason = %reason, "refused a result connection");
            let _ = write_reply(&mut write, &ServerReply::Refused { reason }).await;
            return;
        }
    };
    if write_reply(&mut write, &ServerReply::Welcome).await.is_err() || sender.send(hello).await.is_err() {
        return;
    }
    // `write` stays open until the stream ends: the plugin takes its closing as the daemon's death.
    loop {
        match lines.next_line().await {
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

fn admit(line: &str, routes: &Routes) -> Result<(PluginMessage, mpsc::Sender<PluginMessage>), String> {
    let hello: PluginMessage = serde_json::from_str(line).map_err(|err| format!("expected a hello message: {err}"))?;
    let PluginMessage::Hello { run_id, token, .. } = &hello else {
        return Err("expected a hello message first".to_owned());
    };
    let sender = routes
        .claim(run_id, token)
        .map_err(|why| format!("{why} (run id {})", truncate(run_id)))?;
    Ok((hello, sender))
}

async fn write_reply(write: &mut tokio::net::unix::OwnedWriteHalf, reply: &ServerReply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
    line.push(b'\n');
    write.write_all(&line).await
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
    use std::time::Duration;

    use tokio::io::AsyncBufReadExt;

    use super::*;

    async fn connect_and_say(path: &Path, lines: &str) -> (String, UnixStream) {
        let mut stream = UnixStream::connect(path).await.unwrap();
        stream.write_all(lines.as_bytes()).await.unwrap();
        let mut reader = BufReader::new(&mut stream);
        let mut reply = String::new();
        reader.read_line(&mut reply).await.unwrap();
        (reply, stream)
    }

    fn hello(run_id: &str, token: &str) -> String {
        format!(r#"{{"type":"hello","runId":"{run_id}","token":"{token}","pid":1,"pytestVersion":"9"}}"#) + "\n"
    }

    #[tokio::test]
    async fn routes_a_proven_run_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let routes = Routes::default();
        let _server = ResultServer::bind(&path, routes.clone()).unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let _guard = routes.register("run-a", "secret", tx);

        let (reply, _s) = connect_and_say(&path, &hello("run-b", "secret")).await;
        assert!(reply.contains("refused") && reply.contains("unknown run id"), "{reply}");
        let (reply, _s) = connect_and_say(&path, &hello("run-a", "guess")).await;
        assert!(reply.contains("wrong token"), "{reply}");

        let report = r#"{"type":"sessionFinish","exitStatus":0}"#;
        let (reply, _s) = connect_and_say(&path, &(hello("run-a", "secret") + "garbage\n" + report + "\n")).await;
        assert_eq!(reply.trim(), r#"{"type":"welcome"}"#);
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(first, PluginMessage::Hello { .. }));
        let next = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next, PluginMessage::SessionFinish { exit_status: 0 });

        let (reply, _s) = connect_and_say(&path, &hello("run-a", "secret")).await;
        assert!(reply.contains("already has a result connection"), "{reply}");
    }

    #[test]
    fn compares_tokens_by_content() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
