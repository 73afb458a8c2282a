// 1. After discovery the tree is what pytest collects: every test with pytest's line and markers as tags, classes
//    and parametrized cases nested, both root folders of the multi-root workspace, and the Testing view shows it.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const { waitForState } = require('../lib/state');
const { waitFor } = require('../lib/wait');

function checkFolder(state, folder, oracle) {
  const items = state.items.filter((item) => item.folder === folder);
  assert.ok(items.length > 0, `no items for workspace folder ${folder}`);
  const byId = new Map(state.items.map((item) => [item.id, item]));
  for (const [nodeId, test] of Object.entries(oracle.tests)) {
    const item = items.find((i) => i.nodeId === nodeId);
    assert.ok(item, `pytest collects ${nodeId} in ${folder}; the tree has no item for it`);
    const name = nodeId.split('::').pop();
    const param = name.includes('[') ? name.slice(name.indexOf('[')) : null;
    assert.ok(item.label === name || (param && [param, param.slice(1, -1)].includes(item.label)),
      `${nodeId}: label ${JSON.stringify(item.label)}, expected ${JSON.stringify(name)}`);
    assert.equal(item.file, path.join(folder, nodeId.split('::')[0]), `${nodeId}: file`);
    assert.equal(item.line, test.line, `${nodeId}: line (pytest says ${test.line})`);
    assert.deepEqual([...(item.tags || [])].sort(), test.markers, `${nodeId}: tags are pytest's markers`);
    // Every test hangs, through its class and module, under an item of its file.
    let parent = byId.get(item.parentId);
    const chain = [];
    while (parent) {
      chain.push(parent);
      parent = byId.get(parent.parentId);
    }
    assert.ok(chain.some((p) => p.kind === 'module' && p.file === item.file),
      `${nodeId}: no module item among its parents ${chain.map((p) => p.label).join(' < ')}`);
    if (nodeId.includes('::TestMath::')) {
      assert.ok(chain.some((p) => p.kind === 'class' && p.label === 'TestMath'), `${nodeId}: not under TestMath`);
    }
  }
  // Nothing pytest does not collect shows up as a test.
  const childCount = new Map();
  for (const item of state.items) childCount.set(item.parentId, (childCount.get(item.parentId) || 0) + 1);
  for (const item of items) {
    if ((item.kind === 'function' || item.kind === 'test') && !childCount.get(item.id)) {
      assert.ok(item.nodeId in oracle.tests, `the tree has a test pytest does not collect: ${item.nodeId}`);
    }
  }
}

module.exports = {
  name: 'tree',
  title: 'the tree after discovery matches what pytest collects (ids, labels, lines, tags, both roots)',
  timeoutMs: 120_000,
  async run({ wb, ws, stateFile, oracle }) {
    const state = await waitForState(stateFile, 'the extension to be ready (server up, first discovery done)',
      90_000, (s) => s.ready && Array.isArray(s.items) && s.items.length > 0 && s);
    assert.ok(state.discoveries >= 2, `discoveries: ${state.discoveries}, expected one per root folder at least`);
    checkFolder(state, ws.project, oracle.project);
    checkFolder(state, ws.second, oracle.second);

    await wb.focusTestExplorer();
    // The two root folders are the view's top rows.
    await waitFor('the Testing view to show both root folders', 20_000, async () => {
      const labels = await wb.testRowLabels();
      return labels.some((l) => l.startsWith('project')) && labels.some((l) => l.startsWith('second'));
    });
    await wb.screenshot('tree');
  },
};
