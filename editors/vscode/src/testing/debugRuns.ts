// Debug runs in VS Code: the `pytestd` debug type (its adapter is debugpy inside pytest, reached over TCP, so no
// other extension is needed), one debug session per debug run started on the daemon's `debugReady`, and the
// ties between the two: stopping the session cancels the run, the run's end ends the session.

import * as vscode from "vscode";

import { attachConfiguration, attachTarget, DEBUG_TYPE, SessionEndWatch } from "../pure/debugConfig";
import { type DebugReady } from "../pure/protocol";
import { type StateRun } from "../pure/stateFile";

interface Attached {
  watch: SessionEndWatch;
  session: vscode.DebugSession | undefined;
  ended: boolean;
  /** startDebugging has answered: a session that has not started by then never will. */
  settled: boolean;
  record: StateRun | undefined;
  cancel(): void;
}

/** DebugSessionOptions.testRun came with VS Code 1.91; older hosts ignore it. */
type SessionOptions = vscode.DebugSessionOptions & { testRun?: vscode.TestRun };

export class DebugRuns implements vscode.Disposable {
  private readonly runs = new Map<string, Attached>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly changed: () => void) {
    this.subscriptions.push(
      vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
        createDebugAdapterDescriptor: (session) => {
          const target = attachTarget(session.configuration);
          if (typeof target === "string") throw new Error(target);
          return new vscode.DebugAdapterServer(target.port, target.host);
        },
      }),
      vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, {
        resolveDebugConfiguration: (_folder, config) => {
          const target = attachTarget(config);
          if (typeof target !== "string") return config;
          void vscode.window.showErrorMessage(`pytestd: ${target}`);
          return undefined;
        },
      }),
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => {
          const attached = this.of(session);
          if (attached === undefined) return undefined;
          return {
            onWillReceiveMessage: (m: unknown) => attached.watch.fromClient(m),
            onDidSendMessage: (m: unknown) => {
              attached.watch.fromAdapter(m);
              this.note(attached);
            },
          };
        },
      }),
      vscode.debug.onDidStartDebugSession((session) => {
        const attached = this.of(session);
        if (attached === undefined) return;
        attached.session = session;
        if (attached.record?.debug) attached.record.debug.sessionStarted = true;
        this.changed();
        // The run ended while VS Code was still starting the session.
        if (attached.ended) void vscode.debug.stopDebugging(session);
      }),
      vscode.debug.onDidTerminateDebugSession((session) => {
        const attached = this.of(session);
        if (attached === undefined) return;
        attached.session = undefined;
        attached.watch.pausedAt = null;
        if (attached.record?.debug) attached.record.debug.sessionEnded = true;
        this.note(attached);
        if (attached.ended) this.runs.delete(session.configuration.pytestdRunId as string);
        else if (attached.watch.stoppedByUser()) attached.cancel();
      }),
    );
  }

  /** The daemon's debugpy listens: start a session attached to it, linked to the TestRun. */
  async attach(
    run: vscode.TestRun,
    folder: vscode.WorkspaceFolder,
    ready: DebugReady,
    justMyCode: boolean,
    record: StateRun | undefined,
    cancel: () => void,
  ): Promise<void> {
    const attached: Attached = {
      watch: new SessionEndWatch(),
      session: undefined,
      ended: false,
      settled: false,
      record,
      cancel,
    };
    this.runs.set(ready.runId, attached);
    if (record !== undefined) {
      record.debug = {
        host: ready.host,
        port: ready.port,
        sessionStarted: false,
        sessionEnded: false,
        pausedAt: null,
        stops: 0,
      };
      this.changed();
    }
    const config = attachConfiguration(ready, `pytestd: ${run.name ?? "debug"}`, justMyCode);
    const options: SessionOptions = { testRun: run };
    let started = false;
    try {
      started = await vscode.debug.startDebugging(folder, config, options);
    } catch (err) {
      run.appendOutput(`pytestd: could not start the debugger: ${String(err)}\r\n`);
    }
    attached.settled = true;
    if (attached.ended && attached.session === undefined) this.runs.delete(ready.runId);
    if (!started && !attached.ended) {
      run.appendOutput(`pytestd: no debug session attached to ${ready.host}:${ready.port}; cancelling the run\r\n`);
      cancel();
    }
  }

  /** The run ended: its session goes too (debugpy usually closes it first, when pytest exits). */
  ended(runId: string): void {
    const attached = this.runs.get(runId);
    if (attached === undefined) return;
    attached.ended = true;
    // Kept until its session has ended, to record that; a run whose session never started goes now.
    if (attached.session !== undefined) void vscode.debug.stopDebugging(attached.session);
    else if (attached.settled) this.runs.delete(runId);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.runs.clear();
  }

  private of(session: vscode.DebugSession): Attached | undefined {
    if (session.type !== DEBUG_TYPE) return undefined;
    const runId: unknown = session.configuration.pytestdRunId;
    return typeof runId === "string" ? this.runs.get(runId) : undefined;
  }

  private note(attached: Attached): void {
    const debug = attached.record?.debug;
    if (debug === undefined || debug === null) return;
    const at = attached.watch.pausedAt;
    debug.pausedAt = at === null ? null : { file: at.path, line: at.line };
    debug.stops = attached.watch.stops;
    this.changed();
  }
}
