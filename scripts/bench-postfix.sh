#!/usr/bin/env bash
# Benchmarks what rcptguard costs Postfix, side by side in one run: three private Postfix
# instances relay the same smtp-source load to one smtp-sink, one plain, one asking
# rcptguard's policy service (at RCPT and at end of data), one with rcptguard's milter.
# For each it measures the wall time from the first message sent until the sink has
# received them all, and prints messages/s and the ratios policy/plain and milter/plain
# (goal >= 0.9). See docs/performance-mailpath.md.
#
# Usage: bash scripts/bench-postfix.sh [MESSAGES]      (root; Postfix installed)
#
# Environment (all optional):
#   ROUNDS=2           measured rounds; each round runs the three setups one after the
#                      other, starting with a different one each round (plain, policy,
#                      milter; then policy, milter, plain; ...); the table shows medians
#   SESSIONS=10        smtp-source parallel sessions (-s)
#   MSG_SIZE=          message size in bytes for smtp-source -l (default: its own)
#   WARMUP=50          unmeasured messages sent through each instance first
#   RUN_DEADLINE=90    seconds allowed for one measured run
#   RCPTGUARD=         an rcptguard binary to use instead of building ./cmd/rcptguard
#   KEEP=1             keep the temp folder (configs, logs) instead of removing it
#   TMPDIR=/tmp        where the temp folder (Postfix queues, logs) goes; /dev/shm (tmpfs)
#                      takes the disk's fsync latency out of the figures
#
# This file is also a library: scripts/bench-relay.sh sources it for the helpers
# (bench_* functions); only running it directly runs the Postfix benchmark.
set -euo pipefail
export LC_ALL=C # a "." in EPOCHREALTIME and in awk's numbers
export PATH="/usr/local/go/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=$(basename "$0" .sh)
BENCH_TMP=""
BENCH_SINK_PID=""
BENCH_SINK_PORT=""
BENCH_SINK_OUT=""
BENCH_RG_PID=""
BENCH_RG_LOG=""
BENCH_RG_BIN=""
BENCH_SRC_PID="" # the smtp-source running now
BENCH_POSTFIXES=() # etc folders of started instances
BENCH_SENDER=sender@contoso.com
BENCH_RCPT=rcpt@army.mil

bench_log() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }

# bench_die MESSAGE: prints the message and exits 1 (the EXIT trap cleans up).
bench_die() {
	printf '%s: error: %s\n' "$BENCH_NAME" "$*" >&2
	exit 1
}

# bench_wait SECONDS CMD...: runs CMD every 50 ms until it succeeds (0) or SECONDS pass (1).
bench_wait() {
	local secs=$1
	shift
	local deadline=$((${EPOCHREALTIME/./} + secs * 1000000))
	while true; do
		if "$@"; then
			return 0
		fi
		if ((${EPOCHREALTIME/./} >= deadline)); then
			return 1
		fi
		sleep 0.05
	done
}

# bench_free_port: a TCP port below the ephemeral range that no socket uses now. Callers
# retry when someone takes it before they listen.
bench_free_port() {
	local used p i
	used=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)
	for ((i = 0; i < 200; i++)); do
		p=$((10000 + SRANDOM % 22000))
		if ! grep -qx "$p" <<<"$used"; then
			echo "$p"
			return 0
		fi
	done
	bench_die "found no free TCP port"
}

bench_listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }

