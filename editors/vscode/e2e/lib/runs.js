// Waits on the runs in the extension's state file: the runs a UI action started and their results.
'use strict';

const { readState, waitForState } = require('./state');

function runCount(stateFile) {
  return (readState(stateFile)?.runs || []).length;
}

// Waits until the runs started after `before` have finished with a result for every id in `nodeIds`, and
// returns them.
async function waitForFinishedResults(stateFile, before, nodeIds, what, timeoutMs) {
  return waitForState(stateFile, what, timeoutMs, (state) => {
    const runs = (state.runs || []).slice(before);
    if (runs.length === 0 || runs.some((run) => run.state !== 'finished')) return undefined;
    const results = mergedResults(runs);
    return nodeIds.every((id) => results[id] && isFinal(results[id].state)) && runs;
  });
}

// A run's first run that has a result for nodeId in the given state (e.g. 'started').
async function waitForRunWith(stateFile, before, nodeId, states, what, timeoutMs) {
  return waitForState(stateFile, what, timeoutMs, (state) => (state.runs || []).slice(before)
    .find((run) => run.results && run.results[nodeId] && states.includes(run.results[nodeId].state)));
}

function isFinal(state) {
  return ['passed', 'failed', 'errored', 'skipped'].includes(state);
}

function mergedResults(runs) {
  return Object.assign({}, ...runs.map((run) => run.results || {}));
}

// The newest run in the state with the given runId, to follow one run over time.
function runById(stateFile, runId) {
  return (readState(stateFile)?.runs || []).find((run) => run.runId === runId);
}

module.exports = { runCount, waitForFinishedResults, waitForRunWith, mergedResults, runById, isFinal };
