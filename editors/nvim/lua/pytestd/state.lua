-- What the editor shows per project root: each test's latest status (from whichever run reported it last) and
-- each file's collection error, indexed by file so drawing a buffer touches only its own tests.
local failures = require("pytestd.failures")
local paths = require("pytestd.paths")
local status = require("pytestd.status")

local M = {}

---@type table<string, table> root -> { tests, by_file, failures_by_file, collection }
local roots = {}

local function root_state(root)
  local s = roots[root]
  if not s then
    s = { tests = {}, by_file = {}, failures_by_file = {}, collection = {} }
    roots[root] = s
  end
  return s
end

local function index(map, file, id, on)
  local set = map[file]
  if on then
    if not set then
      set = {}
      map[file] = set
    end
    set[id] = true
  elseif set then
    set[id] = nil
  end
end

--- Files whose drawing changes with test `id`'s entry (its own file and where its failures are shown).
local function files_of(entry, id)
  local files = { paths.id_file(id) }
  for _, f in ipairs(entry and entry.failures or {}) do
    files[#files + 1] = f.path
  end
  return files
end

local function unindex_failures(s, entry, id)
  for _, f in ipairs(entry and entry.failures or {}) do
    index(s.failures_by_file, f.path, id, false)
  end
end

--- Marks `id` running in `run_id`. Returns the files to redraw.
function M.test_started(root, run_id, id)
  local s = root_state(root)
  local old = s.tests[id]
  local files = files_of(old, id)
  unindex_failures(s, old, id)
  s.tests[id] = { outcome = "running", run_id = run_id, line = old and old.line }
  index(s.by_file, paths.id_file(id), id, true)
  return files
end

--- Records a TestResult. Returns the files to redraw.
function M.test_result(root, run_id, result)
  local s = root_state(root)
  local id = result.testId
  local old = s.tests[id]
  local files = files_of(old, id)
  unindex_failures(s, old, id)
  local entry = {
    outcome = status.of(result),
    run_id = run_id,
    result = result,
    line = result.location and result.location.line or (old and old.line),
    failures = failures.of(root, result),
  }
  local file = result.location and result.location.path or paths.id_file(id)
  index(s.by_file, file, id, true)
  if file ~= paths.id_file(id) then
    index(s.by_file, paths.id_file(id), id, true)
  end
  for _, f in ipairs(entry.failures) do
    index(s.failures_by_file, f.path, id, true)
    files[#files + 1] = f.path
  end
  s.tests[id] = entry
  return files
end

--- Forgets test `id` (no longer collected). Returns the files to redraw.
function M.forget(root, id)
  local s = root_state(root)
  local entry = s.tests[id]
  if not entry then
    return {}
  end
  local files = files_of(entry, id)
  unindex_failures(s, entry, id)
  s.tests[id] = nil
  index(s.by_file, paths.id_file(id), id, false)
  local file = entry.result and entry.result.location and entry.result.location.path
  if file then
    index(s.by_file, file, id, false)
  end
  return files
end

--- Ids {id, entry} of every test with a state in `root`.
function M.all(root)
  local s = roots[root]
  local out = {}
  for id, entry in pairs(s and s.tests or {}) do
    out[#out + 1] = { id = id, entry = entry }
  end
  return out
end

--- A run ended without a result for `id` (cancelled while it ran): back to no status. Returns files to redraw.
function M.test_abandoned(root, run_id, id)
  local s = root_state(root)
  local entry = s.tests[id]
  if entry and entry.outcome == "running" and entry.run_id == run_id then
    s.tests[id] = nil
    index(s.by_file, paths.id_file(id), id, false)
    return { paths.id_file(id) }
  end
  return {}
end

--- Records a CollectionError ({path, line?, message, traceback}). Returns the files to redraw.
function M.collection_error(root, run_id, err)
  local s = root_state(root)
  s.collection[err.path] = { run_id = run_id, error = err }
  return { err.path }
end

--- Forgets collection errors of files a new run with `test_ids` (nil: the whole suite) collects again.
function M.clear_collection(root, test_ids)
  local s = root_state(root)
  local files = {}
  for file in pairs(s.collection) do
    local covered = test_ids == nil or #test_ids == 0
    for _, id in ipairs(test_ids or {}) do
      local f = paths.id_file(id)
      if f == file or file:sub(1, #f + 1) == f .. "/" then
        covered = true
      end
    end
    if covered then
      s.collection[file] = nil
      files[#files + 1] = file
    end
  end
  return files
end

function M.get(root, id)
  local s = roots[root]
  return s and s.tests[id]
end

--- Entries {id, entry} for the ids of `index` (a set) that `keep` accepts, sorted by id.
local function sorted_entries(s, index, keep)
  local out = {}
  for id in pairs(index or {}) do
    local entry = s.tests[id]
    if entry and keep(entry) then
      out[#out + 1] = { id = id, entry = entry }
    end
  end
  table.sort(out, function(a, b)
    return a.id < b.id
  end)
  return out
end

--- Entries {id, entry} of tests defined in `file` (root-relative).
function M.tests_in_file(root, file)
  local s = roots[root]
  if not s then
    return {}
  end
  return sorted_entries(s, s.by_file[file], function()
    return true
  end)
end

--- {id, entry, failure} for every failure shown in `file` (a test's own and its subtests').
function M.failures_in_file(root, file)
  local s = roots[root]
  if not s then
    return {}
  end
  local out = {}
  for _, t in ipairs(sorted_entries(s, s.failures_by_file[file], function(entry)
    return entry.failures ~= nil
  end)) do
    for _, f in ipairs(t.entry.failures) do
      if f.path == file then
        out[#out + 1] = { id = t.id, entry = t.entry, failure = f }
      end
    end
  end
  return out
end

function M.collection_in_file(root, file)
  local s = roots[root]
  local c = s and s.collection[file]
  return c and c.error
end

function M.roots()
  local list = {}
  for root in pairs(roots) do
    list[#list + 1] = root
  end
  return list
end

function M.reset()
  roots = {}
end

return M
