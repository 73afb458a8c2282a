#!/usr/bin/env bash
# Build pytestd and run the bundled demo project with `pytestd run`: a progress bar on a terminal, each failure as it
# happens, then a summary. Extra arguments go to `pytestd run` (e.g. `-v`, `--json`, `--junit-xml report.xml`).
# Needs only the Rust toolchain and python3; creates editors/scripting/demo/.venv with pytest on first use.
# The demo has one intentionally failing test: exit code 1 ("tests failed") counts as success here.
# The stdlib scripting client (pytestd_client.py, driving `pytestd serve`) runs the same demo with:
#   python3 editors/scripting/pytestd_client.py --python editors/scripting/demo/.venv/bin/python editors/scripting/demo
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."

cargo build --release -q -p pytestd

venv="$here/demo/.venv"
pytest_pin="pytest==9.0.2"
if [[ -f tests/requirements.txt ]]; then
    pin="$(grep -iE '^[[:space:]]*pytest[[:space:]]*==' tests/requirements.txt | head -n 1 | tr -d '[:space:]' || true)"
    pytest_pin="${pin:-$pytest_pin}"
fi
if ! "$venv/bin/python" -c "import pytest" 2>/dev/null; then
    echo "demo.sh: creating $venv with $pytest_pin" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$pytest_pin"
fi

status=0
target/release/pytestd run editors/scripting/demo --python "$venv/bin/python" "$@" || status=$?
if [[ $status -eq 1 ]]; then
    echo "demo.sh: one failure, as intended (test_low_stock_report shows how failures look)" >&2
    exit 0
fi
exit "$status"
