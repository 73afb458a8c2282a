// Python files saved, created or deleted: the folder is rediscovered after a short quiet time (saves and
// checkouts come in bursts), and continuous runs are told. Files in virtualenvs and caches are not tests.

import * as vscode from "vscode";

import { windowSettings } from "../config";
import { type ContinuousRuns } from "./continuous";
import { type TestsView } from "./testsView";

const QUIET_MS = 250;
const NOT_TESTS = /[\\/](\.venv|venv|\.tox|\.nox|site-packages|__pycache__|node_modules|\.git)[\\/]/;

export function watchPythonFiles(view: TestsView, continuous: ContinuousRuns): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher("**/*.py");
  let pending: ReturnType<typeof setTimeout> | undefined;
  const onFile = (uri: vscode.Uri): void => {
    if (uri.scheme !== "file" || NOT_TESTS.test(uri.fsPath)) return;
    const folder = view.folderOf(uri);
    if (folder === undefined) return;
    // The refresh is scheduled first, so a continuous run started now waits for it.
    if (windowSettings().refreshOnSave) folder.refreshSoon(QUIET_MS);
    if (pending !== undefined) clearTimeout(pending);
    pending = setTimeout(() => {
      pending = undefined;
      continuous.filesChanged();
    }, QUIET_MS);
  };
  return vscode.Disposable.from(
    { dispose: () => pending !== undefined && clearTimeout(pending) },
    watcher,
    watcher.onDidChange(onFile),
    watcher.onDidCreate(onFile),
    watcher.onDidDelete(onFile),
    // Saves reach the watcher too, but not in every remote setup; a second event in the quiet time is free.
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (doc.languageId === "python" || doc.uri.fsPath.endsWith(".py")) onFile(doc.uri);
    }),
  );
}
