// 9. A Coverage run paints covered and missed lines: "Test: Run Tests with Coverage in Current File" on
//    tests/test_calc.py, then calc.py's gutter shows its run lines as covered and the others as missed, exactly
//    the lines coverage.py measured (the extension's state), and the Test Coverage view gives calc.py the
//    percentage VS Code computes from those counts.
'use strict';

const assert = require('node:assert/strict');
const { runCount } = require('../lib/runs');
const { waitForState } = require('../lib/state');
const { waitFor } = require('../lib/wait');

module.exports = {
  name: 'coverage',
  title: 'a Coverage run paints the covered and missed lines of a module',
  timeoutMs: 150_000,
  async run({ wb, ws, stateFile }) {
    const calc = ws.path('calc.py');
    const before = runCount(stateFile);
    await wb.openFileAt('tests/test_calc.py', 1);
    await wb.command('Test: Run Tests with Coverage in Current File');
    const run = await waitForState(stateFile, 'the coverage run to finish with coverage of calc.py', 90_000, (s) => {
      const r = (s.runs || []).slice(before).find((x) => x.kind === 'coverage');
      return r && r.state === 'finished' && r.coverage && r.coverage.files[calc] && r;
    });
    assert.equal(run.status, 'passed');
    for (const id of ['tests/test_calc.py::test_add', 'tests/test_calc.py::test_sign']) {
      assert.equal(run.results[id] && run.results[id].state, 'passed', id);
    }
    const measured = run.coverage.files[calc];
    const { covHit, covBranch, covMiss, covUnused } = ws.lines;
    assert.ok(measured.covered.includes(covHit) && measured.covered.includes(covBranch), `covered: ${measured.covered}`);
    assert.ok(measured.missed.includes(covMiss) && measured.missed.includes(covUnused), `missed: ${measured.missed}`);
    assert.deepEqual(measured.branches, { covered: 1, total: 2 }, 'the if in sign() went one way');
    assert.ok(run.coverage.tests.includes('tests/test_calc.py::test_add'), 'per-test coverage');

    // The editor: every measured line painted as coverage.py says.
    await wb.openFileAt('calc.py', 1);
    const want = {};
    for (const l of measured.covered) want[l] = ['hit'];
    for (const l of measured.missed) want[l] = ['miss'];
    // The `if` ran but one of its branches did not: VS Code paints that line as (partly) missed.
    want[covBranch] = ['partial', 'miss'];
    const gutter = await waitFor('calc.py\'s gutter to show the measured coverage', 30_000, async () => {
      const now = await wb.coverageGutter();
      return Object.entries(want).every(([l, s]) => s.includes(now[l])) && now;
    }).catch(async (err) => {
      await wb.screenshot('coverage-gutter-wrong');
      throw new Error(`${err.message}; gutter: ${JSON.stringify(await wb.coverageGutter())}, measured: ${JSON.stringify(want)}`);
    });
    // Nothing but statements is painted as run or missed (blank lines, the docstring's continuation).
    const extra = Object.keys(gutter).filter((l) => !(l in want) && gutter[l] === 'miss');
    assert.deepEqual(extra, [], 'lines painted missed that coverage.py does not count');
    await wb.screenshot('coverage-gutter');

    // The Test Coverage view: calc.py with (statements + branches covered) / (statements + branches).
    const statements = measured.covered.length + measured.missed.length;
    const percent = (100 * (measured.covered.length + measured.branches.covered)) / (statements + measured.branches.total);
    // VS Code opens the view after a coverage run; focusing it makes sure it is rendered.
    await wb.command('Testing: Focus on Test Coverage View', 10_000).catch(() => {});
    const row = await waitFor('the Test Coverage view to list calc.py', 20_000, async () => {
      const rows = await wb.coverageViewRows();
      return rows.find((r) => r.includes('calc.py'));
    }).catch(async (err) => {
      throw new Error(`${err.message}; rows: ${JSON.stringify(await wb.coverageViewRows())}`);
    });
    const shown = /([\d.]+)%/.exec(row);
    assert.ok(shown, `a percentage in ${JSON.stringify(row)}`);
    assert.ok(Math.abs(Number(shown[1]) - percent) < 0.01, `calc.py shows ${shown[1]}%, expected ${percent.toFixed(2)}%`);
    await wb.screenshot('coverage-view');
  },
};
