// Continuous run: while a continuous request is active, a change to a Python file re-runs its tests (all of
// them when it named none). At most one run per watch at a time: a newer change cancels the stale run and
// starts again once it has ended. A run waits for the rediscovery the change caused, so new tests are known.

import * as vscode from "vscode";

import { type Runner, type RunOptions } from "./runner";
import { type TestsView } from "./testsView";

interface Watch {
  request: vscode.TestRunRequest;
  current: vscode.CancellationTokenSource | undefined;
  again: boolean;
  stopped: boolean;
}

export class ContinuousRuns implements vscode.Disposable {
  private readonly watches = new Set<Watch>();
  /** Runs started by continuous watches, for the state file. */
  runs = 0;

  constructor(
    private readonly view: TestsView,
    private readonly runner: Runner,
    private readonly changed: () => void,
  ) {}

  get active(): boolean {
    return this.watches.size > 0;
  }

  /** The profile's handler for a continuous request: resolves when the user turns it off. */
  watch(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const watch: Watch = { request, current: undefined, again: false, stopped: false };
    this.watches.add(watch);
    this.changed();
    return new Promise((resolve) => {
      const stop = (): void => {
        watch.stopped = true;
        watch.current?.cancel();
        this.watches.delete(watch);
        this.changed();
        resolve();
      };
      if (token.isCancellationRequested) stop();
      else token.onCancellationRequested(stop);
    });
  }

  /** Python files changed (saved, created, deleted). */
  filesChanged(): void {
    for (const watch of this.watches) this.trigger(watch);
  }

  dispose(): void {
    for (const watch of this.watches) {
      watch.stopped = true;
      watch.current?.cancel();
    }
    this.watches.clear();
  }

  private trigger(watch: Watch): void {
    if (watch.current !== undefined) {
      watch.again = true;
      watch.current.cancel();
      return;
    }
    const source = new vscode.CancellationTokenSource();
    watch.current = source;
    const options: RunOptions = { kind: "run", continuous: true };
    void this.view
      .whenIdle()
      .then(() => {
        if (source.token.isCancellationRequested) return undefined;
        this.runs++;
        this.changed();
        return this.runner.run(watch.request, source.token, options);
      })
      .catch(() => undefined)
      .finally(() => {
        source.dispose();
        watch.current = undefined;
        if (watch.again && !watch.stopped) {
          watch.again = false;
          this.trigger(watch);
        }
      });
  }
}
