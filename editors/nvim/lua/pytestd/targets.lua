-- What `:PytestdRun <kind>` runs: the project root and the node ids for nearest, file, suite, last and failed.
local config = require("pytestd.config")
local nearest = require("pytestd.nearest")
local paths = require("pytestd.paths")
local runs = require("pytestd.runs")

local M = {}

M.kinds = { "nearest", "file", "suite", "last", "failed" }

-- A file outside any project runs from its own directory, as pytest would take it for the rootdir.
local function buffer_file(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return nil, nil, "pytestd: the buffer has no file"
  end
  local root = paths.find_root(name) or paths.normalize(vim.fn.fnamemodify(paths.normalize(name), ":h"))
  return root, paths.relative(root, name)
end

-- pytest reads the file from disk: unsaved edits would put results on lines the buffer no longer has.
local function save(bufnr, root)
  if not config.get().save_before_run or not vim.api.nvim_buf_is_valid(bufnr) then
    return true
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  local bo = vim.bo[bufnr]
  if name == "" or not bo.modified or bo.readonly or not bo.modifiable or bo.buftype ~= "" then
    return true
  end
  if root and not paths.relative(root, name) then
    return true
  end
  local ok, err = pcall(vim.api.nvim_buf_call, bufnr, function()
    vim.cmd("silent write")
  end)
  if not ok then
    return false, "pytestd: could not save " .. name .. ": " .. tostring(err)
  end
  return true
end

--- {root, test_ids, label} for `kind`, or nil and a message. opts: {bufnr, row, treesitter}. Saves the
--- buffer first when it is modified and belongs to the run's project (save_before_run).
function M.resolve(kind, opts)
  opts = opts or {}
  local target, err = M.target(kind, opts)
  if target then
    local ok, save_err = save(opts.bufnr or vim.api.nvim_get_current_buf(), target.root)
    if not ok then
      return nil, save_err
    end
  end
  return target, err
end

function M.target(kind, opts)
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
    -- The buffer's own project (its directory for a file outside any), else the working directory's, else
    -- wherever something ran last.
    local candidates = { (buffer_file(bufnr)), paths.current_root(bufnr), runs.last_root }
    local root = nil
    for i = 1, 3 do
      local c = candidates[i]
      if not root and c and (runs.last_request[c] or runs.last_finished[c]) then
        root = c
      end
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
