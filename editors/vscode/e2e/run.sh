#!/usr/bin/env bash
# The pytestd extension's end-to-end test in a real VS Code (code-server driven by Debian's Chromium):
#
#     bash editors/vscode/e2e/run.sh editors/vscode/pytestd.vsix
#
# Installs what it needs (install.sh), then runs main.js. Screenshots, the code-server log and the extension's
# state after a failure go to target/ci-logs/vscode/. The last line reads "vscode-e2e: N passed, N failed"; the
# exit status is non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
vsix="$(realpath "${1:?usage: run.sh VSIX}")"
shift
[[ -f "$vsix" ]] || { echo "vscode-e2e: no $vsix" >&2; exit 2; }

# shellcheck source=../../toolchain.sh
source "$repo/editors/toolchain.sh"
node_modules="$(bash "$here/install.sh")"
python="$(bash "$repo/tests/venv.sh" target/test-venv tests/requirements.txt)"

logs="$repo/target/ci-logs/vscode"
rm -rf "$logs"
mkdir -p "$logs"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/pytestd-vscode-e2e.XXXXXX")"

# Whatever happens, nothing started here outlives the script (cleanup.sh).
# shellcheck source=cleanup.sh
source "$here/cleanup.sh"
trap 'cleanup_code_server "$tmp"' EXIT

status=0
NODE_PATH="$node_modules" node "$here/main.js" --vsix "$vsix" --python "$python" \
    --code-server "$node_modules/.bin/code-server" --logs "$logs" --tmp "$tmp" "$@" || status=$?
exit "$status"
