// Finds Python processes still working in the fixture workspace, from /proc: a cancelled run must leave none.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

function read(fn) {
  try {
    return fn();
  } catch {
    return null; // The process exited while we looked.
  }
}

// Python processes whose command line or working directory lies under `root` (pytest runs with the folder as
// cwd and relative node ids, so the command line alone may not name the workspace). The daemon's warm templates
// (`python -m pytestd_warm`, kept per project to fork its runs from) belong to no run and are left out; a run
// forked from one shows its own `python -m pytest ...` command line.
function pythonProcessesUnder(root) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const exe = read(() => fs.readlinkSync(`/proc/${entry}/exe`));
    if (!exe || !path.basename(exe).startsWith('python')) continue;
    const cmdline = read(() => fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim());
    const cwd = read(() => fs.readlinkSync(`/proc/${entry}/cwd`));
    if (cmdline === null || /(^|\s)-m pytestd_warm(\s|$)/.test(cmdline)) continue;
    const under = (p) => p && (p === root || p.startsWith(root + path.sep));
    if (under(cwd) || cmdline.includes(root)) found.push({ pid: Number(entry), cmdline, cwd });
  }
  return found;
}

function pytestProcessesUnder(root) {
  return pythonProcessesUnder(root).filter((p) => p.cmdline.includes('pytest'));
}

module.exports = { pythonProcessesUnder, pytestProcessesUnder };
