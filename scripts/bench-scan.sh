#!/usr/bin/env bash
# Measures how fast `rcptguard scan` reads Postfix logs against `grep -c 'status=sent'` on
# the same uncompressed file (issue 11: the reader must be at least half as fast as grep).
# Generates a log like a busy outbound relay's of LINES lines (5,000,000 by default; the
# same file on every run: scripts/genpostfixlog), builds scripts/scanpostfix (only the
# Postfix reader, counting records) with CGO_ENABLED=0, reads the file once to have it in
# the page cache, then runs the two RUNS times each, in turn (grep, reader, grep, ...), under
# /usr/bin/time. It prints each run's wall and CPU seconds, the medians, the reader's peak
# RSS, the reader's wall
# time over grep's (the median of the pair-by-pair ratios: below 2 meets the goal) and both
# rates in MB/s. The reader's count of sent records must equal grep's count.
#
# Usage: bash scripts/bench-scan.sh [LINES [RUNS]]
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"
lines=${1:-5000000}
runs=${2:-5}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
go build -o "$tmp/genpostfixlog" ./scripts/genpostfixlog
CGO_ENABLED=0 go build -o "$tmp/scanpostfix" ./scripts/scanpostfix
log="$tmp/maillog"
"$tmp/genpostfixlog" -lines "$lines" >"$log"
bytes=$(stat -c %s "$log")
echo "log: $(wc -l <"$log") lines, $((bytes / 1000000)) MB"
cat "$log" >/dev/null

# run NAME CMD...: one timed run; appends "wall cpu" to $tmp/NAME.txt. The output goes to a
# file: GNU grep stops at the first match when its output is /dev/null.
run() {
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time.txt" "$@" >"$tmp/$name.out"
	read -r wall user sys rss <"$tmp/time.txt"
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	echo "$wall $cpu $rss" >>"$tmp/$name.txt"
	printf '%-5s run %d: wall %5.2f s, cpu %5.2f s\n' "$name" "$i" "$wall" "$cpu"
}
for ((i = 1; i <= runs; i++)); do
	run grep grep -c 'status=sent' "$log"
	run scan "$tmp/scanpostfix" "$log"
done
sent=$(sed -n 's/.* sent \([0-9]*\) .*/\1/p' "$tmp/scan.out")
if [ "$sent" != "$(cat "$tmp/grep.out")" ]; then
	echo "the reader found $sent sent records, grep $(cat "$tmp/grep.out") status=sent lines" >&2
	exit 1
fi
echo "reader: $(cat "$tmp/scan.out")"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
gw=$(cut -d' ' -f1 "$tmp/grep.txt" | median)
gc=$(cut -d' ' -f2 "$tmp/grep.txt" | median)
sw=$(cut -d' ' -f1 "$tmp/scan.txt" | median)
sc=$(cut -d' ' -f2 "$tmp/scan.txt" | median)
srss=$(cut -d' ' -f3 "$tmp/scan.txt" | sort -n | tail -1)
ratio=$(paste -d' ' "$tmp/scan.txt" "$tmp/grep.txt" | awk '{ print ($4 > 0 ? $1 / $4 : 0) }' | median)
awk -v b="$bytes" -v gw="$gw" -v gc="$gc" -v sw="$sw" -v sc="$sc" -v r="$ratio" -v rss="$srss" 'BEGIN {
	printf "median grep:   wall %.2f s (%.0f MB/s), cpu %.2f s\n", gw, (gw > 0 ? b / gw / 1e6 : 0), gc
	printf "median reader: wall %.2f s (%.0f MB/s), cpu %.2f s, peak RSS %.0f MiB\n", sw, (sw > 0 ? b / sw / 1e6 : 0), sc, rss / 1024
	printf "reader/grep wall time (median of pairs): %.2f (goal: at most 2)\n", r
}'
