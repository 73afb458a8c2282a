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

-- Where each test of `file` is in the buffer now. pytest's line is the file as it was when the test ran; the
-- buffer may have moved on since (lines added and saved, then `:e!`, or the buffer shown again). A test found
-- among the buffer's definitions is placed there, and its failures inside its own body shift with it; one not
-- found (inherited, generated) keeps pytest's line.
-- Scanning a long file costs more than drawing it: the definitions are kept until the buffer changes.
local defs_cache = {} -- bufnr -> { tick, defs = {qualified name -> def} }

local function definitions(bufnr)
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local c = defs_cache[bufnr]
  if not c or c.tick ~= tick then
    for b in pairs(defs_cache) do
      if not vim.api.nvim_buf_is_loaded(b) then
        defs_cache[b] = nil
      end
    end
    c = { tick = tick, defs = {} }
    for _, def in ipairs(nearest.definitions(bufnr)) do
      c.defs[nearest.qualified(def)] = def
    end
    defs_cache[bufnr] = c
  end
  return c.defs
end

local function placements(bufnr, root, file)
  local defs = nil
  local out = {}
  for _, t in ipairs(state.tests_in_file(root, file)) do
    local p = { id = t.id, entry = t.entry, line = t.entry.line, shift = 0 }
    local qualified = paths.id_file(t.id) == file and t.id:match("::(.*)$")
    if qualified then
      defs = defs or definitions(bufnr)
      local def = defs[(qualified:gsub("%[.*%]$", ""))]
      if def then
        p.shift = p.line and (def.start + 1 - p.line) or 0
        p.line = def.start + 1
        p.span = def.stop - def.start
      end
    end
    out[#out + 1] = p
  end
  return out
end

function M.draw(bufnr, root, file)
  local opts = config.get()
  if not defined then
    M.define_signs()
  end
  local placed = placements(bufnr, root, file)
  local line_count = vim.api.nvim_buf_line_count(bufnr)
  if opts.signs.enabled then
    vim.fn.sign_unplace(M.sign_group, { buffer = bufnr })
    local lines = {}
    for _, p in ipairs(placed) do
      local line = p.line
      if line and line >= 1 and line <= line_count then
        lines[line] = status.worst(lines[line], p.entry.outcome)
      end
    end
    for line, outcome in pairs(lines) do
      vim.fn.sign_place(0, M.sign_group, status.get(outcome).sign, bufnr, { lnum = line, priority = opts.signs.priority })
    end
  end
  if opts.diagnostics.enabled then
    local diags = {}
    local function clamp(line)
      return math.max(0, math.min((line or 1) - 1, line_count - 1))
    end
    local moved = {}
    for _, p in ipairs(placed) do
      moved[p.id] = p
    end
    for _, t in ipairs(state.failures_in_file(root, file)) do
      local line = t.failure.line
      local p = moved[t.id]
      -- Only a failure inside the test's body moves with it: one in a helper above it did not move.
      if p and p.shift ~= 0 and p.span and t.entry.line and line >= t.entry.line and line <= t.entry.line + p.span then
        line = line + p.shift
      end
      diags[#diags + 1] = {
        lnum = clamp(line),
        col = 0,
        severity = vim.diagnostic.severity[status.get(t.entry.outcome).severity],
        message = t.failure.message,
        source = "pytestd",
        user_data = { test_id = t.id, run_id = t.entry.run_id, subtest = t.failure.subtest },
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
