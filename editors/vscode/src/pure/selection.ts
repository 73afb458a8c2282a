// Turns the Testing view's selection (included and excluded items of one folder) into runTests' testIds: a whole
// directory, module or class goes as one id when nothing inside it is excluded, since pytest selects everything
// in it; and the list of tests the run is expected to report, to mark them enqueued.

import { type FolderTree, type TreeNode } from "./tree";

export interface Selection {
  /** undefined: the whole suite (no testIds at all). */
  testIds: string[] | undefined;
  /** Every test the run covers, as pytest node ids. */
  tests: TreeNode[];
}

/** Kinds whose pytest id selects everything under it; a `function` is pytestd's own grouping node. */
const SELECTS_SUBTREE = new Set(["directory", "package", "module", "class", "test"]);

/**
 * include: node keys, or null for the whole folder. exclude: node keys to leave out (with everything under them).
 */
export function compressSelection(tree: FolderTree, include: string[] | null, exclude: Iterable<string>): Selection {
  const excluded = new Set(exclude);
  const hasExcludedBelow = excludedAncestry(tree, excluded);
  if (include === null && excluded.size === 0) {
    return { testIds: undefined, tests: tree.testsUnder(null) };
  }
  const roots = include === null ? [...tree.children(null)] : dropNested(tree, include);
  const testIds: string[] = [];
  const tests: TreeNode[] = [];
  const visit = (key: string): void => {
    if (excluded.has(key)) return;
    const node = tree.get(key);
    if (node === undefined || node.kind === "error" || node.nodeId === null) return;
    if (SELECTS_SUBTREE.has(node.kind) && !hasExcludedBelow.has(key)) {
      testIds.push(node.nodeId);
      tests.push(...tree.testsUnder(key));
      return;
    }
    for (const child of tree.children(key)) visit(child);
  };
  for (const key of roots) visit(key);
  return { testIds, tests };
}

/** Keys of nodes that have an excluded node somewhere below them. */
function excludedAncestry(tree: FolderTree, excluded: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const key of excluded) {
    let parent = tree.get(key)?.parentKey ?? null;
    while (parent !== null && !out.has(parent)) {
      out.add(parent);
      parent = tree.get(parent)?.parentKey ?? null;
    }
  }
  return out;
}

/** The included keys without those already covered by an included ancestor, in the given order. */
function dropNested(tree: FolderTree, include: string[]): string[] {
  const chosen = new Set(include);
  return include.filter((key, i) => {
    if (include.indexOf(key) !== i) return false;
    let parent = tree.get(key)?.parentKey ?? null;
    while (parent !== null) {
      if (chosen.has(parent)) return false;
      parent = tree.get(parent)?.parentKey ?? null;
    }
    return true;
  });
}
