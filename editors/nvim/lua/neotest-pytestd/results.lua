-- neotest results from pytestd's TestResults, with the status mapping of pytestd.status (xfailed is skipped,
-- not failed; a non-strict xpass passes; error is failed).
local paths = require("pytestd.paths")
local status = require("pytestd.status")

local M = {}

function M.short(result)
  local head = string.format("%s %s", result.outcome:upper(), result.testId)
  if result.message and result.message ~= "" then
    head = head .. ": " .. result.message
  end
  return head
end

--- neotest.Result for one TestResult of a run in `root`; errors carry the 0-based line where the failure is
--- shown when it is in the test's own file (neotest places error lines in the position's file).
function M.convert(root, result, output_path)
  local r = {
    status = status.neotest(result.outcome),
    short = M.short(result),
    output = output_path,
  }
  if status.is_failure(result.outcome) then
    local loc = result.failureLocation or result.location
    local err = { message = result.message or result.outcome }
    if loc and loc.path == paths.id_file(result.testId) then
      err.line = loc.line - 1
    elseif result.location then
      err.line = result.location.line - 1
    end
    r.errors = { err }
  end
  return r
end

return M
