// Against the real pytestd and pytest: the fixture project's tree, and a run of it as the Testing view sees it.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { type Daemon, fixture, startDaemon, within } from "./support/daemon";
import { discover, startRun } from "./support/runs";
import { type FolderTree } from "../../src/pure/tree";
import { type RecordingSink } from "./support/recordingSink";

const cwd = fixture("project");
const T = "tests/test_outcomes.py";
let daemon: Daemon;
let tree: FolderTree;
let sink: RecordingSink;

before(async () => {
  daemon = await startDaemon({ maxParallel: 2, pytestArgs: ["-p", "no:randomly"], env: { PYTESTD_VSCODE_FIXTURE: "1" } });
  tree = await discover(daemon.session, cwd);
  const run = startRun(daemon.session, tree, cwd);
  await within(60_000, "run of the project", run.done);
  sink = run.sink;
});

after(async () => {
  await daemon?.close();
});

test("the daemon accepts the extension's initializationOptions", () => {
  assert.ok(daemon.initializeResult, "initialize answered");
});

test("discovery gives directory, package, module, class, function and test levels at the tests' lines", () => {
  assert.equal(tree.get("tests")?.kind, "directory");
  assert.equal(tree.get("tests/pkg")?.kind, "package");
  assert.equal(tree.get(T)?.kind, "module");
  assert.equal(tree.get("tests/test_classes.py::TestGroup")?.kind, "class");
  assert.equal(tree.get(`${T}::test_param`)?.kind, "function");
  assert.equal(tree.get(`${T}::test_param[2]`)?.parentKey, `${T}::test_param`);
  assert.equal(tree.get(`${T}::test_pass`)?.line, 8);
  assert.equal(tree.get("tests/test_classes.py::TestGroup::test_first")?.line, 8);
});

test("discovery as the extension asks for it (stream: false) streams no batch and answers the streamed tree", async () => {
  let batches = 0;
  const quiet = daemon.session.discoverTests({ cwd, stream: false }, { testsDiscovered: () => batches++ });
  const streamed = daemon.session.discoverTests({ cwd, stream: true });
  const [one, other] = await within(30_000, "two discoveries", Promise.all([quiet.result, streamed.result]));
  assert.equal(batches, 0);
  assert.ok(one.tests.length > 0);
  assert.deepEqual(one.tests, other.tests);
});

test("markers of the test, its class and its parametrization become tags", () => {
  assert.deepEqual(tree.get("tests/test_classes.py::TestGroup::test_second")?.tags.sort(), ["slow", "smoke"]);
  assert.deepEqual(tree.get(`${T}::test_param[1]`)?.tags, ["slow"]);
  assert.deepEqual(tree.get(`${T}::test_pass`)?.tags, []);
});

test("every test was enqueued and ends in the state pytest gives it", () => {
  const expected: Record<string, string> = {
    [`${T}::test_pass`]: "passed",
    [`${T}::test_fail_diff`]: "failed",
    [`${T}::test_fail_in_helper`]: "failed",
    [`${T}::test_skip`]: "skipped",
    [`${T}::test_xfail`]: "skipped",
    [`${T}::test_xpass`]: "passed",
    [`${T}::test_param[1]`]: "passed",
    [`${T}::test_param[2]`]: "passed",
    [`${T}::test_param[3]`]: "failed",
    [`${T}::test_prints`]: "passed",
    [`${T}::test_subtests`]: "failed",
    "tests/test_classes.py::TestGroup::test_first": "passed",
    "tests/test_classes.py::TestGroup::test_second": "passed",
    "tests/pkg/test_in_pkg.py::test_in_package": "passed",
  };
  for (const [id, state] of Object.entries(expected)) {
    assert.equal(sink.states.get(id)?.[0], "enqueued", `${id} enqueued first`);
    assert.equal(sink.final(id), state, id);
  }
  assert.equal(sink.endedWith, "failed");
});

test("xfail and xpass show their reasons in the test's output", () => {
  assert.equal(sink.results.get(`${T}::test_xfail`)?.summary, "xfail: known bug 12");
  assert.match(sink.outputOf(`${T}::test_xfail`), /xfail: known bug 12\r\n/);
  assert.equal(sink.results.get(`${T}::test_xpass`)?.summary, "XPASS: bug 13 was fixed");
  assert.match(sink.outputOf(`${T}::test_skip`), /skipped: not on this machine/);
});

test("a == failure gives expected and actual for a diff, on the assert's line", () => {
  const m = sink.results.get(`${T}::test_fail_diff`)?.messages[0];
  assert.ok(m);
  assert.match(m.text, /assert \[1, 2, 3\] == \[1, 2, 4\]/);
  assert.equal(m.actual, "[1, 2, 3]");
  assert.equal(m.expected, "[1, 2, 4]");
  assert.deepEqual(m.location, { path: T, line: 13 });
});

test("a failure inside a helper sits on the helper's line, with the traceback as frames", () => {
  const m = sink.results.get(`${T}::test_fail_in_helper`)?.messages[0];
  assert.ok(m);
  assert.deepEqual(m.location, { path: T, line: 17 });
  assert.deepEqual(
    m.frames.map((f) => [f.path, f.line, f.name]),
    [
      [T, 21, "test_fail_in_helper"],
      [T, 17, "check_even"],
    ],
  );
});

test("failing subtests add their messages", () => {
  const texts = sink.results.get(`${T}::test_subtests`)?.messages.map((m) => m.text) ?? [];
  assert.ok(texts.some((t) => /^subtest .*i=1.*: assert 1 != 1/.test(t)), texts.join(" | "));
});

test("captured stdout and stderr are attached to their test, in CRLF", () => {
  const out = sink.outputOf(`${T}::test_prints`);
  assert.match(out, /hello from stdout\r\n/);
  assert.match(out, /hello from stderr\r\n/);
  assert.ok(sink.outputs.some((o) => o.test === null && /test session starts/.test(o.text)), "pytest's own lines");
});

test("the log stream carries the run's lines prefixed with its id", () => {
  assert.ok(daemon.logs.some((l) => /^\[[0-9a-f]{8}\] /.test(l)), daemon.logs.slice(0, 3).join("\n"));
});
