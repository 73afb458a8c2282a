// Runs real pytest over a fixture folder (lib/oracle.py) and says what the Testing view must show for it.
'use strict';

const path = require('node:path');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

// pytest's outcome → the extension's result state, as editors/vscode/src/pure/outcomes.ts documents it: an xfail
// is a skip whose reason goes to the test's output, an xpass a pass with a note.
const EXPECTED_STATE = {
  passed: 'passed',
  failed: 'failed',
  error: 'errored',
  skipped: 'skipped',
  xfailed: 'skipped',
  xpassed: 'passed',
};

function pytestOracle(python, folder, outFile) {
  const result = spawnSync(python, [path.join(__dirname, 'oracle.py'), outFile], {
    cwd: folder, encoding: 'utf8', timeout: 120_000,
  });
  if (!fs.existsSync(outFile)) {
    throw new Error(`oracle.py failed in ${folder} (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  const oracle = JSON.parse(fs.readFileSync(outFile, 'utf8'));
  for (const [nodeId, test] of Object.entries(oracle.tests)) {
    if (!(test.outcome in EXPECTED_STATE)) throw new Error(`oracle: no outcome for ${nodeId}`);
    test.state = EXPECTED_STATE[test.outcome];
  }
  return oracle;
}

module.exports = { pytestOracle };
