// The pytestd daemon: which binary, started through vscode-languageclient as `pytestd serve` over stdio, its
// window/logMessage lines (the shared log, each prefixed with its run) written to the "pytestd" channel as they
// are, and the typed session over it. The session outlives restarts: the client re-registers its handlers.

import { chmodSync, statSync } from "node:fs";
import * as path from "node:path";

import * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, State } from "vscode-languageclient/node";

import { type LogMessage, Methods } from "./pure/protocol";
import { PytestdSession, type RpcEndpoint } from "./pure/session";
import { daemonSettings, resolveServer } from "./pure/settings";
import { windowSettings } from "./config";

export class Server implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private current: PytestdSession | undefined;
  private readonly started = new vscode.EventEmitter<PytestdSession>();
  /** Fires each time the daemon is up and initialized (first start, restarts after a crash or by command). */
  readonly onDidStart = this.started.event;
  private readonly stopped = new vscode.EventEmitter<void>();
  /** Fires when the daemon is gone (crashed, stopped, or failed to start). */
  readonly onDidStop = this.stopped.event;

  constructor(
    private readonly extensionPath: string,
    private readonly channel: vscode.OutputChannel,
  ) {}

  get session(): PytestdSession | undefined {
    return this.client?.state === State.Running ? this.current : undefined;
  }

  async start(): Promise<void> {
    const settings = windowSettings();
    const bundled = path.join(this.extensionPath, "server", "pytestd");
    ensureExecutable(bundled);
    const server = resolveServer(settings.serverPath, bundled, process.env.PATH);
    this.channel.appendLine(`pytestd: starting ${server.command} serve (${server.source})`);
    const options: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: this.channel,
      initializationOptions: () => daemonSettings(windowSettings(), true),
    };
    const client = new LanguageClient("pytestd", "pytestd", { command: server.command, args: ["serve"] }, options);
    // Replaces the client's own handler, which would stamp every pytest line with a level and a time.
    client.onNotification(Methods.logMessage, (p: LogMessage) => this.channel.appendLine(p.message));
    const session = new PytestdSession(endpointOf(client));
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Running) this.started.fire(session);
      else if (e.newState === State.Stopped) this.stopped.fire();
    });
    this.client = client;
    this.current = session;
    try {
      await client.start();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.channel.appendLine(`pytestd: could not start ${server.command}: ${message}`);
      void vscode.window.showErrorMessage(
        `pytestd could not start ${server.command}. Set pytestd.serverPath or put pytestd on PATH.`,
      );
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.current?.dispose();
    this.current = undefined;
    if (client !== undefined && client.needsStop()) {
      await client.stop(5000).catch(() => undefined);
    }
  }

  dispose(): void {
    void this.stop();
    this.started.dispose();
    this.stopped.dispose();
  }
}

function endpointOf(client: LanguageClient): RpcEndpoint {
  return {
    sendRequest: <R>(method: string, params: unknown) => client.sendRequest<R>(method, params),
    sendNotification: (method: string, params: unknown) => client.sendNotification(method, params),
    onNotification: (method: string, handler: (params: never) => void) =>
      client.onNotification(method, handler as (...params: unknown[]) => void),
  };
}

/** vsce does not keep file modes, so the bundled binary may arrive without its executable bit. */
function ensureExecutable(file: string): void {
  try {
    const mode = statSync(file).mode;
    if ((mode & 0o111) !== 0o111) chmodSync(file, mode | 0o755);
  } catch {
    // No bundled binary (a development build): the PATH or the setting is used instead.
  }
}
