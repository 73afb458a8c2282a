#!/usr/bin/env bash
# Installs what the end-to-end test needs and prints the node_modules directory holding code-server and
# playwright-core. Expects editors/toolchain.sh to be sourced (Node 24 on PATH, npm_config_nodedir set).
#
# node_modules lives in a cache outside the repository keyed on package-lock.json and the Node version, because
# code-server's install (native modules built from source) takes minutes; a warm cache makes this a no-op.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Debian's Chromium is the browser: nothing may download one. libkrb5-dev: code-server's kerberos module
# builds from source.
if [[ ! -x /usr/bin/chromium || ! -e /usr/include/krb5.h ]]; then
    echo "vscode-e2e: installing chromium libkrb5-dev" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libkrb5-dev >&2
fi

key="$( (cat "$here/package-lock.json"; node --version) | sha256sum | cut -c1-16)"
cache="${PYTESTD_TOOL_CACHE:?source editors/toolchain.sh first}/vscode-e2e-$key"

if [[ ! -f "$cache/.complete" ]]; then
    echo "vscode-e2e: npm ci into $cache (takes a few minutes once)" >&2
    rm -rf "$cache"
    mkdir -p "$cache"
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund >&2)
    # Written last, so an interrupted install is redone on the next run.
    touch "$cache/.complete"
fi
echo "$cache/node_modules"