bench_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# bench_setup: checks the prerequisites, makes the temp folder and sets the EXIT trap.
bench_setup() {
	[ "$(id -u)" -eq 0 ] || bench_die "must run as root (private Postfix instances need it)"
	local t
	for t in postfix postconf postqueue smtp-source smtp-sink ss curl script timeout awk go; do
		if ! command -v "$t" >/dev/null 2>&1; then
			[ "$t" = go ] && [ -n "${RCPTGUARD:-}" ] && continue
			bench_die "$t not found (Postfix tools: bash scripts/install-test-deps.sh)"
		fi
	done
	id postfix >/dev/null 2>&1 || bench_die "no user postfix (bash scripts/install-test-deps.sh)"
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rcptguard-bench.XXXXXX")
	chmod 0755 "$BENCH_TMP" # user postfix must traverse it, and every folder above it
	local d=$BENCH_TMP
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		[ $((0$(stat -c %a "$d") & 1)) -eq 1 ] || bench_die "user postfix cannot traverse $d (no o+x): set TMPDIR to a folder such as /tmp"
	done
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bench_cleanup() {
	local rc=$? etc pid
	trap - EXIT INT TERM
	set +e
	if bench_alive "$BENCH_SRC_PID"; then
		kill -TERM "$BENCH_SRC_PID" 2>/dev/null
	fi
	for etc in "${BENCH_POSTFIXES[@]}"; do
		pid=$(tr -dc 0-9 2>/dev/null <"$etc/../queue/pid/master.pid")
		timeout 20 postfix -c "$etc" stop >/dev/null 2>&1
		if [ -n "$pid" ] && ! bench_wait 10 bench_not_alive "$pid"; then
			timeout 10 postfix -c "$etc" abort >/dev/null 2>&1
			bench_wait 5 bench_not_alive "$pid"
		fi
	done
	if bench_alive "$BENCH_RG_PID"; then
		kill -TERM "$BENCH_RG_PID" 2>/dev/null
		bench_wait 10 bench_not_alive "$BENCH_RG_PID" || kill -KILL "$BENCH_RG_PID" 2>/dev/null
	fi
	if bench_alive "$BENCH_SINK_PID"; then
		kill -TERM "$BENCH_SINK_PID" 2>/dev/null
		bench_wait 5 bench_not_alive "$BENCH_SINK_PID" || kill -KILL "$BENCH_SINK_PID" 2>/dev/null
	fi
	if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then
		if [ "${KEEP:-}" = 1 ]; then
			bench_log "kept $BENCH_TMP"
		else
			rm -rf "$BENCH_TMP"
		fi
	fi
	exit "$rc"
}

bench_not_alive() { ! kill -0 "$1" 2>/dev/null; }

# bench_start_sink: an smtp-sink on a free loopback port; its running counter goes to
# $BENCH_SINK_OUT (read it with bench_sink_count).
bench_start_sink() {
	local attempt port
	BENCH_SINK_OUT=$BENCH_TMP/sink.out
	for attempt in 1 2 3; do
		port=$(bench_free_port)
		# -u: smtp-sink refuses to run as root; -m: connections served at once.
		smtp-sink -4 -u postfix -m 512 -c "127.0.0.1:$port" 1000 >"$BENCH_SINK_OUT" 2>"$BENCH_TMP/sink.err" &
		BENCH_SINK_PID=$!
		if bench_wait 10 bench_sink_ready "$port"; then
			BENCH_SINK_PORT=$port
			bench_log "smtp-sink on 127.0.0.1:$port (pid $BENCH_SINK_PID)"
			return 0
		fi
		kill "$BENCH_SINK_PID" 2>/dev/null || true
		wait "$BENCH_SINK_PID" 2>/dev/null || true
		bench_log "smtp-sink on port $port did not start: $(tr -d '\r' <"$BENCH_TMP/sink.err" | tail -3)"
	done
	bench_die "could not start smtp-sink"
}

bench_sink_ready() { bench_alive "$BENCH_SINK_PID" && bench_listening "$1"; }

# bench_sink_count: messages the sink has received so far (its "mesg=" counter).
bench_sink_count() {
	local n
	n=$(tail -c 200 "$BENCH_SINK_OUT" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9][0-9]*\).*/\1/p' | tail -n 1)
	echo "${n:-0}"
}

