#!/bin/sh
# A request killed mid-transaction leaves neither its change nor its event.
# No test hooks in the program: a mariadb session holds the event_seq row
# (the appending transaction updates it as its last statement before
# COMMIT), so a create blocks there after its issue INSERT; we kill -9
# ciis-api, release the row, and look: no issue, no event, no id used.
# Then a fresh ciis-api serves a create normally, with the next id.
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/mariadb.sh"
. "$top_srcdir/tests/integration/lib/stack.sh"

require_tool curl
require_tool mkfifo
require_built "$CIIS_API_BIN"
make_tmpdir dir
on_cleanup "stop_stack '$dir'"
on_cleanup 'stop_pid "$api_pid" 10'
on_cleanup '[ -z "$holder_pid" ] || { exec 3>&-; stop_pid "$holder_pid" 5; }'
api_pid=
holder_pid=

CIIS_FCGI_PORT=$(free_port)
export CIIS_FCGI_PORT
start_api() {
	CIIS_CONFIG=$dir/ciis.conf "$CIIS_API_BIN" --listen "127.0.0.1:$CIIS_FCGI_PORT" \
		</dev/null >>"$dir/ciis-api.log" 2>&1 &
	api_pid=$!
	wait_until 15 node -e "require('net').connect($CIIS_FCGI_PORT,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" ||
		die "ciis-api --listen 127.0.0.1:$CIIS_FCGI_PORT does not listen (see $dir/ciis-api.log)"
}
CIIS_TEST_STACK= CIIS_LIGHTTPD_TEMPLATE=$CIIS_IT_SRC/conf/lighttpd-ext.conf.in \
	CIIS_STACK_BEFORE_LIGHTTPD=start_api start_stack "$dir"
. "$dir/env"
check "ciis-api --listen runs (pid $api_pid)" pid_alive "$api_pid"
sql() { mariadb_root "$dir" -N -B "$DB_NAME" -e "$1"; }
tmp=$dir/t
mkdir -p "$tmp"

post() {	# PATH BODY TOKEN → $code, body in $tmp/b
	code=$(curl -s -m 60 -o "$tmp/b" -w '%{http_code}' -H "Authorization: Bearer $3" \
		-H 'Content-Type: application/json' --data-binary "$2" "${BASE_URL}${1#/}")
}
post "/api/organizations/$ORG_A/campuses" '{"name":"kill campus"}' "$TOKEN_ADMIN"
check_eq "create campus 201" 201 "$code"
campus=$(json_get j.id < "$tmp/b")
post "/api/campuses/$campus/buildings" '{"name":"kill hall"}' "$TOKEN_ADMIN"
check_eq "create building 201" 201 "$code"
bldg=$(json_get j.id < "$tmp/b")
issue_body() { printf '{"title":"%s","category":"plumbing","buildingId":"%s"}' "$1" "$bldg"; }
post /api/issues "$(issue_body warmup)" "$TOKEN_REPORTER"
check_eq "a normal create works first (201)" 201 "$code"

marker="killed-midway-$$"
ev0=$(sql "SELECT COALESCE(MAX(id),0) FROM events")
seq0=$(sql "SELECT last FROM event_seq WHERE id = 1")
iss0=$(sql "SELECT COUNT(*) FROM issues")
check_eq "event_seq.last = max(events.id) before" "$ev0" "$seq0"

# The holder: one long mariadb session fed through a fifo.
mkfifo "$tmp/fifo"
mariadb_root "$dir" -N -B -n "$DB_NAME" < "$tmp/fifo" > "$tmp/holder.out" 2>&1 &
holder_pid=$!
exec 3> "$tmp/fifo"
printf '%s\n' "SELECT CONNECTION_ID();" "BEGIN;" \
	"SELECT last FROM event_seq WHERE id = 1 FOR UPDATE;" >&3
wait_until 10 sh -c "[ \$(wc -l < '$tmp/holder.out') -ge 2 ]" ||
	die "the holder session did not lock event_seq: $(cat "$tmp/holder.out")"
