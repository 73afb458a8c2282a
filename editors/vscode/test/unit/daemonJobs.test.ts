// Against the real pytestd: runs side by side keep their own results, a run beyond maxParallel says it is
// queued, a cancel leaves no pytest behind, settings changes apply, and a broken module does not blank a run.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { formatRuns } from "../../src/pure/formatRuns";
import { type Activity } from "../../src/pure/session";
import { alive, type Daemon, fixture, startDaemon, within } from "./support/daemon";
import { discover, startRun } from "./support/runs";

let daemon: Daemon;

before(async () => {
  daemon = await startDaemon({ maxParallel: 1 });
});

after(async () => {
  await daemon?.close();
});

/** Resolves with the first value of poll() that is not undefined, polling every 20 ms, or fails after ms. */
function eventually<T>(ms: number, what: string, poll: () => T | undefined): Promise<T> {
  return within(
    ms,
    what,
    new Promise<T>((resolve) => {
      const timer = setInterval(() => {
        const v = poll();
        if (v !== undefined) {
          clearInterval(timer);
          resolve(v);
        }
      }, 20);
    }),
  );
}

test("a run beyond maxParallel is queued, says so, and is cancelled without leaving pytest behind", async () => {
  const slow = fixture("slow");
  const project = fixture("project");
  const slowTree = await discover(daemon.session, slow);
  const projectTree = await discover(daemon.session, project);
  const activity: Activity[] = [];
  const sub = daemon.session.onDidChangeActivity((a) => activity.push(a));

  const first = startRun(daemon.session, slowTree, slow);
  await eventually(10_000, "slow test started", () => first.sink.final("test_slow.py::test_sleeps") === "started" || undefined);
  const second = startRun(daemon.session, projectTree, project, ["tests/test_classes.py"]);
  await eventually(10_000, "second run queued", () => second.sink.queuedAt ?? undefined);
  assert.equal(second.sink.queuedAt, 1);
  assert.ok(activity.some((a) => a.running === 1 && a.queued === 1), JSON.stringify(activity));

  const runs = await within(5000, "listRuns", daemon.session.listRuns());
  const running = runs.runs.find((r) => r.runId === first.runId);
  const pid = running?.pid;
  assert.ok(pid !== undefined, "the running run has a pid");
  const report = formatRuns(runs);
  assert.match(report.header, /1 running, 1 queued/);
  assert.equal(report.lines.length, 2);

  const answer = await within(5000, "cancelRun", daemon.session.cancelRun(first.runId));
  assert.equal(answer.state, "cancelled");
  const result = await within(15_000, "cancelled run answered", first.done);
  assert.equal(result.status, "cancelled");
  assert.equal(first.sink.endedWith, "cancelled");
  assert.equal(alive(pid), false, "pytest's process is gone");

  // The queued run got the slot and ran on its own.
  const secondResult = await within(30_000, "queued run", second.done);
  assert.equal(secondResult.status, "passed");
  assert.equal(second.sink.final("tests/test_classes.py::TestGroup::test_first"), "passed");
  assert.equal(second.sink.final("test_slow.py::test_sleeps"), undefined, "no result of the other run");
  sub.dispose();
  assert.deepEqual(daemon.session.activity(), { running: 0, queued: 0 });
});

test("two runs started together each get only their own results", async () => {
  await daemon.session.changeConfiguration({ maxParallel: 2 });
  const project = fixture("project");
  const tree = await discover(daemon.session, project);
  const a = startRun(daemon.session, tree, project, ["tests/test_classes.py"]);
  const b = startRun(daemon.session, tree, project, ["tests/pkg"]);
  const [ra, rb] = await within(60_000, "both runs", Promise.all([a.done, b.done]));
  // The results came as notifications only: the session asks for responses without them.
  assert.deepEqual(ra.results, {});
  assert.deepEqual(rb.results, {});
  assert.deepEqual([...a.sink.results.keys()].sort(), [
    "tests/test_classes.py::TestGroup::test_first",
    "tests/test_classes.py::TestGroup::test_second",
  ]);
  assert.deepEqual([...b.sink.results.keys()], ["tests/pkg/test_in_pkg.py::test_in_package"]);
  assert.equal(ra.summary.passed, 2);
  assert.equal(rb.summary.passed, 1);
  const limits = await daemon.session.listRuns();
  assert.equal(limits.maxParallel, 2, "didChangeConfiguration applied");
});

test("a broken module shows its error on its module while the other module's tests run", async () => {
  const broken = fixture("broken");
  const tree = await discover(daemon.session, broken);
  const mod = tree.get("test_broken.py");
  assert.equal(mod?.kind, "module");
  assert.match(mod?.error ?? "", /ModuleNotFoundError: No module named 'no_such_module_for_pytestd_vscode'/);
  assert.equal(mod?.line, 3);

  const run = startRun(daemon.session, tree, broken);
  const result = await within(30_000, "run of the broken project", run.done);
  assert.equal(result.status, "failed");
  assert.equal(run.sink.final("test_good.py::test_good_one"), "passed");
  assert.equal(run.sink.final("test_good.py::test_good_two"), "passed");
  assert.equal(run.sink.collectionErrors.length, 1, "reported once though notified and in the response");
  assert.equal(run.sink.collectionErrors[0]?.node.key, "test_broken.py");
  assert.equal(run.sink.collectionErrors[0]?.err.line, 3);
});

test("stopOnCollectionErrors keeps pytest's stop: nothing runs and the tests say why", async () => {
  const broken = fixture("broken");
  const tree = await discover(daemon.session, broken);
  const run = startRun(daemon.session, tree, broken, null, { stopOnCollectionErrors: true });
  const result = await within(30_000, "stopped run", run.done);
  assert.equal(result.status, "error");
  assert.equal(run.sink.final("test_good.py::test_good_one"), "errored");
  assert.equal(run.sink.collectionErrors[0]?.node.key, "test_broken.py");
});

test("Show Runs lists the project's warm template once a run has made one", async () => {
  const project = fixture("project");
  const tree = await discover(daemon.session, project);
  await within(60_000, "a run", startRun(daemon.session, tree, project, ["tests/test_classes.py"]).done);
  let report = formatRuns(await daemon.session.listRuns());
  const deadline = Date.now() + 30_000;
  while (!report.templates.some((t) => t.label.endsWith("ready") && t.description === "project")) {
    assert.ok(Date.now() < deadline, `no ready template after 30 s: ${JSON.stringify(report.templates)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    report = formatRuns(await within(5000, "listRuns", daemon.session.listRuns()));
  }
  assert.match(report.templates[0]?.detail ?? "", /^pid \d+, \d+ modules, \d+ runs, \d+ MiB, idle/);
});

test("a sharded run streams each result once and merges its summary", async () => {
  await daemon.session.changeConfiguration({ maxParallel: 2 });
  const project = fixture("project");
  const tree = await discover(daemon.session, project);
  const run = startRun(daemon.session, tree, project, ["tests/test_classes.py", "tests/pkg"], { shards: 2 });
  const result = await within(60_000, "sharded run", run.done);
  assert.equal(result.summary.passed, 3);
  assert.deepEqual([...run.sink.results.keys()].sort(), [
    "tests/pkg/test_in_pkg.py::test_in_package",
    "tests/test_classes.py::TestGroup::test_first",
    "tests/test_classes.py::TestGroup::test_second",
  ]);
  assert.equal(run.sink.endedWith, "passed");
});
