#!/usr/bin/env bash
# Runs every fuzz target of rcptguard (go test -fuzz) for SECONDS each, one after the
# other, and prints one line per target: package, target, time, executions, result.
# Not part of CI (CI runs each target's seed corpus as an ordinary test). A failing
# input is kept by Go in the package's testdata/fuzz/<target>/ folder: commit it with the
# fix, so that it stays a test.
#
#   bash scripts/fuzz.sh 60            # every target, 60 s each
#   bash scripts/fuzz.sh 300 milter    # only packages whose path contains "milter"
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
secs="${1:?usage: scripts/fuzz.sh SECONDS [PACKAGE-FILTER]}"
filter="${2:-}"
logdir="$(mktemp -d -t rcptguard-fuzz-XXXXXX)"
failed=0
printf '%-38s %-36s %6s %12s  %s\n' package target secs execs result
for pkg in $(go list ./...); do
	[ -n "$filter" ] && [[ "$pkg" != *"$filter"* ]] && continue
	dir="$(go list -f '{{.Dir}}' "$pkg")"
	targets=$(cd "$dir" && go test -list '^Fuzz' . 2>/dev/null | grep '^Fuzz' || true)
	for t in $targets; do
		log="$logdir/${pkg##*/}.$t.log"
		(cd "$dir" && go test -run '^$' -fuzz "^$t\$" -fuzztime "${secs}s" . >"$log" 2>&1)
		rc=$?
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		result=ok
		if [ $rc -ne 0 ]; then
			result="FAILED (log: $log)"
			failed=$((failed + 1))
		fi
		printf '%-38s %-36s %6s %12s  %s\n' "${pkg#github.com/rcptguard/rcptguard/}" "$t" "$secs" "${execs:-?}" "$result"
	done
done
if [ $failed -ne 0 ]; then
	echo "$failed target(s) failed; logs in $logdir" >&2
	exit 1
fi
rm -rf "$logdir"
