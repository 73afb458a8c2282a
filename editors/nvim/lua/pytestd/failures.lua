-- Where a test's failures are shown, as {path, line, message, subtest?} (path root-relative when inside the
-- root): the test's own failure at the daemon's failureLocation (else the test's line), and one per failing
-- subtest. The daemon gives a subtest only its traceback text, so its line is read from the `path:line:` lines
-- pytest prints there: the innermost inside the project, else the test's own line.
local paths = require("pytestd.paths")
local status = require("pytestd.status")

local M = {}

local function test_line(result)
  local loc = result.location
  if loc and loc.path and loc.line then
    return { path = loc.path, line = loc.line }
  end
  return { path = paths.id_file(result.testId), line = 1 }
end

-- Installed code is never where an editor should point, even when a virtualenv lives inside the project.
local function in_project(root, path)
  if path:find("/site-packages/", 1, true) or path:find("/dist-packages/", 1, true) then
    return nil
  end
  if path:sub(1, 1) ~= "/" then
    return path:sub(1, 3) ~= "../" and path or nil
  end
  return paths.relative(root, path)
end

--- The innermost `path:line:` (pytest's long and short styles) or `File "path", line N` (native style) of a
--- traceback whose path lies in the project: {path, line} or nil.
function M.innermost(root, traceback)
  local found = nil
  for _, text in ipairs(vim.split(traceback or "", "\n", { plain = true })) do
    local path, line = text:match("^([^%s].-%.py):(%d+):")
    if not path then
      path, line = text:match('^%s*File "(.-%.py)", line (%d+)')
    end
    local rel = path and in_project(root, path)
    if rel then
      found = { path = rel, line = tonumber(line) }
    end
  end
  return found
end

-- Parametrized cases share a line: say which one failed.
local function with_case(id, msg)
  local case = id:match("(%[.*%])$")
  return case and (case .. " " .. msg) or msg
end

local function own_message(result)
  local msg = result.message
  if not msg or msg == "" then
    msg = string.format("%s%s", result.outcome, result.when and (" in " .. result.when) or "")
  end
  return with_case(result.testId, msg)
end

--- Every place a failure of `result` (a TestResult of a run in `root`) is shown, in report order.
function M.of(root, result)
  local out = {}
  if status.is_failure(result.outcome) then
    local loc = result.failureLocation
    if not (loc and loc.path and loc.line) then
      loc = test_line(result)
    end
    out[#out + 1] = { path = loc.path, line = loc.line, message = own_message(result) }
  end
  for _, sub in ipairs(status.failed_subtests(result)) do
    local loc = M.innermost(root, sub.traceback) or test_line(result)
    local msg = sub.message
    if not msg or msg == "" then
      msg = sub.outcome
    end
    out[#out + 1] = {
      path = loc.path,
      line = loc.line,
      message = with_case(result.testId, string.format("subtest %s: %s", sub.description or "", msg)),
      subtest = sub.description or "",
    }
  end
  return out
end

return M
