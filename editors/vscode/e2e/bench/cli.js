// The benchmark's references without an editor, timed in the same rounds as VS Code: plain pytest on the command
// line (`pytest -q`, and `--collect-only` for discovery) and pytestd alone (pytestd_alone.py).
'use strict';

const path = require('node:path');
const { spawnSync } = require('node:child_process');

// Runs a command to its end and returns its wall time in ms; fails unless it exits 0 and its output matches.
function timed(what, cmd, args, cwd, timeoutMs, expect) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0 || !expect.test(r.stdout)) {
    throw new Error(`${what}: exit ${r.status} ${r.signal || ''}, expected ${expect}:\n`
      + `${(r.stdout || '').slice(-2000)}\n${(r.stderr || '').slice(-2000)}`);
  }
  return { ms: Math.round(ms), stdout: r.stdout };
}

function pytestRound({ opts, suite }) {
  const n = suite.count;
  const timeoutMs = opts.runTimeoutS * 1000;
  const collect = timed('pytest --collect-only', opts.python,
    ['-m', 'pytest', '--collect-only', '-q', ...opts.pytestArgs], suite.project, timeoutMs,
    new RegExp(`^${n} tests? collected`, 'm'));
  const run = timed('pytest -q', opts.python, ['-m', 'pytest', '-q', ...opts.pytestArgs], suite.project, timeoutMs,
    new RegExp(`^${n} passed`, 'm'));
  const says = /^\d+ passed in ([\d.]+)s/m.exec(run.stdout);
  return { discoveryMs: collect.ms, runMs: run.ms, pytestSaysMs: says ? Math.round(Number(says[1]) * 1000) : null };
}

function pytestdRound({ opts, suite }) {
  const r = timed('pytestd_alone.py', opts.python,
    [path.join(__dirname, 'pytestd_alone.py'), opts.pytestd, opts.python, suite.project, ...opts.pytestArgs],
    suite.project, opts.runTimeoutS * 1000, /"runMs"/);
  const t = JSON.parse(r.stdout.trim().split('\n').pop());
  if (t.discovered !== suite.count || t.results !== suite.count || t.passed !== suite.count) {
    throw new Error(`pytestd alone: ${JSON.stringify(t)}, expected ${suite.count} tests`);
  }
  return { discoveryMs: t.discoveryMs, firstResultMs: t.firstResultMs, runMs: t.runMs };
}

module.exports = { pytestRound, pytestdRound };
