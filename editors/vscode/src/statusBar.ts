// The status bar item: how many pytestd jobs (runs and discoveries) are running and queued; a click shows them.

import * as vscode from "vscode";

import { type Activity } from "./pure/session";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("pytestd.status", vscode.StatusBarAlignment.Left, 10);

  constructor() {
    this.item.name = "pytestd";
    this.item.command = "pytestd.showRuns";
    this.update({ running: 0, queued: 0 });
    this.item.show();
  }

  update(a: Activity): void {
    const busy = a.running > 0 || a.queued > 0;
    const parts = [`${a.running} running`, ...(a.queued > 0 ? [`${a.queued} queued`] : [])];
    this.item.text = busy ? `$(sync~spin) pytestd: ${parts.join(", ")}` : "$(beaker) pytestd";
    this.item.tooltip = `pytestd: ${a.running} running, ${a.queued} queued. Click to show runs.`;
  }

  stopped(): void {
    this.item.text = "$(debug-disconnect) pytestd";
    this.item.tooltip = "pytestd is not running. See the pytestd output channel.";
  }

  dispose(): void {
    this.item.dispose();
  }
}
