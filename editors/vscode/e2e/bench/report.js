// The benchmark's numbers: medians per suite size over the rounds, the ratios that matter (what VS Code showed
// against pytest's own time in the same run, each round's ratio paired, then the median), and the printed table.
'use strict';

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// [contender, metric, title]: the rows of the table, in order.
const METRICS = [
  ['pytest', 'runMs', 'pytest -q on the command line'],
  ['pytestd', 'runMs', 'pytestd alone, runTests'],
  ['vscode', 'pytestdMs', "pytest in VS Code's run (pytestd)"],
  ['vscode', 'pytestSaysMs', '  of which pytest says "passed in"'],
  ['vscode', 'firstShownMs', 'VS Code: first result shown'],
  ['vscode', 'allShownMs', 'VS Code: all results shown'],
  ['vscode', 'endedMs', 'VS Code: run ended (spinner off)'],
  ['pytest', 'discoveryMs', 'discovery: pytest --collect-only'],
  ['vscode', 'discoveryMs', 'discovery: VS Code tree shown'],
];

const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null);
const round2 = (x) => (x === null ? null : Math.round(x * 100) / 100);

function summarize(rounds) {
  const medians = {};
  for (const [who, key] of METRICS) {
    const m = median(rounds.map((r) => r[who]?.[key]));
    if (m !== null) (medians[who] ||= {})[key] = m;
  }
  const ratios = {
    allShownOverPytestInRun: round2(median(rounds.map((r) => ratio(r.vscode?.allShownMs, r.vscode?.pytestdMs)))),
    allShownOverPytestCli: round2(median(rounds.map((r) => ratio(r.vscode?.allShownMs, r.pytest?.runMs)))),
    endedOverPytestInRun: round2(median(rounds.map((r) => ratio(r.vscode?.endedMs, r.vscode?.pytestdMs)))),
  };
  const cpus = rounds.map((r) => r.vscode?.runCpuMs).filter(Boolean);
  const keys = [...new Set(cpus.flatMap((c) => Object.keys(c)))];
  const runCpuMs = Object.fromEntries(keys.map((k) => [k, median(cpus.map((c) => c[k] || 0))]));
  return { medians, ratios, runCpuMs };
}

function printTable(result) {
  const secs = (ms) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(2)}s` : '-');
  const cell = (s) => String(s).padStart(13);
  const { sizes } = result;
  console.log(`\nbench: medians of ${result.roundsPerSize} rounds; ${result.machine.cpus} cpus; `
    + `${result.shape.perModule} tests to a module, ${result.shape.perDir || 'all'} modules to a directory; `
    + `load ${result.machine.loadBefore} → ${result.machine.loadAfter}`);
  console.log(`${''.padEnd(38)}${sizes.map((s) => cell(`${s.tests} tests`)).join('')}`);
  for (const [who, key, title] of METRICS) {
    if (!sizes.some((s) => s.medians[who]?.[key] !== undefined)) continue;
    console.log(`${title.padEnd(38)}${sizes.map((s) => cell(secs(s.medians[who]?.[key]))).join('')}`);
  }
  const times = (v) => (v === null ? '-' : `${v.toFixed(2)}x`);
  for (const [title, key] of [['all shown / pytest in the same run', 'allShownOverPytestInRun'],
    ['all shown / pytest -q', 'allShownOverPytestCli']]) {
    console.log(`${title.padEnd(38)}${sizes.map((s) => cell(times(s.ratios[key]))).join('')}`);
  }
  for (const s of sizes) {
    const shown = s.rounds.map((r) => secs(r.vscode?.allShownMs)).join(' ');
    const loads = s.rounds.map((r) => r.load).join(' | ');
    console.log(`${s.tests} tests: all shown per round ${shown}; load at each round's start ${loads}`);
    const cpu = Object.entries(s.runCpuMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(', ');
    if (cpu) console.log(`${s.tests} tests: CPU during VS Code's run (medians): ${cpu}`);
  }
}

function printProfiles(sizes) {
  for (const s of sizes) {
    for (const r of s.rounds) {
      for (const [name, p] of Object.entries(r.vscode?.profiles || {})) {
        console.log(`\n${s.tests} tests, round ${r.round}, ${name} (${p.file}), top self time:`);
        for (const f of p.top) {
          console.log(`  ${String(f.ms).padStart(6)} ms ${String(f.share).padStart(5)}%  ${f.name}  ${f.at}`);
        }
      }
    }
  }
}

module.exports = { summarize, printTable, printProfiles };
