// The TestController and the workspace folders it shows: one FolderTests per folder, a folder item per folder
// only when there are several, and the mapping from a run request's items back to folders and tree keys.

import * as vscode from "vscode";

import { type FolderHost, FolderTests } from "./folderTests";

export interface FolderRequest {
  folder: FolderTests;
  /** Tree keys to run, or null for the whole folder. */
  include: string[] | null;
  exclude: string[];
}

export class TestsView implements vscode.Disposable {
  readonly controller: vscode.TestController;
  readonly folders = new Map<string, FolderTests>();
  discoveries = 0;
  private readonly folderItems = new Map<string, vscode.TestItem>();

  constructor(
    private readonly deps: Omit<FolderHost, "controller" | "rootOf" | "changed"> & { changed(): void },
  ) {
    this.controller = vscode.tests.createTestController("pytestd", "pytestd");
    this.controller.refreshHandler = async () => {
      await this.refreshAll();
    };
  }

  /** Makes the folders match the workspace's. */
  setFolders(folders: readonly vscode.WorkspaceFolder[]): void {
    const wanted = new Set(folders.map((f) => f.uri.toString()));
    for (const [key, ft] of this.folders) {
      if (!wanted.has(key)) {
        ft.dispose();
        this.folders.delete(key);
      }
    }
    for (const folder of folders) {
      const key = folder.uri.toString();
      if (!this.folders.has(key)) this.folders.set(key, new FolderTests(folder, this.host()));
    }
    this.layoutRoots();
  }

  folderOf(uri: vscode.Uri): FolderTests | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return folder === undefined ? undefined : this.folders.get(folder.uri.toString());
  }

  refreshAll(): Promise<void> {
    return Promise.all([...this.folders.values()].map((f) => f.refresh())).then(() => undefined);
  }

  /** Marks every folder undiscovered (a new server knows nothing yet) and rediscovers. */
  rediscoverAll(): Promise<void> {
    for (const f of this.folders.values()) f.discovered = false;
    return this.refreshAll();
  }

  whenIdle(): Promise<void> {
    return Promise.all([...this.folders.values()].map((f) => f.whenIdle())).then(() => undefined);
  }

  allDiscovered(): boolean {
    return [...this.folders.values()].every((f) => f.discovered);
  }

  multiRoot(): boolean {
    return this.folders.size > 1;
  }

  folderItem(folder: FolderTests): vscode.TestItem | undefined {
    return this.folderItems.get(folder.key);
  }

  /** A run request as per-folder selections; items of no known folder are ignored. */
  split(request: vscode.TestRunRequest): FolderRequest[] {
    const byFolder = new Map<FolderTests, FolderRequest>();
    const entry = (folder: FolderTests): FolderRequest => {
      let e = byFolder.get(folder);
      if (e === undefined) {
        e = { folder, include: [], exclude: [] };
        byFolder.set(folder, e);
      }
      return e;
    };
    if (request.include === undefined) {
      for (const folder of this.folders.values()) entry(folder).include = null;
    } else {
      for (const item of request.include) {
        const found = this.locate(item.id);
        if (found === undefined) continue;
        const e = entry(found.folder);
        if (found.key === null) e.include = null;
        else e.include?.push(found.key);
      }
    }
    for (const item of request.exclude ?? []) {
      const found = this.locate(item.id);
      if (found === undefined) continue;
      if (found.key === null) byFolder.delete(found.folder);
      else byFolder.get(found.folder)?.exclude.push(found.key);
    }
    return [...byFolder.values()];
  }

  dispose(): void {
    for (const f of this.folders.values()) f.dispose();
    this.controller.dispose();
  }

  private locate(itemId: string): { folder: FolderTests; key: string | null } | undefined {
    for (const folder of this.folders.values()) {
      if (itemId === folder.key) return { folder, key: null };
      const key = folder.keyOf(itemId);
      if (key !== undefined) return { folder, key };
    }
    return undefined;
  }

  private layoutRoots(): void {
    this.folderItems.clear();
    if (!this.multiRoot()) {
      this.controller.items.replace([]);
      for (const f of this.folders.values()) f.relocate();
      return;
    }
    const items = [...this.folders.values()].map((f) => {
      const item = this.controller.createTestItem(f.key, f.folder.name, f.folder.uri);
      this.folderItems.set(f.key, item);
      return item;
    });
    this.controller.items.replace(items);
    for (const f of this.folders.values()) f.relocate();
  }

  private host(): FolderHost {
    return {
      controller: this.controller,
      session: () => this.deps.session(),
      python: (folder) => this.deps.python(folder),
      log: (line) => this.deps.log(line),
      rootOf: (f) => this.folderItems.get(f.key)?.children ?? this.controller.items,
      changed: (discovered) => {
        if (discovered) this.discoveries++;
        this.deps.changed();
      },
    };
  }
}
