#!/usr/bin/env bash
# Checks both ways of installing pytestd: the Python wheel (maturin's `bin` bindings, crates/pytestd/pyproject.toml)
# and `cargo install --path crates/pytestd`.
#
#     bash tests/packaging/wheel.sh
#
# It builds the wheel with the pinned maturin (tests/packaging/requirements.txt, kept in target/packaging-venv) into
# target/wheels, reusing the workspace's target dir so an up-to-date `cargo build --release` is not redone;
# installs it offline (`pip install --no-index`) into a fresh virtualenv and, with that virtualenv activated, runs
# the demo project with the `pytestd` it put on PATH, both as `pytestd run` and through the scripting client (which
# finds the daemon on PATH as the editor clients do). Then `cargo install` into a temporary root. Each check prints
# ok or FAIL; the last line is `packaging: N passed, N failed`, and the exit status is non-zero if any failed.
# Needs the Rust toolchain, python3 and PyPI (maturin, and pytest for the demo, pinned by tests/requirements.txt).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$(pwd)"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok    $1"; }
fail() {
    failed=$((failed + 1)); echo "FAIL  $1"
    # The evidence: the named log's last lines.
    if [[ -n "${2:-}" && -f "$2" ]]; then tail -n 40 "$2" | sed 's/^/      | /'; fi
}
finish() {
    echo "packaging: $passed passed, $failed failed"
    exit $((failed > 0))
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The version every artifact must carry, and the target dir that both maturin and cargo install reuse (cargo's own
# answer, so a CARGO_TARGET_DIR of the caller is honoured).
read -r version target_dir < <(cargo metadata --no-deps --format-version 1 --manifest-path crates/pytestd/Cargo.toml |
    python3 -c 'import json, sys; m = json.load(sys.stdin)
print(next(p["version"] for p in m["packages"] if p["name"] == "pytestd"), m["target_directory"])')
if [[ -z "${version:-}" ]]; then
    fail "cargo metadata names the pytestd crate's version"
    finish
fi

# --- the wheel ---------------------------------------------------------------------------------------------------
build_python="$(bash tests/venv.sh target/packaging-venv tests/packaging/requirements.txt)" || {
    fail "the build virtualenv with tests/packaging/requirements.txt"
    finish
}
start=$SECONDS
if timeout 1800 "$(dirname "$build_python")/maturin" build --release -m crates/pytestd/Cargo.toml >"$tmp/maturin.log" 2>&1; then
    pass "maturin build --release ($((SECONDS - start)) s)"
else
    fail "maturin build --release" "$tmp/maturin.log"
    finish
fi
# maturin names the file it wrote; target/wheels may hold older ones.
wheel="$(sed -n 's/.*Built wheel to //p' "$tmp/maturin.log" | tail -n 1)"
case "$(basename "$wheel")" in
    "pytestd-$version-py3-none-"*.whl) pass "the wheel is $(basename "$wheel")" ;;
    *) fail "a wheel named pytestd-$version-py3-none-<platform>.whl (got '$wheel')" "$tmp/maturin.log"; finish ;;
esac

# Only the binary (installed as a script) and the metadata: no Python package, nothing else on sys.path.
if python3 - "$wheel" "$version" >"$tmp/metadata.log" 2>&1 <<'EOF'
import email, sys, zipfile
wheel, version = sys.argv[1:]
names = zipfile.ZipFile(wheel).namelist()
data = [n for n in names if not n.startswith(f"pytestd-{version}.dist-info/")]
assert data == [f"pytestd-{version}.data/scripts/pytestd"], names
meta = email.message_from_bytes(zipfile.ZipFile(wheel).read(f"pytestd-{version}.dist-info/METADATA"))
want = {"Name": "pytestd", "Version": version, "License-Expression": "MIT OR Apache-2.0", "Requires-Python": ">=3.8"}
got = {key: meta[key] for key in want}
assert got == want, got
assert meta["Summary"], "no Summary"
assert not meta.get_all("Requires-Dist"), meta.get_all("Requires-Dist")
EOF
then
    pass "the wheel holds only the pytestd binary; metadata: name, version $version, license, requires-python"
else
    fail "the wheel's files and metadata" "$tmp/metadata.log"
fi

venv="$tmp/venv"
if python3 -m venv "$venv" >"$tmp/venv.log" 2>&1 &&
    timeout 300 "$venv/bin/python" -m pip install --disable-pip-version-check --no-index "$wheel" >>"$tmp/venv.log" 2>&1; then
    pass "pip install --no-index of the wheel into a fresh virtualenv"
else
    fail "pip install --no-index of the wheel into a fresh virtualenv" "$tmp/venv.log"
    finish
fi
# The demo's tests need pytest in that virtualenv: the version (and its dependencies') the test suite pins.
if timeout 300 "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c tests/requirements.txt pytest \
    >"$tmp/pytest.log" 2>&1; then
    pass "pip install pytest (tests/requirements.txt pins)"
else
    fail "pip install pytest (tests/requirements.txt pins)" "$tmp/pytest.log"
    finish
fi

# From here on the virtualenv is activated, as `source venv/bin/activate` does it.
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
hash -r

found="$(command -v pytestd || true)"
if [[ "$found" == "$venv/bin/pytestd" ]]; then
    pass "pytestd on PATH is the virtualenv's bin/pytestd"
else
    fail "pytestd on PATH is the virtualenv's bin/pytestd (got '${found:-nothing}')"
fi
got="$(timeout 30 pytestd --version 2>&1)"
if [[ "$got" == "pytestd $version" ]]; then
    pass "pytestd --version prints 'pytestd $version'"
else
    fail "pytestd --version prints 'pytestd $version' (got '$got')"
fi

# A copy of the demo, so the repository's demo/.venv (which `pytestd run` would prefer) and the state a run leaves
# stay out of it: the interpreter is python3 from the activated virtualenv.
demo="$tmp/demo"
mkdir "$demo"
cp -r editors/scripting/demo/pytest.ini editors/scripting/demo/inventory.py "$demo/"
mkdir "$demo/tests"
cp editors/scripting/demo/tests/*.py "$demo/tests/"

status=0
(cd "$demo" && timeout 120 pytestd run) >"$tmp/run.log" 2>&1 || status=$?
if [[ "$status" -eq 1 ]]; then
    pass "pytestd run on the demo exits 1 (one test fails on purpose)"
else
    fail "pytestd run on the demo exits 1 (got $status)" "$tmp/run.log"
fi
if [[ "$(tail -n 1 "$tmp/run.log")" =~ ^"8 passed, 1 failed, 1 skipped, 1 xfailed in " ]]; then
    pass "pytestd run closes on '8 passed, 1 failed, 1 skipped, 1 xfailed'"
else
    fail "pytestd run closes on '8 passed, 1 failed, 1 skipped, 1 xfailed'" "$tmp/run.log"
fi
# Every test's outcome as the README tells it (a line per test: the output is not a terminal), the failure's message
# and line, the skip's and the xfail's reasons, and nothing else reported.
t=tests/test_inventory.py
expected=(
    "PASSED  $t::test_new_inventory_is_empty  ("
    "PASSED  $t::test_add_accumulates_quantity  ("
    "PASSED  $t::test_remove_takes_items_out  ("
    "PASSED  $t::test_remove_more_than_held_raises  ("
    "PASSED  $t::test_total_value[1-100-100]  ("
    "PASSED  $t::test_total_value[3-25-75]  ("
    "PASSED  $t::test_total_value[0-999-0]  ("
    "PASSED  $t::test_low_stock_is_alphabetical  ("
    "FAILED  $t::test_low_stock_report  ("
    "AssertionError: assert ['nut'] == ['nut', 'washer']"
    "$t:43: AssertionError"
    "SKIPPED $t::test_export_csv  ("
    "CSV export is not written yet"
    "XFAIL   $t::test_add_rejects_negative_quantity  ("
    "negative quantities are not rejected yet"
)
missing=()
for line in "${expected[@]}"; do
    grep -qF -- "$line" "$tmp/run.log" || missing+=("$line")
done
results="$(grep -cE '^(PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR) ' "$tmp/run.log")"
if [[ ${#missing[@]} -eq 0 && "$results" -eq 11 ]]; then
    pass "every demo test's outcome, message and reason as the README says (11 results)"
else
    printf 'missing: %s\n' "${missing[@]}" >>"$tmp/run.log"
    fail "every demo test's outcome as the README says ($results results)" "$tmp/run.log"
fi
# The interpreter pytestd chose: the activated virtualenv's python3, found on PATH.
(cd "$demo" && timeout 120 pytestd run --json) >"$tmp/run.json" 2>&1
if python3 - "$tmp/run.json" "$venv/bin/" >"$tmp/json.log" 2>&1 <<'EOF'
import json, sys
path, bindir = sys.argv[1:]
events = [json.loads(line) for line in open(path) if line.startswith("{")]
started = [e for e in events if e.get("event") == "runStarted"]
assert started and started[0]["args"][0].startswith(bindir), started
EOF
then
    pass "pytest ran under the virtualenv's interpreter"
else
    fail "pytest ran under the virtualenv's interpreter" "$tmp/json.log"
fi

# The scripting client, copied out of the repository (it falls back to the repository's target/release/pytestd
# otherwise), finds `pytestd` on PATH and drives `pytestd serve`, as the editor clients do.
cp editors/scripting/pytestd_client.py "$tmp/"
status=0
(cd "$tmp" && timeout 120 python3 pytestd_client.py --timeout 60 "$demo") >"$tmp/client.log" 2>&1 || status=$?
if [[ "$status" -eq 1 && "$(tail -n 1 "$tmp/client.log")" == "8 passed, 1 failed, 1 skipped, 1 xfailed" ]]; then
    pass "the scripting client drives the virtualenv's pytestd serve: 8 passed, 1 failed, 1 skipped, 1 xfailed"
else
    fail "the scripting client drives the virtualenv's pytestd serve (exit $status)" "$tmp/client.log"
fi

if timeout 120 "$venv/bin/python" -m pip uninstall --yes --disable-pip-version-check pytestd >"$tmp/uninstall.log" 2>&1 &&
    [[ ! -e "$venv/bin/pytestd" ]]; then
    pass "pip uninstall pytestd removes bin/pytestd"
else
    fail "pip uninstall pytestd removes bin/pytestd" "$tmp/uninstall.log"
fi

# --- cargo install -------------------------------------------------------------------------------------------------
# The workspace's target dir, so the release build above is reused rather than redone in a temporary one.
start=$SECONDS
if timeout 1800 cargo install --locked --path crates/pytestd --root "$tmp/cargo-root" --target-dir "$target_dir" \
    >"$tmp/cargo-install.log" 2>&1 &&
    [[ "$("$tmp/cargo-root/bin/pytestd" --version 2>&1)" == "pytestd $version" ]]; then
    pass "cargo install --path crates/pytestd: bin/pytestd prints 'pytestd $version' ($((SECONDS - start)) s)"
else
    fail "cargo install --path crates/pytestd" "$tmp/cargo-install.log"
fi

finish
