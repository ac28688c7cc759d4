#!/bin/sh
# run-relay.sh [options]: how many Socket.IO clients one ciis-relay holds,
# what each costs in RSS, and how long an issue's creation takes to reach
# every subscriber of its campus room at 1,000 and 10,000 subscribers — and
# the same figures, in the same run, for a Node socket.io 4.8 server doing
# the same broadcast (bench/node-relay.mjs), as ratios.
#
# Starts a private MariaDB + lighttpd + ciis-api with the test harness
# (tests/integration/lib/stack.sh), a campus and a building of orgA, and
# mints one viewer token per 5 clients (relay.max_connections_per_user's
# default) with the stack's key.  Then, for each round (-r), each run and
# each server, a fresh server process on a free 127.0.0.1 port and one
# bench/relay_load against it (websocket transport, CONNECT with the token,
# subscribe:campus with an ack):
#   cap:  -n clients (default 20,000, lowered to what RLIMIT_NOFILE allows
#         both processes), held -H s (default 40: past one pingInterval);
#         the server's VmRSS before, every 1,000, all open, after the hold;
#         then -K events to show the held clients still get them;
#   lat1: -l subscribers (default 1,000), -k events (200: so that p99 is not
#         simply the max) -i ms apart (300) plus 0..-j ms (100: so that they
#         fall anywhere in the relay's poll cycle instead of in step with it);
#   lat2: -L subscribers (default 10,000), the same events.
# An event is, for ciis-relay, an issue POSTed to ciis-api through lighttpd
# (its 201 = the commit; the relay, another process, sees it on its next
# poll of the events table, relay.tail_poll_ms), and for node a POST /emit with
# the same payload (taken from a real issue:created event), answered before
# the broadcast.  Per event the figure is its last delivery after that
# answer.  ciis-relay runs the stack's ciis.conf (every relay.* default);
# -T MS sets its relay.tail_poll_ms (CIIS_RELAY_TAIL_POLL_MS).  Everything is on
# 127.0.0.1, every load is bounded (relay_load's deadline, under timeout),
# and everything is stopped and deleted on exit.
#   make bench-relay && bench/run-relay.sh          (from the build directory)
#   bench/run-relay.sh -n 300 -l 100 -L 300 -k 5 -K 2 -H 3 -r 1   (smoke test)
# Options: -n N  -l N  -L N  -k K  -K K  -i MS  -j MS  -H S  -c OPENING  -R OPENS_PER_S
#          -r ROUNDS (2)  -x cap,lat1,lat2 (the runs)  -s ciis,node (the servers)
#          -T TAIL_POLL_MS (ciis-relay only; default: the config's relay.tail_poll_ms, 25)
#          -Q PATTERN: before each run, wait while `pgrep -f PATTERN` finds
#             a process (a shared machine's other test runs), 30 s at a time
# -n is lowered to what RLIMIT_NOFILE's hard limit (raised to it here) and
# the ephemeral port range allow, and the log says so.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
load=${RELAY_LOAD:-$top_builddir/bench/relay_load}
relay_bin=${CIIS_RELAY_BIN:-$top_builddir/src/relay/ciis-relay}
node_relay=$top_srcdir/bench/node-relay.mjs

N=20000 L1=1000 L2=10000 K=200 KCAP=5 I=300 J=100 HOLD=40 OPENING=64 RATE=2000 ROUNDS=2
runs=cap,lat1,lat2 servers=ciis,node POLL= QUIET=
while getopts n:l:L:k:K:i:j:H:c:R:r:x:s:T:Q: o; do
	case $o in
	n) N=$OPTARG ;;
	l) L1=$OPTARG ;;
	L) L2=$OPTARG ;;
	k) K=$OPTARG ;;
	K) KCAP=$OPTARG ;;
	i) I=$OPTARG ;;
	j) J=$OPTARG ;;
	H) HOLD=$OPTARG ;;
	c) OPENING=$OPTARG ;;
	R) RATE=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	x) runs=$OPTARG ;;
	s) servers=$OPTARG ;;
	T) POLL=$OPTARG ;;
	Q) QUIET=$OPTARG ;;
	*) bench_usage ;;
	esac
done

bench_harness
require_tool timeout
require_built "$load"
require_built "$relay_bin"
require_built "$CIIS_API_BIN"
# socket.io for node-relay.mjs: it exits 77 (99 under CI) when it is missing
case ,$servers, in *,node,*)
	node "$node_relay" --check </dev/null || exit $?
esac

