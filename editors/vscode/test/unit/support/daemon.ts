// A real `pytestd serve` for unit tests, spoken to through vscode-jsonrpc (what vscode-languageclient uses
// underneath), with the test virtualenv's python. Paths come from the environment or the repository layout.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";

import { createMessageConnection, type MessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";

import { type DaemonSettings, type LogMessage } from "../../../src/pure/protocol";
import { PytestdSession } from "../../../src/pure/session";

/** editors/vscode: the bundles run from out/test. */
export const EXTENSION_ROOT = path.resolve(__dirname, "..", "..");
const REPO = path.resolve(EXTENSION_ROOT, "..", "..");

export const BINARY = process.env.PYTESTD_TEST_BINARY ?? path.join(REPO, "target", "debug", "pytestd");
export const PYTHON = process.env.PYTESTD_TEST_PYTHON ?? path.join(REPO, "target", "test-venv", "bin", "python");

export function fixture(name: string): string {
  return path.join(EXTENSION_ROOT, "test", "fixtures", name);
}

export interface Daemon {
  session: PytestdSession;
  connection: MessageConnection;
  process: ChildProcess;
  logs: string[];
  initializeResult: unknown;
  close(): Promise<void>;
}

export async function startDaemon(options: DaemonSettings = {}): Promise<Daemon> {
  if (!existsSync(BINARY)) throw new Error(`no pytestd at ${BINARY}: cargo build -p pytestd, or set PYTESTD_TEST_BINARY`);
  if (!existsSync(PYTHON)) throw new Error(`no python at ${PYTHON}: bash tests/venv.sh, or set PYTESTD_TEST_PYTHON`);
  const child = spawn(BINARY, ["serve"], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, RUST_LOG: "warn", PYTHONDONTWRITEBYTECODE: "1" },
  });
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout as NodeJS.ReadableStream),
    new StreamMessageWriter(child.stdin as NodeJS.WritableStream),
  );
  const logs: string[] = [];
  connection.onNotification("window/logMessage", (p: LogMessage) => logs.push(p.message));
  const session = new PytestdSession({
    sendRequest: <R>(method: string, params: unknown) => connection.sendRequest<R>(method, params),
    sendNotification: (method: string, params: unknown) => connection.sendNotification(method, params),
    onNotification: (method: string, handler: (params: never) => void) =>
      connection.onNotification(method, handler as (params: unknown) => void),
  });
  connection.listen();
  const initializeResult = await within(
    10_000,
    "initialize",
    connection.sendRequest("initialize", {
      processId: process.pid,
      capabilities: {},
      initializationOptions: { python: PYTHON, ...options },
    }),
  );
  await connection.sendNotification("initialized", {});
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    session,
    connection,
    process: child,
    logs,
    initializeResult,
    async close() {
      try {
        await within(10_000, "shutdown", connection.sendRequest("shutdown"));
        await connection.sendNotification("exit");
      } finally {
        connection.dispose();
        child.stdin?.end();
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

/** The promise's value, or a failure naming what did not happen within ms. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
