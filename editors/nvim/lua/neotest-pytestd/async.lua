-- Waiting for the daemon from adapter code: inside a neotest (nvim-nio) task the task is suspended on an
-- event; called outside any task (plain Lua, scripts) the wait runs the event loop with a deadline instead.
local M = {}

local function nio_task()
  local ok, nio = pcall(require, "nio")
  if ok and nio.current_task and nio.current_task() then
    return nio
  end
  return nil
end

--- A signal: notify() wakes whoever waits in wait(cond), which returns once cond() holds (or the deadline
--- passes: false). notify may be called any number of times, from the main loop.
function M.signal()
  local nio = nio_task() and require("nio")
  local event = nio and nio.control.event() or nil
  local self = {}
  function self.notify()
    if event then
      event.set()
    end
  end
  function self.wait(cond, timeout_ms)
    timeout_ms = timeout_ms or 600000
    if event and nio_task() then
      local deadline = vim.loop.now() + timeout_ms
      while not cond() do
        if vim.loop.now() > deadline then
          return false
        end
        event.clear()
        if cond() then
          break
        end
        event.wait()
      end
      return true
    end
    return vim.wait(timeout_ms, cond, 10)
  end
  return self
end

--- Calls start(done) and waits until done(...) is called; returns what done was given.
function M.call(start, timeout_ms)
  local sig = M.signal()
  local result = nil
  start(function(...)
    result = { ... }
    sig.notify()
  end)
  local finished = sig.wait(function()
    return result ~= nil
  end, timeout_ms)
  if not finished then
    return nil, "timed out"
  end
  return unpack(result)
end

return M