# Descriptors: one per client in relay_load and in the server, plus their
# own (ciis-relay ~12, node ~25).  The hard limit is what we can have.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
fdmax=$(ulimit -n)
# Every client is a loopback connection to one server port: one ephemeral
# port each (relay_load resets them at the end, so none stays in TIME_WAIT).
# (cat: dash's read takes a byte at a time, and procfs answers the second with EOF)
_ports=$(cat /proc/sys/net/ipv4/ip_local_port_range)
_plo=${_ports%%[!0-9]*} _phi=${_ports##*[!0-9]}
climit=$((_phi - _plo + 1 - 100)) climit_why="ephemeral ports $_plo-$_phi"
if [ "$fdmax" != unlimited ] && [ $((fdmax - 50)) -lt "$climit" ]; then
	climit=$((fdmax - 50)) climit_why="RLIMIT_NOFILE $fdmax (hard)"
fi
for _v in N L1 L2; do
	eval "_n=\$$_v"
	[ "$_n" -le "$climit" ] && continue
	log "$climit_why: $_v lowered from $_n to $climit clients"
	eval "$_v=$climit"
done

bench_tmpdir
on_cleanup "stop_server"

log "$(date -u) run-relay.sh -n $N -l $L1 -L $L2 -k $K -K $KCAP -i $I -j $J -H $HOLD -c $OPENING -R $RATE -r $ROUNDS -x $runs -s $servers${POLL:+ -T $POLL}"
log "$(uname -srm); $(nproc) cores; $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); node $(node --version); ulimit -n $fdmax; ports $_plo-$_phi"
bench_start_stack

bench_campus "relay bench"

# node's payload: a real issue:created of this building, as stored (the
# relay sends the stored text as-is), its title the one relay_load replaces.
curl -s -m 10 -o /dev/null -H "Authorization: Bearer $TOKEN_REPORTER" -H 'Content-Type: application/json' \
	-d "{\"title\":\"relay-bench-TEMPLATE\",\"category\":\"plumbing\",\"buildingId\":\"$building\",\"description\":\"relay_load\"}" \
	"${BASE_URL}api/issues"
mariadb_root "$S" -N --raw -e "SELECT payload FROM events WHERE type = 'issue:created'
	ORDER BY id DESC LIMIT 1" "$DB_NAME" > "$D/payload.json"
grep -q relay-bench-TEMPLATE "$D/payload.json" || die "no issue:created payload to copy"
log "event payload: $(wc -c < "$D/payload.json") bytes"

# One viewer token per 5 clients, signed with the stack's key (what
# ciis-token does, without 4,000 processes).
maxn=$N
for _n in $L1 $L2; do [ "$_n" -le "$maxn" ] || maxn=$_n; done
JWT_SECRET=$JWT_SECRET ORG=$ORG_A COUNT=$(( (maxn + 4) / 5 )) node -e '
const { createHmac } = require("crypto");
const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const now = Math.floor(Date.now() / 1000), h = b({ alg: "HS256", typ: "JWT" }), out = [];
for (let i = 0; i < Number(process.env.COUNT); i++) {
  const p = b({ userId: `u-rb-${i}`, organizationId: process.env.ORG, role: "viewer",
    name: `relay bench ${i}`, iat: now, exp: now + 4 * 3600 });
  out.push(`${h}.${p}.${createHmac("sha256", process.env.JWT_SECRET).update(`${h}.${p}`).digest("base64url")}`);
}
require("fs").writeFileSync(process.argv[1], out.join("\n") + "\n");' "$D/tokens" ||
	die "minting tokens failed"
log "minted $(wc -l < "$D/tokens") tokens (u-rb-0 ..) for up to $maxn clients"

# ---- the servers ----------------------------------------------------------

srv_pid= srv_port= srv_log=
start_server() {	# ciis|node TAG
	srv_port=$(free_port)
	srv_log=$D/server-$2.log
	if [ "$1" = ciis ]; then
		if [ -n "$POLL" ]; then
			CIIS_RELAY_TAIL_POLL_MS=$POLL "$relay_bin" -c "$CIIS_CONF" --listen "127.0.0.1:$srv_port" \
				</dev/null >"$srv_log" 2>&1 &
		else
			"$relay_bin" -c "$CIIS_CONF" --listen "127.0.0.1:$srv_port" </dev/null >"$srv_log" 2>&1 &
		fi
		srv_pid=$!
		_health=/health/websocket
	else
		node "$node_relay" --listen "127.0.0.1:$srv_port" --secret "$JWT_SECRET" \
			</dev/null >"$srv_log" 2>&1 &
		srv_pid=$!
		_health=/health
	fi
	wait_http "http://127.0.0.1:$srv_port$_health" 20 200 || {
		tail -n 20 "$srv_log" >&2
		die "$1 server on port $srv_port does not answer"
	}
}

# SIGTERM, then up to STOP_S seconds (120) before SIGKILL; srv_stop_s says
# how long the exit took.
srv_status= srv_stop_s=
stop_server() {
	[ -n "$srv_pid" ] || return 0
	_t0=$(date +%s.%N)
	if pid_alive "$srv_pid"; then
		kill -TERM "$srv_pid" 2>/dev/null
		wait_until "${STOP_S:-120}" eval "! pid_alive $srv_pid" || {
			log "server $srv_pid still running ${STOP_S:-120} s after SIGTERM: SIGKILL"
			kill -KILL "$srv_pid" 2>/dev/null
		}
	fi
	wait "$srv_pid" 2>/dev/null
	srv_status=$?
	srv_stop_s=$(echo "$_t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
	srv_pid=
}

# Where the server's RSS is, from a copy of its /proc/PID/smaps.
smaps_breakdown() {	# FILE CLIENTS
	[ -s "$1" ] || return 0
	awk -v n="$2" '
	/^[0-9a-f]+-[0-9a-f]+ / { perms = $2; name = NF >= 6 ? $6 : ""; next }
	/^Size:/ { size = $2; next }
	/^Rss:/ {
		if (name == "[heap]") c = "[heap] (brk malloc arena)"
		else if (name ~ /^\[/) c = "other " name
		else if (name != "") c = "files (code, libraries)"
		else if (perms ~ /^---/) c = "guard / reserved"
		else if (size >= 65536) c = "anon >= 64 MiB (arenas, JS heap)"
		else if (size >= 1024) c = "anon 1-64 MiB"
		else c = "anon < 1 MiB"
		R[c] += $2; C[c]++; T += $2
	}
	END {
		for (c in R)
			printf "#   %-34s %6d mappings %8d kB %8.2f kB/client\n", c, C[c], R[c], n ? R[c] / n : 0
		printf "#   %-34s %6s          %8d kB %8.2f kB/client\n", "total", "", T, n ? T / n : 0
	}' "$1" | sort -k2
}

# ---- one run ----------------------------------------------------------------

# -Q: other test runs on a shared machine would be measured with us.  The
# processes of this script (whose own arguments hold the pattern) do not count.
busy() {
	for _p in $(pgrep -f "$QUIET"); do
		tr '\0' ' ' < "/proc/$_p/cmdline" 2>/dev/null | grep -q run-relay.sh || echo "$_p"
	done
}
wait_quiet() {
	[ -n "$QUIET" ] || return 0
	while _b=$(busy) && [ -n "$_b" ]; do
		log "waiting 30 s for: $(for _p in $_b; do tr '\0' ' ' < "/proc/$_p/cmdline" 2>/dev/null |
			cut -c1-60; echo; done | sed '/^$/d' | head -n 3 | tr '\n' ';')"
		sleep 30
	done
}

status=0
run_one() {	# SERVER RUN ROUND
	_srv=$1 _run=$2 _tag=$3-$2-$1
	wait_quiet
	case $_run in
	cap) _n=$N _k=$KCAP _h=$HOLD _smaps="-S $D/smaps-$_tag" ;;
	lat1) _n=$L1 _k=$K _h=3 _smaps= ;;
	lat2) _n=$L2 _k=$K _h=3 _smaps= ;;
	esac
	_dl=$((_n / RATE + _n / 500 + 30 + _h + _k * (I + J) / 1000 + 60))
	start_server "$_srv" "$_tag"
	if [ "$_srv" = ciis ]; then
		_trig="-m ciis -q $port -a $TOKEN_REPORTER -b $building"
	else
		_trig="-m node -q $srv_port -F $D/payload.json"
	fi
	log "$_tag: $_srv pid $srv_pid on 127.0.0.1:$srv_port, $(ls "/proc/$srv_pid/fd" | wc -l) fds; loadavg $(cat /proc/loadavg)"
	timeout -k 5 $((_dl + 30)) "$load" -p "$srv_port" -t "$D/tokens" -n "$_n" -g "$campus" \
		-c "$OPENING" -R "$RATE" -O 30 -H "$_h" -k "$_k" -i "$I" -j "$J" $_trig -w 15 -d "$_dl" \
		-P "$srv_pid" -s 1000 -o "$D/events-$_tag" $_smaps > "$D/out-$_tag" 2>"$D/err-$_tag"
	_rc=$?
	sed "s/^/$_tag /" "$D/out-$_tag"
	sed "s/^/# $_tag /" "$D/err-$_tag"
	if ! pid_alive "$srv_pid"; then
		wait "$srv_pid" 2>/dev/null
		log "$_tag: the $_srv server DIED during the run (wait status $?); its log's end:"
		tail -n 20 "$srv_log" | sed 's/^/#   /'
		srv_pid=
		status=1
	fi
	if [ -n "$_smaps" ] && [ -s "$D/smaps-$_tag" ]; then
		log "$_tag: $_srv RSS by mapping at the end ($(sed -n 's/^clients .*held_at_end=\([0-9]*\).*/\1/p' "$D/out-$_tag") clients):"
		smaps_breakdown "$D/smaps-$_tag" "$(sed -n 's/^clients .*held_at_end=\([0-9]*\).*/\1/p' "$D/out-$_tag")"
	fi
	log "$_tag: relay_load exit $_rc; loadavg $(cat /proc/loadavg)"
	stop_server
	log "$_tag: $_srv exit status $srv_status, $srv_stop_s s after SIGTERM; log $(wc -l < "$srv_log") lines, $(grep -c -E ' (warn|error|fatal) |Error|error:' "$srv_log") warn/error"
	grep -E ' (warn|error|fatal) |Error|error:' "$srv_log" | sed 's/^[^ ]* //; s/\[[0-9]*\] //' |
		sort | uniq -c | sort -rn | head -n 6 | sed 's/^/#   /'
	[ "$_rc" = 0 ] || status=1
	cp "$srv_log" "$D/kept-$_tag.log" 2>/dev/null
}

