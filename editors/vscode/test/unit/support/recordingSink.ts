// A RunSink that records what the Testing view would be told, for assertions.

import { type MappedResult } from "../../../src/pure/outcomes";
import { type CollectionError, type RunStatus } from "../../../src/pure/protocol";
import { type RunSink } from "../../../src/pure/runReporter";
import { type TreeNode } from "../../../src/pure/tree";

export interface Output {
  text: string;
  test: string | null;
  location: { path: string; line: number } | null;
}

export class RecordingSink implements RunSink {
  readonly states = new Map<string, string[]>();
  readonly results = new Map<string, MappedResult>();
  readonly outputs: Output[] = [];
  readonly collectionErrors: { node: TreeNode; err: CollectionError }[] = [];
  queuedAt: number | null = null;
  wasRunning = false;
  endedWith: RunStatus | null | undefined;

  enqueued(node: TreeNode): void {
    this.push(node, "enqueued");
  }
  started(node: TreeNode): void {
    this.push(node, "started");
  }
  result(node: TreeNode, mapped: MappedResult): void {
    this.push(node, mapped.state);
    this.results.set(node.key, mapped);
  }
  output(text: string, node?: TreeNode, location?: { path: string; line: number }): void {
    this.outputs.push({ text, test: node?.key ?? null, location: location ?? null });
  }
  collectionError(node: TreeNode, err: CollectionError): void {
    this.collectionErrors.push({ node, err });
  }
  queued(position: number): void {
    this.queuedAt = position;
  }
  running(): void {
    this.wasRunning = true;
  }
  ended(status: RunStatus | null): void {
    this.endedWith = status;
  }

  /** Final state of a test, or undefined. */
  final(key: string): string | undefined {
    return this.states.get(key)?.at(-1);
  }

  outputOf(key: string): string {
    return this.outputs
      .filter((o) => o.test === key)
      .map((o) => o.text)
      .join("");
  }

  private push(node: TreeNode, state: string): void {
    const list = this.states.get(node.key) ?? [];
    list.push(state);
    this.states.set(node.key, list);
  }
}
