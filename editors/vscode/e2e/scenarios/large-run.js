// 10. A run too large for the extension to queue its tests first (src/pure/runDisplay.ts): a module of 2000
//     generated tests, every 100th failing, and a slow test that waits until this scenario has seen it running.
//     While it waits, VS Code's counter has it running; at the end the counter has every pass and failure and
//     each test's result is the one its code gives, failures at their assert line.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const { runCount, waitForRunWith } = require('../lib/runs');
const { waitForState } = require('../lib/state');
const { waitFor } = require('../lib/wait');

const COUNT = 2000;
const FILE = 'tests/test_many.py';
const SLOW = `${FILE}::test_many_slow`;
const fails = (i) => i % 100 === 0;

// The module, and for each generated test its node id, expected state and (failing) assert line.
function generate() {
  const lines = ['import os', 'import time', ''];
  const expected = {};
  for (let i = 0; i < COUNT; i++) {
    const name = `test_many_${String(i).padStart(4, '0')}`;
    lines.push(`def ${name}():`, `    assert ${i} % 100 != 0`, '');
    expected[`${FILE}::${name}`] = { state: fails(i) ? 'failed' : 'passed', line: lines.length - 1 };
  }
  lines.push(
    'def test_many_slow():',
    '    release = os.path.join(os.path.dirname(__file__), "many_release.txt")',
    '    deadline = time.monotonic() + 120',
    '    while not os.path.exists(release):',
    '        assert time.monotonic() < deadline, "the scenario never released this test"',
    '        time.sleep(0.05)',
    '',
  );
  expected[SLOW] = { state: 'passed', line: null };
  return { text: lines.join('\n'), expected };
}

module.exports = {
  name: 'large-run',
  title: 'a run of 2000 tests shows every result, and a slow test running',
  timeoutMs: 240_000,
  async run({ wb, ws, stateFile }) {
    const { text, expected } = generate();
    const failed = Object.values(expected).filter((e) => e.state === 'failed').length;
    const release = ws.path('tests/many_release.txt');
    fs.writeFileSync(ws.path(FILE), text);
    try {
      await wb.command('pytestd: Refresh Tests');
      await waitForState(stateFile, `discovery to list ${SLOW}`, 60_000,
        (s) => s.items.some((item) => item.nodeId === SLOW));
      const before = runCount(stateFile);
      await wb.openFileAt(FILE, 1);
      await wb.command('Test: Run Tests in Current File');
      await wb.focusTestExplorer();

      const run = await waitForRunWith(stateFile, before, SLOW, ['started'], 'the slow test to show as running',
        90_000);
      // Every other test has its result by now, and VS Code counts the slow one as running.
      const during = await waitFor('the counter to count the slow test running', 30_000, async () => {
        const c = await wb.resultCounter();
        return c && c.spinning && c.passed === COUNT - failed && c.total === COUNT + 1 && c;
      }).catch(async (err) => {
        throw new Error(`${err.message}; counter: ${JSON.stringify(await wb.resultCounter())}`);
      });
      assert.ok(during);
      await wb.screenshot('large-run-slow-test-running');

      fs.writeFileSync(release, '');
      const done = await waitForState(stateFile, 'the run to finish', 60_000,
        (s) => s.runs.find((r) => r.runId === run.runId && r.state === 'finished'));
      const wrong = [];
      for (const [nodeId, want] of Object.entries(expected)) {
        const got = done.results[nodeId];
        if (!got || got.state !== want.state) {
          wrong.push(`${nodeId}: ${got ? got.state : 'no result'}, expected ${want.state}`);
        } else if (want.state === 'failed' && (got.line !== want.line || got.file !== ws.path(FILE))) {
          wrong.push(`${nodeId}: message at ${got.file}:${got.line}, expected line ${want.line}`);
        }
      }
      assert.deepEqual(wrong, [], 'results differ from what the generated tests do');
      await waitFor('the counter to count every pass and failure', 30_000, async () => {
        const c = await wb.resultCounter();
        return c && !c.spinning && c.passed === COUNT + 1 - failed && c.total === COUNT + 1;
      }).catch(async (err) => {
        throw new Error(`${err.message}; counter: ${JSON.stringify(await wb.resultCounter())}`);
      });
      await wb.screenshot('large-run-done');
    } finally {
      fs.rmSync(ws.path(FILE), { force: true });
      fs.rmSync(release, { force: true });
      await wb.closeQuickInput().catch(() => {});
      await wb.command('pytestd: Refresh Tests').catch(() => {});
      await waitForState(stateFile, `discovery to drop ${FILE}`, 60_000,
        (s) => !s.items.some((item) => item.nodeId === SLOW)).catch(() => {});
    }
  },
};
