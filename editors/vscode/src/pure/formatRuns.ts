// listRuns as lines for people: one per live run (running first, then the queue) and one per recent failure.

import * as path from "node:path";

import { type ListRunsResult } from "./protocol";

export interface RunLine {
  runId: string;
  label: string;
  description: string;
  detail: string;
}

export function formatRuns(r: ListRunsResult): { header: string; lines: RunLine[] } {
  const header = `pytestd: ${r.running} running, ${r.queued} queued (at most ${r.maxParallel} at once)`;
  const lines: RunLine[] = r.runs.map((run) => ({
    runId: run.runId,
    label: `${run.state === "running" ? "$(sync~spin)" : "$(clock)"} ${run.state} ${run.runId.slice(0, 8)}`,
    description: path.basename(run.cwd),
    detail:
      `${run.testCount} tests done, ${seconds(run.elapsedMs)}` +
      (run.pid === undefined ? "" : `, pid ${run.pid}`) +
      (run.state === "running" ? `, ${mib(run.rssBytes)} (peak ${mib(run.peakRssBytes)}), cpu ${seconds(run.cpuMs)}` : ""),
  }));
  for (const f of r.recentFailures) {
    lines.push({
      runId: f.runId,
      label: `$(error) ${f.status} ${f.runId.slice(0, 8)}`,
      description: `${path.basename(f.cwd)}, ${seconds(f.endedMsAgo)} ago`,
      detail: f.reason,
    });
  }
  return { header, lines };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}
