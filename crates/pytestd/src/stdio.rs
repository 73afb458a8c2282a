//! The protocol's byte streams. When stdin and stdout are pipes (as when an editor or script spawns pytestd),
//! they are driven by the runtime's event loop directly; tokio's `stdin()`/`stdout()` would hand every read and
//! write to a blocking thread, a thread handoff per message. Anything else (a terminal, a file) falls back to them.

use std::io::{stdin, stdout};
use std::os::fd::AsFd;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

/// The daemon's input.
pub(crate) fn input() -> Box<dyn AsyncRead + Unpin + Send> {
    let pipe = stdin()
        .as_fd()
        .try_clone_to_owned()
        .and_then(pipe::Receiver::from_owned_fd);
    match pipe {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::io::stdin()),
    }
}

/// The daemon's output: protocol frames only.
pub(crate) fn output() -> Box<dyn AsyncWrite + Unpin + Send> {
    let pipe = stdout()
        .as_fd()
        .try_clone_to_owned()
        .and_then(pipe::Sender::from_owned_fd);
    match pipe {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::io::stdout()),
    }
}
