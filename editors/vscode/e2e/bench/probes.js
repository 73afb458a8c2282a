// Probes the benchmark runs inside the workbench page (page.evaluate), timestamping what the UI shows as it
// happens, so no round trip to the page delays a timestamp.
'use strict';

// When Enter goes down (the command palette starting Run All) and, from the Testing view's result counter
// ("passed/total", with a spinning icon while a run goes), when the first test passed, when the counter first
// read `total` passed, and when the spinner stopped with all of them passed. A run that queues its tests shows
// "k/total" as it goes; one that does not (a large run) shows "k/k", so the count of passed tests decides.
function watchResultCounter(total) {
  const rec = { enterAt: null, firstAt: null, allAt: null, doneAt: null, counter: null, duration: null };
  window.__pytestdBench = rec;
  window.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && rec.enterAt === null) rec.enterAt = Date.now();
  }, true);
  const container = document.querySelector('.test-explorer .result-summary-container');
  if (!container) throw new Error('no result counter in the Testing view');
  const check = () => {
    const summary = container.querySelector('.result-summary');
    if (!summary || rec.enterAt === null) return;
    const m = [...summary.children].map((c) => /^(\d+)\/(\d+)$/.exec(c.textContent.trim())).find(Boolean);
    if (!m) return;
    const now = Date.now();
    const passed = Number(m[1]);
    rec.counter = m[0];
    if (passed > 0 && rec.firstAt === null) rec.firstAt = now;
    if (passed === total && Number(m[2]) === total && rec.allAt === null) rec.allAt = now;
    const spinning = summary.querySelector('.codicon-loading, .codicon-modifier-spin') !== null;
    if (rec.allAt !== null && !spinning && rec.doneAt === null) {
      rec.doneAt = now;
      const duration = summary.querySelector('duration');
      rec.duration = duration ? duration.textContent : null;
    }
  };
  new MutationObserver(check)
    .observe(container, { subtree: true, childList: true, characterData: true, attributes: true });
}

// From the workbench's load on: when the Testing view first has a row (the discovered tree is shown). Polled in
// the page every 50 ms.
function watchDiscovery() {
  const rec = { treeAt: null };
  window.__pytestdDiscovery = rec;
  const timer = setInterval(() => {
    if (document.querySelector('.test-explorer .monaco-list-row')) {
      rec.treeAt = Date.now();
      clearInterval(timer);
    }
  }, 50);
}

module.exports = { watchResultCounter, watchDiscovery };
