#!/usr/bin/env bash
# Runs every test of the repository on a machine that has only the Rust toolchain and python3.
#
# It keeps a virtualenv with the pinned test dependencies in target/test-venv (rebuilt when
# tests/requirements.txt or the interpreter changes), points the end-to-end tests at it through
# PYTESTD_TEST_PYTHON, and runs `cargo test --workspace` with any extra arguments given.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The pinned test dependencies live in target/test-venv, rebuilt when tests/requirements.txt or python3 changes.
PYTESTD_TEST_PYTHON="$(bash tests/venv.sh target/test-venv tests/requirements.txt)"
export PYTESTD_TEST_PYTHON

# --no-fail-fast: one failing test binary should not hide the results of the others. --all-targets: there are
# no doctests, and an empty doctest run would close the output on "0 passed".
exec cargo test --workspace --all-targets --no-fail-fast "$@"
