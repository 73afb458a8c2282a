// The tree built from discovery results: levels, lines, markers as tags, collection errors on their modules.

import assert from "node:assert/strict";
import { test } from "node:test";

import { type DiscoverTestsResult, type TestNode } from "../../src/pure/protocol";
import { buildTree } from "../../src/pure/tree";

const nodes: TestNode[] = [
  { id: "tests", name: "tests", kind: "directory", path: "tests" },
  { id: "tests/test_a.py", name: "test_a.py", kind: "module", parentId: "tests", path: "tests/test_a.py" },
  { id: "tests/test_a.py::TestX", name: "TestX", kind: "class", parentId: "tests/test_a.py", path: "tests/test_a.py", line: 3 },
  {
    id: "tests/test_a.py::TestX::test_m",
    name: "test_m",
    kind: "test",
    parentId: "tests/test_a.py::TestX",
    path: "tests/test_a.py",
    line: 4,
    markers: ["slow", "smoke"],
  },
  { id: "tests/test_a.py::test_p", name: "test_p", kind: "function", parentId: "tests/test_a.py", path: "tests/test_a.py", line: 8 },
  { id: "tests/test_a.py::test_p[1]", name: "test_p[1]", kind: "test", parentId: "tests/test_a.py::test_p", path: "tests/test_a.py", line: 8 },
  { id: "tests/test_a.py::test_p[2]", name: "test_p[2]", kind: "test", parentId: "tests/test_a.py::test_p", path: "tests/test_a.py", line: 8 },
];

function discovery(extra: Partial<DiscoverTestsResult> = {}): DiscoverTestsResult {
  return { runId: "r", status: "complete", tests: nodes, errors: [], durationMs: 1, ...extra };
}

test("nodes keep their levels, lines and parents, and markers become tags on tests only", () => {
  const tree = buildTree(discovery());
  assert.deepEqual(tree.children(null), ["tests"]);
  assert.deepEqual(tree.children("tests/test_a.py"), ["tests/test_a.py::TestX", "tests/test_a.py::test_p"]);
  const m = tree.get("tests/test_a.py::TestX::test_m");
  assert.equal(m?.line, 4);
  assert.deepEqual(m?.tags, ["slow", "smoke"]);
  assert.deepEqual(tree.get("tests/test_a.py::TestX")?.tags, []);
  assert.deepEqual(
    tree.testsUnder("tests/test_a.py").map((n) => n.key),
    ["tests/test_a.py::TestX::test_m", "tests/test_a.py::test_p[1]", "tests/test_a.py::test_p[2]"],
  );
});

test("a structured collection error creates its module, with missing directories, at the error's line", () => {
  const tree = buildTree(
    discovery({
      errors: ["error collecting tests/sub/test_b.py:\nE   ImportError: x"],
      collectionErrors: [{ path: "tests/sub/test_b.py", line: 3, message: "ImportError: x", traceback: "tb" }],
    }),
  );
  const mod = tree.get("tests/sub/test_b.py");
  assert.equal(mod?.kind, "module");
  assert.equal(mod?.error, "ImportError: x");
  assert.equal(mod?.line, 3);
  assert.equal(mod?.parentKey, "tests/sub");
  assert.equal(tree.get("tests/sub")?.parentKey, "tests");
  assert.equal(tree.nodes.filter((n) => n.kind === "error").length, 0, "the sentence is the same error, not another");
});

test("without structured errors the sentence alone still puts the error on its module", () => {
  const text =
    "error collecting test_broken.py:\nImportError while importing test module '/p/test_broken.py'.\nTraceback:\n" +
    "test_broken.py:3: in <module>\n    import nope\nE   ModuleNotFoundError: No module named 'nope'";
  const tree = buildTree(discovery({ errors: [text] }));
  const mod = tree.get("test_broken.py");
  assert.equal(mod?.error, "ModuleNotFoundError: No module named 'nope'");
  assert.equal(mod?.line, 3);
  assert.equal(mod?.parentKey, null);
});

test("a discovery that failed as a whole shows one error item", () => {
  const tree = buildTree(discovery({ status: "error", tests: [], errors: ["No module named pytest"] }));
  const errors = tree.nodes.filter((n) => n.kind === "error");
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.error, "No module named pytest");
  assert.equal(errors[0]?.nodeId, null);
});