round=1
while [ "$round" -le "$ROUNDS" ]; do
	for _run in $(echo "$runs" | tr ',' ' '); do
		for _srv in $(echo "$servers" | tr ',' ' '); do
			run_one "$_srv" "$_run" "r$round"
		done
	done
	round=$((round + 1))
done
log "loadavg at end: $(cat /proc/loadavg)"

# ---- the table ----------------------------------------------------------------

field() {	# TAG LINE-PREFIX KEY
	[ -f "$D/out-$1" ] || { echo -; return; }
	_v=$(sed -n "s/^$2 .*[ ]$3=\([^ ]*\).*/\1/p" "$D/out-$1" | head -n 1)
	echo "${_v:--}"
}
ratio() {
	case "$1$2" in *-*) echo - ; return ;; esac
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}
row() {	# ROUND RUN LABEL PREFIX KEY [KEY2: shown as KEY / KEY2, no ratio]
	_c=$(field "$1-$2-ciis" "$4" "$5")
	_d=$(field "$1-$2-node" "$4" "$5")
	_q=$(ratio "$_c" "$_d")
	if [ $# -gt 5 ]; then
		_c="$_c / $(field "$1-$2-ciis" "$4" "$6")"
		_d="$_d / $(field "$1-$2-node" "$4" "$6")"
		_q=-
	fi
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$_c" "$_d" "$_q"
}
echo
echo "| round | run | figure | ciis-relay | node socket.io | ciis / node |"
echo "| --- | --- | --- | ---: | ---: | ---: |"
round=1
while [ "$round" -le "$ROUNDS" ]; do
	r=r$round
	case ,$runs, in *,cap,*)
		row "$r" cap "clients held after the hold (of $N)" clients held_at_end
		row "$r" cap "failed to open / dropped" clients failed_open dropped
		row "$r" cap "RSS KB per client" server_rss_kb per_client_kb
		row "$r" cap "RSS KB per client, marginal" server_rss_kb marginal_kb
		row "$r" cap "last delivery of $KCAP events, p50 ms" event_last_ms p50
		row "$r" cap "last delivery of $KCAP events, max ms" event_last_ms max
	esac
	for _run in lat1 lat2; do
		case ,$runs, in *,$_run,*) ;; *) continue ;; esac
		[ $_run = lat1 ] && _n=$L1 || _n=$L2
		row "$r" "$_run" "held ($_n)" clients held_at_end
		row "$r" "$_run" "failed to open / dropped" clients failed_open dropped
		row "$r" "$_run" "last delivery p50 ms" event_last_ms p50
		row "$r" "$_run" "last delivery p90 ms" event_last_ms p90
		row "$r" "$_run" "last delivery p99 ms" event_last_ms p99
		row "$r" "$_run" "last delivery max ms" event_last_ms max
		row "$r" "$_run" "first delivery p50 ms" event_first_ms p50
		row "$r" "$_run" "last delivery p99 ms, from the event's timestamp" event_last_from_ts_ms p99
		row "$r" "$_run" "last delivery p99 ms, from the POST sent" event_last_from_sent_ms p99
		row "$r" "$_run" "trigger answer p99 ms" trigger_answer_ms p99
		row "$r" "$_run" "lost" deliveries lost
		row "$r" "$_run" "duplicated" deliveries duplicates
	done
	round=$((round + 1))
done
exit $status
