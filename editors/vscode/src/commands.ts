// The extension's commands: refresh the tests, show the daemon's runs (listRuns), show the log, restart.

import * as vscode from "vscode";

import { formatRuns } from "./pure/formatRuns";
import { type Server } from "./server";
import { type TestsView } from "./testing/testsView";

export function registerCommands(server: Server, view: TestsView, channel: vscode.OutputChannel): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand("pytestd.refreshTests", () => view.refreshAll()),
    vscode.commands.registerCommand("pytestd.showLog", () => channel.show(true)),
    vscode.commands.registerCommand("pytestd.restartServer", () => server.restart()),
    vscode.commands.registerCommand("pytestd.showRuns", () => showRuns(server, channel)),
  );
}

async function showRuns(server: Server, channel: vscode.OutputChannel): Promise<void> {
  const session = server.session;
  if (session === undefined) {
    channel.show(true);
    void vscode.window.showWarningMessage("pytestd is not running; its log is in the pytestd output channel.");
    return;
  }
  const { header, lines, templates } = formatRuns(await session.listRuns());
  channel.appendLine(header);
  for (const l of [...lines, ...templates]) {
    channel.appendLine(`  ${l.label.replace(/\$\([^)]*\) /, "")}  ${l.description}  ${l.detail}`);
  }
  if (lines.length === 0 && templates.length === 0) {
    void vscode.window.showInformationMessage(`${header}.`);
    return;
  }
  type Item = vscode.QuickPickItem & { runId?: string };
  const items: Item[] = lines.map((l) => ({ label: l.label, description: l.description, detail: l.detail, runId: l.runId }));
  if (templates.length > 0) {
    items.push({ label: "warm templates", kind: vscode.QuickPickItemKind.Separator }, ...templates);
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: header,
    placeHolder: lines.length > 0 ? "Pick a run to cancel it" : "No run to cancel",
  });
  if (picked?.runId === undefined) return;
  const answer = await session.cancelRun(picked.runId).catch((err: unknown) => ({ state: String(err) }));
  channel.appendLine(`pytestd: cancel ${picked.runId}: ${answer.state}`);
}
