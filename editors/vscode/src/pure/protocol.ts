// The pytestd protocol (version 1) as this extension uses it: every request, notification and type declared once.
// crates/protocol/README.md is authoritative; fields the daemon added later (frames, failureLocation,
// expected/actual, collectionErrors, markers, debug and coverage) are optional here so older daemons still work.

export const Methods = {
  runTests: "runTests",
  discoverTests: "discoverTests",
  cancelRun: "cancelRun",
  listRuns: "listRuns",
  didChangeConfiguration: "workspace/didChangeConfiguration",
  logMessage: "window/logMessage",
} as const;

export const Notifications = {
  runQueued: "runQueued",
  runStarted: "runStarted",
  testStarted: "testStarted",
  testResult: "testResult",
  runOutput: "runOutput",
  runFinished: "runFinished",
  testsDiscovered: "testsDiscovered",
  collectionError: "collectionError",
  debugReady: "debugReady",
} as const;

/** `initializationOptions` and `settings.pytestd`: the daemon rejects any other key. */
export interface DaemonSettings {
  python?: string;
  maxParallel?: number;
  pytestArgs?: string[];
  env?: Record<string, string>;
  warmStart?: boolean;
}

export interface Location {
  path: string;
  line: number;
}

export interface Frame extends Location {
  name?: string;
}

export type Outcome = "passed" | "failed" | "skipped" | "error" | "xfailed" | "xpassed";
export type When = "setup" | "call" | "teardown";
export type RunStatus = "passed" | "failed" | "cancelled" | "timedOut" | "error";

export interface SubtestResult {
  description: string;
  outcome: Outcome;
  message?: string;
  traceback?: string;
  durationMs: number;
}

export interface TestResult {
  testId: string;
  outcome: Outcome;
  when?: When;
  message?: string;
  traceback?: string;
  location?: Location;
  durationMs: number;
  stdout?: string;
  stderr?: string;
  subtests?: SubtestResult[];
  frames?: Frame[];
  failureLocation?: Location;
  expected?: string;
  actual?: string;
}

export interface CollectionError {
  /** pytest's id of the file (the module's node id). */
  nodeId?: string;
  path: string;
  line?: number;
  message: string;
  traceback?: string;
}

export interface Summary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  errors: number;
  xfailed: number;
  xpassed: number;
}

export interface RunTestsParams {
  cwd: string;
  runId?: string;
  testIds?: string[];
  args?: string[];
  python?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  stopOnCollectionErrors?: boolean;
  /** `summary`: the response's `results` is empty, every result having been sent as testResult. */
  results?: "full" | "summary";
  /** Split the run by file across this many pytest processes ("auto": as many as help). */
  shards?: number | "auto";
  debug?: boolean | DebugOptions;
  coverage?: boolean | CoverageOptions;
}

/** runTests' `debug`: pytest runs under debugpy, which waits for a DAP client on host:port. */
export interface DebugOptions {
  host?: string;
  port?: number;
  waitForClientMs?: number;
}

/** runTests' `coverage`: measured by coverage.py. */
export interface CoverageOptions {
  branch?: boolean;
  include?: string[];
  omit?: string[];
  perTest?: boolean;
}

/** [from, to] line numbers; a negative `to` is an exit from the code object. */
export type Arc = [number, number];

export interface FileBranches {
  covered: number;
  total: number;
  missing: Arc[];
  taken?: Arc[];
}

export interface FileCoverageData {
  covered: number[];
  missed: number[];
  branches?: FileBranches;
}

export interface CoverageTotals {
  statements: number;
  covered: number;
  missed: number;
  branches?: number;
  coveredBranches?: number;
  percent: number;
}

/** Paths relative to the run's cwd; `tests` (with perTest): test id → path → lines that test ran. */
export interface CoverageResult {
  files: Record<string, FileCoverageData>;
  totals: CoverageTotals;
  tests?: Record<string, Record<string, number[]>>;
}

export interface RunTestsResult {
  runId: string;
  status: RunStatus;
  exitCode: number | null;
  signal?: string;
  summary: Summary;
  results: Record<string, TestResult>;
  errors: string[];
  collectionErrors?: CollectionError[];
  coverage?: CoverageResult;
  durationMs: number;
  queuedMs: number;
}

export type NodeKind = "directory" | "package" | "module" | "class" | "function" | "test";

export interface TestNode {
  id: string;
  name: string;
  kind: NodeKind;
  parentId?: string;
  path?: string;
  line?: number;
  markers?: string[];
}

export interface DiscoverTestsParams {
  cwd: string;
  runId?: string;
  args?: string[];
  python?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** `false`: no testsDiscovered notifications, the tree only in the response (one copy instead of two). */
  stream?: boolean;
}

export type DiscoveryStatus = "complete" | "cancelled" | "timedOut" | "error";

export interface DiscoverTestsResult {
  runId: string;
  status: DiscoveryStatus;
  tests: TestNode[];
  errors: string[];
  collectionErrors?: CollectionError[];
  durationMs: number;
}

export interface CancelRunResult {
  runId: string;
  state: "cancelled" | "alreadyFinished";
}

export interface RunInfo {
  runId: string;
  state: "queued" | "running";
  cwd: string;
  pid?: number;
  testCount: number;
  elapsedMs: number;
  rssBytes: number;
  peakRssBytes: number;
  cpuMs: number;
}

export interface RunFailure {
  runId: string;
  cwd: string;
  status: RunStatus;
  reason: string;
  endedMsAgo: number;
}

/** A warm template: a Python process with pytest and the project's libraries imported, runs forked from it. */
export interface WarmTemplate {
  cwd: string;
  python: string;
  pid: number;
  state: "starting" | "ready";
  modules: number;
  rssBytes: number;
  runs: number;
  idleMs: number;
}

export interface ListRunsResult {
  runs: RunInfo[];
  maxParallel: number;
  running: number;
  queued: number;
  recentFailures: RunFailure[];
  templates?: WarmTemplate[];
}

// Notification params; each carries the run's id.
export interface RunQueued {
  runId: string;
  position: number;
}
export interface RunStarted {
  runId: string;
  pid: number;
  args: string[];
}
export interface TestStarted {
  runId: string;
  testId: string;
}
export type TestResultNotification = TestResult & { runId: string };
export interface RunOutput {
  runId: string;
  stream: "stdout" | "stderr";
  text: string;
}
export interface RunFinished {
  runId: string;
  status: RunStatus;
  summary: Summary;
  durationMs: number;
}
export interface TestsDiscovered {
  runId: string;
  tests: TestNode[];
}
export type CollectionErrorNotification = CollectionError & { runId: string };
export interface DebugReady {
  runId: string;
  host: string;
  port: number;
}

export interface LogMessage {
  type: number;
  message: string;
}
