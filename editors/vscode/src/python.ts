// The interpreter for a folder's runs: pytestd.python, else the one selected in the Python extension (when it
// is installed) for that folder, else none, and the daemon uses python3.

import * as vscode from "vscode";
import { PythonExtension } from "@vscode/python-extension";

import { folderSettings } from "./config";

export class Interpreters implements vscode.Disposable {
  private api: PythonExtension | undefined;
  private readonly changed = new vscode.EventEmitter<vscode.WorkspaceFolder | undefined>();
  /** A folder's interpreter changed in the Python extension (undefined: maybe every folder's). */
  readonly onDidChange = this.changed.event;
  private subscription: vscode.Disposable | undefined;
  private connected: Promise<void> | undefined;

  /** Connects to the Python extension if it is installed (once); everything works without it. */
  connect(): Promise<void> {
    this.connected ??= this.connectOnce();
    return this.connected;
  }

  private async connectOnce(): Promise<void> {
    if (vscode.extensions.getExtension(PYTHON_EXTENSION_ID) === undefined) return;
    try {
      this.api = await PythonExtension.api();
      this.subscription = this.api.environments.onDidChangeActiveEnvironmentPath((e) => {
        this.changed.fire(e.resource);
      });
    } catch {
      this.api = undefined; // installed but not usable: fall back as if it were absent
    }
  }

  async pythonFor(folder: vscode.WorkspaceFolder): Promise<string | undefined> {
    const configured = folderSettings(folder).python;
    if (configured !== "") return configured;
    // The Python extension may still be activating; its answer is worth the wait.
    await this.connect();
    if (this.api === undefined) return undefined;
    try {
      const active = this.api.environments.getActiveEnvironmentPath(folder.uri);
      const env = await this.api.environments.resolveEnvironment(active);
      return env?.executable.uri?.fsPath ?? (active.path !== "" ? active.path : undefined);
    } catch {
      return undefined;
    }
  }

  dispose(): void {
    this.subscription?.dispose();
    this.changed.dispose();
  }
}

const PYTHON_EXTENSION_ID = "ms-python.python";
