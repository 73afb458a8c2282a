#!/usr/bin/env bash
# Prints the path of the Python interpreter of a virtualenv built from a requirements file, creating (or
# rebuilding) it first when needed:
#
#     tests/venv.sh target/test-venv tests/requirements.txt
#
# The venv carries a stamp of what it was built from (the requirements' content and the base interpreter's
# version) and is rebuilt when that changes. Paths are relative to the repository root.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv="${1:?usage: tests/venv.sh VENV_DIR REQUIREMENTS}"
requirements="${2:?usage: tests/venv.sh VENV_DIR REQUIREMENTS}"
[[ -f "$requirements" ]] || { echo "venv.sh: no $requirements" >&2; exit 2; }
stamp="$venv/.requirements.stamp"
want_stamp="$(cat "$requirements"; python3 -c 'import sys; print(sys.version)')"

if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want_stamp" ]]; then
    echo "venv.sh: creating $venv with $(python3 --version)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
    # Written last, so an interrupted install is redone on the next run.
    printf '%s' "$want_stamp" >"$stamp"
fi
echo "$(pwd)/$venv/bin/python"
