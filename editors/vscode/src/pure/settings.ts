// Settings: their checked, typed form, what of them the daemon gets (only the keys it knows: it refuses others),
// and which binary runs the daemon.

import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

import { type DaemonSettings } from "./protocol";

export interface ExtensionSettings {
  serverPath: string;
  python: string;
  maxParallel: number | undefined;
  pytestArgs: string[];
  env: Record<string, string>;
  stopOnCollectionErrors: boolean;
  refreshOnSave: boolean;
  /** How long a debug run waits for the debugger to attach. */
  debugWaitForClientMs: number;
  debugJustMyCode: boolean;
  /** Runs forked from the daemon's warm template of the project. */
  warmStart: boolean;
  /** Each run split by file across this many pytest processes (1: not split). */
  shards: number | "auto";
}

export const DEFAULT_DEBUG_WAIT_MS = 60_000;

/** Settings as VS Code returns them (anything a user wrote in settings.json), made typed; bad values dropped. */
export function readSettings(get: (key: string) => unknown): ExtensionSettings {
  const str = (v: unknown): string => (typeof v === "string" ? v.trim() : "");
  const maxParallel = get("maxParallel");
  const args = get("pytestArgs");
  const env = get("env");
  const wait = get("debugWaitForClientMs");
  return {
    serverPath: str(get("serverPath")),
    python: str(get("python")),
    maxParallel:
      typeof maxParallel === "number" && Number.isInteger(maxParallel) && maxParallel >= 1 ? maxParallel : undefined,
    pytestArgs: Array.isArray(args) ? args.filter((a): a is string => typeof a === "string") : [],
    env:
      env !== null && typeof env === "object" && !Array.isArray(env)
        ? Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string"))
        : {},
    stopOnCollectionErrors: get("stopOnCollectionErrors") === true,
    refreshOnSave: get("refreshOnSave") !== false,
    debugWaitForClientMs:
      typeof wait === "number" && Number.isInteger(wait) && wait >= 1000 ? wait : DEFAULT_DEBUG_WAIT_MS,
    debugJustMyCode: get("debugJustMyCode") !== false,
    warmStart: get("warmStart") !== false,
    shards: shardsSetting(get("shards")),
  };
}

/** `"auto"`, or a whole number from 1 to 256 (the daemon's limit); anything else is 1, no split. */
function shardsSetting(v: unknown): number | "auto" {
  if (v === "auto") return "auto";
  return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 256 ? v : 1;
}

/**
 * What goes to initializationOptions (initial: true) and didChangeConfiguration. A change names every key, since
 * the daemon keeps the current value of absent ones: a cleared setting must reset it.
 */
export function daemonSettings(s: ExtensionSettings, initial: boolean): DaemonSettings {
  const out: DaemonSettings = { pytestArgs: s.pytestArgs, env: s.env };
  if (s.python !== "") out.python = s.python;
  else if (!initial) out.python = "python3";
  if (s.maxParallel !== undefined) out.maxParallel = s.maxParallel;
  else if (!initial) out.maxParallel = 4;
  if (!s.warmStart || !initial) out.warmStart = s.warmStart;
  return out;
}

export interface ServerChoice {
  command: string;
  source: "setting" | "bundled" | "path";
}

/** pytestd.serverPath, else the binary in the extension, else `pytestd` from PATH. */
export function resolveServer(setting: string, bundled: string, pathEnv: string | undefined): ServerChoice {
  if (setting !== "") return { command: setting, source: "setting" };
  // The bundled binary may have lost its executable bit in the .vsix; the extension restores it.
  if (existsFile(bundled)) return { command: bundled, source: "bundled" };
  for (const dir of (pathEnv ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "pytestd");
    if (isExecutableFile(candidate)) return { command: candidate, source: "path" };
  }
  return { command: "pytestd", source: "path" };
}

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function existsFile(p: string): boolean {
  try {
    accessSync(p, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
