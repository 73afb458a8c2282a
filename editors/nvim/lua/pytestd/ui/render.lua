-- Draws the state of a file into its loaded buffers: one sign per test line (the worst status of the tests on
-- it) and vim.diagnostic entries in the `pytestd` namespace for failures and collection errors. Redraws are
-- batched: many results in a burst cost one redraw per buffer.
local config = require("pytestd.config")
local nearest = require("pytestd.nearest")
local paths = require("pytestd.paths")
local state = require("pytestd.state")
local status = require("pytestd.status")

local M = {}

M.ns = vim.api.nvim_create_namespace("pytestd")
M.sign_group = "pytestd"

local dirty = {} -- root -> { file = true }
local flush_scheduled = false
local defined = false

function M.define_signs()
  local opts = config.get()
  for name, link in pairs(status.highlight_links) do
    vim.cmd(string.format("highlight default link %s %s", name, link))
  end
  for outcome, s in pairs(status.outcomes) do
    vim.fn.sign_define(s.sign, { text = opts.signs.text[outcome] or "?", texthl = s.hl })
  end
  defined = true
end

--- Loaded buffers showing `file` of `root`.
local function buffers_for(root, file)
  local out = {}
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) then
      local name = vim.api.nvim_buf_get_name(b)
      if name ~= "" and paths.relative(root, name) == file then
        out[#out + 1] = b
      end
    end
  end
  return out
end

local function message_of(id, result)
  local msg = result.message
  if not msg or msg == "" then
    msg = string.format("%s%s", result.outcome, result.when and (" in " .. result.when) or "")
  end
  -- Parametrized cases share a line: say which one failed.
  local case = id:match("(%[.*%])$")
  if case then
    msg = case .. " " .. msg
  end
  return msg
end

function M.draw(bufnr, root, file)
  local opts = config.get()
  if not defined then
    M.define_signs()
  end
  if opts.signs.enabled then
    vim.fn.sign_unplace(M.sign_group, { buffer = bufnr })
    local lines = {}
    local line_count = vim.api.nvim_buf_line_count(bufnr)
    local def_lines = nil -- qualified name -> line, computed once per draw and only when needed
    for _, t in ipairs(state.tests_in_file(root, file)) do
      local line = t.entry.line
      local qualified = not line and t.id:match("::(.*)$")
      if qualified then
        -- A running test with no earlier result: its definition's line in the buffer.
        if not def_lines then
          def_lines = {}
          for _, def in ipairs(nearest.definitions(bufnr)) do
            def_lines[nearest.qualified(def)] = def.start + 1
          end
        end
        line = def_lines[(qualified:gsub("%[.*%]$", ""))]
      end
      if line and line >= 1 and line <= line_count then
        lines[line] = status.worst(lines[line], t.entry.outcome)
      end
    end
    for line, outcome in pairs(lines) do
      vim.fn.sign_place(0, M.sign_group, status.get(outcome).sign, bufnr, { lnum = line, priority = opts.signs.priority })
    end
  end
  if opts.diagnostics.enabled then
    local diags = {}
    local line_count = vim.api.nvim_buf_line_count(bufnr)
    local function clamp(line)
      return math.max(0, math.min((line or 1) - 1, line_count - 1))
    end
    for _, t in ipairs(state.failures_in_file(root, file)) do
      diags[#diags + 1] = {
        lnum = clamp(t.entry.failure.line),
        col = 0,
        severity = vim.diagnostic.severity[status.get(t.entry.outcome).severity],
        message = message_of(t.id, t.entry.result),
        source = "pytestd",
        user_data = { test_id = t.id, run_id = t.entry.run_id },
      }
    end
    local cerr = state.collection_in_file(root, file)
    if cerr then
      diags[#diags + 1] = {
        lnum = clamp(cerr.line),
        col = 0,
        severity = vim.diagnostic.severity.ERROR,
        message = cerr.message or "collection failed",
        source = "pytestd",
        user_data = { collection_error = true },
      }
    end
    vim.diagnostic.set(M.ns, bufnr, diags)
  end
end

--- Draws every loaded buffer of `files` now.
function M.draw_files(root, files)
  for _, file in ipairs(files) do
    for _, b in ipairs(buffers_for(root, file)) do
      M.draw(b, root, file)
    end
  end
end

function M.flush()
  flush_scheduled = false
  local d = dirty
  dirty = {}
  for root, files in pairs(d) do
    M.draw_files(root, vim.tbl_keys(files))
  end
end

--- Marks files for the next batched redraw.
function M.mark(root, files)
  local set = dirty[root] or {}
  dirty[root] = set
  for _, f in ipairs(files) do
    set[f] = true
  end
  if not flush_scheduled then
    flush_scheduled = true
    vim.defer_fn(M.flush, 30)
  end
end

--- Draws a buffer that was just (re)loaded, if it belongs to a project with results.
function M.draw_buffer(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return
  end
  for _, root in ipairs(state.roots()) do
    local file = paths.relative(root, name)
    if file then
      M.draw(bufnr, root, file)
    end
  end
end

return M
