// Debug runs without VS Code: what a debug run asks of the daemon, the attach configuration for the port the
// daemon reports, and when a debug session's end means the user stopped the run.

import { type DebugOptions, type DebugReady } from "./protocol";

/** The debug type this extension contributes; its adapter is debugpy itself, reached over TCP. */
export const DEBUG_TYPE = "pytestd";

export interface AttachConfiguration {
  type: string;
  request: "attach";
  name: string;
  host: string;
  port: number;
  justMyCode: boolean;
  /** Which pytestd run this session debugs; how the extension finds the run again from a session. */
  pytestdRunId: string;
  [key: string]: unknown;
}

export function debugParam(waitForClientMs: number): DebugOptions {
  return { waitForClientMs };
}

export function attachConfiguration(ready: DebugReady, name: string, justMyCode: boolean): AttachConfiguration {
  return {
    type: DEBUG_TYPE,
    request: "attach",
    name,
    host: ready.host,
    port: ready.port,
    justMyCode,
    pytestdRunId: ready.runId,
  };
}

/** Host and port of a configuration that names them, else why it cannot be attached (for the user). */
export function attachTarget(config: Record<string, unknown>): { host: string; port: number } | string {
  const port = config["port"];
  if (typeof port !== "number" || !Number.isInteger(port) || port <= 0 || port > 65535) {
    return "a pytestd debug session attaches to a debug run's port: start it with Debug Test in the Testing view";
  }
  const host = typeof config["host"] === "string" && config["host"] !== "" ? config["host"] : "127.0.0.1";
  return { host, port };
}

const RESUMING = new Set(["continue", "next", "stepIn", "stepOut", "stepBack", "reverseContinue", "goto"]);

/**
 * Watches the DAP messages of one session to tell a stop by the user from the end of the tests. debugpy sends
 * `terminated` (or `exited`) when pytest ends, and VS Code answers with `disconnect`; a `disconnect` with neither
 * before it is the user pressing Stop, which detaches debugpy but leaves pytest running: the run must be cancelled.
 */
export class SessionEndWatch {
  private debuggeeEnded = false;
  private userStopped = false;
  /** stackTrace requests asking for the innermost frames (VS Code fetches deeper ones separately). */
  private readonly topRequests = new Set<number>();
  /** The innermost frame of the last stop: `{path, line}` from the stackTrace response that followed it. */
  pausedAt: { path: string; line: number } | null = null;
  stops = 0;

  /** A message VS Code sends to the adapter. */
  fromClient(message: unknown): void {
    const m = message as { type?: string; command?: string; seq?: number; arguments?: { startFrame?: number } };
    if (m.type !== "request") return;
    if (m.command === "disconnect" && !this.debuggeeEnded) this.userStopped = true;
    if (m.command !== undefined && RESUMING.has(m.command)) this.pausedAt = null;
    if (m.command === "stackTrace" && (m.arguments?.startFrame ?? 0) === 0 && m.seq !== undefined) {
      this.topRequests.add(m.seq);
    }
  }

  /** A message the adapter sends to VS Code. */
  fromAdapter(message: unknown): void {
    const m = message as {
      type?: string;
      event?: string;
      command?: string;
      request_seq?: number;
      success?: boolean;
      body?: { stackFrames?: { line?: number; source?: { path?: string } }[] };
    };
    if (m.type === "event" && (m.event === "terminated" || m.event === "exited")) this.debuggeeEnded = true;
    if (m.type === "event" && m.event === "stopped") this.stops++;
    if (m.type === "event" && m.event === "continued") this.pausedAt = null;
    if (m.type === "response" && m.command === "stackTrace" && m.request_seq !== undefined) {
      if (!this.topRequests.delete(m.request_seq) || m.success !== true) return;
      const top = m.body?.stackFrames?.[0];
      if (top?.source?.path !== undefined && typeof top.line === "number") {
        this.pausedAt = { path: top.source.path, line: top.line };
      }
    }
  }

  /** The session ended: true when that was the user's stop, so the run should be cancelled. */
  stoppedByUser(): boolean {
    return this.userStopped;
  }
}
