// A RunSink over a vscode.TestRun: states, TestMessages (with diffs, locations and stack frames where VS Code
// has them) and output attached to tests, made in batches of up to BATCH_MS (callBatch.ts); and the same facts
// into the state file's record of the run.

import * as vscode from "vscode";

import { CallBatch } from "../pure/callBatch";
import { type MessageModel, type MappedResult, terminalText } from "../pure/outcomes";
import { type CollectionError, type RunStatus } from "../pure/protocol";
import { BATCH_MS } from "../pure/runDisplay";
import { type RunSink } from "../pure/runReporter";
import { recordResult, resultEntry, type StateRun } from "../pure/stateFile";
import { type TreeNode } from "../pure/tree";
import { type FolderTests } from "./folderTests";
import { fileUri } from "./items";

export class TestRunSink implements RunSink {
  private readonly batch = new CallBatch(BATCH_MS);

  constructor(
    private readonly run: vscode.TestRun,
    private readonly folder: FolderTests,
    private readonly record: StateRun | undefined,
    private readonly changed: () => void,
  ) {}

  enqueued(node: TreeNode): void {
    const item = this.item(node);
    if (item !== undefined) this.batch.add(() => this.run.enqueued(item));
    this.note(node, (e) => (e.state = "enqueued"));
  }

  started(node: TreeNode): void {
    const item = this.item(node);
    if (item !== undefined) this.batch.add(() => this.run.started(item));
    this.note(node, (e) => (e.state = "started"));
  }

  result(node: TreeNode, mapped: MappedResult): void {
    const item = this.item(node);
    if (item !== undefined) {
      const messages = mapped.messages.map((m) => this.message(m));
      const { state, durationMs } = mapped;
      this.batch.add(() => {
        switch (state) {
          case "passed":
            this.run.passed(item, durationMs);
            break;
          case "skipped":
            this.run.skipped(item);
            break;
          case "failed":
            this.run.failed(item, messages, durationMs);
            break;
          case "errored":
            this.run.errored(item, messages, durationMs);
            break;
        }
      });
    }
    if (this.record !== undefined && node.nodeId !== null) {
      recordResult(this.record, node.nodeId, mapped, (p) => fileUri(this.folder.folder.uri, p).fsPath);
      this.changed();
    }
  }

  output(text: string, node?: TreeNode, location?: { path: string; line: number }): void {
    if (node === undefined && location === undefined) {
      this.batch.appendText(text, (all) => this.run.appendOutput(all));
      return;
    }
    const item = node === undefined ? undefined : this.item(node);
    const at =
      location === undefined
        ? undefined
        : new vscode.Location(fileUri(this.folder.folder.uri, location.path), new vscode.Position(location.line - 1, 0));
    this.batch.add(() => this.run.appendOutput(text, at, item));
    if (node !== undefined) this.note(node, (e) => (e.output = true));
  }

  collectionError(node: TreeNode, err: CollectionError): void {
    const item = this.item(node);
    const text = err.traceback !== undefined && err.traceback !== "" ? `${err.message}\n\n${err.traceback}` : err.message;
    const message = new vscode.TestMessage(text);
    if (node.path !== null) {
      message.location = new vscode.Location(
        fileUri(this.folder.folder.uri, node.path),
        new vscode.Position((err.line ?? 1) - 1, 0),
      );
    }
    if (item !== undefined) this.batch.add(() => this.run.errored(item, message));
    this.note(node, (e) => {
      e.state = "errored";
      e.message = err.message;
      e.file = node.path === null ? null : fileUri(this.folder.folder.uri, node.path).fsPath;
      e.line = err.line ?? 1;
    });
  }

  queued(position: number): void {
    this.batch.appendText(terminalText(`pytestd: run queued at position ${position}, waiting for a free slot`), (all) =>
      this.run.appendOutput(all),
    );
    if (this.record !== undefined) {
      this.record.queued = true;
      this.record.state = "queued";
      this.changed();
    }
  }

  running(): void {
    if (this.record !== undefined) {
      this.record.state = "running";
      this.changed();
    }
  }

  ended(status: RunStatus | null): void {
    this.batch.flush();
    if (this.record !== undefined) {
      this.record.state = "finished";
      this.record.status = status ?? "error";
      this.changed();
    }
  }

  private item(node: TreeNode): vscode.TestItem | undefined {
    return this.folder.item(node.key);
  }

  private note(node: TreeNode, update: (e: ReturnType<typeof resultEntry>) => void): void {
    if (this.record === undefined || node.nodeId === null) return;
    update(resultEntry(this.record, node.nodeId));
    this.changed();
  }

  private message(m: MessageModel): vscode.TestMessage {
    const message =
      m.expected !== null && m.actual !== null
        ? vscode.TestMessage.diff(m.text, m.expected, m.actual)
        : new vscode.TestMessage(m.text);
    const folder = this.folder.folder.uri;
    if (m.location !== null) {
      message.location = new vscode.Location(fileUri(folder, m.location.path), new vscode.Position(m.location.line - 1, 0));
    }
    const frames = stackFrames(m, folder);
    if (frames !== undefined) (message as MessageWithStack).stackTrace = frames;
    return message;
  }
}

type StackFrameConstructor = new (label: string, uri?: vscode.Uri, position?: vscode.Position) => object;
type MessageWithStack = vscode.TestMessage & { stackTrace?: object[] };

/** TestMessageStackFrame came with VS Code 1.93; older hosts get messages without a stack. */
function stackFrames(m: MessageModel, folder: vscode.Uri): object[] | undefined {
  const ctor = (vscode as unknown as { TestMessageStackFrame?: StackFrameConstructor }).TestMessageStackFrame;
  if (ctor === undefined || m.frames.length === 0) return undefined;
  // VS Code lists a stack innermost first, as debuggers do; pytestd sends the traceback outermost first.
  return [...m.frames]
    .reverse()
    .map((f) => new ctor(f.name ?? `${f.path}:${f.line}`, fileUri(folder, f.path), new vscode.Position(f.line - 1, 0)));
}
