// Selections become as few runTests ids as pytest needs, and exclusions are honoured.

import assert from "node:assert/strict";
import { test } from "node:test";

import { compressSelection } from "../../src/pure/selection";
import { buildTree } from "../../src/pure/tree";
import { type TestNode } from "../../src/pure/protocol";

const tests: TestNode[] = [
  { id: "t", name: "t", kind: "directory", path: "t" },
  { id: "t/test_a.py", name: "test_a.py", kind: "module", parentId: "t", path: "t/test_a.py" },
  { id: "t/test_a.py::test_one", name: "test_one", kind: "test", parentId: "t/test_a.py", line: 1 },
  { id: "t/test_a.py::test_p", name: "test_p", kind: "function", parentId: "t/test_a.py", line: 5 },
  { id: "t/test_a.py::test_p[1]", name: "test_p[1]", kind: "test", parentId: "t/test_a.py::test_p", line: 5 },
  { id: "t/test_a.py::test_p[2]", name: "test_p[2]", kind: "test", parentId: "t/test_a.py::test_p", line: 5 },
  { id: "t/test_b.py", name: "test_b.py", kind: "module", parentId: "t", path: "t/test_b.py" },
  { id: "t/test_b.py::test_two", name: "test_two", kind: "test", parentId: "t/test_b.py", line: 1 },
];
const tree = buildTree({ runId: "r", status: "complete", tests, errors: [], durationMs: 1 });

test("the whole folder with nothing excluded is the whole suite: no ids at all", () => {
  const s = compressSelection(tree, null, []);
  assert.equal(s.testIds, undefined);
  assert.equal(s.tests.length, 4);
});

test("a whole file goes as the file's id", () => {
  const s = compressSelection(tree, ["t/test_a.py"], []);
  assert.deepEqual(s.testIds, ["t/test_a.py"]);
  assert.deepEqual(
    s.tests.map((n) => n.key),
    ["t/test_a.py::test_one", "t/test_a.py::test_p[1]", "t/test_a.py::test_p[2]"],
  );
});

test("a parametrized function expands to its cases, since pytest has no node for it", () => {
  const s = compressSelection(tree, ["t/test_a.py::test_p"], []);
  assert.deepEqual(s.testIds, ["t/test_a.py::test_p[1]", "t/test_a.py::test_p[2]"]);
});

test("an exclusion splits its ancestors into what is left", () => {
  const s = compressSelection(tree, null, ["t/test_a.py::test_p[2]"]);
  assert.deepEqual(s.testIds, ["t/test_a.py::test_one", "t/test_a.py::test_p[1]", "t/test_b.py"]);
  assert.equal(s.tests.length, 3);
});

test("items under an included ancestor are not sent twice", () => {
  const s = compressSelection(tree, ["t/test_b.py::test_two", "t", "t/test_a.py"], []);
  assert.deepEqual(s.testIds, ["t"]);
});
