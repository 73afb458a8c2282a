// A coverage run's result (coverage.py's lines and arcs, per file and per test) as the records VS Code's
// coverage API is built from: counts per file, one record per statement line with the branches leaving it, and
// a test's own lines. Without VS Code, so the mapping is unit-tested against the daemon's real results.

import { type Arc, type CoverageResult, type FileCoverageData } from "./protocol";

export interface Count {
  covered: number;
  total: number;
}

export interface FileSummary {
  statements: Count;
  /** Only when the run measured branches. */
  branches: Count | undefined;
}

export interface BranchRecord {
  executed: boolean;
  /** The line the branch jumps to; null for an exit from the function, class or module. */
  to: number | null;
  label: string;
}

export interface LineRecord {
  /** 1-based. */
  line: number;
  executed: boolean;
  /** The branches leaving this line, in target order; empty for a line that does not branch. */
  branches: BranchRecord[];
}

export function fileSummary(data: FileCoverageData): FileSummary {
  const statements = { covered: data.covered.length, total: data.covered.length + data.missed.length };
  const b = data.branches;
  return { statements, branches: b === undefined ? undefined : { covered: b.covered, total: b.total } };
}

/**
 * One record per statement, in line order. coverage.py's arcs give each branch line its targets: `taken` ones
 * executed, `missing` ones not. A daemon that sends no `taken` still gives the missed branches.
 */
export function lineRecords(data: FileCoverageData): LineRecord[] {
  const byLine = new Map<number, LineRecord>();
  for (const line of data.covered) byLine.set(line, { line, executed: true, branches: [] });
  for (const line of data.missed) byLine.set(line, { line, executed: false, branches: [] });
  const arcs: [Arc, boolean][] = [
    ...(data.branches?.taken ?? []).map((a): [Arc, boolean] => [a, true]),
    ...(data.branches?.missing ?? []).map((a): [Arc, boolean] => [a, false]),
  ];
  for (const [[from, to], executed] of arcs) {
    const record = byLine.get(from);
    if (record === undefined) continue; // an arc from a line coverage.py does not count as a statement
    const target = to > 0 ? to : null;
    record.branches.push({ executed, to: target, label: target === null ? "to exit" : `to line ${target}` });
  }
  const records = [...byLine.values()].sort((a, b) => a.line - b.line);
  for (const r of records) r.branches.sort((a, b) => (a.to ?? Infinity) - (b.to ?? Infinity));
  return records;
}

/** What one test ran of a file: every statement of the file, executed when that test ran it. */
export function testLineRecords(data: FileCoverageData, testLines: readonly number[]): LineRecord[] {
  const ran = new Set(testLines);
  return [...data.covered, ...data.missed]
    .sort((a, b) => a - b)
    .map((line) => ({ line, executed: ran.has(line), branches: [] }));
}

/** The ids of the tests that ran a line of this file (per-test coverage), sorted. */
export function testsCovering(coverage: CoverageResult, path: string): string[] {
  return Object.entries(coverage.tests ?? {})
    .filter(([, files]) => (files[path]?.length ?? 0) > 0)
    .map(([testId]) => testId)
    .sort();
}

/** The lines a test ran in a file; empty when it ran none or the run had no per-test data. */
export function testLines(coverage: CoverageResult, testId: string, path: string): number[] {
  return coverage.tests?.[testId]?.[path] ?? [];
}
