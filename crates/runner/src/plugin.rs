//! The pytest plugin, embedded in the binary and written to the daemon's private directory at start.

use std::path::Path;

use pytestd_protocol::plugin::PLUGIN_MODULE;

const SOURCE: &str = include_str!("plugin/pytestd_plugin.py");
/// The plugin's helper for failure details (frames, compared values, collection error lines).
const FAILURES: &str = include_str!("plugin/pytestd_failures.py");

/// Writes the plugin as `<dir>/pytestd_plugin.py`, so that `-p pytestd_plugin` finds it with `dir` on PYTHONPATH,
/// and its helper module beside it.
pub(crate) fn install(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join(format!("{PLUGIN_MODULE}.py")), SOURCE)?;
    std::fs::write(dir.join("pytestd_failures.py"), FAILURES)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_plugin_reads_the_environment_the_daemon_sets() {
        use pytestd_protocol::plugin::{ENV_RUN_ID, ENV_SELECT_FILE, ENV_SOCKET, ENV_TOKEN};
        for var in [ENV_SOCKET, ENV_RUN_ID, ENV_TOKEN, ENV_SELECT_FILE] {
            assert!(super::SOURCE.contains(var), "plugin does not read {var}");
        }
    }
}
