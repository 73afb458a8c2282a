// pytest's own times in a VS Code round, read from the log of the extension's "pytestd" output channel (VS Code
// keeps it under the user data directory): the line pytestd writes when a run ends ("finished: passed in 6540 ms
// (10000 tests)", the pytest process's wall time) and pytest's summary ("10000 passed in 6.21s"), both prefixed
// with the run's id.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { waitFor } = require('../lib/wait');

function channelLogs(userData) {
  const found = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/-pytestd\.log$/.test(e.name) && /output_logging_/.test(dir)) found.push(p);
    }
  };
  walk(path.join(userData, 'logs'));
  return found;
}

// The last run of `tests` tests that ended "passed": {runId, pytestdMs, pytestSaysMs}, or null.
function lastRun(userData, tests) {
  const text = channelLogs(userData).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  let run = null;
  for (const m of text.matchAll(/^\[(\w+)\] pytestd: finished: passed in (\d+) ms \((\d+) tests\)$/gm)) {
    if (Number(m[3]) === tests) run = { runId: m[1], pytestdMs: Number(m[2]), pytestSaysMs: null };
  }
  if (run === null) return null;
  const summary = new RegExp(`^\\[${run.runId}\\] =+ ${tests} passed in ([\\d.]+)s`, 'm').exec(text);
  if (summary) run.pytestSaysMs = Math.round(Number(summary[1]) * 1000);
  return run;
}

// Waits for the channel's log to have the run (VS Code writes it a little after the run ends).
function waitForRunLog(userData, tests, timeoutMs = 15_000) {
  return waitFor(`the pytestd channel's log to record a run of ${tests} tests`, timeoutMs,
    () => lastRun(userData, tests), 250);
}

module.exports = { waitForRunLog };
