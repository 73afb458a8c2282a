// Copies the fixture projects into a throwaway directory (the test edits and saves files there, never in the
// repository) and writes the multi-root .code-workspace that points pytestd at the test interpreter.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const FIXTURES = path.join(__dirname, '..', 'fixtures');

function findLine(file, tag) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((line) => line.includes(`# e2e: ${tag}`));
  if (index < 0) throw new Error(`no "# e2e: ${tag}" line in ${file}`);
  return index + 1;
}

function createWorkspace(root, python) {
  const project = path.join(root, 'project');
  const second = path.join(root, 'second');
  fs.cpSync(path.join(FIXTURES, 'project'), project, { recursive: true });
  fs.cpSync(path.join(FIXTURES, 'second'), second, { recursive: true });
  const file = path.join(root, 'e2e.code-workspace');
  fs.writeFileSync(file, JSON.stringify({
    folders: [{ path: 'project' }, { path: 'second' }],
    settings: { 'pytestd.python': python },
  }, null, 2));
  const tests = path.join(project, 'tests');
  return {
    root,
    file,
    project,
    second,
    python,
    path: (relative) => path.join(project, relative),
    lines: {
      fail: findLine(path.join(tests, 'test_basic.py'), 'fail-line'),
      helperFail: findLine(path.join(tests, 'test_basic.py'), 'helper-fail-line'),
      broken: findLine(path.join(tests, 'test_broken.py'), 'broken-line'),
      debug: findLine(path.join(tests, 'test_calc.py'), 'debug-line'),
      covHit: findLine(path.join(project, 'calc.py'), 'cov-hit'),
      covBranch: findLine(path.join(project, 'calc.py'), 'cov-branch'),
      covMiss: findLine(path.join(project, 'calc.py'), 'cov-miss'),
      covUnused: findLine(path.join(project, 'calc.py'), 'cov-unused'),
    },
    setSlowSeconds(seconds) {
      fs.writeFileSync(path.join(tests, 'slow_seconds.txt'), `${seconds}\n`);
    },
  };
}

module.exports = { createWorkspace };
