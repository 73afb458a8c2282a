// The state file is written whole (never half a document) and soon after a change.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";

import { type ExtensionState, RunLog, StateFileWriter } from "../../src/pure/stateFile";
import { within } from "./support/daemon";

function state(discoveries: number): ExtensionState {
  return { ready: true, discoveries, items: [], runs: new RunLog().runs, continuous: { active: false, runs: 0 } };
}

test("changes are written within the interval, atomically, leaving no temporary file", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pytestd-state-"));
  const file = path.join(dir, "state.json");
  let n = 0;
  const writer = new StateFileWriter(file, () => state(n), 50);
  n = 1;
  writer.changed();
  n = 2;
  writer.changed(); // coalesced with the first
  await within(2000, "state file written", new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(file)) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  }));
  assert.equal((JSON.parse(readFileSync(file, "utf8")) as ExtensionState).discoveries, 2);
  n = 3;
  writer.flush();
  assert.equal((JSON.parse(readFileSync(file, "utf8")) as ExtensionState).discoveries, 3);
  assert.deepEqual(readdirSync(dir), ["state.json"]);
  writer.dispose();
});
