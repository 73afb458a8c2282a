// One runTests job seen from the Testing view, without VS Code: it turns the job's notifications and final
// response into calls on a RunSink (the TestRun in the extension, a recorder in unit tests), so the rules live
// here: which tests are enqueued, which show as running and with which duration (runDisplay.ts), results mapped
// once each, output attached to its test, collection errors put on their modules, and what tests without a
// result become when the run ends badly.

import { type CollectionError, type DebugReady, type RunStatus, type RunTestsResult, type TestResult } from "./protocol";
import { collectionErrorsOf } from "./collectionErrors";
import { DelayedStarts } from "./delayedStarts";
import { type RunDisplay, runDisplay, SLOW_TEST_MS } from "./runDisplay";
import { type MappedResult, mapResult, terminalText } from "./outcomes";
import { type JobListener } from "./session";
import { type TreeNode } from "./tree";
import {
  type CollectionErrorNotification,
  type RunOutput,
  type RunQueued,
  type TestResultNotification,
  type TestStarted,
} from "./protocol";

export interface RunSink {
  enqueued(node: TreeNode): void;
  started(node: TreeNode): void;
  result(node: TreeNode, mapped: MappedResult): void;
  /** Terminal text (CRLF); with a node, it belongs to that test (and to location, when given). */
  output(text: string, node?: TreeNode, location?: { path: string; line: number }): void;
  /** A module that failed to collect; the node is its module item. */
  collectionError(node: TreeNode, err: CollectionError): void;
  queued(position: number): void;
  running(): void;
  ended(status: RunStatus | null): void;
}

export interface TreeAccess {
  /** The node for a pytest test id, if the tree has it. */
  test(nodeId: string): TreeNode | undefined;
  /** The module node carrying this collection error (created if discovery had none). */
  errorModule(err: CollectionError): TreeNode;
}

export class RunReporter implements JobListener {
  private readonly done = new Set<string>();
  private readonly erroredModules = new Set<string>();
  private readonly display: RunDisplay;
  private readonly starts = new DelayedStarts<string>(SLOW_TEST_MS, (testId) => this.showRunning(testId));
  /** A debug run's debugger can attach; set by whoever starts the debugger. */
  debugReady?: (p: DebugReady) => void;

  constructor(
    private readonly tree: TreeAccess,
    private readonly sink: RunSink,
    private readonly expected: TreeNode[],
  ) {
    this.display = runDisplay(expected.length);
    if (this.display.enqueue) for (const node of expected) sink.enqueued(node);
  }

  queued(p: RunQueued): void {
    this.sink.queued(p.position);
  }

  started(): void {
    this.sink.running();
  }

  testStarted(p: TestStarted): void {
    if (this.tree.test(p.testId) !== undefined && !this.done.has(p.testId)) this.starts.started(p.testId);
  }

  testResult(p: TestResultNotification): void {
    this.apply(p);
  }

  output(p: RunOutput): void {
    this.sink.output(terminalText(p.text));
  }

  collectionError(p: CollectionErrorNotification): void {
    this.applyCollectionError(p);
  }

  /** The runTests response, or why there is none (the request failed). */
  complete(outcome: RunTestsResult | Error): void {
    this.starts.dispose();
    if (outcome instanceof Error) {
      this.sink.output(terminalText(`pytestd: the run failed: ${outcome.message}`));
      this.failUnfinished(outcome.message);
      this.sink.ended(null);
      return;
    }
    for (const r of Object.values(outcome.results)) {
      if (!this.done.has(r.testId)) this.apply(r);
    }
    const { attributed, unattributed } = collectionErrorsOf(outcome.collectionErrors, outcome.errors);
    for (const err of attributed) this.applyCollectionError(err);
    for (const line of unattributed) this.sink.output(terminalText(`pytestd: ${line}`));
    if (outcome.status === "error" || outcome.status === "timedOut") {
      const why = outcome.status === "timedOut" ? "the run timed out" : unattributed.join("\n") || "the run failed";
      this.failUnfinished(why);
    }
    this.sink.ended(outcome.status);
  }

  private apply(r: TestResult): void {
    const node = this.tree.test(r.testId);
    this.done.add(r.testId);
    this.starts.finished(r.testId);
    if (node === undefined) return; // not in the tree (yet): the next discovery shows it
    const mapped: MappedResult = { ...mapResult(r), durationMs: this.display.duration(r.durationMs) };
    const at = r.location;
    // One piece of output per place: each is a message of its own in VS Code.
    const own = [...mapped.notes.map((note) => `${r.testId}: ${note}`), r.stdout, r.stderr].filter(
      (t): t is string => t !== undefined && t !== "",
    );
    if (own.length > 0) this.sink.output(own.map(terminalText).join(""), node, at);
    if (r.traceback && mapped.state !== "passed" && mapped.state !== "skipped") {
      this.sink.output(terminalText(r.traceback), node, r.failureLocation ?? at);
    }
    this.sink.result(node, mapped);
  }

  private showRunning(testId: string): void {
    const node = this.tree.test(testId);
    if (node !== undefined && !this.done.has(testId)) this.sink.started(node);
  }

  private applyCollectionError(err: CollectionError): void {
    if (this.erroredModules.has(err.path)) return;
    this.erroredModules.add(err.path);
    this.sink.collectionError(this.tree.errorModule(err), err);
    this.sink.output(terminalText(`pytestd: error collecting ${err.path}: ${err.message}`));
  }

  private failUnfinished(why: string): void {
    for (const node of this.expected) {
      if (node.nodeId === null || this.done.has(node.nodeId)) continue;
      this.done.add(node.nodeId);
      this.sink.result(node, {
        state: "errored",
        durationMs: undefined,
        messages: [{ text: why, location: null, expected: null, actual: null, frames: [] }],
        notes: [],
        summary: why,
      });
    }
  }
}
