//! Logging through `tracing`, to stderr or a file, never to stdout (stdout is the protocol).

use std::fs::File;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

/// Keeps the log file open for the life of the process.
pub(crate) struct LogGuard;

/// Installs the global subscriber. The level comes from `level`, else RUST_LOG, else `warn`.
pub(crate) fn init(level: Option<&str>, file: Option<&Path>) -> anyhow::Result<LogGuard> {
    let filter = match level {
        Some(level) => EnvFilter::try_new(level).with_context(|| format!("invalid --log-level {level:?}"))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    match file {
        Some(path) => {
            let file = File::options()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open log file {}", path.display()))?;
            builder.with_writer(Mutex::new(file)).init();
        }
        None => builder.with_writer(std::io::stderr).init(),
    }
    Ok(LogGuard)
}
