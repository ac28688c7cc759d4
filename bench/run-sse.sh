#!/bin/sh
# run-sse.sh [options]: how many SSE streams one ciis-api holds behind
# lighttpd, what each costs in RSS, and how long a created issue takes to
# reach 1,000 of them.
#
# Starts a private MariaDB + lighttpd + ciis-api with the test harness
# (tests/integration/lib/stack.sh: the shipped lighttpd/ciis.conf, included
# from a lighttpd.conf of this script's own that raises server.max-fds and
# server.max-connections; ciis-api runs with its defaults: tail.poll_ms
# 100, sse.max_streams_per_user 3, heartbeat 30 s).  Mints one viewer token
# per 3 streams with ciis-token (distinct users, so the per-user cap is
# never raised), then runs bench/sse_load up to three times, restarting
# lighttpd (and so ciis-api) in between:
#   1. capacity: -n streams (default 5000), RSS of ciis-api before, every
#      1000 streams, once all are open and after the hold (-H s); then a few
#      creates (-K, 1 s apart) to show the held streams still deliver;
#   2. latency: -l streams (default 1000), -k creates (default 50) -i ms
#      apart (default 200) POSTed through lighttpd to the same ciis-api,
#      whose commit wakes its tailer at once; commit->delivery over every
#      stream;
#   3. poll: the same, but each issue is created by another process
#      (ciis-api run as CGI, as a second web front or a second host would),
#      so the streams' process sees it only on its next poll (tail.poll_ms).
# The capacity and latency runs end with a breakdown of ciis-api's RSS by
# mapping (thread stacks, malloc arenas, ...) from /proc/PID/smaps, taken
# after the deliveries; SSE_SMAPS_CAPACITY=0 skips it in the capacity run
# (with thread-per-stream, reading smaps of a process with 5,000 threads
# stalled it for ~15 s; the writer thread holds them now, so ciis-api has a
# handful of threads).  Everything is on 127.0.0.1, bounded in count and
# time, and stopped and deleted on exit.
#   make bench-sse && bench/run-sse.sh -r 200     (from the build directory)
#   bench/run-sse.sh -n 100 -l 50 -k 10 -H 5      (smoke test)
# Options: -n N  -l N  -k K  -K K  -i MS  -H S  -c OPENING  -r CLOSES_PER_S
#          -x cap,lat,poll (the runs to do; default all three)
#          -I ISSUES  create that many issues first, so that every stream's
#                     `initial` carries a snapshot (at most 50 issues)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
load=${SSE_LOAD:-$top_builddir/bench/sse_load}

N=5000 L=1000 K=50 KCAP=10 I=200 HOLD=30 OPENING=32 CLOSE_RATE=1000 phases=cap,lat,poll PRELOAD=0
while getopts n:l:k:K:i:H:c:r:x:I: o; do
	case $o in
	n) N=$OPTARG ;;
	l) L=$OPTARG ;;
	k) K=$OPTARG ;;
	K) KCAP=$OPTARG ;;
	i) I=$OPTARG ;;
	H) HOLD=$OPTARG ;;
	c) OPENING=$OPTARG ;;
	r) CLOSE_RATE=$OPTARG ;;
	x) phases=$OPTARG ;;
	I) PRELOAD=$OPTARG ;;
	*) bench_usage ;;
	esac
done

bench_harness
require_built "$load"
require_built "$CIIS_API_BIN"
require_built "$CIIS_TOKEN_BIN"

bench_tmpdir

# The harness's lighttpd.conf.in plus the limits 5,000 streams need: each
# held stream is 2 fds in lighttpd (client + FastCGI), and its default cap is
# max-fds/3 = 1365 connections (DEPLOY-NOTES §7).  `:=` after the include
# overrides whatever the shipped file sets, and sets it when it sets nothing.
cat > "$D/lighttpd-bench.conf.in" <<'EOF'
# written by bench/run-sse.sh
server.bind          = "127.0.0.1"
server.port          = @PORT@
server.document-root = "@DOCROOT@"
server.errorlog      = "@ERRORLOG@"
server.pid-file      = "@PIDFILE@"
server.tag           = "lighttpd"
server.max-read-idle = 120

var.ciis_api        = "@CIIS_API@"
var.ciis_config     = "@CIIS_CONFIG@"
var.ciis_socket_dir = "@SOCKET_DIR@"
var.ciis_access_log = "@ACCESSLOG@"
include "@SHIPPED_CONF@"

