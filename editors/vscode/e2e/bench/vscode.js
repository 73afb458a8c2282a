// One VS Code round of the benchmark: a fresh code-server with the extension installed from its .vsix opens the
// suite in Chromium; once the Testing view shows the discovered tree and the editor is quiet, "Test: Run All
// Tests" runs, and the round records when the view's counter showed the first and the last passed test and when
// the run ended there, pytest's own times in that run (runLog.js) and the CPU each process used meanwhile.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { startCodeServer } = require('../lib/codeserver');
const { Workbench } = require('../lib/workbench');
const { waitFor } = require('../lib/wait');
const { snapshot, cpuBetween, waitForQuiet, childPid } = require('./cpu');
const { inspectorSession, startProfiling, topSelfTime } = require('./profiler');
const { watchResultCounter, watchDiscovery } = require('./probes');
const { waitForRunLog } = require('./runLog');

async function vscodeRound({ opts, suite, label }) {
  const root = path.join(opts.tmp, label);
  const codeServer = await startCodeServer({
    bin: opts.codeServer,
    root,
    vsix: opts.vsix,
    extraEnv: {},
    logFile: path.join(opts.logs, `${label}-code-server.log`),
    pgidFile: path.join(opts.tmp, 'code-server.pgid'),
  });
  let wb;
  try {
    wb = await Workbench.open(codeServer.url, suite.file, opts.logs);
    const roots = { editor: codeServer.pid, browser: childPid(process.pid, /chrom/) };
    const navigatedAt = await wb.page.evaluate(() => performance.timeOrigin);
    await wb.page.evaluate(watchDiscovery);
    await wb.focusTestExplorer(opts.discoveryTimeoutS * 1000);
    const seen = await waitFor('the Testing view to show the discovered tree', opts.discoveryTimeoutS * 1000,
      () => wb.page.evaluate(() => window.__pytestdDiscovery.treeAt), 100);
    const out = { discoveryMs: Math.round(seen - navigatedAt) };

    // Run All from a quiet editor: whatever followed discovery (rendering the tree) has settled.
    await waitForQuiet(roots).catch(() => {});
    const profilers = opts.profile ? await startProfilers(wb, roots) : null;
    const cpuBefore = snapshot(roots);
    await wb.page.evaluate(watchResultCounter, suite.count);
    await wb.command('Test: Run All Tests');
    const counter = () => wb.page.evaluate(() => window.__pytestdBench);
    const all = await waitFor(`the Testing view to count ${suite.count} passed`, opts.runTimeoutS * 1000,
      () => counter().then((r) => r.allAt !== null && r), 100)
      .catch(async (err) => {
        throw new Error(`${err.message}; counter: ${JSON.stringify(await counter().catch(() => null))}`);
      });
    console.log(`bench: ${label}: the counter read ${all.counter} ${all.allAt - all.enterAt} ms after Run All`);
    const rec = await waitFor('the run to end in the Testing view', opts.runTimeoutS * 1000,
      () => counter().then((r) => r.doneAt !== null && r), 100);
    out.runCpuMs = cpuBetween(cpuBefore, snapshot(roots));
    out.firstShownMs = rec.firstAt - rec.enterAt;
    out.allShownMs = rec.allAt - rec.enterAt;
    out.endedMs = rec.doneAt - rec.enterAt;
    const run = await waitForRunLog(path.join(root, 'user-data'), suite.count);
    out.pytestdMs = run.pytestdMs;
    out.pytestSaysMs = run.pytestSaysMs;
    if (profilers) out.profiles = await stopProfilers(profilers, path.dirname(opts.out), label);
    await wb.screenshot(`${label}-done`).catch(() => {});
    return out;
  } catch (err) {
    if (wb) await wb.screenshot(`${label}-FAILED`).catch(() => {});
    throw err;
  } finally {
    if (wb) await wb.close();
    await codeServer.stop();
  }
}

async function startProfilers(wb, roots) {
  const extHostPid = [...snapshot(roots).values()].find((p) => p.cat === 'extHost')?.pid;
  const extHost = await inspectorSession(extHostPid);
  const page = await wb.page.context().newCDPSession(wb.page);
  return { extHost: await startProfiling(extHost), renderer: await startProfiling(page), close: () => extHost.close() };
}

// Writes each .cpuprofile next to the JSON (Chrome's DevTools open them) and returns its top functions.
async function stopProfilers(profilers, dir, label) {
  const out = {};
  for (const name of ['extHost', 'renderer']) {
    const profile = await profilers[name].stop();
    const file = path.join(dir, `${label}-${name}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    out[name] = { file, top: topSelfTime(profile) };
  }
  profilers.close();
  return out;
}

module.exports = { vscodeRound };
