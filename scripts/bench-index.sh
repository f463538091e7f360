#!/usr/bin/env bash
# Measures building the engine from a known-correspondents file as the whole process
# does it: generates a file of N distinct domains (1,000,000 by default; the same file on
# every run), builds the binary with CGO_ENABLED=0 and runs `rcptguard check --known FILE
# --no-providers` on one domain under /usr/bin/time -v, RUNS times (3 by default). Each
# run reads the file, normalises every domain, builds the index and answers; the script
# prints its elapsed (wall) time and "Maximum resident set size", then the median of each.
# The goal (docs/performance.md): 1,000,000 domains in <= 3 s and <= 500 MB peak.
#
# The domains are like the engine's benchmarks' (syntheticKnown): half pronounceable
# labels and half letters drawn by English frequency, 4 to 15 characters, under common
# suffixes, with a count of 1 to 1000.
#
# Usage: bash scripts/bench-index.sh [N [RUNS]]
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"
n=${1:-1000000}
runs=${2:-3}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
CGO_ENABLED=0 go build -o "$tmp/rcptguard" ./cmd/rcptguard

awk -v n="$n" 'BEGIN {
	srand(1)
	cons = "bcdfghjklmnprstvwz"; vows = "aeiou"
	freq = "eeeeeeeeeeeetttttttttaaaaaaaaoooooooiiiiiiinnnnnnnsssssshhhhhhrrrrrrddddlllluuucccmmmwwffggyyppbbvk0123456789-"
	split("com com com net org de co.uk fr com.au io nl it", suffixes, " ")
	while (count < n) {
		l = 4 + int(rand() * 12)
		pron = rand() < 0.5
		label = ""
		for (i = 0; i < l; i++) {
			if (!pron) c = substr(freq, 1 + int(rand() * length(freq)), 1)
			else if (i % 2 == 0) c = substr(cons, 1 + int(rand() * length(cons)), 1)
			else c = substr(vows, 1 + int(rand() * length(vows)), 1)
			label = label c
		}
		if (label ~ /^-|-$|^..--/) continue # not a valid label: skipped, as the Go benchmarks do
		name = label "." suffixes[1 + int(rand() * 12)]
		if (name in seen) continue
		seen[name] = 1
		count++
		print name, 1 + int(rand() * 1000)
	}
}' >"$tmp/known.txt"
echo "known file: $(wc -l <"$tmp/known.txt") lines, $(du -h "$tmp/known.txt" | cut -f1)"

for ((i = 1; i <= runs; i++)); do
	/usr/bin/time -v "$tmp/rcptguard" check --no-providers --known "$tmp/known.txt" example.com \
		>/dev/null 2>"$tmp/time.txt" || true # exit 1 when the domain is flagged
	if ! grep -q 'Exit status: [01]$' "$tmp/time.txt"; then
		cat "$tmp/time.txt" >&2
		exit 1
	fi
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt" |
		awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
	echo "run $i: elapsed ${wall} s, peak RSS $((rss / 1024)) MB"
	echo "$wall $rss" >>"$tmp/runs.txt"
done
sort -n -k1,1 "$tmp/runs.txt" | awk '{ w[NR] = $1 } END { printf "median elapsed %.2f s\n", w[int((NR + 1) / 2)] }'
sort -n -k2,2 "$tmp/runs.txt" | awk '{ r[NR] = $2 } END { printf "median peak RSS %d MB\n", r[int((NR + 1) / 2)] / 1024 }'
