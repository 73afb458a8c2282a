// 2. "Test: Run All Tests" marks every test as pytest does: each result in the extension's state and each row of
//    the Testing view against the outcome real pytest gave for the same fixture.
'use strict';

const assert = require('node:assert/strict');
const { runCount, waitForFinishedResults, mergedResults } = require('../lib/runs');
const { waitFor } = require('../lib/wait');

// The Testing view's words for the extension's result states, as its rows' aria-labels read.
const UI_STATE = { passed: 'Passed', failed: 'Failed', errored: 'Errored', skipped: 'Skipped' };

module.exports = {
  name: 'run-all',
  title: 'Run All marks every test as pytest does',
  timeoutMs: 150_000,
  async run(ctx) {
    const { wb, stateFile, oracle } = ctx;
    const expected = { ...oracle.project.tests, ...oracle.second.tests };
    const before = runCount(stateFile);
    await wb.command('Test: Run All Tests');
    const runs = await waitForFinishedResults(stateFile, before, Object.keys(expected),
      'Run All to finish with a result for every test pytest collects', 120_000);
    ctx.runAll = runs;
    const results = mergedResults(runs);
    const wrong = [];
    for (const [nodeId, test] of Object.entries(expected)) {
      const got = results[nodeId];
      if (got.state !== test.state) wrong.push(`${nodeId}: ${got.state}, pytest says ${test.outcome}`);
      // Skips, xfails and xpasses keep their reason in the test's output.
      if (['skipped', 'xfailed', 'xpassed'].includes(test.outcome) && !got.output) {
        wrong.push(`${nodeId}: ${test.outcome} without output carrying its reason`);
      }
    }
    assert.deepEqual(wrong, [], 'results differ from pytest');

    await wb.focusTestExplorer();
    await wb.showAllTestsInView();
    await wb.screenshot('run-all');
    // List mode: each test is a row labelled with its name, its parents in the description.
    const rowFor = (rows, nodeId) => {
      const name = nodeId.split('::').pop();
      const file = nodeId.split('::')[0].split('/').pop();
      return rows.find((row) => row.label === name && row.description.includes(file));
    };
    const rows = await waitFor('the Testing view to show every test with a result', 20_000, async () => {
      const now = await wb.testRows();
      return Object.keys(expected).every((id) => rowFor(now, id) && rowFor(now, id).state) && now;
    }).catch(async (err) => {
      throw new Error(`${err.message}; rows: ${JSON.stringify(await wb.testRows())}`);
    });
    const wrongRows = [];
    for (const [nodeId, test] of Object.entries(expected)) {
      const row = rowFor(rows, nodeId);
      if (row.state !== UI_STATE[test.state]) {
        wrongRows.push(`${nodeId}: the view says ${row.state}, pytest ${test.outcome} (${UI_STATE[test.state]})`);
      }
    }
    assert.deepEqual(wrongRows, [], 'Testing view rows differ from pytest');
  },
};
