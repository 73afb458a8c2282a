//! The daemon's private directory: the result socket, the plugin and per-run selection files live here.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::RunnerError;

/// A directory only this user can enter (mode 0700), removed when dropped.
#[derive(Debug)]
pub(crate) struct RuntimeDir {
    dir: tempfile::TempDir,
}

impl RuntimeDir {
    /// Creates the directory and writes the plugin into it.
    pub(crate) fn create() -> Result<Self, RunnerError> {
        // Mode 0700 from the start: no other user may reach the socket, the plugin or the selection files.
        let dir = tempfile::Builder::new()
            .prefix("pytestd-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .map_err(RunnerError::RuntimeDir)?;
        crate::plugin::install(dir.path()).map_err(RunnerError::RuntimeDir)?;
        Ok(Self { dir })
    }

    /// The directory's path; also the directory to put on PYTHONPATH for the plugin.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the result server listens.
    pub(crate) fn socket_path(&self) -> PathBuf {
        self.dir.path().join("results.sock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_private_and_holds_the_plugin() {
        let dir = RuntimeDir::create().unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(dir.path().join("pytestd_plugin.py").is_file());
        let path = dir.path().to_owned();
        drop(dir);
        assert!(!path.exists());
    }
}
