#!/bin/sh
# Starts the shared stack (MariaDB + lighttpd + ciis-api, orgs, tokens) that
# the integration tests ordered after this one use; t-zz-teardown.sh stops it.
# A watchdog stops it too when the `make` that runs the tests is gone, so a
# test run alone (make check TESTS=...) leaves nothing running.
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/mariadb.sh"
. "$top_srcdir/tests/integration/lib/stack.sh"

dir=$CIIS_SHARED_STACK
on_cleanup '[ "$_rc" -eq 0 ] || { tail -n 40 "$dir/lighttpd.log" 2>/dev/null; stop_stack "$dir"; }'

start_stack "$dir"
. "$dir/env"
ok "stack up at $BASE_URL"

body=$(curl -s -m 5 "${BASE_URL}health")
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "${BASE_URL}health")
check_eq "GET /health is 200" 200 "$code"
check_eq "GET /health reports db ok" ok "$(printf '%s' "$body" | json_get j.db)"
# As the application's user, so that it works for CIIS_TEST_STACK too.
app_sql() {
	if [ -n "$DB_SOCKET" ]; then set -- --socket="$DB_SOCKET" "$@"
	else set -- -h "${DB_HOST:-127.0.0.1}" -P "${DB_PORT:-3306}" "$@"; fi
	mariadb --no-defaults -u"$DB_USER" -p"$DB_PASSWORD" -N -B "$@" "$DB_NAME" 2>&1
}
check_eq "schema applied: event_seq row" 1 "$(app_sql -e 'SELECT COUNT(*) FROM event_seq')"
check_eq "orgA and orgB exist" 2 \
	"$(app_sql -e "SELECT COUNT(*) FROM organizations WHERE id IN ('orgA','orgB')")"
for t in TOKEN_VIEWER TOKEN_REPORTER TOKEN_STAFF TOKEN_ADMIN TOKEN_B_ADMIN TOKEN_EXPIRED; do
	eval "v=\$$t"
	case $v in
	*.*.*) ok "$t minted" ;;
	*) not_ok "$t minted: '$v'" ;;
	esac
done

# Watchdog: the nearest `make` above us runs the whole test suite; when it
# exits, stop whatever is still running.
if [ "$EXTERNAL" != 1 ]; then
	p=$PPID
	make_pid=
	while [ -n "$p" ] && [ "$p" -gt 1 ]; do
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = make ]; then
			make_pid=$p
			break
		fi
		p=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$p/status" 2>/dev/null)
	done
	if [ -n "$make_pid" ]; then
		(
			trap - EXIT HUP INT TERM
			while kill -0 "$make_pid" 2>/dev/null && [ -f "$dir/env" ]; do
				sleep 2
			done
			[ -f "$dir/env" ] && stop_stack "$dir"
		) </dev/null >/dev/null 2>&1 &
		ok "watchdog follows make (pid $make_pid)"
	fi
fi
finish
