// A typed session with one pytestd daemon over any JSON-RPC endpoint (vscode-languageclient in the extension,
// a plain vscode-jsonrpc connection in unit tests). It names every job's runId itself, so a job's notifications
// are routed to that job's listener from the first one on, however many jobs run at once.

import { randomUUID } from "node:crypto";

import {
  type CancelRunResult,
  type CollectionErrorNotification,
  type DaemonSettings,
  type DebugReady,
  type DiscoverTestsParams,
  type DiscoverTestsResult,
  type ListRunsResult,
  Methods,
  Notifications,
  type RunFinished,
  type RunOutput,
  type RunQueued,
  type RunStarted,
  type RunTestsParams,
  type RunTestsResult,
  type TestResultNotification,
  type TestStarted,
  type TestsDiscovered,
} from "./protocol";

export interface Disposable {
  dispose(): void;
}

/** The part of a JSON-RPC connection the session needs; LanguageClient and MessageConnection both fit. */
export interface RpcEndpoint {
  sendRequest<R>(method: string, params: unknown): Promise<R>;
  sendNotification(method: string, params: unknown): Promise<void> | void;
  onNotification(method: string, handler: (params: never) => void): Disposable;
}

/** What one job (run or discovery) hears about itself; every callback is optional. */
export interface JobListener {
  queued?(p: RunQueued): void;
  started?(p: RunStarted): void;
  testStarted?(p: TestStarted): void;
  testResult?(p: TestResultNotification): void;
  output?(p: RunOutput): void;
  collectionError?(p: CollectionErrorNotification): void;
  debugReady?(p: DebugReady): void;
  finished?(p: RunFinished): void;
  testsDiscovered?(p: TestsDiscovered): void;
}

export type ListenerSource = JobListener | ((runId: string) => JobListener);

export interface Job<R> {
  runId: string;
  result: Promise<R>;
}

/** Jobs the session has in flight, as the status bar shows them. */
export interface Activity {
  running: number;
  queued: number;
}

type JobState = "starting" | "queued" | "running";

interface Route {
  listener: JobListener;
  state: JobState;
}

export class PytestdSession implements Disposable {
  private readonly routes = new Map<string, Route>();
  private readonly subscriptions: Disposable[] = [];
  private readonly activityListeners = new Set<(a: Activity) => void>();

  constructor(
    private readonly rpc: RpcEndpoint,
    private readonly newRunId: () => string = randomUUID,
  ) {
    this.route(Notifications.runQueued, (l, p: RunQueued) => l.queued?.(p), "queued");
    this.route(Notifications.runStarted, (l, p: RunStarted) => l.started?.(p), "running");
    this.route(Notifications.testStarted, (l, p: TestStarted) => l.testStarted?.(p));
    this.route(Notifications.testResult, (l, p: TestResultNotification) => l.testResult?.(p));
    this.route(Notifications.runOutput, (l, p: RunOutput) => l.output?.(p));
    this.route(Notifications.collectionError, (l, p: CollectionErrorNotification) => l.collectionError?.(p));
    this.route(Notifications.debugReady, (l, p: DebugReady) => l.debugReady?.(p));
    this.route(Notifications.runFinished, (l, p: RunFinished) => l.finished?.(p));
    this.route(Notifications.testsDiscovered, (l, p: TestsDiscovered) => l.testsDiscovered?.(p));
  }

  /**
   * listener may be made for the job's runId, before anything about the job can arrive. The response leaves out
   * the results unless params ask for them: every result reaches the listener as a testResult first, and a large
   * run's response would repeat megabytes of them for the daemon to build and the extension host to parse.
   */
  runTests(params: Omit<RunTestsParams, "runId">, listener: ListenerSource = {}): Job<RunTestsResult> {
    return this.job<RunTestsResult>(Methods.runTests, { results: "summary", ...params }, listener);
  }

  discoverTests(params: Omit<DiscoverTestsParams, "runId">, listener: ListenerSource = {}): Job<DiscoverTestsResult> {
    return this.job<DiscoverTestsResult>(Methods.discoverTests, params, listener);
  }

  cancelRun(runId: string): Promise<CancelRunResult> {
    return this.rpc.sendRequest<CancelRunResult>(Methods.cancelRun, { runId });
  }

  listRuns(): Promise<ListRunsResult> {
    return this.rpc.sendRequest<ListRunsResult>(Methods.listRuns, {});
  }

  async changeConfiguration(settings: DaemonSettings): Promise<void> {
    await this.rpc.sendNotification(Methods.didChangeConfiguration, { settings: { pytestd: settings } });
  }

  activity(): Activity {
    let running = 0;
    let queued = 0;
    for (const route of this.routes.values()) {
      if (route.state === "queued") queued++;
      else running++;
    }
    return { running, queued };
  }

  onDidChangeActivity(listener: (a: Activity) => void): Disposable {
    this.activityListeners.add(listener);
    return { dispose: () => this.activityListeners.delete(listener) };
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.subscriptions.length = 0;
    this.routes.clear();
  }

  private job<R>(method: string, params: object, source: ListenerSource): Job<R> {
    const runId = this.newRunId();
    const listener = typeof source === "function" ? source(runId) : source;
    // Registered before the request goes out: the daemon may notify before it answers anything.
    this.routes.set(runId, { listener, state: "starting" });
    this.activityChanged();
    const result = this.rpc.sendRequest<R>(method, { ...params, runId }).finally(() => {
      this.routes.delete(runId);
      this.activityChanged();
    });
    return { runId, result };
  }

  private route<P extends { runId: string }>(
    method: string,
    deliver: (listener: JobListener, params: P) => void,
    state?: JobState,
  ): void {
    const handler = (params: P): void => {
      const route = this.routes.get(params.runId);
      if (route === undefined) return; // a job of a previous server, or already answered
      if (state !== undefined && route.state !== state) {
        route.state = state;
        this.activityChanged();
      }
      deliver(route.listener, params);
    };
    this.subscriptions.push(this.rpc.onNotification(method, handler));
  }

  private activityChanged(): void {
    const activity = this.activity();
    for (const l of this.activityListeners) l(activity);
  }
}
