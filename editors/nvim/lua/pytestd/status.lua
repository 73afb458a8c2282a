-- How each pytest outcome is shown: sign, highlight, diagnostic severity, quickfix entry and neotest status.
-- The one place the mapping lives, so the signs, diagnostics, summary and neotest adapter agree.
--
-- An expected failure (xfailed) is not a failure: pytest counts it apart and exits 0, so it gets its own sign,
-- no diagnostic and no quickfix entry, and neotest (which knows only passed/failed/skipped) sees it as
-- skipped. A non-strict xpass passes in pytest (neotest: passed) but keeps its own sign; a strict xpass already
-- arrives from the daemon as `failed`. `error` (a failing fixture, setup or teardown) is shown like a failure.
local M = {}

M.outcomes = {
  running = { sign = "PytestdRunning", hl = "PytestdRunning", rank = 5 },
  passed = { sign = "PytestdPassed", hl = "PytestdPassed", rank = 4, neotest = "passed" },
  failed = { sign = "PytestdFailed", hl = "PytestdFailed", rank = 7, severity = "ERROR", qf = "E", neotest = "failed" },
  error = { sign = "PytestdError", hl = "PytestdError", rank = 8, severity = "ERROR", qf = "E", neotest = "failed" },
  skipped = { sign = "PytestdSkipped", hl = "PytestdSkipped", rank = 1, neotest = "skipped" },
  xfailed = { sign = "PytestdXfailed", hl = "PytestdXfailed", rank = 2, neotest = "skipped" },
  xpassed = { sign = "PytestdXpassed", hl = "PytestdXpassed", rank = 3, neotest = "passed" },
}

-- Linked by default so colour schemes decide; `default` lets a user's own definition win.
M.highlight_links = {
  PytestdRunning = "DiagnosticWarn",
  PytestdPassed = "String",
  PytestdFailed = "DiagnosticError",
  PytestdError = "DiagnosticError",
  PytestdSkipped = "Comment",
  PytestdXfailed = "Comment",
  PytestdXpassed = "DiagnosticWarn",
}

function M.get(outcome)
  return M.outcomes[outcome]
end

function M.is_failure(outcome)
  local s = M.outcomes[outcome]
  return s ~= nil and s.severity ~= nil
end

--- Failing subtests of a TestResult (failed or errored), in pytest's order.
function M.failed_subtests(result)
  local out = {}
  for _, sub in ipairs(result and result.subtests or {}) do
    if M.is_failure(sub.outcome) then
      out[#out + 1] = sub
    end
  end
  return out
end

--- The outcome the editor shows for a TestResult. pytest keeps a unittest test whose subTest failed
--- `passed` (it prints SUBFAILED and counts the subtest as failed); shown as passed it would hide the failure,
--- so a test with a failing subtest is shown as failed.
function M.of(result)
  if not M.is_failure(result.outcome) and #M.failed_subtests(result) > 0 then
    return "failed"
  end
  return result.outcome
end

--- The outcome shown when several tests share a line (parametrized cases): the highest rank.
function M.worst(a, b)
  if not a then
    return b
  end
  if not b then
    return a
  end
  local ra = (M.outcomes[a] or {}).rank or 0
  local rb = (M.outcomes[b] or {}).rank or 0
  return rb > ra and b or a
end

--- neotest's status for a pytest outcome.
function M.neotest(outcome)
  local s = M.outcomes[outcome]
  return s and s.neotest or "failed"
end

M.summary_order = { "passed", "failed", "errors", "skipped", "xfailed", "xpassed" }

local summary_key = { passed = "passed", failed = "failed", error = "errors", skipped = "skipped",
  xfailed = "xfailed", xpassed = "xpassed" }

--- The daemon's summary counted as the editor shows the tests: a test that pytest passed but whose subtest
--- failed counts as failed (as pytest's own summary counts the failure), and `subtests_failed` counts the
--- failing subtests of every test.
function M.count(summary, results)
  local out = vim.deepcopy(summary or {})
  out.subtests_failed = 0
  for _, r in pairs(results or {}) do
    out.subtests_failed = out.subtests_failed + #M.failed_subtests(r)
    local shown = M.of(r)
    if shown ~= r.outcome and summary_key[r.outcome] then
      local from, to = summary_key[r.outcome], summary_key[shown]
      out[from] = math.max(0, (out[from] or 0) - 1)
      out[to] = (out[to] or 0) + 1
    end
  end
  return out
end

--- "3 passed, 1 failed, 1 xfailed" from a runFinished/runTests summary, leaving out zero counts.
function M.summary_text(summary)
  local parts = {}
  for _, key in ipairs(M.summary_order) do
    local n = summary and summary[key] or 0
    if n > 0 then
      parts[#parts + 1] = string.format("%d %s", n, key == "errors" and (n == 1 and "error" or "errors") or key)
    end
  end
  if #parts == 0 then
    return "no tests ran"
  end
  local text = table.concat(parts, ", ")
  local subs = summary.subtests_failed or 0
  if subs > 0 then
    text = text .. string.format(" (%d subtest%s failed)", subs, subs == 1 and "" or "s")
  end
  return text
end

return M
