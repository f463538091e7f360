#!/usr/bin/env bash
# Measures the memory of `rcptguard serve` under many slow BDAT clients: 100 clients
# each send 9 chunks of 100 KB without LAST and keep their connections open; it prints
# the process's VmRSS and peak VmHWM (/proc/PID/status) before and under the load, and
# the spool files. With REV=<git revision> it measures that revision's binary as well,
# to compare (for example REV=HEAD~1).
#
# Usage: bash scripts/bench-clients.sh [CLIENTS [CHUNKS [SIZE]]]
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
go build -o "$tmp/rcptguard" ./cmd/rcptguard
go build -o "$tmp/benchclients" ./scripts/benchclients
args=(-clients "${1:-100}" -chunks "${2:-9}" -size "${3:-100000}")
if [[ -n "${REV:-}" ]]; then
	git worktree add -q --detach "$tmp/rev" "$REV"
	(cd "$tmp/rev" && go build -o "$tmp/rcptguard-rev" ./cmd/rcptguard)
	git worktree remove --force "$tmp/rev"
	echo "== $REV"
	"$tmp/benchclients" -bin "$tmp/rcptguard-rev" "${args[@]}"
fi
echo "== working tree"
"$tmp/benchclients" -bin "$tmp/rcptguard" "${args[@]}"
