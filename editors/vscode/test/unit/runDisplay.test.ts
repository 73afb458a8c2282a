// What a run tells the Testing view, by its size: a small run queues its tests and gives every duration, a large
// one neither (runDisplay.ts says why); in both a test shows as running only once it has run SLOW_TEST_MS.

import assert from "node:assert/strict";
import { mock, test } from "node:test";

import { LARGE_RUN_TESTS, SLOW_TEST_MS } from "../../src/pure/runDisplay";
import { type RunTestsResult, type TestNode } from "../../src/pure/protocol";
import { RunReporter } from "../../src/pure/runReporter";
import { buildTree, type TreeNode } from "../../src/pure/tree";
import { RecordingSink } from "./support/recordingSink";

function suite(count: number): { reporter: RunReporter; sink: RecordingSink; ids: string[] } {
  const ids = Array.from({ length: count }, (_, i) => `test_m.py::test_${i}`);
  const nodes: TestNode[] = [
    { id: "test_m.py", name: "test_m.py", kind: "module", path: "test_m.py" },
    ...ids.map(
      (id, i): TestNode => ({ id, name: `test_${i}`, kind: "test", parentId: "test_m.py", path: "test_m.py", line: i + 1 }),
    ),
  ];
  const tree = buildTree({ runId: "d", status: "complete", tests: nodes, errors: [], durationMs: 1 });
  const sink = new RecordingSink();
  const expected = ids.map((id) => tree.get(id)).filter((n) => n !== undefined);
  const access = { test: (id: string) => tree.get(id), errorModule: () => tree.get("test_m.py") as TreeNode };
  const reporter = new RunReporter(access, sink, expected);
  return { reporter, sink, ids };
}

function passed(testId: string, durationMs: number) {
  return { runId: "r", testId, outcome: "passed" as const, durationMs };
}

function response(status: RunTestsResult["status"]): RunTestsResult {
  const summary = { total: 0, passed: 0, failed: 0, skipped: 0, errors: 0, xfailed: 0, xpassed: 0 };
  return { runId: "r", status, exitCode: 0, summary, results: {}, errors: [], durationMs: 1, queuedMs: 0 };
}

test("a run of up to LARGE_RUN_TESTS tests queues each of them and shows every duration", () => {
  const { reporter, sink, ids } = suite(LARGE_RUN_TESTS);
  for (const id of ids) assert.deepEqual(sink.states.get(id), ["enqueued"], id);
  reporter.testResult(passed(ids[0] as string, 0.2));
  assert.equal(sink.results.get(ids[0] as string)?.durationMs, 0.2);
});

test("a larger run queues none and shows only the durations of slow tests", () => {
  const { reporter, sink, ids } = suite(LARGE_RUN_TESTS + 1);
  assert.equal(sink.states.size, 0, "nothing enqueued");
  const [quick, slow] = ids as [string, string];
  reporter.testResult(passed(quick, SLOW_TEST_MS - 1));
  reporter.testResult(passed(slow, SLOW_TEST_MS));
  assert.deepEqual(sink.states.get(quick), ["passed"]);
  assert.equal(sink.results.get(quick)?.durationMs, undefined);
  assert.equal(sink.results.get(slow)?.durationMs, SLOW_TEST_MS);
});

test("a test shows as running only once it has run SLOW_TEST_MS, never after its result or the run's end", (t) => {
  mock.timers.enable({ apis: ["setTimeout"] });
  t.after(() => mock.timers.reset());
  const { reporter, sink, ids } = suite(LARGE_RUN_TESTS + 1);
  const [quick, slow, cut] = ids as [string, string, string];
  reporter.testStarted({ runId: "r", testId: quick });
  mock.timers.tick(SLOW_TEST_MS - 1);
  reporter.testResult(passed(quick, SLOW_TEST_MS - 1));
  reporter.testStarted({ runId: "r", testId: slow });
  mock.timers.tick(SLOW_TEST_MS);
  reporter.testResult(passed(slow, SLOW_TEST_MS));
  reporter.testStarted({ runId: "r", testId: cut });
  reporter.complete(response("cancelled"));
  mock.timers.tick(10 * SLOW_TEST_MS);
  assert.deepEqual(sink.states.get(quick), ["passed"]);
  assert.deepEqual(sink.states.get(slow), ["started", "passed"]);
  assert.equal(sink.states.get(cut), undefined, "a test the run ended in never shows as running");
  assert.equal(sink.endedWith, "cancelled");
});

test("a test's notes and captured output are one piece of output at its line", () => {
  const { reporter, sink, ids } = suite(2);
  const id = ids[0] as string;
  const location = { path: "test_m.py", line: 1 };
  reporter.testResult({ ...passed(id, 1), outcome: "skipped", message: "not here", stdout: "out\n", stderr: "err", location });
  const own = sink.outputs.filter((o) => o.test === id);
  assert.deepEqual(own, [{ text: `${id}: skipped: not here\r\nout\r\nerr\r\n`, test: id, location }]);
});
