// Runs a TestRunRequest: one TestRun, one runTests job per workspace folder it touches (cwd = the folder),
// notifications routed by runId to that job's reporter, cancel → cancelRun. Several requests run at once, each
// with its own TestRun. The `kind` says what the profile asks for: a plain run, a debug run (a debug session
// attached when the daemon says debugpy listens) or a coverage run (its coverage added to the TestRun).

import type * as vscode from "vscode";

import { debugParam } from "../pure/debugConfig";
import { terminalText } from "../pure/outcomes";
import { type CollectionError, type CoverageOptions } from "../pure/protocol";
import { RunReporter } from "../pure/runReporter";
import { compressSelection } from "../pure/selection";
import { type PytestdSession } from "../pure/session";
import { type RunLog, type StateRun } from "../pure/stateFile";
import { folderSettings } from "../config";
import { type CoverageStore } from "./coverage";
import { type DebugRuns } from "./debugRuns";
import { type FolderTests } from "./folderTests";
import { TestRunSink } from "./runSink";
import { type TestsView } from "./testsView";

/** What a profile asks of the daemon. */
export type RunKind = "run" | "debug" | "coverage";

/** Branches, and which test ran which line: what VS Code's coverage views can show. */
const COVERAGE: CoverageOptions = { branch: true, perTest: true };

export interface RunnerDeps {
  view: TestsView;
  session(): PytestdSession | undefined;
  python(folder: vscode.WorkspaceFolder): Promise<string | undefined>;
  /** Where runs are recorded for the state file, when it is on. */
  runLog: RunLog | undefined;
  debug: DebugRuns;
  coverage: CoverageStore;
  changed(): void;
  /** A run ended: write the state file now. */
  ended(): void;
}

export interface RunOptions {
  kind: RunKind;
  continuous: boolean;
}

export class Runner {
  constructor(private readonly deps: RunnerDeps) {}

  async run(request: vscode.TestRunRequest, token: vscode.CancellationToken, options: RunOptions): Promise<void> {
    const parts = this.deps.view.split(request);
    const name = options.continuous ? "pytestd (continuous)" : undefined;
    const run = this.deps.view.controller.createTestRun(request, name, true);
    const session = this.deps.session();
    if (session === undefined) {
      run.appendOutput(terminalText("pytestd: the server is not running; see the pytestd output channel"));
      run.end();
      return;
    }
    const jobs: { runId: string; done: Promise<void> }[] = [];
    const cancel = token.onCancellationRequested(() => {
      for (const job of jobs) session.cancelRun(job.runId).catch(() => undefined);
    });
    try {
      for (const part of parts) {
        const job = await this.startJob(session, run, part.folder, part.include, part.exclude, options, name);
        jobs.push(job);
        // A cancel that came while the job was being set up has not reached it yet.
        if (token.isCancellationRequested) session.cancelRun(job.runId).catch(() => undefined);
      }
      await Promise.all(jobs.map((j) => j.done));
    } finally {
      cancel.dispose();
      run.end();
      this.deps.ended();
    }
  }

  private async startJob(
    session: PytestdSession,
    run: vscode.TestRun,
    folder: FolderTests,
    include: string[] | null,
    exclude: string[],
    options: RunOptions,
    name: string | undefined,
  ): Promise<{ runId: string; done: Promise<void> }> {
    const selection = compressSelection(folder.tree, include, exclude);
    const python = await this.deps.python(folder.folder);
    const settings = folderSettings(folder.folder);
    const kind = options.kind;
    let reporter: RunReporter | undefined;
    let record: StateRun | undefined;
    const job = session.runTests(
      {
        cwd: folder.folder.uri.fsPath,
        ...(selection.testIds === undefined ? {} : { testIds: selection.testIds }),
        ...(python === undefined ? {} : { python }),
        ...(settings.stopOnCollectionErrors ? { stopOnCollectionErrors: true } : {}),
        ...(kind === "debug" ? { debug: debugParam(settings.debugWaitForClientMs) } : {}),
        ...(kind === "coverage" ? { coverage: COVERAGE } : {}),
        // A debug run is one pytest process under debugpy: it is never split.
        ...(kind !== "debug" && settings.shards !== 1 ? { shards: settings.shards } : {}),
      },
      (runId) => {
        record = this.deps.runLog?.open(runId, name ?? run.name ?? "pytestd", options.continuous, kind);
        const sink = new TestRunSink(run, folder, record, () => this.deps.changed());
        const tree = { test: (id: string) => folder.tree.get(id), errorModule: (err: CollectionError) => folder.errorModule(err) };
        reporter = new RunReporter(tree, sink, selection.tests);
        if (kind === "debug") {
          const cancel = (): void => void session.cancelRun(runId).catch(() => undefined);
          reporter.debugReady = (ready) =>
            void this.deps.debug.attach(run, folder.folder, ready, settings.debugJustMyCode, record, cancel);
        }
        return reporter;
      },
    );
    const made = reporter;
    if (made === undefined) throw new Error("the session made no listener for the run");
    const done = job.result
      .then(
        (result) => {
          // Coverage goes on the run before its results end it.
          try {
            if (result.coverage !== undefined) this.deps.coverage.add(run, folder, result.coverage, record);
          } finally {
            made.complete(result);
          }
        },
        (err: unknown) => made.complete(err instanceof Error ? err : new Error(String(err))),
      )
      .finally(() => this.deps.debug.ended(job.runId));
    return { runId: job.runId, done };
  }
}
