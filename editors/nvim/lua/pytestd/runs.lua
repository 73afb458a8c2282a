-- Runs: each runTests request with its own id, results and status, fed by the notifications the daemon
-- routes to it. Runs of the same or different projects go on side by side; nothing of one run is kept in
-- another. Also remembers per root what ran last and what failed, for `last` and `failed`.
local compat = require("pytestd.compat")
local daemon = require("pytestd.daemon")
local render = require("pytestd.ui.render")
local state = require("pytestd.state")
local status = require("pytestd.status")

local M = {}

---@type table<string, table> runId -> run
M.by_id = {}
---@type table[] every run in start order
M.list = {}
-- root -> { kind, test_ids, args }: the last run request
M.last_request = {}
-- root -> the last finished run
M.last_finished = {}
M.last_root = nil

local listeners = {}
local counter = 0

local function new_run_id()
  counter = counter + 1
  -- The daemon's log shows the first 8 characters of a run id: they must differ from run to run.
  local stamp = (math.floor(compat.uv.hrtime() / 1000) + counter * 0x9E3779B1) % 0x100000000
  return string.format("%08x-nvim-%d-%d", stamp, vim.fn.getpid(), counter)
end

--- Adds fn(event, run, data) called on every run event ("started", "result", "finished", …).
function M.on(key, fn)
  listeners[key] = fn
end

local function emit(event, run, data)
  for _, fn in pairs(listeners) do
    fn(event, run, data)
  end
  for _, fn in ipairs(run.callbacks[event] or {}) do
    fn(run, data)
  end
end

