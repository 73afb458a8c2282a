// CPU time by component (pytest, pytestd, the extension host, code-server's server, Chromium's renderer and its
// other processes) from /proc: which process a slow step spends its time in. Also waits until they are quiet.
'use strict';

const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { waitFor } = require('../lib/wait');

const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

function readProc(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; the fields after its closing one are plain numbers.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return {
      pid, comm, cmdline, ppid: Number(f[1]), pgrp: Number(f[2]), start: f[19],
      self: (Number(f[11]) + Number(f[12])) * TICK_MS,
      children: (Number(f[13]) + Number(f[14])) * TICK_MS,
    };
  } catch {
    return null; // It exited while we looked.
  }
}

function category(p, inBrowser) {
  if (inBrowser) return /--type=renderer/.test(p.cmdline) ? 'renderer' : 'chromium';
  if (p.comm === 'pytestd') return 'pytestd';
  if (/^python/.test(p.comm)) return 'pytest';
  if (/extensionHost/.test(p.cmdline)) return 'extHost';
  return 'codeServer';
}

// Every process under the given roots: { editor: pid of code-server (also its process group, which survives
// reparenting), browser: pid of Chromium (optional) } and their descendants (pytest runs in a group of its own).
function snapshot({ editor, browser }) {
  const all = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map((e) => readProc(Number(e))).filter(Boolean);
  const byParent = new Map();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) || []), p]);
  const chosen = new Map();
  const add = (p, inBrowser) => {
    if (chosen.has(p.pid)) return;
    chosen.set(p.pid, { ...p, cat: category(p, inBrowser) });
    for (const child of byParent.get(p.pid) || []) add(child, inBrowser);
  };
  for (const p of all) if (browser !== undefined && p.pid === browser) add(p, true);
  for (const p of all) if (p.pid === editor || p.pgrp === editor) add(p, false);
  return chosen;
}

// Milliseconds of CPU per component between two snapshots. A process that reaped children during the window
// (pytestd reaping pytest) has their time in its `children` count: it goes to pytest for pytestd.
function cpuBetween(before, after) {
  const out = {};
  const plus = (cat, ms) => { if (ms > 0) out[cat] = (out[cat] || 0) + ms; };
  for (const [pid, p] of after) {
    const b = before.get(pid);
    const same = b && b.start === p.start;
    plus(p.cat, p.self - (same ? b.self : 0));
    plus(p.cat === 'pytestd' ? 'pytest' : p.cat, p.children - (same ? b.children : 0));
  }
  for (const k of Object.keys(out)) out[k] = Math.round(out[k]);
  return out;
}

// Waits until the processes used at most `maxShare` of one core over a `windowMs` window, so a timed step
// starts from a quiet editor rather than one still busy with what came before. Returns how long it waited.
async function waitForQuiet(roots, { windowMs = 500, maxShare = 0.1, timeoutMs = 30_000 } = {}) {
  const started = Date.now();
  let last = snapshot(roots);
  let lastAt = Date.now();
  await waitFor('the editor processes to go quiet', timeoutMs, () => {
    const at = Date.now();
    if (at - lastAt < windowMs) return false;
    const now = snapshot(roots);
    const used = Object.values(cpuBetween(last, now)).reduce((a, b) => a + b, 0);
    const share = used / (at - lastAt);
    last = now;
    lastAt = at;
    return share <= maxShare;
  }, windowMs);
  return Date.now() - started;
}

// The pid of a child of `parent` whose command name matches `comm` (the Chromium that playwright started).
function childPid(parent, comm) {
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = readProc(Number(e));
    if (p && p.ppid === parent && comm.test(p.comm)) return p.pid;
  }
  return undefined;
}

module.exports = { snapshot, cpuBetween, waitForQuiet, childPid };
