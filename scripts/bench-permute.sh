#!/usr/bin/env bash
# Times the generation of lookalikes by `rcptguard permute --wide DOMAIN` against dnstwist's
# on the same domain (issue 12: at least 50 times faster at equal or greater coverage):
# whole processes, and generation alone (below: the first call of a fresh process, and warm).
# dnstwist only generates here (`--format list`: no DNS). Both run RUNS times, in turn
# (dnstwist, rcptguard, dnstwist, ...), timed by bash's `time` (milliseconds; the
# 10 ms steps of /usr/bin/time are too coarse for rcptguard's run), whole processes
# (start-up included), output to a file. It prints each run's wall and CPU seconds, the medians, the
# ratios dnstwist / rcptguard (medians of the pair-by-pair ratios) and both coverage
# counts: how many names each lists, and how many of dnstwist's rcptguard lacks (the domain
# itself left out; it must be 0).
#
# dnstwist is used only if present: DNSTWIST=path/to/dnstwist.py (run with python3) or
# DNSTWIST=path/to/dnstwist, else a `dnstwist` on PATH. Without it the script says so and
# exits 0. Nothing is downloaded.
#
# Usage: [DNSTWIST=path] bash scripts/bench-permute.sh [DOMAIN [RUNS]]
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"
domain=${1:-gmail.com}
runs=${2:-5}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

dt=()
if [ -n "${DNSTWIST:-}" ]; then
	if [ ! -f "$DNSTWIST" ]; then
		echo "DNSTWIST=$DNSTWIST: no such file" >&2
		exit 2
	fi
	case "$DNSTWIST" in
	*.py) dt=(python3 "$DNSTWIST") ;;
	*) dt=("$DNSTWIST") ;;
	esac
elif command -v dnstwist >/dev/null 2>&1; then
	dt=("$(command -v dnstwist)")
else
	echo "dnstwist not found (set DNSTWIST=path/to/dnstwist.py or put dnstwist on PATH): skipping the comparison"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$repo"
CGO_ENABLED=0 go build -o "$tmp/rcptguard" ./cmd/rcptguard
echo "dnstwist: ${dt[*]} ($("${dt[@]}" --version 2>&1 | head -1))"
echo "domain: $domain, $runs runs each"

# run NAME CMD...: one timed run; appends "wall cpu" to $tmp/NAME.txt.
run() {
	local name=$1
	shift
	local TIMEFORMAT='%3R %3U %3S'
	{ time "$@" >"$tmp/$name.out"; } 2>"$tmp/time.txt"
	read -r wall user sys < <(tail -1 "$tmp/time.txt")
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
	echo "$wall $cpu" >>"$tmp/$name.txt"
	printf '%-9s run %d: wall %6.3f s, cpu %6.3f s\n' "$name" "$i" "$wall" "$cpu"
}
for ((i = 1; i <= runs; i++)); do
	run dnstwist "${dt[@]}" --format list "$domain"
	run rcptguard "$tmp/rcptguard" permute --wide "$domain"
done

