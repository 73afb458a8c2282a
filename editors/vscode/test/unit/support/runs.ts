// Discovery and runs through the session and RunReporter, as the extension does them, minus VS Code.

import { type RunTestsParams, type RunTestsResult } from "../../../src/pure/protocol";
import { RunReporter } from "../../../src/pure/runReporter";
import { compressSelection } from "../../../src/pure/selection";
import { type PytestdSession } from "../../../src/pure/session";
import { buildTree, type FolderTree } from "../../../src/pure/tree";
import { within } from "./daemon";
import { RecordingSink } from "./recordingSink";

export async function discover(session: PytestdSession, cwd: string): Promise<FolderTree> {
  const job = session.discoverTests({ cwd, stream: false });
  return buildTree(await within(30_000, `discovery of ${cwd}`, job.result));
}

export interface StartedRun {
  runId: string;
  sink: RecordingSink;
  reporter: RunReporter;
  result: Promise<RunTestsResult>;
  /** Resolves once the reporter has seen the response. */
  done: Promise<RunTestsResult>;
}

export function startRun(
  session: PytestdSession,
  tree: FolderTree,
  cwd: string,
  include: string[] | null = null,
  extra: Partial<RunTestsParams> = {},
): StartedRun {
  const selection = compressSelection(tree, include, []);
  const sink = new RecordingSink();
  const reporter = new RunReporter(
    { test: (id) => tree.get(id), errorModule: (err) => tree.attachCollectionError(err) },
    sink,
    selection.tests,
  );
  const job = session.runTests({ cwd, ...(selection.testIds ? { testIds: selection.testIds } : {}), ...extra }, reporter);
  const done = job.result.then(
    (r) => {
      reporter.complete(r);
      return r;
    },
    (err: unknown) => {
      reporter.complete(err instanceof Error ? err : new Error(String(err)));
      throw err;
    },
  );
  return { runId: job.runId, sink, reporter, result: job.result, done };
}
