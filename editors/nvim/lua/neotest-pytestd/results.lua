-- neotest results from pytestd's TestResults, with the status mapping of pytestd.status (xfailed is skipped,
-- not failed; a non-strict xpass passes; error is failed; a test with a failing subtest is failed).
local failures = require("pytestd.failures")
local paths = require("pytestd.paths")
local status = require("pytestd.status")

local M = {}

function M.short(result)
  local head = string.format("%s %s", status.of(result):upper(), result.testId)
  if result.message and result.message ~= "" then
    head = head .. ": " .. result.message
  end
  for _, sub in ipairs(status.failed_subtests(result)) do
    head = head .. string.format("\nsubtest %s %s: %s", sub.description or "", sub.outcome, sub.message or "")
  end
  return head
end

--- neotest.Result for one TestResult of a run in `root`; errors carry the 0-based line where each failure
--- (the test's own, and each failing subtest's) is shown when it is in the test's own file (neotest places
--- error lines in the position's file), else the test's line.
function M.convert(root, result, output_path)
  local shown = status.of(result)
  local r = {
    status = status.neotest(shown),
    short = M.short(result),
    output = output_path,
  }
  if status.is_failure(shown) then
    local file = paths.id_file(result.testId)
    r.errors = {}
    for _, f in ipairs(failures.of(root, result)) do
      local err = { message = f.message }
      if f.path == file then
        err.line = f.line - 1
      elseif result.location then
        err.line = result.location.line - 1
      end
      r.errors[#r.errors + 1] = err
    end
  end
  return r
end

return M
