# shellcheck shell=bash
# Sourced by run.sh and bench.sh: `trap 'cleanup_code_server "$tmp"' EXIT` leaves nothing of a code-server session
# behind: code-server's process group (the extension host and pytestd with it), then pytest processes, which run
# in process groups of their own, still working in the throwaway directory; then the directory.
cleanup_code_server() {
    local tmp="$1"
    if [[ -f "$tmp/code-server.pgid" ]]; then
        kill -KILL -- "-$(cat "$tmp/code-server.pgid")" 2>/dev/null || true
    fi
    for proc in /proc/[0-9]*; do
        if [[ "$(readlink "$proc/cwd" 2>/dev/null)" == "$tmp"/* ]]; then
            kill -KILL "${proc#/proc/}" 2>/dev/null || true
        fi
    done
    rm -rf "$tmp"
}