# bench_build_rcptguard: builds ./cmd/rcptguard (or takes $RCPTGUARD).
bench_build_rcptguard() {
	if [ -n "${RCPTGUARD:-}" ]; then
		[ -x "$RCPTGUARD" ] || bench_die "RCPTGUARD=$RCPTGUARD is not executable"
		BENCH_RG_BIN=$RCPTGUARD
		return 0
	fi
	BENCH_RG_BIN=$BENCH_TMP/rcptguard
	bench_log "building rcptguard"
	if ! (cd "$BENCH_REPO" && CGO_ENABLED=0 timeout 300 go build -o "$BENCH_RG_BIN" ./cmd/rcptguard) >"$BENCH_TMP/build.log" 2>&1; then
		cat "$BENCH_TMP/build.log" >&2
		bench_die "go build ./cmd/rcptguard failed"
	fi
}

# bench_rg_addr LISTENER: the address rcptguard logged for that listener, or "".
bench_rg_addr() {
	sed -n "s/.*msg=listening listener=$1 addr=\([^ ]*\).*/\1/p" "$BENCH_RG_LOG" | tail -n 1
}

bench_rg_healthy() {
	local http
	http=$(bench_rg_addr http)
	[ -n "$http" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$http/healthz")" = 200 ]
}

# bench_start_rcptguard CONFIG: runs `rcptguard serve --config CONFIG` (its listeners on
# port 0, so the kernel picks free ports that the log then names) and waits for /healthz.
bench_start_rcptguard() {
	BENCH_RG_LOG=$BENCH_TMP/rcptguard.log
	"$BENCH_RG_BIN" serve --config "$1" >"$BENCH_RG_LOG" 2>&1 &
	BENCH_RG_PID=$!
	if ! bench_wait 30 bench_rg_ready; then
		if bench_alive "$BENCH_RG_PID"; then
			bench_log "rcptguard log:"
			cat "$BENCH_RG_LOG" >&2
			bench_die "rcptguard /healthz did not answer 200 within 30 s"
		fi
		bench_log "rcptguard log:"
		cat "$BENCH_RG_LOG" >&2
		bench_die "rcptguard serve exited at start"
	fi
	bench_log "rcptguard ready (pid $BENCH_RG_PID, http $(bench_rg_addr http))"
}

bench_rg_ready() { bench_alive "$BENCH_RG_PID" && bench_rg_healthy; }

# bench_rg_decisions ADAPTER: the sum of rcptguard_guard_decisions_total for the adapter.
bench_rg_decisions() {
	{ curl -s --max-time 5 "http://$(bench_rg_addr http)/metrics" || true; } |
		awk -v a="adapter=\"$1\"" '/^rcptguard_guard_decisions_total[{]/ && index($0, a) { s += $NF } END { printf "%d\n", s }'
}

# bench_postfix_create NAME [main.cf line...]: a private Postfix instance in
# $BENCH_TMP/NAME relaying everything to the sink; prints nothing, sets up the folder.
bench_postfix_create() {
	local name=$1 dir=$BENCH_TMP/$1 sub
	shift
	for sub in etc queue data log; do
		mkdir -p "$dir/$sub"
		chmod 0755 "$dir/$sub"
	done
	chmod 0755 "$dir"
	printf '%s\n' "$@" >"$dir/extra-main.cf"
}

# bench_postfix_write NAME PORT: writes main.cf and master.cf for smtpd on PORT.
bench_postfix_write() {
	local name=$1 port=$2 dir=$BENCH_TMP/$1
	{
		cat <<EOF
# Written by scripts/$BENCH_NAME.sh for the instance "$name".
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/log/maillog
maillog_file_prefixes = $dir/log
myhostname = $name-$port.bench.rcptguard.test
mydomain = bench.rcptguard.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 local delivery is disabled
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$BENCH_SINK_PORT
smtp_dns_support_level = disabled
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_error_sleep_time = 0s
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
append_dot_mydomain = no
readme_directory = no
EOF
		cat "$dir/extra-main.cf"
	} >"$dir/etc/main.cf"
	{
		echo "# Written by scripts/$BENCH_NAME.sh. No chroot: the chroot has no /etc/hosts."
		echo "127.0.0.1:$port inet n - n - - smtpd"
		cat <<'EOF'
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
	} >"$dir/etc/master.cf"
	# Postfix programs wait until a config file is ~2 s old (it may still be being
	# written): backdate them so start does not stall.
	touch -d '-1 minute' "$dir/etc/main.cf" "$dir/etc/master.cf"
}

