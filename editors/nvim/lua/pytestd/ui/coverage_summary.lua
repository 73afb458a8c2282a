-- The per-file coverage summary of a root's last coverage run, in a float: statements, missed, branches,
-- partly taken branch lines and percent per file (as coverage.py's report counts them), then the total.
-- <CR> on a file's row opens that file.
local compat = require("pytestd.compat")
local paths = require("pytestd.paths")

local M = {}

--- coverage.py's way of showing a percentage: rounded, but never 100 unless all ran, nor 0 unless none did.
function M.percent_text(pc)
  local rounded = math.floor(pc + 0.5)
  if rounded == 100 and pc < 100 then
    rounded = 99
  elseif rounded == 0 and pc > 0 then
    rounded = 1
  end
  return string.format("%d%%", rounded)
end

--- One file's numbers: {statements, missed, branches?, partial?, percent}.
function M.file_numbers(file)
  local covered, missed = #(file.covered or {}), #(file.missed or {})
  local n = { statements = covered + missed, missed = missed }
  local hit, total = covered, covered + missed
  if file.branches then
    n.branches = file.branches.total
    n.partial = vim.tbl_count(require("pytestd.coverage").partial_lines(file))
    hit = hit + file.branches.covered
    total = total + file.branches.total
  end
  n.percent = total == 0 and 100 or hit * 100 / total
  return n
end

--- The summary's lines, and line number -> file path for the rows that name a file.
function M.lines(data)
  local names = vim.tbl_keys(data.files)
  table.sort(names)
  local branch = data.totals.branches ~= nil
  local width = #"TOTAL"
  for _, name in ipairs(names) do
    width = math.max(width, #name)
  end
  local fmt = "%-" .. width .. "s %7s %7s" .. (branch and " %7s %7s" or "%s%s") .. " %7s"
  local function row(name, stmts, miss, br, part, pc)
    return string.format(fmt, name, stmts, miss, branch and br or "", branch and part or "", pc)
  end
  local lines = { row("File", "Stmts", "Miss", "Branch", "BrPart", "Cover") }
  lines[2] = string.rep("-", #lines[1])
  local files = {}
  local partial_total = 0
  for _, name in ipairs(names) do
    local n = M.file_numbers(data.files[name])
    partial_total = partial_total + (n.partial or 0)
    lines[#lines + 1] = row(name, n.statements, n.missed, n.branches or "", n.partial or "", M.percent_text(n.percent))
    files[#lines] = name
  end
  local t = data.totals
  lines[#lines + 1] = lines[2]
  lines[#lines + 1] = row("TOTAL", t.statements or 0, t.missed or 0, t.branches or "", partial_total, M.percent_text(t.percent or 0))
  return lines, files
end

--- Opens the summary of `root`'s coverage (default: the last measured root). Returns buf, win.
function M.open(root)
  local coverage = require("pytestd.coverage")
  root = root or coverage.last_root
  local data = root and coverage.get(root)
  if not data then
    vim.notify("pytestd: no coverage yet (:PytestdCoverage file or suite)", vim.log.levels.INFO)
    return nil
  end
  local lines, files = M.lines(data)
  local buf, win = require("pytestd.ui.float").open(lines, { filetype = "pytestd_coverage" })
  compat.buf_set_option(buf, "modifiable", false)
  vim.api.nvim_buf_set_keymap(buf, "n", "<CR>", "", {
    noremap = true,
    silent = true,
    callback = function()
      local file = files[vim.api.nvim_win_get_cursor(0)[1]]
      if file then
        vim.cmd("close")
        vim.cmd("edit " .. vim.fn.fnameescape(paths.absolute(root, file)))
      end
    end,
  })
  return buf, win
end

return M
