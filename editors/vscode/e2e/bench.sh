#!/usr/bin/env bash
# Benchmark, not a test (never run in CI, asserts no figure): how long VS Code's Testing view takes to show every
# result of "Test: Run All Tests" on a generated suite of trivial tests, against pytest's own time.
#
#     bash editors/vscode/e2e/bench.sh [--tests 1000,10000] [--rounds 3] [--per-module 20] [--per-dir 25]
#                                      [--vsix FILE] [--only pytest,pytestd,vscode] [--profile]
#                                      [--run-timeout S] [--discovery-timeout S]
#
# For each size in --tests, a fresh project of that many passing tests (--per-module tests to a module,
# --per-dir modules to a directory; 0: all in tests/) and --rounds rounds, each timing in a rotated order:
#   pytest    `pytest -q` on the command line (and `--collect-only -q`),
#   pytestd   pytestd alone, a client reading every notification (bench/pytestd_alone.py),
#   vscode    a fresh code-server (a real VS Code) with the extension in Chromium: Run All from the command
#             palette until the Testing view's counter shows every test passed ("all shown") and until the run
#             ends there, with pytest's own wall time in that same run as pytestd logged it, and CPU per process.
# Prints a table of medians and writes everything to target/bench/vscode.json; code-server logs and screenshots
# go to target/bench/vscode-logs/, and with --profile CPU profiles of the extension host and the workbench page
# to target/bench/*.cpuprofile. The machine's load is recorded with each round: compare runs made under similar
# load only.
#
# Without --vsix it packages the extension from this checkout first (npm ci when node_modules is missing, then
# npm run package, which builds the release pytestd). pytestd alone runs the binary inside the .vsix.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
extension="$(cd "$here/.." && pwd)"
repo="$(cd "$extension/../.." && pwd)"
vsix=""
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --vsix) vsix="$(realpath "$2")"; shift 2 ;;
        --tests|--rounds|--per-module|--per-dir|--only|--run-timeout|--discovery-timeout) args+=("$1" "$2"); shift 2 ;;
        --profile) args+=("$1"); shift ;;
        *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
done

# shellcheck source=../../toolchain.sh
source "$repo/editors/toolchain.sh"
if [[ -z "$vsix" ]]; then
    [[ -d "$extension/node_modules" ]] || (cd "$extension" && npm ci --no-audit --no-fund >&2)
    (cd "$extension" && npm run -s package >&2)
    vsix="$extension/pytestd.vsix"
fi
[[ -f "$vsix" ]] || { echo "bench: no $vsix" >&2; exit 2; }
node_modules="$(bash "$here/install.sh")"
python="$(cd "$repo" && bash tests/venv.sh target/test-venv tests/requirements.txt)"

out="$repo/target/bench"
logs="$out/vscode-logs"
rm -rf "$logs"
mkdir -p "$logs"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/pytestd-vscode-bench.XXXXXX")"

# Whatever happens, nothing started here outlives the script (cleanup.sh).
# shellcheck source=cleanup.sh
source "$here/cleanup.sh"
trap 'cleanup_code_server "$tmp"' EXIT

# A copy: every round installs the same package even if pytestd.vsix is rebuilt meanwhile; and its daemon for
# the pytestd-alone rounds.
cp "$vsix" "$tmp/pytestd.vsix"
"$python" -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
    "$tmp/pytestd.vsix" extension/server/pytestd >"$tmp/pytestd"
chmod 755 "$tmp/pytestd"

NODE_PATH="$node_modules" node "$here/bench/main.js" --vsix "$tmp/pytestd.vsix" --python "$python" \
    --pytestd "$tmp/pytestd" --code-server "$node_modules/.bin/code-server" --tmp "$tmp" --out "$out/vscode.json" \
    --logs "$logs" ${args[@]+"${args[@]}"}
