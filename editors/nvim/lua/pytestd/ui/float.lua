-- A scratch buffer in a centred floating window, closed with q or <Esc>; for :PytestdOutput and :PytestdRuns.
-- opts: {filetype?, fit? (no wrapping: as wide as the longest line, for tables whose columns must stay whole)}.
local compat = require("pytestd.compat")
local config = require("pytestd.config")

local M = {}

function M.open(lines, opts)
  opts = opts or {}
  local fopts = config.get().float
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  compat.buf_set_option(buf, "modifiable", false)
  compat.buf_set_option(buf, "bufhidden", "wipe")
  if opts.filetype then
    compat.buf_set_option(buf, "filetype", opts.filetype)
  end
  local columns, rows = vim.o.columns, vim.o.lines
  local width = math.max(20, math.floor(columns * fopts.width))
  local longest = 0
  for _, l in ipairs(lines) do
    longest = math.max(longest, vim.fn.strdisplaywidth(l))
  end
  if opts.fit then
    -- Wide enough for the longest line when the editor allows it; the rest scrolls sideways, never wraps.
    width = math.max(width, math.min(longest, columns - 4))
  end
  -- Wrapped lines take more rows than there are lines: count them, or the last ones fall out of sight.
  local needed = 0
  for _, l in ipairs(lines) do
    needed = needed + (opts.fit and 1 or math.max(1, math.ceil(vim.fn.strdisplaywidth(l) / width)))
  end
  local height = math.max(3, math.min(needed, math.floor(rows * fopts.height)))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor",
    width = width,
    height = height,
    row = math.floor((rows - height) / 2) - 1,
    col = math.floor((columns - width) / 2),
    style = "minimal",
    border = fopts.border,
  })
  compat.win_set_option(win, "wrap", not opts.fit)
  for _, key in ipairs({ "q", "<Esc>" }) do
    vim.api.nvim_buf_set_keymap(buf, "n", key, "<cmd>close<CR>", { noremap = true, silent = true })
  end
  return buf, win
end

return M
