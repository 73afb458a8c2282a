//! The pytest plugin, embedded in the binary and written to the daemon's private directory at start. Its Python
//! source is in this folder: the plugin (`pytestd_plugin.py`) and the helper modules written beside it.

use std::path::Path;

use pytestd_protocol::plugin::PLUGIN_MODULE;

const SOURCE: &str = include_str!("pytestd_plugin.py");
/// The plugin's helper modules, written beside it: failure details, coverage runs, debug runs, and the warm
/// template's program in its three parts.
const HELPERS: [(&str, &str); 6] = [
    ("pytestd_failures.py", include_str!("pytestd_failures.py")),
    ("pytestd_coverage.py", include_str!("pytestd_coverage.py")),
    ("pytestd_debug.py", include_str!("pytestd_debug.py")),
    ("pytestd_warm.py", include_str!("pytestd_warm.py")),
    ("pytestd_warm_config.py", include_str!("pytestd_warm_config.py")),
    ("pytestd_warm_bytecode.py", include_str!("pytestd_warm_bytecode.py")),
];

/// Writes the plugin as `<dir>/pytestd_plugin.py`, so that `-p pytestd_plugin` finds it with `dir` on PYTHONPATH,
/// and its helper modules beside it.
pub(crate) fn install(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join(format!("{PLUGIN_MODULE}.py")), SOURCE)?;
    for (name, source) in HELPERS {
        std::fs::write(dir.join(name), source)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_plugin_reads_the_environment_the_daemon_sets() {
        use pytestd_protocol::plugin::{ENV_JOURNAL, ENV_RUN_ID, ENV_SELECT_FILE, ENV_SOCKET, ENV_TOKEN};
        for var in [ENV_SOCKET, ENV_RUN_ID, ENV_TOKEN, ENV_SELECT_FILE, ENV_JOURNAL] {
            assert!(super::SOURCE.contains(var), "plugin does not read {var}");
        }
    }
}