local function cap_append(list, item, max)
  list[#list + 1] = item
  if #list > max then
    table.remove(list, 1)
  end
end

-- A quiet run (neotest's) keeps its results to itself: neotest draws its own signs and diagnostics.
local function mark(run, files)
  if not run.quiet then
    render.mark(run.root, files)
  end
end

local function on_notification(run, method, params)
  local root = run.root
  if method == "runQueued" then
    run.state = "queued"
    run.queue_position = params.position
  elseif method == "runStarted" then
    run.state = "running"
    run.pid = params.pid
    run.args = params.args
    emit("started", run, params)
  elseif method == "testStarted" then
    run.running[params.testId] = true
    if not run.quiet then
      mark(run, state.test_started(root, run.id, params.testId))
    end
  elseif method == "testResult" then
    run.running[params.testId] = nil
    run.results[params.testId] = params
    run.order[#run.order + 1] = params.testId
    if not run.quiet then
      mark(run, state.test_result(root, run.id, params))
    end
    emit("result", run, params)
  elseif method == "collectionError" then
    run.collection_errors[#run.collection_errors + 1] = params
    if not run.quiet then
      mark(run, state.collection_error(root, run.id, params))
    end
    emit("collection_error", run, params)
  elseif method == "debugReady" then
    run.debug_ready = { host = params.host, port = params.port }
    emit("debug_ready", run, params)
  elseif method == "runOutput" then
    cap_append(run.output, params.text or "", require("pytestd.config").get().output_max_lines)
  elseif method == "runFinished" then
    run.status = params.status
    run.summary = params.summary
  end
end

local function finish(run, err, result)
  local root = run.root
  local d = daemon.find(root)
  if d then
    d:unsubscribe(run.id)
  end
  if err then
    run.status = "error"
    run.errors = { tostring(err.message or vim.inspect(err)) }
  else
    run.status = result.status
    run.summary = result.summary
    run.exit_code = result.exitCode
    run.duration_ms = result.durationMs
    run.errors = result.errors or {}
    run.coverage = result.coverage
    -- Runs ask for a summary response (below), so this is empty: every result came as a testResult before the
    -- response. A daemon that answers with every result anyway still fills in any it did not stream.
    for id, r in pairs(result.results or {}) do
      if not run.results[id] then
        run.results[id] = r
        run.order[#run.order + 1] = id
        if not run.quiet then
          mark(run, state.test_result(root, run.id, r))
        end
        emit("result", run, r)
      end
    end
    local seen = {}
    for _, c in ipairs(run.collection_errors) do
      seen[c.path] = true
    end
    for _, c in ipairs(result.collectionErrors or {}) do
      if not seen[c.path] then
        run.collection_errors[#run.collection_errors + 1] = c
        if not run.quiet then
          mark(run, state.collection_error(root, run.id, c))
        end
      end
    end
  end
  if not run.quiet then
    for id in pairs(run.running) do
      mark(run, state.test_abandoned(root, run.id, id))
    end
    mark(run, require("pytestd.stale").forget_unreported(run, function(other_id)
      local other = M.by_id[other_id]
      return other ~= nil and other.started_at > run.started_at
    end))
    M.last_finished[root] = run
    render.flush()
  end
  run.running = {}
  run.state = "finished"
  emit("finished", run)
end

--- Starts a run. spec: {root, kind, test_ids (nil or empty: the whole suite), args?, label?, on_finished?,
--- quiet? (no signs, diagnostics, quickfix or summary, and not remembered for last/failed), debug? and
--- coverage? (runTests' own `debug` and `coverage` params), on_debug_ready?}.
--- Returns the run at once; its results arrive as the daemon streams them.
function M.start(spec)
  local root = spec.root
  local d = daemon.get(root)
  local run = {
    id = new_run_id(),
    root = root,
    kind = spec.kind,
    label = spec.label or spec.kind,
    test_ids = spec.test_ids,
    args_requested = spec.args,
    state = "pending",
    status = nil,
    results = {},
    order = {},
    running = {},
    output = {},
    collection_errors = {},
    errors = {},
    quiet = spec.quiet,
    callbacks = { finished = { spec.on_finished }, result = { spec.on_result }, debug_ready = { spec.on_debug_ready } },
    debug = spec.debug ~= nil,
    coverage_requested = spec.coverage ~= nil,
    started_at = compat.uv.hrtime(),
  }
  M.by_id[run.id] = run
  M.list[#M.list + 1] = run
  if not run.quiet then
    M.last_request[root] = { kind = spec.kind, test_ids = spec.test_ids, args = spec.args, label = run.label }
    M.last_root = root
    mark(run, state.clear_collection(root, spec.test_ids))
  end
  d:subscribe(run.id, function(method, params)
    on_notification(run, method, params)
  end)
  d:on_exit(run.id, function()
    if run.state ~= "finished" then
      finish(run, { message = "pytestd exited during the run" }, nil)
    end
  end)
  local params = { cwd = root, runId = run.id }
  if spec.test_ids and #spec.test_ids > 0 then
    params.testIds = spec.test_ids
  end
  if spec.args and #spec.args > 0 then
    params.args = spec.args
  end
  params.debug = spec.debug
  params.coverage = spec.coverage
  -- The results stream as testResult; a response repeating them would cost a large run megabytes to build
  -- and to decode.
  params.results = "summary"
  -- A debug run is one pytest process under debugpy: the daemon refuses to split it.
  local shards = require("pytestd.config").get().shards
  if shards ~= nil and shards ~= 1 and not spec.debug then
    params.shards = shards
  end
  d:request("runTests", params, function(err, result)
    d.exit_handlers[run.id] = nil
    if run.state ~= "finished" then
      finish(run, err, result)
    end
  end)
  return run
end

function M.live()
  local out = {}
  for _, run in ipairs(M.list) do
    if run.state ~= "finished" then
      out[#out + 1] = run
    end
  end
  return out
end

--- The run with id `id`, or the only live run whose id starts with it.
function M.find(id)
  if M.by_id[id] then
    return M.by_id[id]
  end
  local found = nil
  for _, run in ipairs(M.list) do
    if run.id:sub(1, #id) == id then
      if found then
        return nil
      end
      found = run
    end
  end
  return found
end

--- Sends cancelRun; callback(err, result) with {runId, state}.
function M.cancel(run, callback)
  local d = daemon.find(run.root)
  if not d then
    if callback then
      callback({ message = "no daemon for " .. run.root }, nil)
    end
    return
  end
  d:request("cancelRun", { runId = run.id }, callback)
end

--- Ids that failed (failed or error, or with a failing subtest) in `run`, in the order they were reported.
function M.failed_ids(run)
  local ids = {}
  for _, id in ipairs(run.order) do
    local r = run.results[id]
    if r and status.is_failure(status.of(r)) then
      ids[#ids + 1] = id
    end
  end
  return ids
end

--- Waits (at most timeout_ms) until `run` has finished; true when it has.
function M.wait(run, timeout_ms)
  return vim.wait(timeout_ms or 60000, function()
    return run.state == "finished"
  end, 10)
end

return M
