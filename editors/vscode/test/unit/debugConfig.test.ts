// Debug runs: the attach configuration, the settings, telling a user's Stop from the tests' end, and a real debug
// run of test/fixtures/measured driven through the daemon's debugReady by a DAP client as VS Code would.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";

import { attachConfiguration, attachTarget, debugParam, SessionEndWatch } from "../../src/pure/debugConfig";
import { type DebugReady, type RunTestsResult } from "../../src/pure/protocol";
import { readSettings } from "../../src/pure/settings";
import { DapClient } from "./support/dap";
import { type Daemon, fixture, startDaemon, within } from "./support/daemon";
import { discover, startRun } from "./support/runs";

const cwd = fixture("measured");

test("the attach configuration is the pytestd type on the reported host and port", () => {
  const ready: DebugReady = { runId: "r1", host: "127.0.0.1", port: 5678 };
  assert.deepEqual(attachConfiguration(ready, "pytestd: Debug", false), {
    type: "pytestd",
    request: "attach",
    name: "pytestd: Debug",
    host: "127.0.0.1",
    port: 5678,
    justMyCode: false,
    pytestdRunId: "r1",
  });
  assert.deepEqual(attachTarget({ port: 5678 }), { host: "127.0.0.1", port: 5678 });
  const refused = attachTarget({ host: "127.0.0.1" });
  assert.ok(typeof refused === "string" && refused.includes("Debug Test"), JSON.stringify(refused));
  assert.deepEqual(debugParam(1500), { waitForClientMs: 1500 });
});

test("the debug settings default to 60 s and justMyCode, and refuse nonsense", () => {
  const s = (v: Record<string, unknown>) => readSettings((k) => v[k]);
  assert.equal(s({}).debugWaitForClientMs, 60_000);
  assert.equal(s({ debugWaitForClientMs: 5000 }).debugWaitForClientMs, 5000);
  assert.equal(s({ debugWaitForClientMs: -1 }).debugWaitForClientMs, 60_000);
  assert.equal(s({}).debugJustMyCode, true);
  assert.equal(s({ debugJustMyCode: false }).debugJustMyCode, false);
});

test("a disconnect before terminated is the user's Stop; after it, the tests' end", () => {
  const user = new SessionEndWatch();
  user.fromClient({ type: "request", command: "disconnect", seq: 9 });
  assert.equal(user.stoppedByUser(), true);
  const natural = new SessionEndWatch();
  natural.fromAdapter({ type: "event", event: "terminated" });
  natural.fromClient({ type: "request", command: "disconnect", seq: 9 });
  assert.equal(natural.stoppedByUser(), false);
});

test("the paused frame is the innermost one of the first stackTrace after a stop, until execution resumes", () => {
  const w = new SessionEndWatch();
  w.fromAdapter({ type: "event", event: "stopped" });
  w.fromClient({ type: "request", command: "stackTrace", seq: 4, arguments: { threadId: 1, startFrame: 0 } });
  w.fromClient({ type: "request", command: "stackTrace", seq: 5, arguments: { threadId: 1, startFrame: 1 } });
  w.fromAdapter({ type: "response", command: "stackTrace", request_seq: 5, success: true, body: { stackFrames: [{ line: 99, source: { path: "/x.py" } }] } });
  assert.equal(w.pausedAt, null, "a page of deeper frames is not the paused frame");
  w.fromAdapter({ type: "response", command: "stackTrace", request_seq: 4, success: true, body: { stackFrames: [{ line: 5, source: { path: "/calc.py" } }] } });
  assert.deepEqual(w.pausedAt, { path: "/calc.py", line: 5 });
  assert.equal(w.stops, 1);
  w.fromClient({ type: "request", command: "continue", seq: 6, arguments: { threadId: 1 } });
  assert.equal(w.pausedAt, null);
});

/** The 1-based line of calc.py ending in `# tag`. */
function line(tag: string): number {
  const lines = readFileSync(path.join(cwd, "calc.py"), "utf8").split("\n");
  return lines.findIndex((l) => l.endsWith(`# ${tag}`)) + 1;
}

let daemon: Daemon;

before(async () => {
  daemon = await startDaemon();
});

after(async () => {
  await daemon?.close();
});

test("a real debug run: attach on debugReady, stop at a breakpoint, continue, results arrive", async () => {
  const tree = await discover(daemon.session, cwd);
  const watch = new SessionEndWatch();
  let readyFor: (r: DebugReady) => void = () => undefined;
  const ready = new Promise<DebugReady>((resolve) => (readyFor = resolve));
  const run = startRun(daemon.session, tree, cwd, ["tests/test_calc.py::test_add"], { debug: debugParam(30_000) });
  // The reporter is the job's listener; the extension's runner sets debugReady on it the same way.
  run.reporter.debugReady = (r) => readyFor(r);
  const r = await within(60_000, "debugReady", ready);
  assert.equal(r.runId, run.runId);
  const dap = await DapClient.open(r.host, r.port, { sent: (m) => watch.fromClient(m), received: (m) => watch.fromAdapter(m) });
  try {
    await dap.request("initialize", { adapterID: "pytestd", clientID: "vscode", linesStartAt1: true, columnsStartAt1: true, pathFormat: "path" });
    const config = attachConfiguration(r, "pytestd", true);
    const attached = dap.request("attach", config);
    await within(30_000, "initialized", dap.event("initialized", true));
    const bp = await dap.request("setBreakpoints", { source: { path: path.join(cwd, "calc.py") }, breakpoints: [{ line: line("add") }] });
    assert.equal((bp.body?.breakpoints as { verified?: boolean }[] | undefined)?.[0]?.verified, true, JSON.stringify(bp.body));
    await dap.request("configurationDone");
    await within(30_000, "attach response", attached);
    const stopped = await within(30_000, "stopped at the breakpoint", dap.event("stopped", true));
    const threadId = stopped.body?.threadId as number;
    await dap.request("stackTrace", { threadId, startFrame: 0, levels: 20 });
    assert.equal(watch.pausedAt?.line, line("add"));
    assert.equal(path.basename(watch.pausedAt?.path ?? ""), "calc.py");
    await dap.request("continue", { threadId });
    const result: RunTestsResult = await within(60_000, "the debug run to finish", run.done);
    assert.equal(result.status, "passed", JSON.stringify(result.errors));
    assert.equal(run.sink.final("tests/test_calc.py::test_add"), "passed");
    assert.equal(watch.stoppedByUser(), false, "the tests' end is not a Stop");
  } finally {
    dap.close();
  }
});

test("a debug run nobody attaches to ends in error and errors its tests", async () => {
  const tree = await discover(daemon.session, cwd);
  const run = startRun(daemon.session, tree, cwd, ["tests/test_calc.py::test_add"], { debug: debugParam(1500) });
  const result = await within(60_000, "the unattached debug run to end", run.done);
  assert.equal(result.status, "error");
  assert.match(result.errors.join("\n"), /no debugger attached/);
  assert.equal(run.sink.final("tests/test_calc.py::test_add"), "errored");
});
