// Reads the extension's test-only state file (PYTESTD_VSCODE_STATE_FILE): its own view of the tree and the runs.
'use strict';

const fs = require('node:fs');
const { waitFor } = require('./wait');

function readState(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    // Not written yet; the extension renames a complete file into place, so a partial read cannot happen.
    return null;
  }
}

// Waits until predicate(state) returns something truthy and returns that.
async function waitForState(file, what, timeoutMs, predicate) {
  return waitFor(what, timeoutMs, () => {
    const state = readState(file);
    return state ? predicate(state) : undefined;
  });
}

module.exports = { readState, waitForState };
