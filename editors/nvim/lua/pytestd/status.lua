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
  return table.concat(parts, ", ")
end

return M
