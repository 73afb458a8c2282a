// 6. A module that fails to import shows its error (pytest's message, at its line) while every other module's
//    tests still ran in the same Run All.
'use strict';

const assert = require('node:assert/strict');
const { readState } = require('../lib/state');
const { mergedResults } = require('../lib/runs');
const { waitFor } = require('../lib/wait');

module.exports = {
  name: 'broken-module',
  title: 'a broken module shows its error while the other tests run',
  timeoutMs: 60_000,
  async run({ wb, ws, stateFile, oracle, runAll }) {
    const state = readState(stateFile);
    const file = ws.path('tests/test_broken.py');
    const errorItem = state.items.find((item) => item.file === file && item.error);
    assert.ok(errorItem, `no item with an error for ${file}`);
    assert.match(errorItem.error, /No module named 'module_that_does_not_exist'/, 'the error is pytest\'s message');
    assert.equal(errorItem.line, ws.lines.broken, 'the error item sits on the failing import');

    assert.ok(runAll, 'needs the results of run-all');
    const project = runAll.find((run) => Object.keys(run.results || {}).some((id) => id.startsWith('tests/')));
    assert.ok(project, 'no Run All run over the project folder');
    assert.equal(project.status, 'failed', 'a run with a broken module says something was wrong');
    const results = mergedResults(runAll);
    const ran = Object.keys(oracle.project.tests).filter((id) => results[id] && results[id].state !== 'skipped');
    assert.ok(ran.length >= Object.keys(oracle.project.tests).length - 2,
      `the other modules' tests ran: ${ran.length} of ${Object.keys(oracle.project.tests).length}`);

    await wb.focusTestExplorer();
    await wb.showAllTestsInView();
    await waitFor('the Testing view to show the broken module\'s error', 20_000, async () => {
      const labels = await wb.testRowLabels();
      return labels.some((l) => /test_broken/.test(l) || /module_that_does_not_exist/.test(l));
    }).catch(async (err) => {
      throw new Error(`${err.message}; rows: ${JSON.stringify(await wb.testRowLabels())}`);
    });
    await wb.screenshot('broken-module');
  },
};
