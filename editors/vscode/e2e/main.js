// The end-to-end test of the pytestd extension in a real VS Code: starts code-server with the .vsix installed,
// opens the fixture workspace in Chromium and runs the scenarios in scenarios/ in order, each with a deadline.
// Prints "vscode-e2e: N passed, N failed" last and exits non-zero on any failure. Started by run.sh.
//
//   node main.js --vsix FILE --python PYTHON --code-server BIN --logs DIR --tmp DIR
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { startCodeServer } = require('./lib/codeserver');
const { Workbench } = require('./lib/workbench');
const { createWorkspace } = require('./lib/workspace');
const { pytestOracle } = require('./lib/oracle');
const { withTimeout } = require('./lib/wait');

const SCENARIOS = [
  'tree', 'run-all', 'failure-line', 'broken-module', 'parallel-runs', 'cancel', 'continuous', 'debug', 'coverage',
  'large-run',
].map((name) => require(`./scenarios/${name}`));

async function main() {
  const { values: opts } = parseArgs({
    options: {
      vsix: { type: 'string' }, python: { type: 'string' }, 'code-server': { type: 'string' },
      logs: { type: 'string' }, tmp: { type: 'string' }, only: { type: 'string' },
    },
  });
  for (const name of ['vsix', 'python', 'code-server', 'logs', 'tmp']) {
    if (!opts[name]) throw new Error(`main.js: --${name} is required`);
  }
  fs.mkdirSync(opts.logs, { recursive: true });
  const scenarios = opts.only ? SCENARIOS.filter((s) => opts.only.split(',').includes(s.name)) : SCENARIOS;
  const results = [];
  let codeServer;
  let wb;
  const ctx = { stateFile: path.join(opts.tmp, 'state.json'), logs: opts.logs };
  try {
    ctx.ws = createWorkspace(path.join(opts.tmp, 'workspace'), opts.python);
    // pytest's own verdict, computed before VS Code touches the copy.
    ctx.oracle = {
      project: pytestOracle(opts.python, ctx.ws.project, path.join(opts.tmp, 'oracle-project.json')),
      second: pytestOracle(opts.python, ctx.ws.second, path.join(opts.tmp, 'oracle-second.json')),
    };
    codeServer = await startCodeServer({
      bin: opts['code-server'],
      root: path.join(opts.tmp, 'code-server'),
      vsix: opts.vsix,
      extraEnv: { PYTESTD_VSCODE_STATE_FILE: ctx.stateFile },
      logFile: path.join(opts.logs, 'code-server.log'),
      pgidFile: path.join(opts.tmp, 'code-server.pgid'),
    });
    console.log(`vscode-e2e: code-server at ${codeServer.url}`);
    wb = await Workbench.open(codeServer.url, ctx.ws.file, opts.logs);
    ctx.wb = wb;
    await wb.screenshot('workbench-open');
  } catch (err) {
    console.log(`vscode-e2e: setup failed: ${err.stack || err}`);
    if (wb) await wb.screenshot('setup-failed').catch(() => {});
    for (const s of scenarios) results.push({ name: s.name, ok: false });
  }

  if (ctx.wb) {
    for (const scenario of scenarios) {
      const started = Date.now();
      console.log(`vscode-e2e: ${scenario.name}: ${scenario.title}`);
      try {
        await withTimeout(scenario.name, scenario.timeoutMs, scenario.run(ctx));
        console.log(`vscode-e2e: ok ${scenario.name} (${Date.now() - started} ms)`);
        results.push({ name: scenario.name, ok: true });
      } catch (err) {
        console.log(`vscode-e2e: FAILED ${scenario.name} (${Date.now() - started} ms): ${err.stack || err}`);
        results.push({ name: scenario.name, ok: false });
        await wb.screenshot(`FAILED-${scenario.name}`).catch((e) => console.log(`  no screenshot: ${e.message}`));
        if (fs.existsSync(ctx.stateFile)) {
          const copy = path.join(opts.logs, `state-after-${scenario.name}.json`);
          fs.copyFileSync(ctx.stateFile, copy);
          console.log(`  extension state: ${copy}`);
        }
        await wb.closeQuickInput().catch(() => {});
      }
    }
  }

  if (fs.existsSync(ctx.stateFile)) fs.copyFileSync(ctx.stateFile, path.join(opts.logs, 'state-final.json'));
  if (wb) await wb.close();
  if (codeServer) await codeServer.stop();
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`vscode-e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 && results.length > 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  console.log(`vscode-e2e: ${err.stack || err}`);
  console.log('vscode-e2e: 0 passed, 1 failed');
  process.exit(1);
});
