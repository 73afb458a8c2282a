// Shows a test as running only once it has run for a while (runDisplay.ts says what each change costs the view).
// A test that ends within the delay never shows as running, so a run of many quick tests makes one change per
// test instead of two; one that takes longer, the one worth watching, does show.

export class DelayedStarts<K> {
  private readonly timers = new Map<K, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly delayMs: number,
    private readonly show: (key: K) => void,
  ) {}

  started(key: K): void {
    if (this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.show(key);
    }, this.delayMs);
    this.timers.set(key, timer);
  }

  /** The test has its result: it must not show as running after it. */
  finished(key: K): void {
    const timer = this.timers.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(key);
  }

  /** The run ended: nothing shows as running any more. */
  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
