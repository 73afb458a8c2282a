// The benchmark's project: N trivial passing tests, perModule to a module and perDir modules to a directory under
// tests/, and a one-folder .code-workspace pointing pytestd at the interpreter. The default shape (20 tests to a
// module, 25 modules to a directory) is that of most projects; it matters, because VS Code's Testing view treats
// a parent of at most 64 children differently (src/pure/runDisplay.ts). perDir 0 puts every module in tests/.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

// Names carry their module's and their own index, so each test's name is unique in the whole suite.
function moduleName(index) {
  return `test_m${String(index).padStart(4, '0')}`;
}

function createSuite(root, { python, count, perModule, perDir, pytestArgs }) {
  const project = path.join(root, 'project');
  const tests = path.join(project, 'tests');
  fs.mkdirSync(tests, { recursive: true });
  fs.writeFileSync(path.join(project, 'pytest.ini'), '[pytest]\n');
  const modules = Math.ceil(count / perModule);
  for (let m = 0; m < modules; m++) {
    const n = Math.min(perModule, count - m * perModule);
    const body = [];
    for (let t = 0; t < n; t++) body.push(`def ${moduleName(m)}_${String(t).padStart(3, '0')}():\n    pass\n`);
    const dir = perDir > 0 ? path.join(tests, `d${String(Math.floor(m / perDir)).padStart(3, '0')}`) : tests;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${moduleName(m)}.py`), body.join('\n'));
  }
  const file = path.join(root, 'bench.code-workspace');
  fs.writeFileSync(file, JSON.stringify({
    folders: [{ path: 'project' }],
    settings: { 'pytestd.python': python, 'pytestd.pytestArgs': pytestArgs },
  }, null, 2));
  return { root, project, file, count, modules };
}

module.exports = { createSuite };