# bench_postfix_start NAME: writes the config on a free port, starts the instance and
# waits until its smtpd listens. Sets BENCH_PORT to the smtpd port.
bench_postfix_start() {
	local name=$1 dir=$BENCH_TMP/$1 attempt port out
	BENCH_PORT=""
	for attempt in 1 2 3; do
		port=$(bench_free_port)
		bench_postfix_write "$name" "$port"
		chown postfix "$dir/data"
		# postfix prints its errors only to a terminal: run it under script(1).
		if ! out=$(script -qec "timeout 60 postfix -c '$dir/etc' check" /dev/null 2>&1); then
			bench_die "postfix check for $name failed: $(tr -d '\r' <<<"$out")"
		fi
		if ! out=$(script -qec "timeout 60 postfix -c '$dir/etc' start" /dev/null 2>&1); then
			bench_log "postfix start for $name failed: $(tr -d '\r' <<<"$out")"
			tail -n 20 "$dir/log/maillog" >&2 2>/dev/null || true
			continue
		fi
		BENCH_POSTFIXES+=("$dir/etc")
		if bench_wait 30 bench_listening "$port"; then
			BENCH_PORT=$port
			bench_log "postfix $name: smtpd on 127.0.0.1:$port"
			return 0
		fi
		# A master whose smtpd cannot bind (port taken meanwhile) logs it and keeps
		# running; stop it and try another port.
		bench_log "postfix $name: smtpd not listening on $port; maillog:"
		tail -n 20 "$dir/log/maillog" >&2 2>/dev/null || true
		timeout 20 postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
		bench_wait 10 bench_master_gone "$dir" || bench_die "postfix $name did not stop"
		unset 'BENCH_POSTFIXES[-1]'
	done
	bench_die "could not start postfix $name"
}

