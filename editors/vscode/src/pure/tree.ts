// The test tree of one workspace folder, built from a discovery's nodes and collection errors, independent of
// VS Code: the Testing view mirrors it, selections are compressed on it, and the state file lists it.

import { type CollectionError, type DiscoverTestsResult, type NodeKind, type TestNode } from "./protocol";
import { collectionErrorsOf } from "./collectionErrors";

export type ItemKind = NodeKind | "error";

export interface TreeNode {
  /** Unique within the folder: the pytest node id, or `error:<n>` for errors tied to no file. */
  key: string;
  /** The pytest node id (what runTests takes); null for error items. */
  nodeId: string | null;
  parentKey: string | null;
  kind: ItemKind;
  label: string;
  /** File relative to the folder (absolute when outside it), or null. */
  path: string | null;
  /** 1-based line, or null. */
  line: number | null;
  tags: string[];
  /** Collection error message shown on the item, or null. */
  error: string | null;
  /** pytest's full text for the error, when there is one. */
  errorDetail: string | null;
}

export class FolderTree {
  readonly nodes: TreeNode[] = [];
  private readonly byKey = new Map<string, TreeNode>();
  private readonly childKeys = new Map<string | null, string[]>([[null, []]]);

  get(key: string): TreeNode | undefined {
    return this.byKey.get(key);
  }

  children(key: string | null): readonly string[] {
    return this.childKeys.get(key) ?? [];
  }

  /** Adds a node after its parent; an unknown parent makes it top-level (parents always come first). */
  add(node: TreeNode): TreeNode {
    const existing = this.byKey.get(node.key);
    if (existing !== undefined) return existing;
    const parentKey = node.parentKey !== null && this.byKey.has(node.parentKey) ? node.parentKey : null;
    const added = { ...node, parentKey };
    this.nodes.push(added);
    this.byKey.set(added.key, added);
    const siblings = this.childKeys.get(parentKey);
    if (siblings === undefined) this.childKeys.set(parentKey, [added.key]);
    else siblings.push(added.key);
    if (!this.childKeys.has(added.key)) this.childKeys.set(added.key, []);
    return added;
  }

  /** Every `test` node at or under key (null: the whole folder). */
  testsUnder(key: string | null): TreeNode[] {
    const out: TreeNode[] = [];
    const stack = [...this.children(key)].reverse();
    const self = key === null ? undefined : this.byKey.get(key);
    if (self?.kind === "test") return [self];
    while (stack.length > 0) {
      const node = this.byKey.get(stack.pop() as string) as TreeNode;
      if (node.kind === "test") out.push(node);
      stack.push(...[...this.children(node.key)].reverse());
    }
    return out;
  }

  /**
   * Puts a collection error on its module, creating the module (and missing directories above it) when
   * discovery has no node for it: a module that fails to import has no tests, yet must show its error.
   */
  attachCollectionError(err: CollectionError): TreeNode {
    const path = err.path.replace(/\\/g, "/");
    let module = this.byKey.get(path);
    if (module === undefined) {
      const parts = path.split("/");
      let parentKey: string | null = null;
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        if (dir === "") continue;
        parentKey = this.add(plainNode(dir, parentKey, "directory", parts[i - 1] ?? dir, dir, null)).key;
      }
      module = this.add(plainNode(path, parentKey, "module", parts[parts.length - 1] ?? path, path, null));
    }
    module.error = err.message;
    module.errorDetail = err.traceback ?? null;
    module.line = err.line ?? module.line ?? 1;
    return module;
  }

  /** An error tied to no file (pytest could not start, bad arguments): one item at the top of the folder. */
  addFolderError(message: string, detail: string | null): TreeNode {
    const key = `error:${this.nodes.filter((n) => n.kind === "error").length}`;
    const node = this.add(plainNode(key, null, "error", "pytestd: discovery failed", null, null));
    node.nodeId = null;
    node.error = message;
    node.errorDetail = detail;
    return node;
  }
}

function plainNode(
  key: string,
  parentKey: string | null,
  kind: ItemKind,
  label: string,
  path: string | null,
  line: number | null,
): TreeNode {
  return { key, nodeId: key, parentKey, kind, label, path, line, tags: [], error: null, errorDetail: null };
}

export function nodeFromTest(t: TestNode): TreeNode {
  return {
    key: t.id,
    nodeId: t.id,
    parentKey: t.parentId ?? null,
    kind: t.kind,
    label: t.name,
    path: t.path ?? null,
    line: t.line ?? null,
    tags: t.kind === "test" ? [...(t.markers ?? [])] : [],
    error: null,
    errorDetail: null,
  };
}

/** The folder's tree after a discovery: its nodes, its collection errors on their modules, other errors on top. */
export function buildTree(result: DiscoverTestsResult): FolderTree {
  const tree = new FolderTree();
  for (const t of result.tests) tree.add(nodeFromTest(t));
  const { attributed, unattributed } = collectionErrorsOf(result.collectionErrors, result.errors);
  for (const err of attributed) tree.attachCollectionError(err);
  if (result.status !== "complete" && result.status !== "cancelled") {
    const text = unattributed.length > 0 ? unattributed.join("\n") : `discovery ended ${result.status}`;
    tree.addFolderError(firstLine(text), text);
  } else if (unattributed.length > 0 && result.tests.length === 0 && attributed.length === 0) {
    tree.addFolderError(firstLine(unattributed.join("\n")), unattributed.join("\n"));
  }
  return tree;
}

function firstLine(text: string): string {
  return text.split("\n").find((l) => l.trim() !== "") ?? text;
}
