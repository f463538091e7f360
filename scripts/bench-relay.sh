#!/usr/bin/env bash
# Benchmarks rcptguard's SMTP relay (listen.relay, relay.upstream) against a plain private
# Postfix, side by side in one run: both take the same smtp-source load and pass it on to
# the same smtp-sink. Measures the wall time from the first message sent until the sink
# has received them all and prints messages/s and the ratio relay/postfix (goal >= 0.8).
# See docs/performance-mailpath.md.
#
# Usage: bash scripts/bench-relay.sh [MESSAGES]      (root; Postfix installed)
#
# The same environment variables as scripts/bench-postfix.sh (ROUNDS, SESSIONS, MSG_SIZE,
# WARMUP, RUN_DEADLINE, RCPTGUARD, KEEP), whose helpers this script uses.
#
# When `rcptguard serve` starts no relay listener (a build from before the relay was
# wired into the daemon), it prints "relay not available in this build" and exits 0.
set -euo pipefail
# shellcheck source=scripts/bench-postfix.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bench-postfix.sh"

bench_relay_main() {
	local messages=${1:-2000}
	bench_check_count "$messages"
	local rounds=${ROUNDS:-2} warmup=${WARMUP:-50} secs=${RUN_DEADLINE:-90}
	bench_check_count "$rounds"
	bench_setup
	bench_log "$messages messages per run, $rounds round(s), ${SESSIONS:-10} sessions; load: $(uptime | sed 's/.*load/load/')"
	bench_start_sink
	bench_build_rcptguard

	cat >"$BENCH_TMP/rcptguard.yaml" <<EOF
# Written by scripts/bench-relay.sh.
own_domains: [contoso.com]
protect: [army.mil, .mil]
providers: true
listen:
  policy: "off"
  milter: "off"
  relay: 127.0.0.1:0
  http: 127.0.0.1:0
relay:
  upstream: 127.0.0.1:$BENCH_SINK_PORT
  hostname: relay.bench.rcptguard.test
  allowed_networks: [127.0.0.0/8]
data_dir: $BENCH_TMP/rcptguard-data
EOF
	bench_start_rcptguard "$BENCH_TMP/rcptguard.yaml"
	# The listeners are logged one after the other right after they all listen, before
	# /healthz can answer, so a short wait is enough to tell a build without the relay.
	local relay=""
	if bench_wait 3 bench_rg_has_relay; then
		relay=$(bench_rg_addr relay)
	fi
	if [ -z "$relay" ]; then
		echo "relay not available in this build (rcptguard serve logged no \"listening listener=relay\")"
		return 0
	fi
	bench_log "rcptguard relay on $relay, upstream 127.0.0.1:$BENCH_SINK_PORT"

	bench_postfix_create postfix
	bench_postfix_start postfix
	local pf_port=$BENCH_PORT

	# Warm up both: Postfix's processes, the relay's upstream sessions.
	bench_load postfix-warmup "$pf_port" "$warmup" 60
	bench_load relay-warmup "${relay##*:}" "$warmup" 60

	local -A rates
	local r name port d0 d1 l0 l1 order
	for ((r = 1; r <= rounds; r++)); do
		# Alternate which goes first, against drift in the machine's load.
		order="postfix relay"
		((r % 2)) || order="relay postfix"
		for name in $order; do
			if [ "$name" = postfix ]; then port=$pf_port; else port=${relay##*:}; fi
			d0=$(bench_rg_decisions relay)
			l0=$(bench_rg_relay_lines)
			bench_load "$name" "$port" "$messages" "$secs"
			if [ "$name" = postfix ]; then
				bench_wait 30 bench_queue_empty postfix || bench_die "postfix: queue not empty after the run"
			else
				# The sink counting them proves the relay passed them on; that the guard
				# was asked shows in the metrics or, failing that, in the relay's log.
				d1=$(bench_rg_decisions relay)
				l1=$(bench_rg_relay_lines)
				if ((d1 - d0 < messages && l1 - l0 < messages)); then
					bench_log "warning: rcptguard counted $((d1 - d0)) decisions (metric adapter=\"relay\") and logged $((l1 - l0)) relay decisions for $messages messages"
				fi
			fi
			rates[$name]+=" $(bench_rate "$messages" "$BENCH_TOTAL_S")"
			bench_log "round $r $name: all delivered in ${BENCH_TOTAL_S} s (smtp-source done in ${BENCH_SEND_S} s)"
		done
	done

	local -A med
	for name in postfix relay; do
		# shellcheck disable=SC2086
		med[$name]=$(bench_median ${rates[$name]})
	done
	local ratio
	ratio=$(bench_ratio "${med[relay]}" "${med[postfix]}")
	echo
	echo "rcptguard relay benchmark: $messages messages x $rounds round(s), ${SESSIONS:-10} smtp-source sessions, $(nproc) CPUs"
	echo "load at the end: $(uptime | sed 's/.*load/load/')"
	echo
	printf '%-8s %14s %12s\n' setup "msgs/s (sink)" "vs postfix"
	printf '%-8s %14s %12s\n' postfix "${med[postfix]}" 1.00
	printf '%-8s %14s %12s\n' relay "${med[relay]}" "$ratio"
	echo
	if ((rounds > 1)); then
		for name in postfix relay; do
			printf 'per round msgs/s (sink) %-8s%s\n' "$name:" "${rates[$name]}"
		done
		echo
	fi
	echo "ratio relay/postfix = $ratio (goal >= 0.80): $(awk -v r="$ratio" 'BEGIN { print (r >= 0.8) ? "met" : "NOT met" }')"
}

bench_rg_has_relay() { [ -n "$(bench_rg_addr relay)" ]; }

bench_rg_relay_lines() { grep -c 'msg="relay decision"' "$BENCH_RG_LOG" || true; }

bench_relay_main "$@"
