// Coverage runs in VS Code: a coverage result becomes one FileCoverage per file on the TestRun, with statement
// and branch details loaded when a file is opened, and per-test coverage (which tests ran a file, and which of
// its lines a given test ran) where the host has that API (VS Code 1.93+; checked at run time).

import * as vscode from "vscode";

import { fileSummary, type LineRecord, lineRecords, testLineRecords, testLines, testsCovering } from "../pure/coverage";
import { type CoverageResult, type FileCoverageData } from "../pure/protocol";
import { type StateRun } from "../pure/stateFile";
import { type FolderTests } from "./folderTests";
import { fileUri } from "./items";

interface Entry {
  folder: FolderTests;
  path: string;
  data: FileCoverageData;
  coverage: CoverageResult;
}

/** FileCoverage.includesTests (VS Code 1.93); declared here so engines stays at ^1.90. */
type FileCoverageWithTests = vscode.FileCoverage & { includesTests?: vscode.TestItem[] };

/** TestRunProfile.loadDetailedCoverageForTest (VS Code 1.93). */
export type ProfileWithTestCoverage = vscode.TestRunProfile & {
  loadDetailedCoverageForTest?: (
    run: vscode.TestRun,
    fileCoverage: vscode.FileCoverage,
    fromTestItem: vscode.TestItem,
    token: vscode.CancellationToken,
  ) => Thenable<vscode.FileCoverageDetail[]>;
};

export class CoverageStore {
  // Keyed by the FileCoverage objects VS Code hands back; they go when VS Code drops the run.
  private readonly entries = new WeakMap<vscode.FileCoverage, Entry>();

  /** Adds a job's coverage to its TestRun (before run.end()) and to the state file's record. */
  add(run: vscode.TestRun, folder: FolderTests, coverage: CoverageResult, record: StateRun | undefined): void {
    const stateFiles: NonNullable<StateRun["coverage"]>["files"] = {};
    for (const [path, data] of Object.entries(coverage.files)) {
      const uri = fileUri(folder.folder.uri, path);
      const summary = fileSummary(data);
      const file: FileCoverageWithTests = new vscode.FileCoverage(
        uri,
        new vscode.TestCoverageCount(summary.statements.covered, summary.statements.total),
        summary.branches === undefined
          ? undefined
          : new vscode.TestCoverageCount(summary.branches.covered, summary.branches.total),
      );
      const tests = testsCovering(coverage, path)
        .map((id) => this.item(folder, id))
        .filter((item): item is vscode.TestItem => item !== undefined);
      if (tests.length > 0) file.includesTests = tests;
      this.entries.set(file, { folder, path, data, coverage });
      run.addCoverage(file);
      stateFiles[uri.fsPath] = { covered: data.covered, missed: data.missed, branches: summary.branches ?? null };
    }
    if (record !== undefined) {
      const previous = record.coverage;
      record.coverage = {
        files: { ...previous?.files, ...stateFiles },
        percent: coverage.totals.percent,
        tests: [...(previous?.tests ?? []), ...Object.keys(coverage.tests ?? {})],
      };
    }
  }

  /** The profile's loadDetailedCoverage. */
  async details(file: vscode.FileCoverage): Promise<vscode.FileCoverageDetail[]> {
    const entry = this.entries.get(file);
    if (entry === undefined) return [];
    const lines = await lineShapes(file.uri);
    return lineRecords(entry.data).map((r) => statement(r, lines));
  }

  /** The profile's loadDetailedCoverageForTest: the file's lines as that one test ran them. */
  async detailsForTest(file: vscode.FileCoverage, item: vscode.TestItem): Promise<vscode.FileCoverageDetail[]> {
    const entry = this.entries.get(file);
    if (entry === undefined) return [];
    const key = entry.folder.keyOf(item.id);
    const testId = key === undefined ? undefined : entry.folder.tree.get(key)?.nodeId;
    if (testId === undefined || testId === null) return [];
    const lines = await lineShapes(file.uri);
    return testLineRecords(entry.data, testLines(entry.coverage, testId, entry.path)).map((r) => statement(r, lines));
  }

  private item(folder: FolderTests, testId: string): vscode.TestItem | undefined {
    const node = folder.tree.get(testId);
    return node === undefined ? undefined : folder.item(node.key);
  }
}

/** Where each line's code starts and ends (0-based), to highlight statements and place branch markers. */
type LineShapes = (line0: number) => { start: number; end: number } | undefined;

async function lineShapes(uri: vscode.Uri): Promise<LineShapes> {
  try {
    const doc = await vscode.workspace.openTextDocument(uri);
    return (line0) => {
      if (line0 < 0 || line0 >= doc.lineCount) return undefined;
      const l = doc.lineAt(line0);
      return { start: l.firstNonWhitespaceCharacterIndex, end: l.range.end.character };
    };
  } catch {
    return () => undefined; // the file is gone: whole-line records still show in the coverage views
  }
}

/**
 * A statement covers its line's code. Its branches sit, as empty ranges, at the end of the line they leave (not
 * at their target lines, whose own coverage VS Code would otherwise overwrite): VS Code then marks a missed
 * branch of a partly taken line there, and the label says where it goes.
 */
function statement(r: LineRecord, lines: LineShapes): vscode.StatementCoverage {
  const line0 = r.line - 1;
  const shape = lines(line0);
  const location =
    shape === undefined ? new vscode.Position(line0, 0) : new vscode.Range(line0, shape.start, line0, shape.end);
  const end = new vscode.Position(line0, shape?.end ?? 0);
  const branches = r.branches.map((b) => new vscode.BranchCoverage(b.executed, end, b.label));
  return new vscode.StatementCoverage(r.executed, location, branches);
}