holder_conn=$(sed -n 1p "$tmp/holder.out")
check_eq "holder session holds event_seq (last = $seq0)" "$seq0" "$(sed -n 2p "$tmp/holder.out")"

curl -s -m 60 -o "$tmp/killed.body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN_REPORTER" \
	-H 'Content-Type: application/json' --data-binary "$(issue_body "$marker")" \
	"${BASE_URL}api/issues" > "$tmp/killed.code" 2>/dev/null &
curl_pid=$!
blocked() {
	[ "$(sql "SELECT COUNT(*) FROM information_schema.innodb_trx
		WHERE trx_state = 'LOCK WAIT' AND trx_mysql_thread_id <> $holder_conn")" -ge 1 ]
}
if wait_until 15 blocked; then ok "the create is blocked on event_seq"; else not_ok "the create is blocked on event_seq"; fi
in_txn=$(sql "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED;
	SELECT COUNT(*) FROM issues WHERE title = '$marker'")
check_eq "mid-transaction: its issue row is inserted, uncommitted" 1 "$in_txn"
check_eq "mid-transaction: not visible to a committed read" 0 \
	"$(sql "SELECT COUNT(*) FROM issues WHERE title = '$marker'")"

kill -KILL "$api_pid"
wait "$api_pid" 2>/dev/null
check "ciis-api killed with SIGKILL" eval '! pid_alive "$api_pid"'
wait "$curl_pid" 2>/dev/null
killed_code=$(cat "$tmp/killed.code" 2>/dev/null)
case $killed_code in
5??) ok "the killed request got $killed_code from lighttpd" ;;
*) not_ok "the killed request: expected a 5xx from lighttpd, got '$killed_code'" ;;
esac

printf '%s\n' "ROLLBACK;" >&3
exec 3>&-
wait "$holder_pid" 2>/dev/null
holder_pid=
# The dead connection's transaction is rolled back once its UPDATE gets
# the row and the server finds the client gone.
if wait_until 20 sh -c "[ \"\$(mariadb --no-defaults --socket='$DB_SOCKET' -uroot -N -e \
	'SELECT COUNT(*) FROM information_schema.innodb_trx')\" = 0 ]"; then
	ok "the killed transaction is gone"
else
	not_ok "the killed transaction is gone"
fi
check_eq "no issue row of the killed request" 0 "$(sql "SELECT COUNT(*) FROM issues WHERE title = '$marker'")"
check_eq "issue count unchanged" "$iss0" "$(sql "SELECT COUNT(*) FROM issues")"
check_eq "no new event" "$ev0" "$(sql "SELECT COALESCE(MAX(id),0) FROM events")"
check_eq "no event mentions it" 0 "$(sql "SELECT COUNT(*) FROM events WHERE payload LIKE '%$marker%'")"
check_eq "event_seq.last unchanged (no id used)" "$seq0" "$(sql "SELECT last FROM event_seq WHERE id = 1")"

start_api
check "a fresh ciis-api runs (pid $api_pid)" pid_alive "$api_pid"
t0=$(date +%s)
code=
while [ $(( $(date +%s) - t0 )) -lt 15 ]; do
	post /api/issues "$(issue_body after-kill)" "$TOKEN_REPORTER"
	[ "$code" = 201 ] && break
	sleep 0.3
done
check_eq "a create through the fresh ciis-api: 201" 201 "$code"
check_eq "its events are the next ids (gapless): issue:created + heatmap:updated" \
	"$((seq0 + 1)) $((seq0 + 2))" \
	"$(sql "SELECT id FROM events WHERE id > $ev0 ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "event_seq.last follows" "$((seq0 + 2))" "$(sql "SELECT last FROM event_seq WHERE id = 1")"

stop_pid "$api_pid" 15
if grep -q -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' "$dir/ciis-api.log"; then
	not_ok "no sanitizer report in ciis-api's log"
	grep -n -A 30 -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' "$dir/ciis-api.log" | head -n 80
else
	ok "no sanitizer report in ciis-api's log"
fi
finish
