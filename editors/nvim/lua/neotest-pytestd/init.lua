-- neotest adapter on the pytestd daemon: positions from discoverTests, runs from runTests with results
-- streamed to neotest as pytest reports them, cancel through cancelRun. Shares the daemons (one per root)
-- with the rest of the plugin.
--
--   require("neotest").setup({ adapters = { require("neotest-pytestd") } })
local async = require("neotest-pytestd.async")
local daemon = require("pytestd.daemon")
local paths = require("pytestd.paths")
local positions = require("neotest-pytestd.positions")
local results = require("neotest-pytestd.results")
local runs = require("pytestd.runs")

local adapter = { name = "neotest-pytestd" }

local skip_dirs = {
  [".git"] = true,
  [".hg"] = true,
  ["__pycache__"] = true,
  [".venv"] = true,
  ["venv"] = true,
  [".tox"] = true,
  [".nox"] = true,
  [".mypy_cache"] = true,
  [".pytest_cache"] = true,
  [".ruff_cache"] = true,
  ["node_modules"] = true,
  ["build"] = true,
  ["dist"] = true,
  ["site-packages"] = true,
}

-- How long a discovery may take before the file is shown without tests.
adapter.discovery_timeout_ms = 120000

function adapter.root(dir)
  return paths.find_root(dir)
end

function adapter.filter_dir(name)
  return not skip_dirs[name] and not name:match("%.egg%-info$")
end

function adapter.is_test_file(file_path)
  if not file_path then
    return false
  end
  local name = vim.fn.fnamemodify(file_path, ":t")
  return name:match("^test_.*%.py$") ~= nil or name:match("^.+_test%.py$") ~= nil
end

local function read_lines(path)
  local ok, lines = pcall(vim.fn.readfile, path)
  return ok and lines or {}
end

--- The file's positions as pytest collects them (nil when the file is outside any project).
function adapter.discover_positions(file_path)
  local root = paths.find_root(file_path)
  if not root then
    return nil
  end
  local rel = paths.relative(root, file_path)
  local d = daemon.get(root)
  local err, result = async.call(function(done)
    -- Positions come from the response alone: streamed batches would be a second copy of the tree.
    d:request("discoverTests", { cwd = root, args = { rel }, stream = false }, done)
  end, adapter.discovery_timeout_ms)
  local nodes = (not err and result and result.tests) or {}
  local list = positions.build(root, paths.normalize(file_path), rel, nodes, read_lines(file_path))
  return require("neotest.types").Tree.from_list(list, function(pos)
    return pos.id
  end)
end

--- The pytest ids a neotest position runs: nil for the whole suite.
local function test_ids_of(root, pos)
  local id = positions.node_id(root, pos.id)
  if id == nil or id == "." then
    return nil
  end
  return { id }
end

-- A neotest.Process driven by a pytestd run instead of a subprocess. For neotest's "dap" strategy the run is
-- a debug run (attached with nvim-dap on debugReady, see pytestd.debug): results still stream from the daemon
-- and stopping it cancels the run even while it is paused.
local function start_process(spec)
  local ctx = spec.context
  local signal = async.signal()
  ctx.signal = signal
  ctx.pending = {}
  local output_path = vim.fn.tempname()
  ctx.output_path = output_path
  local start = ctx.debug and require("pytestd.debug").start or runs.start
  local run = start({
    root = ctx.root,
    kind = "neotest",
    label = "neotest",
    test_ids = ctx.test_ids,
    quiet = true,
    on_result = function(_, result)
      ctx.pending[#ctx.pending + 1] = result
      signal.notify()
    end,
    on_finished = function()
      signal.notify()
    end,
  })
  ctx.run = run
  local function finished()
    return run.state == "finished"
  end
  return {
    is_complete = finished,
    output = function()
      return output_path
    end,
    stop = function()
      runs.cancel(run)
    end,
    attach = function()
      local ok, dap = pcall(require, "dap")
      if ctx.debug and ok and dap.repl then
        dap.repl.open()
      else
        require("pytestd.log").open()
      end
    end,
    output_stream = function()
      return function()
        signal.wait(finished)
        return nil
      end
    end,
    result = function()
      signal.wait(finished)
      local lines = vim.list_extend({}, run.output)
      for _, e in ipairs(run.errors or {}) do
        lines[#lines + 1] = e
      end
      vim.fn.writefile(lines, output_path)
      if run.status == "passed" then
        return 0
      end
      return 1
    end,
  }
end

function adapter.build_spec(args)
  local tree = args.tree
  local pos = tree:data()
  local root = paths.find_root(pos.path)
  if not root then
    return nil
  end
  local test_ids = test_ids_of(root, pos)
  -- neotest's own dap strategy would start nvim-dap first and leave the run to it; the daemon's debug run
  -- starts first instead (it picks the port), so the adapter's strategy drives both.
  local ctx = { root = root, test_ids = test_ids, position_id = pos.id, debug = args.strategy == "dap" }
  return {
    command = vim.list_extend({ "pytestd", "runTests", root }, test_ids or {}),
    cwd = root,
    context = ctx,
    strategy = start_process,
    -- Results in batches of whatever pytest reported since the last call; nil once the run has ended.
    -- neotest starts reading after the strategy has started the run (and filled ctx).
    stream = function(_)
      return function()
        local signal = ctx.signal
        if not signal then
          return nil
        end
        signal.wait(function()
          return #ctx.pending > 0 or ctx.run.state == "finished"
        end)
        if #ctx.pending == 0 then
          return nil
        end
        local batch = {}
        for _, r in ipairs(ctx.pending) do
          batch[positions.position_id(ctx.root, r.testId)] = results.convert(ctx.root, r, ctx.output_path)
        end
        ctx.pending = {}
        return batch
      end
    end,
  }
end

--- Every result of the run, plus a failed file for a collection error; positions pytest did not report are
--- left to neotest.
function adapter.results(spec, _, _)
  local ctx = spec.context
  local run = ctx.run
  local out = {}
  if not run then
    return out
  end
  for id, r in pairs(run.results) do
    out[positions.position_id(ctx.root, id)] = results.convert(ctx.root, r, ctx.output_path)
  end
  for _, c in ipairs(run.collection_errors) do
    out[paths.absolute(ctx.root, c.path)] = {
      status = "failed",
      short = "collection error: " .. (c.message or ""),
      output = ctx.output_path,
      errors = { { message = c.message or "collection error", line = c.line and (c.line - 1) or 0 } },
    }
  end
  return out
end

return adapter
