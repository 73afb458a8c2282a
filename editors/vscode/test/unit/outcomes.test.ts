// Each pytest outcome's place in the Testing view (the mapping the README documents).

import assert from "node:assert/strict";
import { test } from "node:test";

import { mapResult, terminalText } from "../../src/pure/outcomes";

const base = { testId: "t.py::x", durationMs: 2, location: { path: "t.py", line: 5 } };

test("xfailed is skipped with its reason, never a failure", () => {
  const m = mapResult({ ...base, outcome: "xfailed", message: "known bug" });
  assert.equal(m.state, "skipped");
  assert.deepEqual(m.messages, []);
  assert.equal(m.summary, "xfail: known bug");
});

test("xpassed is passed, saying XPASS and why it was marked", () => {
  const m = mapResult({ ...base, outcome: "xpassed", message: "fixed" });
  assert.equal(m.state, "passed");
  assert.equal(m.summary, "XPASS: fixed");
});

test("a failure's message sits at failureLocation with expected, actual and frames", () => {
  const frames = [
    { path: "t.py", line: 5, name: "test_x" },
    { path: "helpers.py", line: 2, name: "check" },
  ];
  const m = mapResult({
    ...base,
    outcome: "failed",
    message: "assert [1] == [2]",
    failureLocation: { path: "helpers.py", line: 2 },
    expected: "[2]",
    actual: "[1]",
    frames,
  });
  assert.equal(m.state, "failed");
  assert.deepEqual(m.messages[0], {
    text: "assert [1] == [2]",
    location: { path: "helpers.py", line: 2 },
    expected: "[2]",
    actual: "[1]",
    frames,
  });
});

test("without failureLocation the message sits on the test's line", () => {
  const m = mapResult({ ...base, outcome: "failed", traceback: "a\nE   boom\n" });
  assert.deepEqual(m.messages[0]?.location, { path: "t.py", line: 5 });
  assert.equal(m.messages[0]?.text, "E   boom");
});

test("setup and teardown errors are errored and say which phase", () => {
  const m = mapResult({ ...base, outcome: "error", when: "teardown", message: "RuntimeError: x" });
  assert.equal(m.state, "errored");
  assert.equal(m.messages[0]?.text, "error in teardown: RuntimeError: x");
});

test("failing subtests add a message each", () => {
  const m = mapResult({
    ...base,
    outcome: "failed",
    message: "contains 1 failed subtest",
    subtests: [
      { description: "[each] (i=0)", outcome: "passed", durationMs: 0 },
      { description: "[each] (i=1)", outcome: "failed", message: "assert 1 != 1", durationMs: 0 },
    ],
  });
  assert.deepEqual(
    m.messages.map((x) => x.text),
    ["contains 1 failed subtest", "subtest [each] (i=1): assert 1 != 1"],
  );
});

test("skips keep their reason as a note", () => {
  assert.equal(mapResult({ ...base, outcome: "skipped", message: "no db" }).summary, "skipped: no db");
});

test("terminal text ends lines with CRLF", () => {
  assert.equal(terminalText("a\nb"), "a\r\nb\r\n");
  assert.equal(terminalText("a\r\n"), "a\r\n");
});
