#!/usr/bin/env bash
# Builds editors/vscode/pytestd.vsix: the minified extension bundle and the linux-x64 pytestd release binary at
# server/pytestd. PYTESTD_BINARY names a binary to bundle; without it the release binary is built here.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

binary="${PYTESTD_BINARY:-}"
if [[ -z "$binary" ]]; then
    (cd "$repo" && cargo build --release -p pytestd)
    binary="$repo/target/release/pytestd"
fi
[[ -x "$binary" ]] || { echo "package: no executable pytestd at $binary" >&2; exit 1; }

node scripts/build.mjs --production
mkdir -p server
cp "$binary" server/pytestd
chmod 755 server/pytestd
# The release profile keeps debug info; users need none of it (40 MB → a few).
if command -v strip >/dev/null; then strip --strip-debug server/pytestd; fi
# Dependencies are bundled by esbuild; the repository has no LICENSE file of its own yet (Cargo.toml names it).
npx vsce package --no-dependencies --skip-license --allow-missing-repository --out pytestd.vsix
