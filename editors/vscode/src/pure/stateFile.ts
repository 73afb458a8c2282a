// The test-only state file (env PYTESTD_VSCODE_STATE_FILE): the extension's own view of its tree and runs as
// JSON, so an end-to-end test can check what the UI shows against what the extension did. Written atomically
// (temporary file + rename), at most every 100 ms while things change, and at once when asked to (a run ended).

import { renameSync, writeFileSync } from "node:fs";

import { type ItemKind } from "./tree";
import { type MappedResult } from "./outcomes";
import { type RunStatus } from "./protocol";

export interface StateItem {
  id: string;
  parentId: string | null;
  folder: string;
  nodeId: string | null;
  kind: ItemKind;
  label: string;
  file: string | null;
  line: number | null;
  tags: string[];
  error: string | null;
}

export type StateTestState = "enqueued" | "started" | "passed" | "failed" | "errored" | "skipped";

export interface StateResult {
  state: StateTestState;
  message: string | null;
  file: string | null;
  line: number | null;
  expected: string | null;
  actual: string | null;
  output: boolean;
}

export type StateRunKind = "run" | "debug" | "coverage";

/** A debug run's debugger: where debugpy listens, and the session attached to it. */
export interface StateDebug {
  host: string;
  port: number;
  sessionStarted: boolean;
  sessionEnded: boolean;
  /** Where the debugger is paused now (the innermost frame), or null. */
  pausedAt: { file: string; line: number } | null;
  /** How many times it stopped (breakpoints, steps). */
  stops: number;
}

/** A coverage run's result as added to the TestRun: per file (absolute path), its covered and missed lines. */
export interface StateCoverage {
  files: Record<string, { covered: number[]; missed: number[]; branches: { covered: number; total: number } | null }>;
  percent: number;
  /** Test ids with per-test coverage. */
  tests: string[];
}

export interface StateRun {
  runId: string;
  name: string;
  kind: StateRunKind;
  continuous: boolean;
  queued: boolean;
  state: "queued" | "running" | "finished";
  status: RunStatus | null;
  results: Record<string, StateResult>;
  debug: StateDebug | null;
  coverage: StateCoverage | null;
}

export interface ExtensionState {
  ready: boolean;
  discoveries: number;
  items: StateItem[];
  runs: StateRun[];
  continuous: { active: boolean; runs: number };
}

/** Runs as the state file records them; the run handler reports into it. */
export class RunLog {
  readonly runs: StateRun[] = [];

  open(runId: string, name: string, continuous: boolean, kind: StateRunKind = "run"): StateRun {
    const run: StateRun = {
      runId,
      name,
      kind,
      continuous,
      queued: false,
      state: "running",
      status: null,
      results: {},
      debug: null,
      coverage: null,
    };
    this.runs.push(run);
    return run;
  }
}

export function resultEntry(run: StateRun, nodeId: string): StateResult {
  let entry = run.results[nodeId];
  if (entry === undefined) {
    entry = { state: "enqueued", message: null, file: null, line: null, expected: null, actual: null, output: false };
    run.results[nodeId] = entry;
  }
  return entry;
}

/** Records a mapped result; `resolve` turns a location's path into an absolute file. */
export function recordResult(run: StateRun, nodeId: string, mapped: MappedResult, resolve: (p: string) => string): void {
  const entry = resultEntry(run, nodeId);
  const first = mapped.messages[0];
  entry.state = mapped.state;
  entry.message = mapped.summary;
  entry.file = first?.location ? resolve(first.location.path) : null;
  entry.line = first?.location?.line ?? null;
  entry.expected = first?.expected ?? null;
  entry.actual = first?.actual ?? null;
}

export class StateFileWriter {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastWrite = 0;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => ExtensionState,
    private readonly intervalMs = 100,
  ) {}

  /** Something changed: write within intervalMs. */
  changed(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastWrite + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Write now (a run ended, a discovery finished). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastWrite = Date.now();
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.snapshot(), null, 1));
    renameSync(tmp, this.path);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
