-- What `:PytestdRun <kind>` runs: the project root and the node ids for nearest, file, suite, last and failed.
local nearest = require("pytestd.nearest")
local paths = require("pytestd.paths")
local runs = require("pytestd.runs")

local M = {}

M.kinds = { "nearest", "file", "suite", "last", "failed" }

local function buffer_file(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return nil, nil, "pytestd: the buffer has no file"
  end
  local root = paths.find_root(name)
  if not root then
    return nil, nil, "pytestd: no project root (pytest.ini, pyproject.toml, setup.cfg, tox.ini, .git) above " .. name
  end
  return root, paths.relative(root, name)
end

--- {root, test_ids, label} for `kind`, or nil and a message. opts: {bufnr, row, treesitter}.
function M.resolve(kind, opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  if kind == "nearest" then
    local root, file, err = buffer_file(bufnr)
    if not root then
      return nil, err
    end
    local id = nearest.test_id(bufnr, opts.row, root, { treesitter = opts.treesitter })
    return { root = root, test_ids = { id or file }, label = id or file }
  elseif kind == "file" then
    local root, file, err = buffer_file(bufnr)
    if not root then
      return nil, err
    end
    return { root = root, test_ids = { file }, label = file }
  elseif kind == "suite" then
    return { root = paths.current_root(bufnr), test_ids = nil, label = "suite" }
  elseif kind == "last" or kind == "failed" then
    local root = paths.current_root(bufnr)
    if not runs.last_request[root] and not runs.last_finished[root] then
      root = runs.last_root
    end
    if not root then
      return nil, "pytestd: nothing ran yet"
    end
    if kind == "last" then
      local last = runs.last_request[root]
      if not last then
        return nil, "pytestd: nothing ran yet in " .. root
      end
      return { root = root, test_ids = last.test_ids, args = last.args, label = last.label }
    end
    local finished = runs.last_finished[root]
    if not finished then
      return nil, "pytestd: no finished run in " .. root
    end
    local ids = runs.failed_ids(finished)
    if #ids == 0 then
      return nil, "pytestd: the last run had no failures"
    end
    return { root = root, test_ids = ids, label = string.format("failed (%d)", #ids) }
  end
  return nil, "pytestd: unknown run kind " .. tostring(kind) .. " (nearest, file, suite, last, failed)"
end

return M
