// A test shows as running only after the delay, and never once its result came or the run ended.

import assert from "node:assert/strict";
import { mock, test } from "node:test";

import { DelayedStarts } from "../../src/pure/delayedStarts";

test("a test still running after the delay shows as running, once", (t) => {
  mock.timers.enable({ apis: ["setTimeout"] });
  t.after(() => mock.timers.reset());
  const shown: string[] = [];
  const starts = new DelayedStarts<string>(250, (k) => shown.push(k));
  starts.started("slow");
  starts.started("slow"); // a repeated start keeps the first deadline
  mock.timers.tick(249);
  assert.deepEqual(shown, []);
  mock.timers.tick(1);
  assert.deepEqual(shown, ["slow"]);
  starts.finished("slow"); // its result after it showed: nothing left to cancel
  mock.timers.tick(1000);
  assert.deepEqual(shown, ["slow"]);
});

test("a test with its result within the delay, or still going when the run ends, never shows as running", (t) => {
  mock.timers.enable({ apis: ["setTimeout"] });
  t.after(() => mock.timers.reset());
  const shown: string[] = [];
  const starts = new DelayedStarts<string>(250, (k) => shown.push(k));
  starts.started("fast");
  starts.started("cancelled");
  mock.timers.tick(100);
  starts.finished("fast");
  starts.dispose();
  mock.timers.tick(1000);
  assert.deepEqual(shown, []);
});
