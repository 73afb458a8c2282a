// 4. A slow run cancelled from the UI ("Test: Cancel Test Run") ends as cancelled and leaves no pytest process.
'use strict';

const assert = require('node:assert/strict');
const { runCount, waitForRunWith, runById } = require('../lib/runs');
const { pythonProcessesUnder } = require('../lib/processes');
const { waitFor } = require('../lib/wait');

const SLOW = 'tests/test_slow.py::test_slow';

module.exports = {
  name: 'cancel',
  title: 'a slow run cancelled from the UI leaves no pytest process',
  timeoutMs: 90_000,
  async run({ wb, ws, stateFile, oracle }) {
    ws.setSlowSeconds(600);
    try {
      const before = runCount(stateFile);
      await wb.openFileAt('tests/test_slow.py', oracle.project.tests[SLOW].line + 1);
      await wb.command('Test: Run Test at Cursor');
      const run = await waitForRunWith(stateFile, before, SLOW, ['started'], 'the slow test to start', 30_000);
      await waitFor('pytest to be running in the workspace', 15_000, () => pythonProcessesUnder(ws.project).length);
      await wb.screenshot('slow-run-before-cancel');

      await wb.command('Test: Cancel Test Run');
      const ended = await waitFor('the run to end after cancel', 20_000, () => {
        const now = runById(stateFile, run.runId);
        return now && now.state === 'finished' && now;
      });
      assert.equal(ended.status, 'cancelled', 'the run\'s status after cancel');
      await waitFor('every pytest process of the run to exit', 10_000,
        () => pythonProcessesUnder(ws.project).length === 0)
        .catch((err) => {
          const left = pythonProcessesUnder(ws.project).map((p) => `${p.pid}: ${p.cmdline}`).join('\n');
          throw new Error(`${err.message}; still running:\n${left}`);
        });
      await wb.screenshot('slow-run-cancelled');
    } finally {
      ws.setSlowSeconds(0.5);
    }
  },
};