bench_master_gone() {
	local pid
	pid=$(tr -dc 0-9 2>/dev/null <"$1/queue/pid/master.pid" || true)
	[ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null
}

bench_queue_empty() {
	[ -z "$(find "$BENCH_TMP/$1/queue/incoming" "$BENCH_TMP/$1/queue/active" \
		"$BENCH_TMP/$1/queue/deferred" "$BENCH_TMP/$1/queue/hold" \
		"$BENCH_TMP/$1/queue/maildrop" -type f -print -quit 2>/dev/null)" ]
}

# bench_load LABEL PORT COUNT DEADLINE: sends COUNT messages with smtp-source to PORT and
# waits until the sink has received them all. Sets BENCH_SEND_S (until smtp-source had
# them all accepted) and BENCH_TOTAL_S (until the sink had them all), in seconds.
bench_load() {
	local label=$1 port=$2 count=$3 secs=$4
	local base target t0 deadline tsent="" src_pid src_rc n out=$BENCH_TMP/source-$1.out
	local size=()
	[ -n "${MSG_SIZE:-}" ] && size=(-l "$MSG_SIZE")
	base=$(bench_sink_count)
	target=$((base + count))
	t0=${EPOCHREALTIME/./}
	deadline=$((t0 + secs * 1000000))
	smtp-source -s "${SESSIONS:-10}" -m "$count" "${size[@]}" -f "$BENCH_SENDER" -t "$BENCH_RCPT" \
		"127.0.0.1:$port" >"$out" 2>&1 &
	src_pid=$!
	BENCH_SRC_PID=$src_pid
	while true; do
		if [ -z "$tsent" ] && ! kill -0 "$src_pid" 2>/dev/null; then
			tsent=${EPOCHREALTIME/./}
			src_rc=0
			wait "$src_pid" || src_rc=$?
			if [ "$src_rc" -ne 0 ]; then
				bench_die "$label: smtp-source exited with $src_rc: $(tail -n 5 "$out")"
			fi
		fi
		n=$(bench_sink_count)
		if [ -n "$tsent" ] && ((n >= target)); then
			break
		fi
		if ((${EPOCHREALTIME/./} >= deadline)); then
			kill "$src_pid" 2>/dev/null || true
			wait "$src_pid" 2>/dev/null || true
			bench_die "$label: after ${secs} s the sink has $((n - base)) of $count messages (smtp-source $([ -n "$tsent" ] && echo done || echo still sending)); see the maillog (KEEP=1)"
		fi
		sleep 0.02
	done
	local t1=${EPOCHREALTIME/./}
	BENCH_SRC_PID=""
	if ((n > target)); then
		bench_die "$label: the sink got $((n - base)) messages, more than the $count sent"
	fi
	BENCH_SEND_S=$(awk -v a="$t0" -v b="$tsent" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
	BENCH_TOTAL_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
}

bench_rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

# bench_median X...: the median of numbers (mean of the middle two for an even count),
# rounded to a whole number; BENCH_FMT overrides the printf format.
bench_median() {
	printf '%s\n' "$@" | sort -g | awk -v f="${BENCH_FMT:-%.0f}" '{ v[NR] = $1 } END {
		if (NR == 0) { printf f "\n", 0; exit }
		if (NR % 2) printf f "\n", v[(NR + 1) / 2]; else printf f "\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_pf_delay NAME COUNT: the median of Postfix's "delays=a" (seconds from the message's
# arrival to the queue manager: smtpd, cleanup and any policy service or milter) over the
# last COUNT deliveries in the instance's maillog. Postfix logs it to 0.01 s.
bench_pf_delay() {
	local v
	# shellcheck disable=SC2046
	v=$(grep -o 'delays=[0-9.]*' "$BENCH_TMP/$1/log/maillog" | tail -n "$2" | cut -d= -f2)
	# shellcheck disable=SC2086
	BENCH_FMT=%.3f bench_median $v
}

bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

bench_check_count() {
	[[ "$1" =~ ^[1-9][0-9]*$ ]] || bench_die "MESSAGES must be a positive whole number, got '$1'"
}

bench_postfix_main() {
	local messages=${1:-2000}
	bench_check_count "$messages"
	local rounds=${ROUNDS:-2} warmup=${WARMUP:-50} secs=${RUN_DEADLINE:-90}
	bench_check_count "$rounds"
	bench_setup
	bench_log "$messages messages per run, $rounds round(s), ${SESSIONS:-10} sessions; load: $(uptime | sed 's/.*load/load/')"
	bench_start_sink
	bench_build_rcptguard

	cat >"$BENCH_TMP/rcptguard.yaml" <<EOF
# Written by scripts/bench-postfix.sh.
own_domains: [contoso.com]
protect: [army.mil, .mil]
providers: true
listen:
  policy: 127.0.0.1:0
  milter: 127.0.0.1:0
  relay: "off"
  http: 127.0.0.1:0
data_dir: $BENCH_TMP/rcptguard-data
EOF
	bench_start_rcptguard "$BENCH_TMP/rcptguard.yaml"
	local policy milter
	policy=$(bench_rg_addr policy)
	milter=$(bench_rg_addr milter)
	[ -n "$policy" ] || bench_die "rcptguard logged no policy listener"
	[ -n "$milter" ] || bench_die "rcptguard logged no milter listener"

	local check="check_policy_service { inet:$policy, timeout=5s, default_action=DEFER_IF_PERMIT }"
	bench_postfix_create plain
	bench_postfix_create policy \
		"smtpd_recipient_restrictions = $check" \
		"smtpd_end_of_data_restrictions = $check"
	bench_postfix_create milter \
		"smtpd_milters = inet:$milter" \
		"milter_default_action = tempfail" \
		"milter_protocol = 6"
	local -A port
	local name
	for name in plain policy milter; do
		bench_postfix_start "$name"
		port[$name]=$BENCH_PORT
	done

	# Warm up: start smtpd, cleanup and smtp processes, open rcptguard's connections.
	local d0 d1
	for name in plain policy milter; do
		bench_load "$name-warmup" "${port[$name]}" "$warmup" 60
	done

	local -A rates sends delays
	local r i order
	local -a names=(plain policy milter)
	for ((r = 1; r <= rounds; r++)); do
		order=()
		for ((i = 0; i < 3; i++)); do
			order+=("${names[(i + r - 1) % 3]}")
		done
		for name in "${order[@]}"; do
			d0=$([ "$name" = plain ] || bench_rg_decisions "$name")
			bench_load "$name" "${port[$name]}" "$messages" "$secs"
			bench_wait 30 bench_queue_empty "$name" || bench_die "$name: queue not empty after the run"
			if [ "$name" != plain ]; then
				# Each message must have been asked about: else the ratio means nothing.
				d1=$(bench_rg_decisions "$name")
				((d1 - d0 >= messages)) || bench_die "$name: rcptguard counted $((d1 - d0)) decisions for $messages messages"
			fi
			rates[$name]+=" $(bench_rate "$messages" "$BENCH_TOTAL_S")"
			sends[$name]+=" $(bench_rate "$messages" "$BENCH_SEND_S")"
			delays[$name]+=" $(bench_pf_delay "$name" "$messages")"
			bench_log "round $r $name: all delivered in ${BENCH_TOTAL_S} s (smtp-source done in ${BENCH_SEND_S} s)"
		done
	done

	local -A med smed dmed
	for name in "${names[@]}"; do
		# shellcheck disable=SC2086
		med[$name]=$(bench_median ${rates[$name]})
		# shellcheck disable=SC2086
		smed[$name]=$(bench_median ${sends[$name]})
		# shellcheck disable=SC2086
		dmed[$name]=$(BENCH_FMT=%.3f bench_median ${delays[$name]})
	done
	local pr mr
	pr=$(bench_ratio "${med[policy]}" "${med[plain]}")
	mr=$(bench_ratio "${med[milter]}" "${med[plain]}")
	echo
	echo "rcptguard Postfix benchmark: $messages messages x $rounds round(s), ${SESSIONS:-10} smtp-source sessions, $(nproc) CPUs"
	echo "load at the end: $(uptime | sed 's/.*load/load/')"
	echo
	printf '%-8s %14s %16s %18s %10s\n' setup "msgs/s (sink)" "msgs/s (accept)" "p50 delays=a (s)" "vs plain"
	printf '%-8s %14s %16s %18s %10s\n' plain "${med[plain]}" "${smed[plain]}" "${dmed[plain]}" 1.00
	printf '%-8s %14s %16s %18s %10s\n' policy "${med[policy]}" "${smed[policy]}" "${dmed[policy]}" "$pr"
	printf '%-8s %14s %16s %18s %10s\n' milter "${med[milter]}" "${smed[milter]}" "${dmed[milter]}" "$mr"
	echo
	if ((rounds > 1)); then
		for name in "${names[@]}"; do
			printf 'per round msgs/s (sink) %-7s%s\n' "$name:" "${rates[$name]}"
		done
		echo
	fi
	echo "ratio policy/plain = $pr, milter/plain = $mr (goal >= 0.90): $(awk -v p="$pr" -v m="$mr" 'BEGIN { print (p >= 0.9 && m >= 0.9) ? "met" : "NOT met" }')"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	bench_postfix_main "$@"
fi
