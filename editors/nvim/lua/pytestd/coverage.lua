-- Coverage runs: a pytestd run measured by coverage.py, whose result (covered and missed lines, branches, and
-- with per_test which test ran which line) is kept per project root until the next coverage run of that root
-- or :PytestdCoverage clear, drawn as signs in every buffer of a measured file and summarized per file.
local config = require("pytestd.config")
local paths = require("pytestd.paths")
local runs = require("pytestd.runs")

local M = {}

-- root -> { files = {path -> FileCoverage}, totals, tests?, run_id, label }
local by_root = {}
M.last_root = nil

--- runTests' `coverage` param from the settings and `opts` ({branch?, per_test?, include?, omit?}).
function M.params(opts)
  local settings = vim.tbl_extend("force", config.get().coverage or {}, opts or {})
  local params = vim.empty_dict()
  params.branch = settings.branch and true or false
  if settings.per_test then
    params.perTest = true
  end
  params.include = settings.include
  params.omit = settings.omit
  return params
end

--- Keeps a run's coverage as `root`'s and redraws every buffer.
function M.set(root, data, run)
  by_root[root] = {
    files = data.files or {},
    totals = data.totals or {},
    tests = data.tests,
    run_id = run and run.id,
    label = run and run.label,
  }
  M.last_root = root
  require("pytestd.ui.coverage_signs").draw_all()
end

function M.get(root)
  return by_root[root]
end

function M.roots()
  return vim.tbl_keys(by_root)
end

--- Forgets every root's coverage (or only `root`'s) and removes the signs.
function M.clear(root)
  if root then
    by_root[root] = nil
  else
    by_root = {}
  end
  if M.last_root and not by_root[M.last_root] then
    M.last_root = nil
  end
  require("pytestd.ui.coverage_signs").draw_all()
end

--- The coverage of the file `name` (an absolute path): FileCoverage, root and the key it is kept under.
function M.file_of(name)
  name = paths.normalize(name)
  for root, data in pairs(by_root) do
    local rel = paths.relative(root, name)
    local f = (rel and data.files[rel]) or data.files[name]
    if f then
      return f, root, rel or name
    end
  end
  return nil
end

--- Line numbers (1-based) of `file` (FileCoverage) that ran but left a branch untaken.
function M.partial_lines(file)
  local out = {}
  local covered = {}
  for _, l in ipairs(file.covered or {}) do
    covered[l] = true
  end
  for _, arc in ipairs(file.branches and file.branches.missing or {}) do
    if covered[arc[1]] then
      out[arc[1]] = true
    end
  end
  return out
end

--- Ids of the tests that ran line `line` of the file `name` (needs a per_test run), sorted.
function M.tests_at(name, line)
  local _, root, key = M.file_of(name)
  local data = root and by_root[root]
  local out = {}
  for id, files in pairs(data and data.tests or {}) do
    for _, l in ipairs(files[key] or {}) do
      if l == line then
        out[#out + 1] = id
        break
      end
    end
  end
  table.sort(out)
  return out
end

--- Starts a coverage run of `target` ({root, test_ids, label}); opts: {branch?, per_test?, on_finished?,
--- no_summary? (do not open the summary float this time)}.
function M.start(target, opts)
  opts = opts or {}
  return runs.start({
    root = target.root,
    kind = "coverage",
    test_ids = target.test_ids,
    args = target.args,
    label = "coverage " .. (target.label or "run"),
    coverage = M.params(opts),
    on_finished = function(run)
      if run.coverage then
        M.set(run.root, run.coverage, run)
        if config.get().coverage.open_summary and not opts.no_summary then
          require("pytestd.ui.coverage_summary").open(run.root)
        end
      elseif run.status ~= "cancelled" then
        vim.notify("pytestd: the coverage run measured nothing: " .. table.concat(run.errors or {}, "; "), vim.log.levels.WARN)
      end
      if opts.on_finished then
        opts.on_finished(run)
      end
    end,
  })
end

return M
