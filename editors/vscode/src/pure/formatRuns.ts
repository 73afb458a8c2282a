// listRuns as lines for people: one per live run (running first, then the queue), one per recent failure, and
// one per warm template (these are not runs: nothing to cancel, but they hold memory).

import * as path from "node:path";

import { type ListRunsResult } from "./protocol";

export interface RunLine {
  runId: string;
  label: string;
  description: string;
  detail: string;
}

export interface TemplateLine {
  label: string;
  description: string;
  detail: string;
}

export function formatRuns(r: ListRunsResult): { header: string; lines: RunLine[]; templates: TemplateLine[] } {
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
  const templates = (r.templates ?? []).map((t) => ({
    label: `$(flame) warm template ${t.state}`,
    description: path.basename(t.cwd),
    detail:
      `pid ${t.pid}, ${t.modules} modules, ${t.runs} runs, ${mib(t.rssBytes)}, idle ${seconds(t.idleMs)}, ` + t.python,
  }));
  return { header, lines, templates };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}
