// The state file's contents, taken from the live objects: every TestItem (parents first), every run recorded,
// readiness and continuous-run counts. Only built when PYTESTD_VSCODE_STATE_FILE is set.

import type * as vscode from "vscode";

import { type ExtensionState, type RunLog, type StateItem } from "./pure/stateFile";
import { type ItemKind } from "./pure/tree";
import { type ContinuousRuns } from "./testing/continuous";
import { type TestsView } from "./testing/testsView";

export interface StateSources {
  view: TestsView;
  runLog: RunLog;
  continuous: ContinuousRuns;
  serverRunning(): boolean;
}

export function snapshot(s: StateSources): ExtensionState {
  const items: StateItem[] = [];
  for (const folder of s.view.folders.values()) {
    const folderPath = folder.folder.uri.fsPath;
    const folderItem = s.view.folderItem(folder);
    if (folderItem !== undefined) {
      items.push(stateItem(folderItem, null, folderPath, null, "directory", [], null));
    }
    for (const node of folder.tree.nodes) {
      const item = folder.item(node.key);
      if (item === undefined) continue;
      const parentId = node.parentKey !== null ? folder.idOf(node.parentKey) : (folderItem?.id ?? null);
      items.push(stateItem(item, parentId, folderPath, node.nodeId, node.kind, node.tags, node.error));
    }
  }
  return {
    ready: s.serverRunning() && s.view.allDiscovered(),
    discoveries: s.view.discoveries,
    items,
    runs: s.runLog.runs,
    continuous: { active: s.continuous.active, runs: s.continuous.runs },
  };
}

function stateItem(
  item: vscode.TestItem,
  parentId: string | null,
  folder: string,
  nodeId: string | null,
  kind: ItemKind,
  tags: string[],
  error: string | null,
): StateItem {
  return {
    id: item.id,
    parentId,
    folder,
    nodeId,
    kind,
    label: item.label,
    file: item.uri?.fsPath ?? null,
    line: item.range === undefined ? null : item.range.start.line + 1,
    tags,
    error,
  };
}
