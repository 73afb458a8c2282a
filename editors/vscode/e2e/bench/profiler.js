// CPU profiles for the benchmark: of the extension host (a node process whose inspector SIGUSR1 opens on
// 127.0.0.1:9229, reached over its WebSocket) and of the workbench page (Chromium's
// DevTools protocol through playwright), with a summary of where the time went by function and source line.
'use strict';

const { waitFor } = require('../lib/wait');

// A DevTools-protocol session with a running node process: SIGUSR1 makes it open its inspector on the default
// port, reached with Node's built-in WebSocket client.
async function inspectorSession(pid, timeoutMs = 30_000) {
  const port = 9229;
  process.kill(pid, 'SIGUSR1');
  const target = await waitFor(`the extension host's inspector on port ${port}`, timeoutMs, async () => {
    const res = await fetch(`http://127.0.0.1:${port}/json/list`);
    const list = await res.json();
    return list[0];
  }, 500);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', () => reject(new Error('inspector WebSocket failed')), { once: true });
  });
  let next = 1;
  const pending = new Map();
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(event.data);
    const waiter = pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`${waiter.method}: ${msg.error.message}`));
    else waiter.resolve(msg.result);
  });
  return {
    send(method, params = {}) {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
    },
    close() { ws.close(); },
  };
}

// Starts sampling on a session that has send(method, params); stop() returns the .cpuprofile object.
async function startProfiling(session, intervalUs = 250) {
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.send('Profiler.start');
  return { stop: async () => (await session.send('Profiler.stop')).profile };
}

// The functions with the most self time: [{ms, share, name, at}] with at = "url:line:column" (1-based).
function topSelfTime(profile, count = 15) {
  const total = profile.endTime - profile.startTime;
  const perSample = total / Math.max(1, profile.samples.length) / 1000;
  const bySite = new Map();
  let samples = 0;
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const key = `${functionName}|${url}|${lineNumber}|${columnNumber}`;
    bySite.set(key, (bySite.get(key) || 0) + (node.hitCount || 0));
    samples += node.hitCount || 0;
  }
  return [...bySite.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, hits]) => {
      const [name, url, line, column] = key.split('|');
      return {
        ms: Math.round(hits * perSample),
        share: Math.round((hits / Math.max(1, samples)) * 1000) / 10,
        name: name || '(anonymous)',
        at: url ? `${url.replace(/^.*\/(extensions|out)\//, '$1/')}:${Number(line) + 1}:${Number(column) + 1}` : '',
      };
    });
}

module.exports = { inspectorSession, startProfiling, topSelfTime };
