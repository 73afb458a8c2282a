// Entry point: wires the daemon, the Testing view (controller, folders, the Run profile with continuous run, the
// Debug and Coverage profiles), file events, the status bar, the commands and, for tests, the state file.

import * as vscode from "vscode";

import { SECTION, windowSettings } from "./config";
import { registerCommands } from "./commands";
import { daemonSettings } from "./pure/settings";
import { RunLog, StateFileWriter } from "./pure/stateFile";
import { Interpreters } from "./python";
import { Server } from "./server";
import { snapshot } from "./state";
import { StatusBar } from "./statusBar";
import { ContinuousRuns } from "./testing/continuous";
import { CoverageStore, type ProfileWithTestCoverage } from "./testing/coverage";
import { DebugRuns } from "./testing/debugRuns";
import { watchPythonFiles } from "./testing/fileEvents";
import { Runner } from "./testing/runner";
import { TestsView } from "./testing/testsView";

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const channel = vscode.window.createOutputChannel("pytestd");
  const server = new Server(context.extensionPath, channel);
  const interpreters = new Interpreters();
  const statusBar = new StatusBar();
  const stateFile = process.env.PYTESTD_VSCODE_STATE_FILE;
  const runLog = stateFile === undefined || stateFile === "" ? undefined : new RunLog();
  let writer: StateFileWriter | undefined;
  const changed = (): void => writer?.changed();

  const view = new TestsView({
    session: () => server.session,
    python: (folder) => interpreters.pythonFor(folder),
    log: (line) => channel.appendLine(line),
    changed,
  });
  const debugRuns = new DebugRuns(changed);
  const coverage = new CoverageStore();
  const runner = new Runner({
    view,
    session: () => server.session,
    python: (folder) => interpreters.pythonFor(folder),
    runLog,
    debug: debugRuns,
    coverage,
    changed,
    ended: () => writer?.flush(),
  });
  const continuous = new ContinuousRuns(view, runner, changed);
  const profile = view.controller.createRunProfile(
    "Run",
    vscode.TestRunProfileKind.Run,
    (request, token) =>
      request.continuous === true
        ? continuous.watch(request, token)
        : runner.run(request, token, { kind: "run", continuous: false }),
    true,
    undefined,
    true,
  );
  const debugProfile = view.controller.createRunProfile(
    "Debug",
    vscode.TestRunProfileKind.Debug,
    (request, token) => runner.run(request, token, { kind: "debug", continuous: false }),
    true,
  );
  const coverageProfile: ProfileWithTestCoverage = view.controller.createRunProfile(
    "Coverage",
    vscode.TestRunProfileKind.Coverage,
    (request, token) => runner.run(request, token, { kind: "coverage", continuous: false }),
    true,
  );
  coverageProfile.loadDetailedCoverage = (_run, file) => coverage.details(file);
  // Per-test coverage needs VS Code 1.93; older hosts ignore the property.
  coverageProfile.loadDetailedCoverageForTest = (_run, file, item) => coverage.detailsForTest(file, item);

  if (stateFile !== undefined && stateFile !== "" && runLog !== undefined) {
    writer = new StateFileWriter(stateFile, () =>
      snapshot({ view, runLog, continuous, serverRunning: () => server.session !== undefined }),
    );
    writer.flush();
  }

  context.subscriptions.push(
    channel,
    server,
    interpreters,
    statusBar,
    view,
    continuous,
    profile,
    debugProfile,
    coverageProfile,
    debugRuns,
    { dispose: () => writer?.dispose() },
    registerCommands(server, view, channel),
    watchPythonFiles(view, continuous),
    server.onDidStart((session) => {
      statusBar.update(session.activity());
      context.subscriptions.push(session.onDidChangeActivity((a) => statusBar.update(a)));
      void view.rediscoverAll().then(() => writer?.flush());
    }),
    server.onDidStop(() => {
      statusBar.stopped();
      writer?.changed();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      view.setFolders(vscode.workspace.workspaceFolders ?? []);
      void view.refreshAll();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      if (e.affectsConfiguration(`${SECTION}.serverPath`)) {
        void server.restart();
        return;
      }
      void server.session?.changeConfiguration(daemonSettings(windowSettings(), false));
      if (e.affectsConfiguration(`${SECTION}.python`) || e.affectsConfiguration(`${SECTION}.pytestArgs`)) {
        void view.refreshAll();
      }
    }),
    interpreters.onDidChange((folder) => {
      const target = folder === undefined ? undefined : view.folders.get(folder.uri.toString());
      void (target === undefined ? view.refreshAll() : target.refresh());
    }),
  );

  view.setFolders(vscode.workspace.workspaceFolders ?? []);
  void interpreters.connect();
  statusBar.stopped();
  await server.start();
}

export function deactivate(): void {
  // Everything is in context.subscriptions; the server stops with them.
}
