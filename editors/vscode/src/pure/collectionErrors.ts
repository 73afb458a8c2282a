// Collection errors of a discovery or run: the structured `collectionErrors` when the daemon sends them, else
// recovered from its plain `errors` sentences ("error collecting <path>:\n<pytest's text>"), so a daemon without
// the structured field still puts a broken module's error on that module.

import { type CollectionError } from "./protocol";

export interface SortedErrors {
  /** Errors that belong to a file. */
  attributed: CollectionError[];
  /** Sentences about the run or discovery as a whole. */
  unattributed: string[];
}

const COLLECTING = /^error collecting (.+?):\n([\s\S]*)$/;

export function collectionErrorsOf(structured: CollectionError[] | undefined, errors: string[]): SortedErrors {
  const attributed = [...(structured ?? [])];
  const known = new Set(attributed.map((e) => e.path));
  const unattributed: string[] = [];
  for (const text of errors) {
    const parsed = parseErrorSentence(text);
    if (parsed === null) unattributed.push(text);
    else if (!known.has(parsed.path)) {
      known.add(parsed.path);
      attributed.push(parsed);
    }
    // A sentence about an error already given structured is the same error twice.
  }
  return { attributed, unattributed };
}

export function parseErrorSentence(text: string): CollectionError | null {
  const m = COLLECTING.exec(text);
  if (m === null) return null;
  const path = m[1] as string;
  const traceback = m[2] as string;
  const lines = traceback.split("\n");
  const eLines = lines.filter((l) => l.startsWith("E   ")).map((l) => l.slice(4).trim());
  const message = eLines[eLines.length - 1] ?? lines.find((l) => l.trim() !== "")?.trim() ?? "collection error";
  // pytest names the failing line of the module as "<path>:<line>: in <module>".
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const at = new RegExp(`^${escaped}:(\\d+):`, "m").exec(traceback);
  const line = at === null ? undefined : Number(at[1]);
  return { path, message, traceback, ...(line === undefined ? {} : { line }) };
}
