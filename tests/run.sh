#!/usr/bin/env bash
# Runs every test of the repository on a machine that has only the Rust toolchain and python3.
#
# It keeps a virtualenv with the pinned test dependencies in target/test-venv (rebuilt when
# tests/requirements.txt or the interpreter changes), points the end-to-end tests at it through
# PYTESTD_TEST_PYTHON, and runs `cargo test --workspace`. Then come the editor clients' suites: the VS Code
# extension (unit tests and an end-to-end test in a real VS Code, code-server driven by Chromium) and the Neovim
# plugin (headless Neovim 0.7.2 and 0.11.4). They install what they need themselves (Node.js 24 and npm packages
# into a cache outside the repository; chromium, neovim and a C compiler's libraries from Debian), so they need
# root or those packages already installed. Last, the Python wheel that carries the binary is built with maturin and
# installed into a fresh virtualenv to run the demo (tests/packaging/wheel.sh).
#
#     bash tests/run.sh              # everything
#     bash tests/run.sh FILTER...    # only `cargo test --workspace --all-targets FILTER...`, no editor suites
#
# Every suite runs even when an earlier one failed; the exit status is non-zero if any failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The pinned test dependencies live in target/test-venv, rebuilt when tests/requirements.txt or python3 changes.
PYTESTD_TEST_PYTHON="$(bash tests/venv.sh target/test-venv tests/requirements.txt)" || exit 1
export PYTESTD_TEST_PYTHON

status=0
# --no-fail-fast: one failing test binary should not hide the results of the others. --all-targets: there are
# no doctests, and an empty doctest run would close the output on "0 passed".
cargo test --workspace --all-targets --no-fail-fast "$@" || status=1

if [[ $# -eq 0 ]]; then
    # The wheel check last: the VS Code suite's release build leaves it little to compile.
    for suite in editors/vscode/test.sh editors/nvim/test.sh tests/packaging/wheel.sh; do
        echo "tests/run.sh: bash $suite" >&2
        bash "$suite" || status=1
    done
fi
exit "$status"
