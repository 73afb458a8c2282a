// 5. Two runs started together both finish with their own results: a slow test, then, while it runs, a class
//    in another file, each started from the editor with "Test: Run Test at Cursor".
'use strict';

const assert = require('node:assert/strict');
const { readState } = require('../lib/state');
const { runCount, waitForRunWith } = require('../lib/runs');
const { waitFor } = require('../lib/wait');

const SLOW = 'tests/test_slow.py::test_slow';
const ADD = 'tests/test_classes.py::TestMath::test_add';

module.exports = {
  name: 'parallel-runs',
  title: 'two runs started together both finish with their own results',
  timeoutMs: 120_000,
  async run({ wb, ws, stateFile, oracle }) {
    ws.setSlowSeconds(6);
    try {
      const before = runCount(stateFile);
      await wb.openFileAt('tests/test_slow.py', oracle.project.tests[SLOW].line + 1);
      await wb.command('Test: Run Test at Cursor');
      const first = await waitForRunWith(stateFile, before, SLOW, ['started'], 'the slow test to start', 30_000);

      await wb.openFileAt('tests/test_classes.py', oracle.project.tests[ADD].line);
      await wb.command('Test: Run Test at Cursor');
      const second = await waitForRunWith(stateFile, before, ADD, ['enqueued', 'started', 'passed'],
        'the second run to start', 30_000);
      const firstNow = readState(stateFile).runs.find((run) => run.runId === first.runId);
      assert.notEqual(firstNow.state, 'finished', 'the slow run ended before the second one started');
      assert.notEqual(second.runId, first.runId, 'both runs share one pytestd run');
      await wb.screenshot('two-runs');

      const [a, b] = await waitFor('both runs to finish', 60_000, () => {
        const runs = readState(stateFile).runs;
        const pair = [first.runId, second.runId].map((id) => runs.find((run) => run.runId === id));
        return pair.every((run) => run.state === 'finished') && pair;
      });
      assert.deepEqual(Object.keys(a.results), [SLOW], 'the first run reports only its test');
      assert.deepEqual(Object.keys(b.results), [ADD], 'the second run reports only its test');
      assert.equal(a.results[SLOW].state, 'passed', 'test_slow');
      assert.equal(b.results[ADD].state, 'passed', 'TestMath::test_add');
      assert.equal(a.status, 'passed');
      assert.equal(b.status, 'passed');
    } finally {
      ws.setSlowSeconds(0.5);
    }
  },
};
