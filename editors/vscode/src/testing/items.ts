// Mirrors a folder's FolderTree into TestItems under a collection (the controller's root, or the folder's item
// in a multi-root workspace). Items are reused by id, so a refresh keeps results and expansion in the view.

import * as path from "node:path";

import * as vscode from "vscode";

import { type FolderTree, type TreeNode } from "../pure/tree";

export interface ItemSync {
  controller: vscode.TestController;
  root: vscode.TestItemCollection;
  folder: vscode.Uri;
  idOf(key: string): string;
  /** Items of the previous sync by id; replaced by this sync's. */
  cache: Map<string, vscode.TestItem>;
}

export function syncItems(sync: ItemSync, tree: FolderTree): void {
  const fresh = new Map<string, vscode.TestItem>();
  const build = (parent: string | null): vscode.TestItem[] =>
    tree.children(parent).map((key) => {
      const node = tree.get(key) as TreeNode;
      const item = itemFor(sync, node);
      fresh.set(item.id, item);
      item.children.replace(build(key));
      return item;
    });
  sync.root.replace(build(null));
  sync.cache.clear();
  for (const [id, item] of fresh) sync.cache.set(id, item);
}

function itemFor(sync: ItemSync, node: TreeNode): vscode.TestItem {
  const id = sync.idOf(node.key);
  const uri = node.path === null ? undefined : fileUri(sync.folder, node.path);
  let item = sync.cache.get(id);
  if (item === undefined || item.uri?.toString() !== uri?.toString()) {
    item = sync.controller.createTestItem(id, node.label, uri);
  }
  item.label = node.label;
  item.range = node.line === null ? undefined : new vscode.Range(node.line - 1, 0, node.line - 1, 0);
  item.tags = node.tags.map((t) => new vscode.TestTag(t));
  item.error = node.error === null ? undefined : errorText(node);
  // Tests keep the order of the file; directories and modules sort by name.
  item.sortText = node.line === null ? undefined : `${String(node.line).padStart(9, "0")} ${node.label}`;
  return item;
}

function errorText(node: TreeNode): vscode.MarkdownString {
  const text = new vscode.MarkdownString();
  text.appendText(node.error ?? "");
  if (node.errorDetail !== null && node.errorDetail !== "") text.appendCodeblock(node.errorDetail, "text");
  return text;
}

/** A path from pytestd (relative to the folder, or absolute) as a file URI. */
export function fileUri(folder: vscode.Uri, p: string): vscode.Uri {
  return path.isAbsolute(p) ? vscode.Uri.file(p) : vscode.Uri.file(path.join(folder.fsPath, p));
}
