// 3. A failure's message sits on the failing line: the `==` failure at its assert with expected/actual for the
//    diff, a failure inside a helper at the helper's line (the deepest frame in the workspace); in the editor,
//    the message shows at that line.
'use strict';

const assert = require('node:assert/strict');
const { mergedResults } = require('../lib/runs');
const { waitFor } = require('../lib/wait');

module.exports = {
  name: 'failure-line',
  title: "a failure's message sits on the failing line",
  timeoutMs: 60_000,
  async run({ wb, ws, runAll }) {
    assert.ok(runAll, 'needs the results of run-all');
    const results = mergedResults(runAll);
    const file = ws.path('tests/test_basic.py');

    const fail = results['tests/test_basic.py::test_fail'];
    assert.equal(fail.state, 'failed');
    assert.equal(fail.file, file, 'test_fail: message file');
    assert.equal(fail.line, ws.lines.fail, 'test_fail: message line is the failing assert');
    assert.ok(fail.message && fail.message.includes('Hello'), `test_fail: message ${JSON.stringify(fail.message)}`);
    assert.ok(fail.actual && fail.actual.includes('Hello, world!'), `test_fail: actual ${JSON.stringify(fail.actual)}`);
    assert.ok(fail.expected && fail.expected.includes('Hello, World!'),
      `test_fail: expected ${JSON.stringify(fail.expected)}`);

    const helper = results['tests/test_basic.py::test_fail_in_helper'];
    assert.equal(helper.state, 'failed');
    assert.equal(helper.file, file, 'test_fail_in_helper: message file');
    assert.equal(helper.line, ws.lines.helperFail, 'test_fail_in_helper: message line is the helper\'s assert');

    const error = results['tests/test_basic.py::test_error'];
    assert.equal(error.state, 'errored');
    assert.ok(error.message && error.message.includes('fixture broke'),
      `test_error: message ${JSON.stringify(error.message)}`);

    // In the UI: the message in the Test Results view shows the diff and its frame at the failing line.
    await wb.openTestResultMessage("AssertionError: assert 'Hello, world!'");
    const details = await waitFor(`the Test Results view to show the diff and line ${ws.lines.fail}`, 15_000,
      async () => {
        const d = await wb.testResultDetails();
        return d && d.expected && d.expected.includes('Hello, World!') && d.actual && d.actual.includes('Hello, world!')
          && d.frameLines.includes(ws.lines.fail) && d;
      }).catch(async (err) => {
      throw new Error(`${err.message}; shown: ${JSON.stringify(await wb.testResultDetails())}`);
    });
    assert.ok(details);
    await wb.screenshot('failure-line');
  },
};
