// 8. A Debug run stops at a breakpoint set in the editor and continues to its results: F9 on a line of a test,
//    "Test: Debug Test at Cursor", the debugger (the extension's own `pytestd` debug type: no other extension is
//    installed) pauses there (debug toolbar, the paused-frame arrow at the line, the Call Stack), the toolbar's
//    Continue button lets the test finish, and the run ends passed with nothing left running.
'use strict';

const assert = require('node:assert/strict');
const { runCount, runById } = require('../lib/runs');
const { readState, waitForState } = require('../lib/state');
const { pythonProcessesUnder } = require('../lib/processes');
const { waitFor } = require('../lib/wait');

const TEST = 'tests/test_calc.py::test_add';
const FILE = 'tests/test_calc.py';

module.exports = {
  name: 'debug',
  title: 'a Debug run stops at a breakpoint and continues to its results',
  timeoutMs: 150_000,
  async run({ wb, ws, stateFile }) {
    const line = ws.lines.debug;
    const file = ws.path(FILE);
    await wb.openFileAt(FILE, line);
    await wb.page.keyboard.press('F9');
    await waitFor(`a breakpoint on line ${line}`, 10_000,
      async () => (await wb.glyphLines('codicon-debug-breakpoint')).includes(line))
      .catch(async (err) => {
        throw new Error(`${err.message}; breakpoints at ${JSON.stringify(await wb.glyphLines('codicon-debug-breakpoint'))}`);
      });

    const before = runCount(stateFile);
    try {
      await debugToTheEnd({ wb, ws, stateFile, before, line, file });
    } finally {
      // Whatever happened, later scenarios get no paused debugger and no breakpoint.
      const left = (readState(stateFile)?.runs || []).slice(before).filter((r) => r.kind === 'debug' && r.state !== 'finished');
      if (left.length > 0) {
        await wb.page.locator('.debug-toolbar .codicon-debug-stop, .debug-toolbar .codicon-debug-disconnect').first()
          .click({ timeout: 5_000 }).catch(() => {});
      }
      await wb.command('Remove All Breakpoints', 10_000).catch(() => {});
    }
  },
};

async function debugToTheEnd({ wb, ws, stateFile, before, line, file }) {
  await wb.command('Test: Debug Test at Cursor');
  const paused = await waitForState(stateFile, `the debug run to pause at ${FILE}:${line}`, 60_000, (s) => {
    const run = (s.runs || []).slice(before).find((r) => r.kind === 'debug');
    return run && run.debug && run.debug.pausedAt && run;
  }).catch(async (err) => {
    await wb.screenshot('debug-not-paused');
    throw err;
  });
  assert.ok(paused.debug.sessionStarted, 'a debug session was started for the run');
  assert.deepEqual(paused.debug.pausedAt, { file, line }, 'paused at the breakpoint');
  assert.equal(paused.debug.host, '127.0.0.1');

  // In the UI: the debug toolbar, the paused frame's arrow on the line, and the frame in the Call Stack.
  await wb.page.locator('.debug-toolbar').waitFor({ state: 'visible', timeout: 20_000 });
  await waitFor(`the paused-frame arrow on line ${line}`, 20_000,
    async () => (await wb.glyphLines('codicon-debug-stackframe')).includes(line))
    .catch(async (err) => {
      throw new Error(`${err.message}; arrows at ${JSON.stringify(await wb.glyphLines('codicon-debug-stackframe'))}`);
    });
  // VS Code opens the Run and Debug view on a break; focusing the Call Stack makes sure it is rendered.
  await wb.command('Run and Debug: Focus on Call Stack View', 10_000).catch(() => {});
  const frames = await waitFor('the Call Stack to show test_add', 20_000, async () => {
    const rows = await wb.callStackRows();
    if (rows.some((r) => r.includes('test_add'))) return rows;
    // With several threads VS Code may leave the paused one collapsed: open it.
    const thread = wb.page.locator('.debug-call-stack .monaco-list-row[aria-label*="MainThread"]').first();
    await thread.locator('.monaco-tl-twistie').click({ timeout: 2_000 }).catch(() => {});
    return false;
  }).catch(async (err) => {
    throw new Error(`${err.message}; rows: ${JSON.stringify(await wb.callStackRows())}`);
  });
  assert.ok(frames.some((r) => r.includes('test_add') && r.includes(String(line))),
    `the test_add frame names line ${line}: ${JSON.stringify(frames)}`);
  await wb.screenshot('debug-paused');

  await wb.page.locator('.debug-toolbar .action-label.codicon-debug-continue').click();
  const ended = await waitFor('the debug run to finish', 60_000, () => {
    const now = runById(stateFile, paused.runId);
    return now && now.state === 'finished' && now;
  });
  assert.equal(ended.status, 'passed', 'the debug run\'s status');
  assert.equal(ended.results[TEST] && ended.results[TEST].state, 'passed', `${TEST} passed`);
  assert.equal(ended.debug.stops, 1, 'stopped once, at the breakpoint');
  await waitForState(stateFile, 'the debug session to end with the run', 20_000,
    (s) => (s.runs || []).find((r) => r.runId === paused.runId && r.debug && r.debug.sessionEnded));
  await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 20_000 });
  await waitFor('every pytest process of the run to exit', 15_000, () => pythonProcessesUnder(ws.project).length === 0);
  await wb.screenshot('debug-finished');
}
