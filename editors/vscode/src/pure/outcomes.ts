// What a pytest result becomes in the Testing view, decided here and nowhere else:
//   passed → passed; failed → failed; error (setup/teardown) → errored;
//   skipped → skipped, the reason written to the test's output;
//   xfailed → skipped, with "xfail: <reason>" in the test's output: an expected failure is no failure, and the
//             reason stays visible (VS Code has no "expected failure" state and skips take no message);
//   xpassed → passed, with "XPASS: <reason>" in the test's output (a strict xpass arrives as failed).
// Failures carry messages at the failing line with expected/actual (a diff) and the traceback's frames;
// failing subtests add one message each.

import { type Frame, type Location, type TestResult } from "./protocol";

export type ResultState = "passed" | "failed" | "errored" | "skipped";

export interface MessageModel {
  text: string;
  /** Where VS Code shows the message: relative to the run's cwd or absolute; null when unknown. */
  location: Location | null;
  expected: string | null;
  actual: string | null;
  /** Outermost first, as pytestd sends them. */
  frames: Frame[];
}

export interface MappedResult {
  state: ResultState;
  /** The duration the view shows; undefined for none (runDisplay.ts). */
  durationMs: number | undefined;
  messages: MessageModel[];
  /** Lines for the test's own output (reasons of skips, xfails and xpasses; passing tests' failed subtests). */
  notes: string[];
  /** The one line a summary shows: the first message's text or the first note. */
  summary: string | null;
}

export function mapResult(r: TestResult): MappedResult {
  const durationMs = r.durationMs;
  const reason = r.message?.trim() ?? "";
  switch (r.outcome) {
    case "passed":
      return withSummary({ state: "passed", durationMs, messages: [], notes: subtestNotes(r) });
    case "xpassed":
      return withSummary({
        state: "passed",
        durationMs,
        messages: [],
        notes: [`XPASS: ${reason || "marked xfail, but passed"}`],
      });
    case "skipped":
      return withSummary({ state: "skipped", durationMs, messages: [], notes: [`skipped: ${reason || "no reason"}`] });
    case "xfailed":
      return withSummary({ state: "skipped", durationMs, messages: [], notes: [`xfail: ${reason || "expected failure"}`] });
    case "failed":
      return withSummary({ state: "failed", durationMs, messages: failureMessages(r, ""), notes: [] });
    case "error":
      return withSummary({
        state: "errored",
        durationMs,
        messages: failureMessages(r, r.when !== undefined && r.when !== "call" ? `error in ${r.when}: ` : "error: "),
        notes: [],
      });
  }
}

function withSummary(m: Omit<MappedResult, "summary">): MappedResult {
  return { ...m, summary: m.messages[0]?.text ?? m.notes[0] ?? null };
}

function failureMessages(r: TestResult, prefix: string): MessageModel[] {
  const main: MessageModel = {
    text: prefix + (r.message?.trim() || lastLine(r.traceback) || r.outcome),
    location: r.failureLocation ?? r.location ?? null,
    expected: r.expected ?? null,
    actual: r.actual ?? null,
    frames: r.frames ?? [],
  };
  const subtests = (r.subtests ?? [])
    .filter((s) => s.outcome === "failed" || s.outcome === "error")
    .map((s) => ({
      text: `subtest ${s.description}: ${s.message?.trim() || lastLine(s.traceback) || s.outcome}`,
      location: r.location ?? null,
      expected: null,
      actual: null,
      frames: [],
    }));
  // A test that failed only through its subtests says so in pytest's own message; the subtests' messages say more.
  return [main, ...subtests];
}

function subtestNotes(r: TestResult): string[] {
  return (r.subtests ?? [])
    .filter((s) => s.outcome === "failed" || s.outcome === "error")
    .map((s) => `subtest ${s.description} failed: ${s.message?.trim() || lastLine(s.traceback) || s.outcome}`);
}

function lastLine(text: string | undefined): string {
  if (text === undefined) return "";
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1]?.trim() ?? "";
}

/** Output text as a terminal wants it: CRLF line ends, ending with one. */
export function terminalText(text: string): string {
  const crlf = text.replace(/\r?\n/g, "\r\n");
  return crlf.endsWith("\r\n") ? crlf : `${crlf}\r\n`;
}
