#!/usr/bin/env bash
# The VS Code extension's whole test suite, as CI runs it:
#
#     bash editors/vscode/test.sh
#
# npm ci, lint, typecheck, unit tests (node's test runner; against the real pytestd release binary and pytest on
# test/fixtures), package pytestd.vsix, then the end-to-end test in a real VS Code (e2e/run.sh) when it is
# there. The last line reads "vscode: N passed, N failed" (unit + end-to-end tests; a failed build step counts
# as one failure); the exit status is non-zero on any failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=../toolchain.sh
source "$repo/editors/toolchain.sh"

passed=0
failed=0
last_failures=none
logdir="$(mktemp -d "${TMPDIR:-/tmp}/pytestd-vscode-test.XXXXXX")"
trap 'rm -rf "$logdir"' EXIT

finish() {
    echo "vscode: $passed passed, $failed failed"
    [[ "$failed" -eq 0 ]]
    exit $?
}

# A build step: its failure counts once, and what needs it cannot run.
step() {
    local name="$1"
    shift
    echo "== $name"
    if ! "$@"; then
        echo "vscode: step '$name' failed" >&2
        failed=$((failed + 1))
        return 1
    fi
}

# Adds the counts of node's test runner ("ℹ pass N", "ℹ fail N") from a log; last_failures: the failures it added.
count_unit() {
    local p f
    p="$(grep -oE '^ℹ pass [0-9]+' "$1" | tail -1 | grep -oE '[0-9]+' || true)"
    f="$(grep -oE '^ℹ fail [0-9]+' "$1" | tail -1 | grep -oE '[0-9]+' || true)"
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    last_failures="${f:-none}"
}

# Adds the counts of e2e/run.sh's last line ("vscode-e2e: N passed, N failed"); last_failures: the failures it added.
count_e2e() {
    local last p f
    last="$(grep -E '^vscode-e2e: [0-9]+ passed, [0-9]+ failed$' "$1" | tail -1 || true)"
    p="$(sed -nE 's/^vscode-e2e: ([0-9]+) passed, ([0-9]+) failed$/\1/p' <<<"$last")"
    f="$(sed -nE 's/^vscode-e2e: ([0-9]+) passed, ([0-9]+) failed$/\2/p' <<<"$last")"
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    last_failures="${f:-none}"
}

cd "$here"
step "npm ci" npm ci --no-audit --no-fund || finish
step "lint" npm run -s lint
step "typecheck" npm run -s typecheck
step "release binary" bash -c "cd '$repo' && cargo build --release -p pytestd" || finish
binary="$repo/target/release/pytestd"
python="$(cd "$repo" && bash tests/venv.sh target/test-venv tests/requirements.txt)" || { failed=$((failed + 1)); finish; }

echo "== unit tests"
PYTESTD_TEST_BINARY="$binary" PYTESTD_TEST_PYTHON="$python" npm run -s test:unit 2>&1 | tee "$logdir/unit.log"
unit_status="${PIPESTATUS[0]}"
count_unit "$logdir/unit.log"
if [[ "$unit_status" -ne 0 && ( "$last_failures" == none || "$last_failures" -eq 0 ) ]]; then
    failed=$((failed + 1)) # the runner itself failed (a build error): no failing test to show for it
fi

step "package" env PYTESTD_BINARY="$binary" npm run -s package || finish

if [[ -f "$here/e2e/run.sh" ]]; then
    echo "== end-to-end tests"
    bash "$here/e2e/run.sh" "$here/pytestd.vsix" 2>&1 | tee "$logdir/e2e.log"
    e2e_status="${PIPESTATUS[0]}"
    count_e2e "$logdir/e2e.log"
    if [[ "$e2e_status" -ne 0 && ( "$last_failures" == none || "$last_failures" -eq 0 ) ]]; then
        failed=$((failed + 1)) # it failed without a failing test to show for it (setup, install)
    fi
fi
finish
