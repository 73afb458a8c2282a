//! The daemon's private directory: the plugin and per-run selection files live here; and the address of the
//! result socket.
//!
//! A daemon killed outright cannot remove its directory, so each daemon records who it is in a pid file and, at
//! start, removes the directories of this user's daemons that are gone. The socket itself is abstract on Linux
//! and vanishes with the daemon.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::RunnerError;

/// How every runtime directory's name starts.
const PREFIX: &str = "pytestd-";
/// The file naming the daemon that owns a directory.
const PID_FILE: &str = "daemon.pid";

/// A directory only this user can enter (mode 0700), removed when dropped.
#[derive(Debug)]
pub(crate) struct RuntimeDir {
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl RuntimeDir {
    /// Removes the directories of dead daemons, then creates this daemon's directory and writes the plugin into it.
    pub(crate) fn create() -> Result<Self, RunnerError> {
        remove_stale(&std::env::temp_dir());
        // Mode 0700 from the start: no other user may reach the plugin or the selection files.
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir()
            .map_err(RunnerError::RuntimeDir)?;
        write_owner(dir.path()).map_err(RunnerError::RuntimeDir)?;
        crate::plugin::install(dir.path()).map_err(RunnerError::RuntimeDir)?;
        let socket = socket_address(dir.path());
        Ok(Self { dir, socket })
    }

    /// The directory's path; also the directory to put on PYTHONPATH for the plugin.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the result server listens: `@name` for an abstract socket (see `result_server`), else a path.
    pub(crate) fn socket_path(&self) -> PathBuf {
        self.socket.clone()
    }
}

#[cfg(target_os = "linux")]
fn socket_address(_dir: &Path) -> PathBuf {
    // Random, so no other process can take the name first.
    let name = format!("{PREFIX}{}", uuid::Uuid::new_v4().simple());
    PathBuf::from(format!("{}{name}", crate::results::result_server::ABSTRACT_PREFIX))
}

#[cfg(not(target_os = "linux"))]
fn socket_address(dir: &Path) -> PathBuf {
    dir.join("results.sock")
}

/// Who a daemon is: its pid, its start time (so a reused pid is not taken for it) and its pid namespace (so a
/// daemon in another container sharing /tmp is never taken for dead).
#[derive(Debug, PartialEq, Eq)]
struct Owner {
    pid: i32,
    start: u64,
    namespace: String,
}

impl Owner {
    fn myself() -> io::Result<Self> {
        let me = procfs::process::Process::myself().map_err(io::Error::other)?;
        Ok(Self {
            pid: me.pid(),
            start: me.stat().map_err(io::Error::other)?.starttime,
            namespace: pid_namespace()?,
        })
    }

    fn parse(text: &str) -> Option<Self> {
        // A whole record ends with a newline; a file without one is still being written.
        let mut fields = text.strip_suffix('\n')?.split(' ');
        let owner = Self {
            pid: fields.next()?.parse().ok()?,
            start: fields.next()?.parse().ok()?,
            namespace: fields.next()?.to_owned(),
        };
        fields.next().is_none().then_some(owner)
    }

    fn record(&self) -> String {
        format!("{} {} {}\n", self.pid, self.start, self.namespace)
    }

    /// Whether the daemon is certainly gone; any doubt counts as alive.
    fn is_gone(&self) -> bool {
        if pid_namespace().ok().as_deref() != Some(&self.namespace) {
            return false;
        }
        match procfs::process::Process::new(self.pid).and_then(|p| p.stat()) {
            Ok(stat) => stat.starttime != self.start,
            Err(procfs::ProcError::NotFound(_)) => true,
            Err(_) => false,
        }
    }
}

fn pid_namespace() -> io::Result<String> {
    Ok(fs::read_link("/proc/self/ns/pid")?.display().to_string())
}

fn write_owner(dir: &Path) -> io::Result<()> {
    // Written aside and renamed, so a daemon starting at the same moment never reads half a record.
    let partial = dir.join(format!("{PID_FILE}.partial"));
    fs::write(&partial, Owner::myself()?.record())?;
    fs::rename(partial, dir.join(PID_FILE))
}

/// Removes the runtime directories under `temp` that this user's dead daemons left behind.
fn remove_stale(temp: &Path) {
    let Ok(entries) = fs::read_dir(temp) else {
        return;
    };
    let uid = nix::unistd::geteuid().as_raw();
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let dir = entry.path();
        // Only real directories of this user: never follow a link someone else planted.
        let ours = fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == uid);
        let owner = fs::read_to_string(dir.join(PID_FILE))
            .ok()
            .and_then(|t| Owner::parse(&t));
        let Some(owner) = owner.filter(|owner| ours && owner.is_gone()) else {
            continue;
        };
        match fs::remove_dir_all(&dir) {
            Ok(()) => {
                tracing::info!(dir = %dir.display(), pid = owner.pid, "removed the runtime directory of a dead daemon")
            }
            Err(err) => tracing::debug!(dir = %dir.display(), %err, "cannot remove a dead daemon's runtime directory"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_private_and_holds_the_plugin_and_its_owner() {
        let dir = RuntimeDir::create().unwrap();
        let mode = fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(dir.path().join("pytestd_plugin.py").is_file());
        let owner = Owner::parse(&fs::read_to_string(dir.path().join(PID_FILE)).unwrap()).unwrap();
        assert_eq!(owner, Owner::myself().unwrap());
        assert!(!owner.is_gone());
        assert!(dir.socket_path().to_str().unwrap().starts_with("@pytestd-"));
        let path = dir.path().to_owned();
        drop(dir);
        assert!(!path.exists());
    }

    fn runtime_dir(temp: &Path, name: &str, owner: Option<&str>) -> PathBuf {
        let dir = temp.join(name);
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("pytestd_plugin.py"), "").unwrap();
        if let Some(owner) = owner {
            fs::write(dir.join(PID_FILE), owner).unwrap();
        }
        dir
    }

    #[test]
    fn removes_only_the_directories_of_dead_daemons() {
        let temp = tempfile::tempdir().unwrap();
        let me = Owner::myself().unwrap();
        let dead = Owner {
            start: me.start + 1,
            ..Owner::myself().unwrap()
        };
        let elsewhere = Owner {
            pid: i32::MAX,
            namespace: "pid:[1]".into(),
            ..Owner::myself().unwrap()
        };
        let gone = Owner {
            pid: i32::MAX,
            ..Owner::myself().unwrap()
        };
        let reused = runtime_dir(temp.path(), "pytestd-reused", Some(&dead.record()));
        let vanished = runtime_dir(temp.path(), "pytestd-gone", Some(&gone.record()));
        let live = runtime_dir(temp.path(), "pytestd-live", Some(&me.record()));
        let foreign_ns = runtime_dir(temp.path(), "pytestd-ns", Some(&elsewhere.record()));
        let unowned = runtime_dir(temp.path(), "pytestd-old", None);
        let partial = runtime_dir(temp.path(), "pytestd-partial", Some(gone.record().trim_end()));
        let other = runtime_dir(temp.path(), "other-gone", Some(&gone.record()));

        remove_stale(temp.path());

        assert!(!reused.exists() && !vanished.exists());
        for kept in [live, foreign_ns, unowned, partial, other] {
            assert!(kept.exists(), "{} was removed", kept.display());
        }
    }
}
