// Calls held back for at most delayMs and then made together, in order. The Testing view's calls go to VS Code's
// workbench as messages, and calls made in one turn of the event loop travel as one; the client hands the
// extension one notification per turn, so without a batch every result was a message of its own
// (runDisplay.ts says what that cost).

export class CallBatch {
  private calls: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Text for the call made last, while it is still pending; see appendText. */
  private tail: { text: string } | undefined;

  constructor(private readonly delayMs: number) {}

  add(call: () => void): void {
    this.tail = undefined;
    this.push(call);
  }

  /**
   * Adds a call that writes text; text added right after it joins the same call, so a burst of lines is one
   * write.
   */
  appendText(text: string, write: (text: string) => void): void {
    if (this.tail !== undefined) {
      this.tail.text += text;
      return;
    }
    const tail = { text };
    this.tail = tail;
    this.push(() => write(tail.text));
  }

  /** Makes every pending call now. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.tail = undefined;
    const calls = this.calls;
    this.calls = [];
    // A call that fails must not cost the calls after it (a result after a failed output).
    let failure: Error | undefined;
    for (const call of calls) {
      try {
        call();
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(`a batched call failed: ${JSON.stringify(err)}`);
      }
    }
    if (failure !== undefined) throw failure;
  }

  private push(call: () => void): void {
    this.calls.push(call);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }
}
