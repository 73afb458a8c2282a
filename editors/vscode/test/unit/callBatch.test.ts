// Calls wait at most the batch's delay and are made in order; consecutive text joins one call; a failing call
// does not cost the others.

import assert from "node:assert/strict";
import { mock, test } from "node:test";

import { CallBatch } from "../../src/pure/callBatch";

test("calls are made together, in order, once the first has waited the delay", (t) => {
  mock.timers.enable({ apis: ["setTimeout"] });
  t.after(() => mock.timers.reset());
  const made: string[] = [];
  const batch = new CallBatch(50);
  batch.add(() => made.push("a"));
  mock.timers.tick(30);
  batch.add(() => made.push("b"));
  mock.timers.tick(19);
  assert.equal(made.length, 0);
  mock.timers.tick(1);
  assert.deepEqual(made, ["a", "b"]);
  batch.add(() => made.push("c"));
  mock.timers.tick(50);
  assert.deepEqual(made, ["a", "b", "c"]);
});

test("text added in a row is one write; a call between starts another", (t) => {
  mock.timers.enable({ apis: ["setTimeout"] });
  t.after(() => mock.timers.reset());
  const made: string[] = [];
  const batch = new CallBatch(50);
  const write = (text: string): number => made.push(`write ${text}`);
  batch.appendText("1\n", write);
  batch.appendText("2\n", write);
  batch.add(() => made.push("result"));
  batch.appendText("3\n", write);
  batch.flush();
  assert.deepEqual(made, ["write 1\n2\n", "result", "write 3\n"]);
  mock.timers.tick(100);
  assert.equal(made.length, 3, "a flush leaves nothing for the timer");
});

test("a call that throws does not stop the calls after it; flush reports the failure", () => {
  const made: string[] = [];
  const batch = new CallBatch(50);
  batch.add(() => {
    throw new Error("boom");
  });
  batch.add(() => made.push("after"));
  assert.throws(() => batch.flush(), /boom/);
  assert.deepEqual(made, ["after"]);
});
