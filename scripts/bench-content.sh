#!/usr/bin/env bash
# What content rules cost the milter path (issue 13: at most 15% of its throughput for
# 50 KB messages). Runs BenchmarkMilterContent (internal/milter/bench_content_test.go):
# real milter sessions over loopback, one ~50 KB message each (plain text, HTML, a
# base64 .docx, a base64 PDF, in turn) to a warned lookalike, with content rules off and
# on, in turns (off, on, off, on, ...) so that both see the same machine load. Prints
# each run's msgs/s, the medians and the ratio on/off (0.85 or more meets the goal).
#
# Usage: bash scripts/bench-content.sh [RUNS [MESSAGES]]
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"
runs=${1:-5}
n=${2:-400}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
go test -c -o "$tmp/milter.test" ./internal/milter/
cd internal/milter
echo "load: $(uptime | sed 's/.*load/load/'); $runs runs of $n messages each"
for ((i = 1; i <= runs; i++)); do
	for mode in off on; do
		"$tmp/milter.test" -test.run '^$' -test.bench "BenchmarkMilterContent/$mode\$" -test.benchtime "${n}x" |
			awk -v m="$mode" -v i="$i" '/msgs\/s/ { for (k = 1; k <= NF; k++) if ($(k+1) == "msgs/s") v = $k; printf "%-3s run %d: %8.1f msgs/s\n", m, i, v; print v > "/dev/stderr" }' 2>>"$tmp/$mode.txt"
	done
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
off=$(median <"$tmp/off.txt")
on=$(median <"$tmp/on.txt")
awk -v a="$off" -v b="$on" 'BEGIN { printf "median: off %.1f msgs/s, on %.1f msgs/s: on/off %.3f, content costs %.0f%% (goal: at most 15%%)\n", a, b, b / a, (1 - b / a) * 100 }'
