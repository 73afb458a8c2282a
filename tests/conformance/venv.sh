#!/usr/bin/env bash
# Prints the path of a Python interpreter with the conformance check's packages for one pytest version, creating
# its virtualenv first when needed (see tests/venv.sh):
#
#     tests/conformance/venv.sh pytest7    # target/conformance-venv-pytest7, from requirements-pytest7.txt
#     tests/conformance/venv.sh pytest8    # target/conformance-venv-pytest8, from requirements-pytest8.txt
set -euo pipefail

here="$(dirname "${BASH_SOURCE[0]}")"
name="${1:?usage: tests/conformance/venv.sh pytest7|pytest8}"
exec bash "$here/../venv.sh" "target/conformance-venv-$name" "tests/conformance/requirements-$name.txt"
