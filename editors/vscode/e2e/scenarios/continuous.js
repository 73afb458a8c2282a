// 7. Continuous run ("Test: Start Continuous Run") re-runs a test after its file is saved in the editor, with the
//    saved content: the test is changed to fail and the new run reports the failure.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const { readState, waitForState } = require('../lib/state');
const { runCount } = require('../lib/runs');

const WATCHED = 'tests/test_watched.py::test_watched';

module.exports = {
  name: 'continuous',
  title: 'continuous run re-runs a test after its file is saved',
  timeoutMs: 120_000,
  async run({ wb, ws, stateFile }) {
    await wb.focusTestExplorer();
    await wb.command('Test: Start Continuous Run');
    await waitForState(stateFile, 'continuous run to be on', 20_000, (s) => s.continuous && s.continuous.active);
    const before = runCount(stateFile);
    const continuousBefore = readState(stateFile).continuous.runs;

    // Edit the test in the editor so it fails, and save it.
    const file = ws.path('tests/test_watched.py');
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('assert True')) + 1;
    await wb.replaceLine('tests/test_watched.py', line, '    assert 1 == 2');
    await wb.page.keyboard.press('Control+S');
    await waitForState(stateFile, 'a continuous run to report the saved test as failed', 60_000, (s) =>
      s.runs.slice(before).find((run) => run.continuous && run.state === 'finished'
        && run.results[WATCHED] && run.results[WATCHED].state === 'failed'))
      .catch((err) => {
        throw new Error(`${err.message}; file now:\n${fs.readFileSync(file, 'utf8')}`);
      });
    const state = readState(stateFile);
    assert.ok(state.continuous.runs > continuousBefore, 'continuous.runs did not grow');
    await wb.screenshot('continuous-rerun');

    await wb.command('Test: Stop Continuous Run');
    await waitForState(stateFile, 'continuous run to be off', 20_000, (s) => !s.continuous.active);
  },
};