server.max-fds         := 16384
server.max-connections := 8000
EOF
CIIS_LIGHTTPD_TEMPLATE=$D/lighttpd-bench.conf.in
export CIIS_LIGHTTPD_TEMPLATE

log "$(date -u) run-sse.sh -n $N -l $L -k $K -K $KCAP -i $I -H $HOLD -c $OPENING -r $CLOSE_RATE -x $phases -I $PRELOAD"
log "$(uname -srm); $(nproc) cores; $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); $(lighttpd -v 2>&1 | head -n 1)"
bench_start_stack
log "lighttpd limits: $(lighttpd -p -f "$S/lighttpd.conf" 2>/dev/null | grep -E 'max-(fds|connections)' | tr -s ' \n' ' ')"
mariadb_root "$S" -N -e 'SELECT @@max_connections' | sed 's/^/# mariadb max_connections: /'

# A campus and a building of orgA for the creates.
bench_campus "sse bench"
_p=0
while [ $_p -lt "$PRELOAD" ]; do
	curl -s -m 10 -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN_REPORTER" \
		-H 'Content-Type: application/json' \
		-d "{\"title\":\"preload $_p\",\"category\":\"plumbing\",\"buildingId\":\"$building\",\"description\":\"an issue of the initial snapshot, with a description of about a hundred characters.\"}" \
		"${BASE_URL}api/issues" | grep -q '^201$' || die "preloading issue $_p failed"
	_p=$((_p + 1))
done
[ "$PRELOAD" = 0 ] || log "preloaded $PRELOAD issues (the initial snapshot holds up to 50)"

# One viewer token per 3 streams (sse.max_streams_per_user = 3).
mint() {	# PREFIX STREAMS FILE
	_m=$(( ($2 + 2) / 3 ))
	_i=0
	: > "$3"
	while [ $_i -lt $_m ]; do
		"$CIIS_TOKEN_BIN" -c "$CIIS_CONF" --user "$1-$_i" --org "$ORG_A" --role viewer \
			--ttl 14400 >> "$3" 2>>"$D/token.log" || die "ciis-token failed (see $D/token.log)"
		_i=$((_i + 1))
	done
	log "minted $_m tokens ($1-0 .. $1-$((_m - 1))) for $2 streams"
}

api_pid() {
	for _p in $(api_pids "$S"); do
		[ "$(cat "/proc/$_p/comm" 2>/dev/null)" = ciis-api ] && { echo "$_p"; return; }
	done
}

db_status() {	# the MariaDB counters report_logs compares
	mariadb_root "$S" -N -e "SHOW GLOBAL STATUS WHERE Variable_name IN
		('Aborted_connects','Connection_errors_max_connections','Max_used_connections','Threads_connected')" |
		tr '\t\n' '= '
}

report_logs() {	# LABEL API_PID STATUS_BEFORE
	log "$1: mariadb before: $3"
	log "$1: mariadb after:  $(db_status)"
	log "$1: sse_streams rows still counted (seen in the last 60 s): $(mariadb_root "$S" -N -e \
		'SELECT COUNT(*) FROM sse_streams WHERE seen_at > UTC_TIMESTAMP(3) - INTERVAL 60 SECOND' "$DB_NAME")"
	log "$1: ciis-api $2 logged $(grep -c "\[$2\]" "$S/lighttpd.log") lines, $(grep "\[$2\]" "$S/lighttpd.log" | grep -c -E ' (warn|error) ') warn/error; lighttpd error log: $(wc -l < "$S/lighttpd-error.log") lines"
	{ grep "\[$2\]" "$S/lighttpd.log" | grep -E ' (warn|error) ' | sed 's/^[^ ]* //; s/\[[0-9]*\] //'
	  grep -i -E 'error|warn|limit|disabled' "$S/lighttpd-error.log" | sed 's/^[^(]*//'; } |
		sed 's/token=[^ &"]*/token=…/g' | sort | uniq -c | sort -rn | head -n 8 | sed 's/^/#   /'
}

# Where ciis-api's RSS is, from a copy of its /proc/PID/smaps: thread stacks
# are the 256 KiB anonymous mappings (THREAD_STACK in src/api/main.c, the
# database workers' in src/api/workers.c).
smaps_breakdown() {	# FILE STREAMS
	[ -s "$1" ] || return 0
	awk -v n="$2" '
	/^[0-9a-f]+-[0-9a-f]+ / { perms = $2; name = NF >= 6 ? $6 : ""; next }
	/^Size:/ { size = $2; next }
	/^Rss:/ {
		if (name != "" && name !~ /^\[/) c = "files (code, libraries)"
		else if (name == "[heap]") c = "[heap] (main malloc arena)"
		else if (name ~ /^\[/) c = "other " name
		else if (perms ~ /^---/) c = "guard pages / reserved"
		else if (size >= 200 && size <= 300) { c = "thread stacks (256 KiB each)"; h[$2]++; ns++ }
		else if (size >= 1024) c = "anon >= 1 MiB (malloc arenas)"
		else c = "anon < 1 MiB"
		R[c] += $2; C[c]++; T += $2
	}
	END {
		for (c in R)
			printf "#   %-30s %6d mappings %8d kB %7.2f kB/stream\n", c, C[c], R[c], n ? R[c] / n : 0
		printf "#   %-30s %6s          %8d kB %7.2f kB/stream\n", "total", "", T, n ? T / n : 0
		if (ns > 0) {	/* percentiles from the histogram (kB come in pages) */
			k = 0; line = ""
			for (v = 0; v <= 300; v++) {
				if (!(v in h)) continue
				if (k == 0) line = line " min " v
				if (k < ns * 0.1 && k + h[v] >= ns * 0.1) line = line ", p10 " v
				if (k < ns * 0.5 && k + h[v] >= ns * 0.5) line = line ", median " v
				if (k < ns * 0.9 && k + h[v] >= ns * 0.9) line = line ", p90 " v
				k += h[v]; last = v
			}
			printf "#   ~ resident kB per thread stack:%s, max %d\n", line, last
		}
	}' "$1" | sort -k2
}

# Once a second: MariaDB connections and ciis-api threads (until the flag goes).
monitor() {	# OUT PID
	_mi=0
	while [ -f "$D/mon.on" ] && [ $_mi -lt 1800 ]; do
		printf '%s %s %s\n' "$_mi" \
			"$(mariadb_root "$S" -N -e "SHOW GLOBAL STATUS LIKE 'Threads_connected'" 2>/dev/null |
				cut -f2 | grep . || echo -)" \
			"$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$2/status" 2>/dev/null)"
		sleep 1
		_mi=$((_mi + 1))
	done >> "$1"	# appends: the caller marks the close in the same file
}

# ciis-api's open streams, from its /metrics (loopback only, which we are).
open_streams() {
	curl -s -m 5 "${BASE_URL}metrics" |
		awk '/^ciis_sse_streams\{/ { n += $2; seen = 1 } END { print seen ? n : "?" }'
}

run_load() {	# LABEL TIMEOUT_S SMAPS(0|1) sse_load args...
	_label=$1 _to=$2 _smaps=
	[ "$3" = 1 ] && _smaps="-S $D/smaps-$1"
	shift 3
	_api=$(api_pid)
	[ -n "$_api" ] || die "no ciis-api child of lighttpd"
	log "$_label: loadavg $(cat /proc/loadavg); ciis-api pid $_api"
	_dbs=$(db_status)
	log "$_label: sse_load -p $port -P $_api -L $(cat "$S/lighttpd.pid") $(echo "$*" | sed 's/-a [^ ]*/-a "$TOKEN_REPORTER"/')"
	: > "$D/mon.on"
	: > "$D/mon-$_label"
	monitor "$D/mon-$_label" "$_api" &
	_mon=$!
	# the load stops by itself (-d); timeout is the belt to those braces
	timeout -k 5 "$_to" "$load" -p "$port" -P "$_api" -L "$(cat "$S/lighttpd.pid")" \
		$_smaps "$@" > "$D/out-$_label"
	_rc=$?
	cat "$D/out-$_label"
	echo closed >> "$D/mon-$_label"
	_held=$(sed -n 's/^streams .*held_after_hold=\([0-9]*\).*/\1/p' "$D/out-$_label")
	if [ -s "$D/smaps-$_label" ]; then
		log "$_label: ciis-api RSS by mapping, after the deliveries ($_held streams):"
		smaps_breakdown "$D/smaps-$_label" "${_held:-0}"
	fi
	log "$_label: sse_load exit $_rc; loadavg $(cat /proc/loadavg)"
	pid_alive "$_api" || log "$_label: ciis-api $_api is GONE"
	# how long ciis-api takes to notice the closes and end the streams
	# (its ciis_sse_streams gauge back to 0)
	_t=0
	while [ $_t -lt 60 ] && pid_alive "$_api" && [ "$(open_streams)" != 0 ]; do
		sleep 1
		_t=$((_t + 1))
	done
	log "$_label: ciis-api ${_t} s after the closes: $(open_streams) streams open; $(grep -E '^(VmRSS|Threads)' "/proc/$_api/status" 2>/dev/null | tr -s ' \t\n' ' ')"
	rm -f "$D/mon.on"
	wait "$_mon"
	log "$_label: MariaDB connections (Threads_connected, sampled each second; - = the monitor could not connect): $(awk '$1 == "closed" { printf "| closed | "; next } { printf "%s ", $2 }' "$D/mon-$_label")"
	report_logs "$_label" "$_api" "$_dbs"
	return $_rc
}

# For the poll run: issue $1 created by ciis-api run as a CGI program, a
# process of its own whose commit cannot wake the streams' tailer.
cat > "$D/cgi-create.sh" <<EOF
#!/bin/sh
body="{\"title\":\"sse-bench-\$1\",\"category\":\"plumbing\",\"buildingId\":\"$building\",\"description\":\"sse_load cgi\"}"
printf '%s' "\$body" | env -i PATH="\$PATH" CIIS_CONFIG='$CIIS_CONF' GATEWAY_INTERFACE=CGI/1.1 \\
	SERVER_PROTOCOL=HTTP/1.1 SERVER_SOFTWARE=run-sse SERVER_NAME=localhost SERVER_PORT=80 \\
	REMOTE_ADDR=127.0.0.1 REQUEST_METHOD=POST REQUEST_URI=/api/issues \\
	SCRIPT_NAME=/cgi-bin/ciis-api PATH_INFO=/api/issues QUERY_STRING= \\
	CONTENT_TYPE=application/json CONTENT_LENGTH=\${#body} \\
	HTTP_AUTHORIZATION='Bearer $TOKEN_REPORTER' '$CIIS_API_BIN' 2>>'$D/cgi.log' |
	head -n 1 | grep -q '^Status: 201'
EOF
chmod +x "$D/cgi-create.sh"

fresh_api() {	# restart lighttpd, and with it ciis-api
	log "restarting lighttpd and ciis-api"
	stop_lighttpd "$S"
	start_lighttpd "$S" "$CIIS_LIGHTTPD_TEMPLATE"
	wait_http "${BASE_URL}health" 30 200 || die "GET /health does not answer 200 after the restart"
}

status=0 runs=0
case ,$phases, in *,cap,*)
	mint u-cap "$N" "$D/tokens-cap"
	run_load capacity $((N / 10 + HOLD + KCAP + 200)) "${SSE_SMAPS_CAPACITY:-1}" \
		-t "$D/tokens-cap" -n "$N" -c "$OPENING" -H "$HOLD" -k "$KCAP" -i 1000 \
		-a "$TOKEN_REPORTER" -b "$building" -w 15 -d $((N / 20 + HOLD + KCAP + 120)) \
		-s 1000 -r "$CLOSE_RATE" || status=1
	runs=1
esac
case ,$phases, in *,lat,*)
	[ $runs = 0 ] || fresh_api
	mint u-lat "$L" "$D/tokens-lat"
	run_load latency $((L / 10 + K * I / 1000 + 200)) 1 -t "$D/tokens-lat" -n "$L" \
		-c "$OPENING" -H 5 -k "$K" -i "$I" -a "$TOKEN_REPORTER" -b "$building" -w 15 \
		-d $((L / 20 + K * I / 1000 + 120)) -s 0 -r "$CLOSE_RATE" -o "$D/latency.txt" || status=1
	[ -z "${SSE_KEEP_LATENCIES:-}" ] || cp "$D/latency.txt" "$SSE_KEEP_LATENCIES"
	runs=1
esac
case ,$phases, in *,poll,*)
	[ $runs = 0 ] || fresh_api
	mint u-poll "$L" "$D/tokens-poll"
	run_load poll $((L / 10 + K * I / 1000 + 200)) 0 -t "$D/tokens-poll" -n "$L" \
		-c "$OPENING" -H 5 -k "$K" -i "$I" -j 100 -E "$D/cgi-create.sh" -w 15 \
		-d $((L / 20 + K * I / 1000 + 120)) -s 0 -r "$CLOSE_RATE" -o "$D/latency-poll.txt" || status=1
	[ -z "${SSE_KEEP_LATENCIES:-}" ] || cp "$D/latency-poll.txt" "$SSE_KEEP_LATENCIES.poll"
	[ ! -s "$D/cgi.log" ] || log "poll: the CGI creates logged $(wc -l < "$D/cgi.log") lines; first: $(head -n 1 "$D/cgi.log")"
esac
log "loadavg at end: $(cat /proc/loadavg)"
exit $status
