// The benchmark's driver (bench.sh starts it; see there for what it measures): for each suite size, a generated
// project and R rounds, each timing plain pytest, pytestd alone and VS Code in an order rotated per round; then
// medians, the printed table and the JSON.
//
//   node main.js --vsix FILE --python PYTHON --pytestd BIN --code-server BIN --tmp DIR --out FILE --logs DIR
//                [--tests 1000,10000] [--rounds R] [--per-module N] [--per-dir N] [--only pytest,pytestd,vscode]
//                [--profile] [--run-timeout S] [--discovery-timeout S]
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { createSuite } = require('./suite');
const { pytestRound, pytestdRound } = require('./cli');
const { vscodeRound } = require('./vscode');
const { summarize, printTable, printProfiles } = require('./report');
const { withTimeout } = require('../lib/wait');

// The same pytest arguments everywhere: no cache directory written into the suite between rounds.
const PYTEST_ARGS = ['-p', 'no:cacheprovider'];

const CONTENDERS = {
  pytest: pytestRound,
  pytestd: pytestdRound,
  vscode: vscodeRound,
};

function loadavg() {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function options() {
  const { values: v } = parseArgs({
    options: {
      vsix: { type: 'string' }, python: { type: 'string' }, pytestd: { type: 'string' },
      'code-server': { type: 'string' }, tmp: { type: 'string' }, out: { type: 'string' }, logs: { type: 'string' },
      tests: { type: 'string', default: '1000,10000' }, rounds: { type: 'string', default: '3' },
      'per-module': { type: 'string', default: '20' }, 'per-dir': { type: 'string', default: '25' },
      only: { type: 'string', default: 'pytest,pytestd,vscode' }, profile: { type: 'boolean', default: false },
      'run-timeout': { type: 'string', default: '1800' }, 'discovery-timeout': { type: 'string', default: '600' },
    },
  });
  for (const name of ['vsix', 'python', 'pytestd', 'code-server', 'tmp', 'out', 'logs']) {
    if (!v[name]) throw new Error(`main.js: --${name} is required`);
  }
  const only = v.only.split(',');
  for (const name of only) if (!CONTENDERS[name]) throw new Error(`--only: unknown contender ${name}`);
  return {
    vsix: v.vsix, python: v.python, pytestd: v.pytestd, codeServer: v['code-server'], tmp: v.tmp, out: v.out,
    logs: v.logs, sizes: v.tests.split(',').map(Number), rounds: Number(v.rounds), perModule: Number(v['per-module']),
    perDir: Number(v['per-dir']), only, profile: v.profile, runTimeoutS: Number(v['run-timeout']),
    discoveryTimeoutS: Number(v['discovery-timeout']), pytestArgs: PYTEST_ARGS,
  };
}

async function measureSize(opts, count) {
  const suite = createSuite(path.join(opts.tmp, `suite-${count}`),
    { python: opts.python, count, perModule: opts.perModule, perDir: opts.perDir, pytestArgs: opts.pytestArgs });
  console.log(`bench: ${count} tests in ${suite.modules} modules; ${opts.rounds} rounds; load ${loadavg()}`);
  // Untimed: the files into the page cache, so the first contender of round 1 is not the only cold one.
  pytestRound({ opts, suite });
  const rounds = [];
  for (let r = 0; r < opts.rounds; r++) {
    const order = opts.only.map((_, i) => opts.only[(i + r) % opts.only.length]);
    const round = { round: r + 1, order, load: loadavg() };
    for (const name of order) {
      const started = Date.now();
      // A hung step fails the benchmark instead of stalling it.
      const limitMs = (2 * opts.runTimeoutS + opts.discoveryTimeoutS + 120) * 1000;
      const label = `${name}-${count}-r${r + 1}`;
      const measured = Promise.resolve().then(() => CONTENDERS[name]({ opts, suite, label }));
      round[name] = await withTimeout(label, limitMs, measured);
      const shown = JSON.stringify(round[name], (k, v) => (k === 'profiles' ? undefined : v));
      console.log(`bench: ${label}: ${shown} (${Date.now() - started} ms in all; load ${loadavg()})`);
    }
    rounds.push(round);
  }
  fs.rmSync(suite.root, { recursive: true, force: true });
  return { tests: count, modules: suite.modules, rounds, ...summarize(rounds) };
}

async function main() {
  const opts = options();
  fs.mkdirSync(opts.logs, { recursive: true });
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  const loadBefore = loadavg();
  const sizes = [];
  for (const count of opts.sizes) sizes.push(await measureSize(opts, count));
  const result = {
    when: new Date().toISOString(),
    machine: { cpus: os.cpus().length, loadBefore, loadAfter: loadavg() },
    vsix: path.basename(opts.vsix),
    pytestArgs: opts.pytestArgs,
    shape: { perModule: opts.perModule, perDir: opts.perDir },
    roundsPerSize: opts.rounds,
    sizes,
  };
  fs.writeFileSync(opts.out, JSON.stringify(result, null, 1));
  printTable(result);
  printProfiles(sizes);
  console.log(`bench: wrote ${opts.out}`);
}

main().then(() => process.exit(0), (err) => {
  console.log(`bench: FAILED: ${err.stack || err}`);
  process.exit(1);
});
