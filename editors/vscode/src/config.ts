// Typed access to the `pytestd.*` settings: window-wide for the daemon, per folder for a folder's runs.

import * as vscode from "vscode";

import { type ExtensionSettings, readSettings } from "./pure/settings";

export const SECTION = "pytestd";

export function windowSettings(): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  return readSettings((key) => config.get(key));
}

export function folderSettings(folder: vscode.WorkspaceFolder): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SECTION, folder.uri);
  return readSettings((key) => config.get(key));
}
