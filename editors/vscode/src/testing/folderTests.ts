// One workspace folder's tests: its discoveries (one at a time; a refresh asked for meanwhile runs once after),
// its tree and the TestItems that show it. pytest runs in the folder (cwd = the folder).

import type * as vscode from "vscode";

import { type CollectionError } from "../pure/protocol";
import { buildTree, FolderTree, type TreeNode } from "../pure/tree";
import { type PytestdSession } from "../pure/session";
import { syncItems } from "./items";

export interface FolderHost {
  controller: vscode.TestController;
  session(): PytestdSession | undefined;
  python(folder: vscode.WorkspaceFolder): Promise<string | undefined>;
  /** The collection this folder's top-level items go into. */
  rootOf(folder: FolderTests): vscode.TestItemCollection;
  /** Items or discovery counts changed (the state file and readiness follow). */
  changed(discovered: boolean): void;
  log(line: string): void;
}

export class FolderTests {
  tree = new FolderTree();
  /** A discovery finished since the server (re)started. */
  discovered = false;
  private readonly items = new Map<string, vscode.TestItem>();
  private running: Promise<void> | undefined;
  private again = false;
  private scheduled: ReturnType<typeof setTimeout> | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    private readonly host: FolderHost,
  ) {}

  get key(): string {
    return this.folder.uri.toString();
  }

  idOf(nodeKey: string): string {
    return `${this.key}|${nodeKey}`;
  }

  /** The tree key of one of this folder's item ids, or undefined. */
  keyOf(itemId: string): string | undefined {
    const prefix = `${this.key}|`;
    return itemId.startsWith(prefix) ? itemId.slice(prefix.length) : undefined;
  }

  item(nodeKey: string): vscode.TestItem | undefined {
    return this.items.get(this.idOf(nodeKey));
  }

  allItems(): IterableIterator<vscode.TestItem> {
    return this.items.values();
  }

  /** Rediscover after `delayMs` of quiet (file events come in bursts). */
  refreshSoon(delayMs: number): void {
    if (this.scheduled !== undefined) clearTimeout(this.scheduled);
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined;
      void this.refresh();
    }, delayMs);
  }

  /** Rediscover now; resolves once the tree reflects the files as they are now. */
  refresh(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.whenIdle();
    }
    this.running = this.discover().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh();
      } else if (this.scheduled === undefined) {
        for (const w of this.idleWaiters.splice(0)) w();
      }
    });
    return this.whenIdle();
  }

  /** Resolves when no discovery runs or is scheduled. */
  whenIdle(): Promise<void> {
    if (this.running === undefined && this.scheduled === undefined && !this.again) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** A module's collection error seen during a run: shown on its item, created if discovery did not have it. */
  errorModule(err: CollectionError): TreeNode {
    const node = this.tree.attachCollectionError(err);
    this.resync();
    return node;
  }

  dispose(): void {
    if (this.scheduled !== undefined) clearTimeout(this.scheduled);
    this.scheduled = undefined;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async discover(): Promise<void> {
    const session = this.host.session();
    if (session === undefined) return;
    const python = await this.host.python(this.folder);
    // The tree is built from the response alone: streamed batches would be a second copy nobody reads.
    const job = session.discoverTests({
      cwd: this.folder.uri.fsPath,
      stream: false,
      ...(python === undefined ? {} : { python }),
    });
    try {
      const result = await job.result;
      if (result.status === "cancelled") return;
      this.tree = buildTree(result);
      this.resync();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.host.log(`pytestd: discovery in ${this.folder.uri.fsPath} failed: ${message}`);
      this.tree = new FolderTree();
      this.tree.addFolderError(message, null);
      this.resync();
    }
    this.discovered = true;
    this.host.changed(true);
  }

  /** Shows the tree as it is, with new items (the folder's root collection changed). */
  relocate(): void {
    this.items.clear();
    this.resync();
  }

  /** Shows the tree as it is. */
  resync(): void {
    syncItems(
      {
        controller: this.host.controller,
        root: this.host.rootOf(this),
        folder: this.folder.uri,
        idOf: (k) => this.idOf(k),
        cache: this.items,
      },
      this.tree,
    );
    this.host.changed(false);
  }
}
