//! The run coordinator (the design note's `PytestExecutionAdapter`): it admits runs, holds at most `maxParallel`
//! of them running and the rest in a FIFO queue, routes cancels, and answers every run exactly once. It is an
//! actor: [`Coordinator`] is the handle everyone holds, and only the actor task touches the run table, so every
//! command is a quick table operation and a cancel never waits behind a run.
//!
//! This folder: the handle, the commands it sends and the ticket a requester holds are here; the actor with its
//! run table and queue in `actor.rs`; the daemon's private directory, which the actor holds for its life, in
//! `runtime_dir.rs`.

mod actor;
mod runtime_dir;

use pytestd_protocol::config::Settings;
use pytestd_protocol::runs::{CancelState, ListRunsResult, RunTestsParams};
use tokio::sync::{mpsc, oneshot};

use crate::config::RunnerConfig;
use crate::error::RunnerError;
use crate::events::{JobKind, RunEvent, RunOutcome};
use crate::shards::memory::Memory;
use crate::shards::{ChildJob, ShardEvent};

/// Requests are validated with [`RunTestsParams`]; the runner takes them as they came over the wire.
pub type RunSpec = RunTestsParams;

enum Command {
    Submit {
        params: Box<RunSpec>,
        kind: JobKind,
        reply: oneshot::Sender<Result<RunTicket, RunnerError>>,
    },
    Cancel {
        run_id: String,
        reply: Option<oneshot::Sender<Result<CancelState, RunnerError>>>,
    },
    List {
        reply: oneshot::Sender<ListRunsResult>,
    },
    Configure {
        settings: Settings,
        reply: oneshot::Sender<Result<(), RunnerError>>,
    },
    Finished {
        run_id: String,
        outcome: Box<RunOutcome>,
    },
    /// Jobs of a sharded run (its shards, or the collection that finds them), queued together.
    SubmitChildren {
        group: String,
        jobs: Vec<ChildJob>,
        reply: oneshot::Sender<Result<Vec<RunTicket>, RunnerError>>,
    },
    /// A sharded run has merged its shards' results.
    GroupFinished {
        run_id: String,
        outcome: Box<RunOutcome>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// Handle to the coordinator actor. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Coordinator {
    tx: mpsc::UnboundedSender<Command>,
    /// What is remembered of projects between runs (durations, the files found), written in the background.
    memory: Memory,
    /// The warm templates, listed beside the runs.
    warm: crate::warm::WarmPool,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Submit { .. } => "Submit",
            Self::Cancel { .. } => "Cancel",
            Self::List { .. } => "List",
            Self::Configure { .. } => "Configure",
            Self::Finished { .. } => "Finished",
            Self::SubmitChildren { .. } => "SubmitChildren",
            Self::GroupFinished { .. } => "GroupFinished",
            Self::Shutdown { .. } => "Shutdown",
        })
    }
}

impl Coordinator {
    /// Creates the private runtime directory and the result server, and starts the actor. Needs a tokio runtime.
    pub fn start(config: RunnerConfig) -> Result<Self, RunnerError> {
        actor::start(config)
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, RunnerError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).map_err(|_| RunnerError::ShuttingDown)?;
        rx.await.map_err(|_| RunnerError::ShuttingDown)
    }

    /// Admits a run: it starts at once or waits in the queue. The ticket streams its events and result.
    pub async fn submit(&self, params: RunSpec, kind: JobKind) -> Result<RunTicket, RunnerError> {
        self.ask(|reply| Command::Submit {
            params: Box::new(params),
            kind,
            reply,
        })
        .await?
    }

    /// Admits jobs of the sharded run `group`, contiguous in the queue; refused once the run is cancelled.
    pub(crate) async fn submit_children(
        &self,
        group: &str,
        jobs: Vec<ChildJob>,
    ) -> Result<Vec<RunTicket>, RunnerError> {
        let group = group.to_owned();
        self.ask(|reply| Command::SubmitChildren { group, jobs, reply }).await?
    }

    /// Cancels a queued or running run.
    pub async fn cancel(&self, run_id: &str) -> Result<CancelState, RunnerError> {
        let run_id = run_id.to_owned();
        self.ask(|reply| Command::Cancel {
            run_id,
            reply: Some(reply),
        })
        .await?
    }

    /// Cancels a run without waiting for the answer (used when a requester goes away).
    pub fn cancel_detached(&self, run_id: &str) {
        let _ = self.tx.send(Command::Cancel {
            run_id: run_id.to_owned(),
            reply: None,
        });
    }

    /// Lists live runs.
    pub async fn list(&self) -> Result<ListRunsResult, RunnerError> {
        let mut list = self.ask(|reply| Command::List { reply }).await?;
        list.templates = self.warm.list().await;
        Ok(list)
    }

    /// Changes settings for runs admitted from now on; a higher `maxParallel` starts waiting runs at once.
    pub async fn configure(&self, settings: Settings) -> Result<(), RunnerError> {
        self.ask(|reply| Command::Configure { settings, reply }).await?
    }

    /// Refuses new runs, cancels every live run and returns when all of them have ended, and kills what is left
    /// below the daemon (processes that escaped their run without its id in their environment).
    pub async fn shutdown(&self) {
        let _ = self.ask(|reply| Command::Shutdown { reply }).await;
        crate::process::escapees::kill_all_escaped().await;
        // What the last runs taught is on disk before the process goes (`pytestd run` exits right after).
        self.memory.flush().await;
    }
}

/// A submitted run, as its requester sees it: events while it goes, then its result. Dropping the ticket before
/// the result arrived cancels the run, so a requester that goes away leaves nothing running.
#[derive(Debug)]
pub struct RunTicket {
    run_id: String,
    events: Events,
    result: Option<oneshot::Receiver<RunOutcome>>,
    coordinator: Coordinator,
    /// The project whose memory learns this run's durations, on the requester's task rather than the actor's.
    remember: Option<String>,
}

/// A job's events come straight from its instance; a sharded run's from its task, tagged with their shard.
#[derive(Debug)]
enum Events {
    Job(mpsc::Receiver<RunEvent>),
    Sharded(mpsc::Receiver<ShardEvent>),
}

impl RunTicket {
    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The next event; `None` once the run has ended and every event was taken.
    pub async fn next_event(&mut self) -> Option<RunEvent> {
        self.next_shard_event().await.map(|tagged| tagged.event)
    }

    /// The next event with the shard it comes from (always `None` for a run that is not sharded).
    pub async fn next_shard_event(&mut self) -> Option<ShardEvent> {
        match &mut self.events {
            Events::Job(events) => events.recv().await.map(|event| ShardEvent { shard: None, event }),
            Events::Sharded(events) => events.recv().await,
        }
    }

    /// The run's result. Call after [`RunTicket::next_event`] returned `None` to see every event first.
    pub async fn result(mut self) -> Result<RunOutcome, RunnerError> {
        let rx = self.result.take().ok_or(RunnerError::ShuttingDown)?;
        let outcome = rx.await.map_err(|_| RunnerError::ShuttingDown)?;
        if let Some(project) = &self.remember {
            let durations = crate::shards::durations::of_result(&outcome.result);
            self.coordinator.memory.record_durations(project, durations);
        }
        Ok(outcome)
    }
}

impl Drop for RunTicket {
    fn drop(&mut self) {
        if self.result.is_some() {
            self.coordinator.cancel_detached(&self.run_id);
        }
    }
}
