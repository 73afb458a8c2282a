// How much of a run the Testing view is told, chosen for what each change costs VS Code's workbench (measured
// with VS Code 1.139; e2e/bench.sh measures it):
//
// - Each state change or duration of a test is applied on its own, and every row of the Testing view it touches
//   is drawn again at once. A change goes up to the test's parents whenever their state or summed duration may
//   change, and a parent of at most 64 children is redrawn on every fall of a child's state (queued → passed,
//   running → passed) even when its own state stays the same (refreshComputedState in VS Code's
//   testing/common/getComputedState.ts). A collapsed tree shows exactly those parents, so with its tests queued
//   first, every result of a run redraws the top rows.
// - Each redraw of a row adds another hover listener to it, and they are removed only when the row is recycled
//   (TestItemRenderer in testingExplorerView.ts), so a row redrawn k times costs O(k) more each time: quadratic in
//   the run's results. A 10 000-test run took 805 s to show, nearly all of it adding and removing listeners.
// - Each call of the TestRun API is a message to the workbench; calls made in one turn of the event loop travel
//   together (CallBatch).
//
// So a large run (more than LARGE_RUN_TESTS tests) is told only what changes for each test: no test is queued
// first (a result then redraws its parents only when it raises their state, or replaces a worse result of an
// earlier run), and only a slow test gets its duration (a duration redraws every parent, since each shows its
// children's sum). A smaller run is told every state and duration; the redraws cost little there. In every run a
// test shows as running only once it has run for SLOW_TEST_MS (DelayedStarts): two changes per test were twice
// the redraws.

/** Beyond this many tests, a run is shown without queued states and without the durations of quick tests. */
export const LARGE_RUN_TESTS = 200;

/** A test that runs this long shows as running, and with its duration in a large run. */
export const SLOW_TEST_MS = 250;

/** The longest a call to the Testing view waits to be made with others (a message to the workbench each). */
export const BATCH_MS = 50;

export interface RunDisplay {
  /** Tests are shown as queued when the run starts (and the view's counter says how many will run). */
  readonly enqueue: boolean;
  /** The duration the view shows for a test that took durationMs, or undefined for none. */
  duration(durationMs: number): number | undefined;
}

export function runDisplay(testCount: number): RunDisplay {
  const large = testCount > LARGE_RUN_TESTS;
  return {
    enqueue: !large,
    duration: (ms) => (large && ms < SLOW_TEST_MS ? undefined : ms),
  };
}
