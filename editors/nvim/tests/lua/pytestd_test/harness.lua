-- A small test runner for headless Neovim (plenary is not on the registries CI reaches): register cases with
-- test(), assert with eq/ok/wait_for, and run() prints one line per case and ends with "N passed, N failed".
local M = {}

local cases = {}
local after_all = {}

function M.test(name, fn)
  cases[#cases + 1] = { name = name, fn = fn }
end

function M.after_all(fn)
  after_all[#after_all + 1] = fn
end

local function fail(msg, level)
  error(msg, (level or 1) + 1)
end

function M.ok(cond, msg)
  if not cond then
    fail("expected true: " .. (msg or ""), 2)
  end
  return cond
end

function M.eq(expected, actual, msg)
  if not vim.deep_equal(expected, actual) then
    fail(string.format("%s\n    expected: %s\n    actual:   %s", msg or "not equal", vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function M.contains(haystack, needle, msg)
  if type(haystack) ~= "string" or not haystack:find(needle, 1, true) then
    fail(string.format("%s: %s does not contain %s", msg or "contains", vim.inspect(haystack), vim.inspect(needle)), 2)
  end
end

--- Waits until cond() is true, at most timeout_ms; fails with msg otherwise. Returns cond()'s value.
function M.wait_for(timeout_ms, cond, msg)
  local value
  local done = vim.wait(timeout_ms, function()
    value = cond()
    return value
  end, 10)
  if not done then
    fail("timed out after " .. timeout_ms .. " ms: " .. (msg or "condition"), 2)
  end
  return value
end

local function out(line)
  io.stdout:write(line .. "\n")
  io.stdout:flush()
end

--- Runs every registered case; returns passed, failed.
function M.run(prefix)
  local passed, failed = 0, 0
  for _, case in ipairs(cases) do
    local started = vim.loop.hrtime()
    local ok, err = xpcall(case.fn, debug.traceback)
    local ms = (vim.loop.hrtime() - started) / 1e6
    if ok then
      passed = passed + 1
      out(string.format("ok   %s%s (%.0f ms)", prefix or "", case.name, ms))
    else
      failed = failed + 1
      out(string.format("FAIL %s%s (%.0f ms)\n    %s", prefix or "", case.name, ms, tostring(err):gsub("\n", "\n    ")))
    end
  end
  for _, fn in ipairs(after_all) do
    pcall(fn)
  end
  return passed, failed
end

return M
