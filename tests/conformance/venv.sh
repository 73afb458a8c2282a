#!/usr/bin/env bash
# Prints the path of a Python interpreter with the conformance check's packages for one pytest version, creating
# its virtualenv first when needed:
#
#     tests/conformance/venv.sh pytest7    # target/conformance-venv-pytest7, from requirements-pytest7.txt
#     tests/conformance/venv.sh pytest8    # target/conformance-venv-pytest8, from requirements-pytest8.txt
#
# Like tests/run.sh's target/test-venv (pytest 9, from tests/requirements.txt), each venv carries a stamp of what
# it was built from (the requirements' content and the base interpreter's version) and is rebuilt when that changes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

name="${1:?usage: tests/conformance/venv.sh pytest7|pytest8}"
requirements="tests/conformance/requirements-$name.txt"
[[ -f "$requirements" ]] || { echo "venv.sh: no $requirements" >&2; exit 2; }
venv="target/conformance-venv-$name"
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
