// Starts and stops a throwaway code-server (a real VS Code) on 127.0.0.1: its own user data, extensions and XDG
// directories under `root`, the extension under test installed from its .vsix before start.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { waitFor } = require('./wait');

// User settings that keep the workbench quiet and deterministic: no welcome page, chat, tips or update checks
// stealing focus from the command palette.
const USER_SETTINGS = {
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'files.autoSave': 'off',
  'git.enabled': false,
};

function codeServerEnv(root, extraEnv) {
  const env = { ...process.env, ...extraEnv };
  for (const name of ['CONFIG', 'DATA', 'CACHE', 'STATE', 'RUNTIME']) {
    const dir = path.join(root, 'xdg', name.toLowerCase());
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    env[`XDG_${name}_HOME`] = dir;
  }
  env.XDG_RUNTIME_DIR = env.XDG_RUNTIME_HOME;
  delete env.XDG_RUNTIME_HOME;
  // Extensions activate in code-server's own extension host, which must not see the parent's editor setup.
  delete env.VSCODE_IPC_HOOK_CLI;
  return env;
}

async function startCodeServer({ bin, root, vsix, extraEnv, logFile, pgidFile }) {
  const userData = path.join(root, 'user-data');
  const extensions = path.join(root, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
  const env = codeServerEnv(root, extraEnv);
  const dirs = ['--user-data-dir', userData, '--extensions-dir', extensions];

  const install = spawnSync(bin, [...dirs, '--install-extension', vsix, '--force'], {
    env, encoding: 'utf8', timeout: 120_000,
  });
  if (install.status !== 0 || !/successfully installed/.test(install.stdout)) {
    throw new Error(`installing ${vsix} failed (exit ${install.status}):\n${install.stdout}\n${install.stderr}`);
  }

  const log = fs.openSync(logFile, 'a');
  // detached: its own process group, so stopping it takes the extension host and its children along.
  const child = spawn(bin, [
    '--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', ...dirs,
  ], { env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  fs.writeFileSync(pgidFile, String(child.pid));
  let exited = null;
  child.on('exit', (code, signal) => { exited = `exit ${code} ${signal || ''}`; });

  // Port 0: code-server binds a free port and logs it, so no other process can take it in between.
  const url = await waitFor('code-server to listen', 60_000, () => {
    if (exited) throw new Error(`code-server ended early (${exited}); see ${logFile}`);
    const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(fs.readFileSync(logFile, 'utf8'));
    return match && match[1];
  });

  async function stop() {
    if (exited) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
    try {
      await waitFor('code-server to stop', 5_000, () => exited);
    } catch {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }
  return { url, stop, pid: child.pid };
}

module.exports = { startCodeServer };
