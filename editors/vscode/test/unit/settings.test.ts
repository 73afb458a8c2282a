// Settings as the daemon gets them (it refuses unknown keys) and the choice of the server binary.

import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";

import { daemonSettings, readSettings, resolveServer } from "../../src/pure/settings";

function settings(values: Record<string, unknown>) {
  return readSettings((k) => values[k]);
}

test("initializationOptions carry only the daemon's keys, and only those set", () => {
  const s = settings({ serverPath: "/x", python: "", maxParallel: 2, pytestArgs: ["-x", 3], env: { A: "1", B: 2 } });
  assert.deepEqual(daemonSettings(s, true), { pytestArgs: ["-x"], env: { A: "1" }, maxParallel: 2 });
});

test("a configuration change names every key, so cleared settings go back to defaults", () => {
  const s = settings({ maxParallel: 0 });
  assert.deepEqual(daemonSettings(s, false), {
    pytestArgs: [],
    env: {},
    python: "python3",
    maxParallel: 4,
    warmStart: true,
  });
});

test("warm starts are the daemon's default; turned off, the daemon is told", () => {
  assert.equal(daemonSettings(settings({}), true).warmStart, undefined);
  assert.equal(daemonSettings(settings({ warmStart: false }), true).warmStart, false);
  assert.equal(daemonSettings(settings({ warmStart: false }), false).warmStart, false);
});

test("shards: a whole number from 1 to 256 or \"auto\"; anything else is 1, no split", () => {
  assert.equal(settings({}).shards, 1);
  assert.equal(settings({ shards: 4 }).shards, 4);
  assert.equal(settings({ shards: "auto" }).shards, "auto");
  for (const bad of [0, 2.5, 257, "4", "all", null]) assert.equal(settings({ shards: bad }).shards, 1, String(bad));
  assert.equal("shards" in daemonSettings(settings({ shards: 4 }), false), false, "a run's parameter, not the daemon's");
});

test("the server is the setting, else the bundled binary, else pytestd on PATH", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pytestd-vscode-"));
  const onPath = path.join(dir, "pytestd");
  writeFileSync(onPath, "");
  chmodSync(onPath, 0o755);
  const bundled = path.join(dir, "bundled");
  assert.deepEqual(resolveServer("/opt/pytestd", bundled, dir), { command: "/opt/pytestd", source: "setting" });
  assert.deepEqual(resolveServer("", bundled, `/nonexistent${path.delimiter}${dir}`), { command: onPath, source: "path" });
  writeFileSync(bundled, ""); // not executable: the extension sets the bit itself
  assert.deepEqual(resolveServer("", bundled, dir), { command: bundled, source: "bundled" });
});
