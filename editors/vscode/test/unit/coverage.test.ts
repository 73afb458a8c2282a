// Coverage as VS Code gets it: per-file counts, one record per statement with the branches leaving it, and per
// test its own lines; against a hand-written result and against the real daemon measuring test/fixtures/measured.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";

import { fileSummary, lineRecords, testLineRecords, testLines, testsCovering } from "../../src/pure/coverage";
import { type CoverageResult, type RunTestsResult } from "../../src/pure/protocol";
import { type Daemon, fixture, startDaemon, within } from "./support/daemon";
import { discover, startRun } from "./support/runs";

const cwd = fixture("measured");

/** The 1-based line of calc.py ending in `# tag`. */
function line(tag: string): number {
  const lines = readFileSync(path.join(cwd, "calc.py"), "utf8").split("\n");
  const i = lines.findIndex((l) => l.endsWith(`# ${tag}`));
  assert.ok(i >= 0, `calc.py has no line tagged ${tag}`);
  return i + 1;
}

test("a branch line gets its taken and missing arcs, exits included, in target order", () => {
  const records = lineRecords({
    covered: [1, 2, 4],
    missed: [3],
    branches: { covered: 1, total: 3, missing: [[2, 3], [4, -1]], taken: [[2, 4]] },
  });
  assert.deepEqual(
    records.map((r) => [r.line, r.executed, r.branches.map((b) => [b.to, b.executed, b.label])]),
    [
      [1, true, []],
      [2, true, [[3, false, "to line 3"], [4, true, "to line 4"]]],
      [3, false, []],
      [4, true, [[null, false, "to exit"]]],
    ],
  );
});

test("without branch data, records are lines only and the summary has no branch count", () => {
  const data = { covered: [3, 1], missed: [2] };
  assert.deepEqual(fileSummary(data), { statements: { covered: 2, total: 3 }, branches: undefined });
  assert.deepEqual(lineRecords(data).map((r) => [r.line, r.executed, r.branches.length]), [[1, true, 0], [2, false, 0], [3, true, 0]]);
});

test("a test's records mark only that test's lines executed", () => {
  const coverage: CoverageResult = {
    files: { "m.py": { covered: [1, 2, 3], missed: [4] } },
    totals: { statements: 4, covered: 3, missed: 1, percent: 75 },
    tests: { "t.py::a": { "m.py": [2] }, "t.py::b": { "m.py": [3], "other.py": [1] }, "t.py::c": { "m.py": [] } },
  };
  assert.deepEqual(testsCovering(coverage, "m.py"), ["t.py::a", "t.py::b"]);
  assert.deepEqual(testLines(coverage, "t.py::a", "m.py"), [2]);
  assert.deepEqual(testLines(coverage, "t.py::zzz", "m.py"), []);
  const data = coverage.files["m.py"];
  assert.ok(data);
  assert.deepEqual(testLineRecords(data, [2]).map((r) => [r.line, r.executed]), [[1, false], [2, true], [3, false], [4, false]]);
});

let daemon: Daemon;
let result: RunTestsResult;

before(async () => {
  daemon = await startDaemon();
  const tree = await discover(daemon.session, cwd);
  const run = startRun(daemon.session, tree, cwd, null, { coverage: { branch: true, perTest: true } });
  result = await within(90_000, "coverage run of the measured fixture", run.done);
});

after(async () => {
  await daemon?.close();
});

test("a coverage run of the real daemon maps to calc.py's covered and missed lines", () => {
  assert.equal(result.status, "passed", JSON.stringify(result.errors));
  const calc = result.coverage?.files["calc.py"];
  assert.ok(calc, `coverage of calc.py in ${JSON.stringify(Object.keys(result.coverage?.files ?? {}))}`);
  const records = lineRecords(calc);
  const executed = (n: number): boolean | undefined => records.find((r) => r.line === n)?.executed;
  for (const tag of ["add", "branch", "positive"]) assert.equal(executed(line(tag)), true, tag);
  for (const tag of ["negative", "never"]) assert.equal(executed(line(tag)), false, tag);
  const summary = fileSummary(calc);
  assert.equal(summary.statements.total - summary.statements.covered, 2);
  assert.deepEqual(summary.branches, { covered: 1, total: 2 });
});

test("the branch line carries its taken and its missed branch", () => {
  const calc = result.coverage?.files["calc.py"];
  assert.ok(calc);
  const branch = lineRecords(calc).find((r) => r.line === line("branch"));
  assert.deepEqual(
    branch?.branches.map((b) => [b.to, b.executed]),
    [
      [line("negative"), false],
      [line("positive"), true],
    ],
  );
});

test("per-test coverage gives each test only the lines it ran", () => {
  const coverage = result.coverage;
  assert.ok(coverage);
  const add = "tests/test_calc.py::test_add";
  const sign = "tests/test_calc.py::test_sign";
  assert.deepEqual(testsCovering(coverage, "calc.py"), [add, sign]);
  assert.deepEqual(testLines(coverage, add, "calc.py"), [line("add")]);
  assert.deepEqual(testLines(coverage, sign, "calc.py"), [line("branch"), line("positive")]);
  const calc = coverage.files["calc.py"];
  assert.ok(calc);
  const ran = testLineRecords(calc, testLines(coverage, add, "calc.py")).filter((r) => r.executed).map((r) => r.line);
  assert.deepEqual(ran, [line("add")]);
});
