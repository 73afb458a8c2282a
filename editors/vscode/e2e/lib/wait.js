// Polls a condition until it holds or a deadline passes: every wait in the end-to-end test goes through here,
// so none can hang and each failure says what it was waiting for.
'use strict';

async function waitFor(what, timeoutMs, probe, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last ? `: last error: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// Runs a promise with a deadline, for steps that are not polls (a browser launch, a page load).
async function withTimeout(what, timeoutMs, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

module.exports = { waitFor, withTimeout };
