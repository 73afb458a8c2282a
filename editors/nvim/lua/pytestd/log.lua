-- The shared log: every window/logMessage line of every daemon (pytest's output prefixed with its run id, and
-- the daemon's own lines), kept in memory and mirrored live into the :PytestdLog buffer when it is open.
local compat = require("pytestd.compat")
local config = require("pytestd.config")

local M = {}

local lines = {}
local first = 1 -- index of the oldest kept line; older ones are dropped past log_max_lines
local bufnr = nil

local function buffer_valid()
  return bufnr and vim.api.nvim_buf_is_valid(bufnr)
end

function M.append(text)
  local new = vim.split(text, "\n", { plain = true })
  for _, line in ipairs(new) do
    lines[#lines + 1] = line
  end
  local max = config.get().log_max_lines
  while #lines - first + 1 > max do
    lines[first] = nil
    first = first + 1
  end
  if buffer_valid() then
    local before = vim.api.nvim_buf_line_count(bufnr)
    compat.buf_set_option(bufnr, "modifiable", true)
    vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, new)
    compat.buf_set_option(bufnr, "modifiable", false)
    -- Follow like `tail -f` in windows whose cursor sits on the last line; one scrolled up stays put.
    local count = vim.api.nvim_buf_line_count(bufnr)
    for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
      if vim.api.nvim_win_get_cursor(win)[1] >= before then
        vim.api.nvim_win_set_cursor(win, { count, 0 })
      end
    end
  end
end

function M.lines()
  local out = {}
  for i = first, #lines do
    out[#out + 1] = lines[i]
  end
  return out
end

--- Opens the log in a scratch buffer (reused) in a split below, or goes to the window already showing it;
--- the cursor goes to the end, and follows new lines while it stays there.
function M.open()
  if not buffer_valid() then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, "pytestd://log")
    compat.buf_set_option(bufnr, "bufhidden", "hide")
    compat.buf_set_option(bufnr, "filetype", "pytestdlog")
  end
  compat.buf_set_option(bufnr, "modifiable", true)
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, M.lines())
  compat.buf_set_option(bufnr, "modifiable", false)
  local shown = vim.fn.win_findbuf(bufnr)
  local here = nil
  for _, win in ipairs(shown) do
    if vim.api.nvim_win_get_tabpage(win) == vim.api.nvim_get_current_tabpage() then
      here = win
    end
  end
  if here then
    vim.api.nvim_set_current_win(here)
  else
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, bufnr)
  end
  local count = vim.api.nvim_buf_line_count(bufnr)
  vim.api.nvim_win_set_cursor(0, { count, 0 })
  return bufnr
end

return M
