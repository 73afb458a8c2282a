#!/usr/bin/env bash
# Runs every test of the repository on a machine that has only the Rust toolchain and python3.
#
# It keeps a virtualenv with the pinned test dependencies in target/test-venv (rebuilt when
# tests/requirements.txt or the interpreter changes), points the end-to-end tests at it through
# PYTESTD_TEST_PYTHON, and runs `cargo test --workspace` with any extra arguments given.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=target/test-venv
requirements=tests/requirements.txt
stamp="$venv/.requirements.stamp"

# The stamp names what the venv was built from: the requirements' content and the base interpreter.
want_stamp="$(cat "$requirements"; python3 -c 'import sys; print(sys.version)')"

if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want_stamp" ]]; then
    echo "tests/run.sh: creating $venv with $(python3 --version)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    # Written last, so an interrupted install is redone on the next run.
    printf '%s' "$want_stamp" >"$stamp"
fi

PYTESTD_TEST_PYTHON="$(pwd)/$venv/bin/python"
export PYTESTD_TEST_PYTHON

# --no-fail-fast: one failing test binary should not hide the results of the others. --all-targets: there are
# no doctests, and an empty doctest run would close the output on "0 passed".
exec cargo test --workspace --all-targets --no-fail-fast "$@"