# Coverage: dnstwist prints one ASCII (punycode) name a line; rcptguard's text output is
# "DISPLAY  TECHNIQUE [ASCII]", the ASCII form last when it differs.
tr 'A-Z' 'a-z' <"$tmp/dnstwist.out" | grep -vx -F "$domain" | sort -u >"$tmp/dnstwist.names" || true
awk '{ print (NF == 3 ? $3 : $1) }' "$tmp/rcptguard.out" | sort -u >"$tmp/rcptguard.names"
nd=$(wc -l <"$tmp/dnstwist.names")
nr=$(wc -l <"$tmp/rcptguard.names")
lack=$(comm -23 "$tmp/dnstwist.names" "$tmp/rcptguard.names" | wc -l)
echo "coverage: dnstwist $nd names, rcptguard $nr names; dnstwist's names rcptguard lacks: $lack"
if [ "$lack" -gt 0 ]; then
	comm -23 "$tmp/dnstwist.names" "$tmp/rcptguard.names" | head -10 | sed 's/^/  lacks /'
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Generation alone, without either program's start-up (only when DNSTWIST names a
# dnstwist.py to import), two ways, RUNS measures each, the medians:
# - first call: one generation in a fresh process, as one run of either program pays it
#   (rcptguard's tables built on first use and its fresh memory included):
#   dnstwist's Fuzzer(domain).generate() timed in a new Python after the import,
#   engine.PermuteWide by scripts/permutefirst in a new process;
# - warm: the same process generating again and again: dnstwist's calls after its first
#   (three in each of the RUNS processes), engine.PermuteWide by its Go benchmark.
if [[ "${DNSTWIST:-}" == *.py ]]; then
	CGO_ENABLED=0 go build -o "$tmp/permutefirst" ./scripts/permutefirst
	for ((i = 1; i <= runs; i++)); do
		python3 - "$(dirname "$DNSTWIST")" "$domain" <<'PY' >>"$tmp/gen-dnstwist.txt"
import sys, time
sys.path.insert(0, sys.argv[1])
import dnstwist
ts = []
for k in range(4):
    t = time.perf_counter()
    f = dnstwist.Fuzzer(sys.argv[2])
    f.generate()
    ts.append(time.perf_counter() - t)
print("first", ts[0])
for t in ts[1:]:
    print("warm", t)
PY
		"$tmp/permutefirst" "$domain" | awk '{ print $1 }' >>"$tmp/first-rcptguard.txt"
	done
	PERMUTE_DOMAIN=$domain go test -run X -bench BenchmarkPermuteWide -benchtime 100x -count "$runs" ./internal/engine/ |
		awk '/^BenchmarkPermuteWide/ { print $3 / 1e9 }' >"$tmp/gen-rcptguard.txt"
	fd=$(awk '$1 == "first" { print $2 }' "$tmp/gen-dnstwist.txt" | median)
	fr=$(median <"$tmp/first-rcptguard.txt")
	wd=$(awk '$1 == "warm" { print $2 }' "$tmp/gen-dnstwist.txt" | median)
	wr=$(median <"$tmp/gen-rcptguard.txt")
	awk -v d="$fd" -v r="$fr" 'BEGIN { printf "generation, first call in a fresh process: dnstwist %.1f ms, rcptguard %.2f ms: %.0fx faster\n", d * 1000, r * 1000, d / r }'
	awk -v d="$wd" -v r="$wr" 'BEGIN { printf "generation, warm (repeated in one process): dnstwist %.1f ms, rcptguard %.2f ms: %.0fx faster (50 or more meets the goal)\n", d * 1000, r * 1000, d / r }'
fi

dw=$(cut -d' ' -f1 "$tmp/dnstwist.txt" | median)
dc=$(cut -d' ' -f2 "$tmp/dnstwist.txt" | median)
rw=$(cut -d' ' -f1 "$tmp/rcptguard.txt" | median)
rc=$(cut -d' ' -f2 "$tmp/rcptguard.txt" | median)
# bash's time counts in milliseconds: a zero is below the resolution, count it as 0.001.
rwall=$(paste -d' ' "$tmp/dnstwist.txt" "$tmp/rcptguard.txt" | awk '{ print $1 / ($3 > 0 ? $3 : 0.001) }' | median)
rcpu=$(paste -d' ' "$tmp/dnstwist.txt" "$tmp/rcptguard.txt" | awk '{ print $2 / ($4 > 0 ? $4 : 0.001) }' | median)
printf 'median dnstwist:  wall %.3f s, cpu %.3f s\n' "$dw" "$dc"
printf 'median rcptguard: wall %.3f s, cpu %.3f s\n' "$rw" "$rc"
printf 'rcptguard is %.0fx faster in wall time, %.0fx in CPU time (dnstwist / rcptguard, median of the pairs; 50 or more meets the goal)\n' "$rwall" "$rcpu"
