#!/bin/sh
# SSE streams and passing database failures (SPEC §7), with a stack of its
# own behind lighttpd: an open stream survives MariaDB going away (its
# heartbeats go on) and delivers what is committed once it is back; a
# stream opened while the database is down gets a 200 with retry: and one
# "unavailable" error message; and REST is still answered while many
# streams are held open.
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/mariadb.sh"
. "$top_srcdir/tests/integration/lib/stack.sh"

require_tool curl
make_tmpdir dir
on_cleanup "stop_stack '$dir'"
# ciis-api inherits lighttpd's environment: heartbeats every second, and
# room for the streams of the capacity check below
CIIS_SSE_HEARTBEAT_SECONDS=1 CIIS_SSE_MAX_STREAMS_PER_USER=100 CIIS_TEST_STACK= \
	start_stack "$dir"
export CIIS_SSE_HEARTBEAT_SECONDS=1
. "$dir/env"
tmp=$dir/t
mkdir -p "$tmp"

post() {	# PATH BODY → $code, body in $tmp/b
	code=$(curl -s -m 15 -o "$tmp/b" -w '%{http_code}' -H "Authorization: Bearer $TOKEN_ADMIN" \
		-H 'Content-Type: application/json' --data-binary "$2" "${BASE_URL}${1#/}")
}
b() { json_get "$1" < "$tmp/b"; }
count() { grep -c "$1" "$2" 2>/dev/null || true; }
stream_url="${BASE_URL}api/realtime/issues/stream?token=$TOKEN_VIEWER"

post "/api/organizations/$ORG_A/campuses" '{"name":"outage campus"}'
campus=$(b j.id)
post "/api/campuses/$campus/buildings" '{"name":"outage hall"}'
bldg=$(b j.id)
check_eq "setup: building created" 201 "$code"

# ---- an open stream across an outage ---------------------------------------
curl -sN -m 60 "$stream_url&buildingId=$bldg" > "$tmp/s1" 2>/dev/null &
s1=$!
on_cleanup "kill $s1 2>/dev/null"
wait_for() {	# SECONDS COMMAND...: until COMMAND succeeds
	_w=$(( $(date +%s) + $1 )); shift
	until "$@"; do [ "$(date +%s)" -lt "$_w" ] || return 1; sleep 0.1; done
}
check "stream: initial arrives" wait_for 10 grep -q '"type":"initial"' "$tmp/s1"

stop_mariadb "$dir"
beats=$(count '"type":"heartbeat"' "$tmp/s1")
sleep 3
check "outage: the stream is still open" kill -0 "$s1"
check "outage: heartbeats go on ($beats before, $(count '"type":"heartbeat"' "$tmp/s1") after 3 s)" \
	[ "$(count '"type":"heartbeat"' "$tmp/s1")" -ge $((beats + 2)) ]

# ---- a stream opened while the database is down ----------------------------
curl -sN -m 10 -D "$tmp/h2" "$stream_url" > "$tmp/s2" 2>/dev/null
check "down: the stream answers 200" grep -q '^HTTP/1.1 200' "$tmp/h2"
check "down: text/event-stream" grep -qi '^content-type: text/event-stream' "$tmp/h2"
check "down: retry: before the message" grep -q '^retry: ' "$tmp/s2"
check "down: one unavailable error message" \
	[ "$(count '"type":"error","code":"unavailable"' "$tmp/s2")" -eq 1 ]
check "down: then the response ends (no initial)" [ "$(count '"type":"initial"' "$tmp/s2")" -eq 0 ]

# ---- back: the open stream catches up ---------------------------------------
_mdb_launch "$dir"
_mdb_export "$dir"
wait_for 15 sh -c "curl -s -o /dev/null -w '%{http_code}' '${BASE_URL}health' | grep -q 200"
post /api/issues "{\"title\":\"after the outage\",\"category\":\"it\",\"buildingId\":\"$bldg\"}"
check_eq "back: create 201" 201 "$code"
id=$(b j.id)
check "back: the open stream delivers the new issue" \
	wait_for 10 grep -q "\"type\":\"created\",\"data\":{\"id\":\"$id\"" "$tmp/s1"
kill "$s1" 2>/dev/null

# ---- REST while many streams are held ---------------------------------------
n=60
i=0
while [ $i -lt $n ]; do
	curl -sN -m 30 "$stream_url" > "$tmp/many.$i" 2>/dev/null &
	on_cleanup "kill $! 2>/dev/null"
	i=$((i + 1))
done
wait_for 20 sh -c "[ \$(grep -l '\"type\":\"initial\"' $tmp/many.* 2>/dev/null | wc -l) -ge $n ]"
check "capacity: $n streams open at once" \
	[ "$(grep -l '"type":"initial"' "$tmp"/many.* | wc -l)" -ge $n ]
slow=0
for k in 1 2 3 4 5 6 7 8 9 10; do
	t=$(curl -s -o /dev/null -m 10 -w '%{time_total}' -H "Authorization: Bearer $TOKEN_VIEWER" \
		"${BASE_URL}api/issues?buildingId=$bldg")
	awk "BEGIN { exit !($t < 2) }" || slow=$((slow + 1))
done
check_eq "capacity: REST answered promptly with $n streams open (slow answers)" 0 "$slow"

# ---- heartbeats slower than the keep-alive comment ---------------------------
# The 5 s ":" comment is no message: it must not put off a heartbeat due
# every 6 s (nor every 30, the default).  lighttpd restarts with its ciis-api.
stop_lighttpd "$dir"
CIIS_SSE_HEARTBEAT_SECONDS=6
start_lighttpd "$dir"
curl -sN -m 10 "$stream_url" > "$tmp/hb6" 2>/dev/null
check "heartbeat_seconds = 6: a heartbeat within 10 s, keep-alive comments or not" \
	[ "$(count '"type":"heartbeat"' "$tmp/hb6")" -ge 1 ]
CIIS_SSE_HEARTBEAT_SECONDS=1

# ciis-api reports leaks when it exits: stop it first
stop_lighttpd "$dir"
if grep -q -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' "$dir/lighttpd.log"; then
	not_ok "no sanitizer report in ciis-api's log"
	grep -n -A 30 -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' "$dir/lighttpd.log" | head -n 80
else
	ok "no sanitizer report in ciis-api's log"
fi
finish
