#!/bin/sh
# Stops the shared stack.  Fails when ciis-api (whose stderr is lighttpd's
# log) reported a sanitizer error: CI runs the suite under ASan/UBSan too.
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/mariadb.sh"
. "$top_srcdir/tests/integration/lib/stack.sh"

dir=$CIIS_SHARED_STACK
if [ ! -f "$dir/env" ]; then
	echo "SKIP: no shared stack in $dir"
	exit 77
fi
. "$dir/env"

san_check() {	# WHEN
	for f in "$dir/lighttpd.log" "$dir/lighttpd-error.log"; do
		[ -f "$f" ] || continue
		if grep -q -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' "$f"; then
			not_ok "$1: no sanitizer report in $(basename "$f")"
			grep -n -A 30 -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' "$f" | head -n 120
		else
			ok "$1: no sanitizer report in $(basename "$f")"
		fi
	done
}

if [ "$EXTERNAL" = 1 ]; then
	stop_stack "$dir"
	ok "external stack left running"
	finish
fi

san_check "before stop"
pids=$(api_pids "$dir")
[ -n "$pids" ] && ok "ciis-api running under lighttpd (pid $pids)" || not_ok "ciis-api running under lighttpd"
stop_lighttpd "$dir"
san_check "after stop (leaks)"
if [ -s "$dir/access.log" ]; then
	if grep -q -e 'token=' -e 'SECRETMARK' "$dir/access.log"; then
		not_ok "access log holds no query strings (token=)"
		grep -n -e 'token=' -e SECRETMARK "$dir/access.log" | head -n 5
	else
		ok "access log holds no query strings (token=), $(wc -l < "$dir/access.log") lines"
	fi
fi
# t-api-permissions sends ?token=SECRETMARK<pid>: ciis-api must not log it.
if grep -q SECRETMARK "$dir/lighttpd.log" 2>/dev/null; then
	not_ok "ciis-api's log redacts ?token= values"
	grep -n SECRETMARK "$dir/lighttpd.log" | head -n 3
else
	ok "ciis-api's log redacts ?token= values"
fi
for p in $pids; do
	pid_alive "$p" && not_ok "ciis-api $p exited" || ok "ciis-api $p exited"
done
echo "# ---- ciis-api / lighttpd log (last 60 lines) ----"
tail -n 60 "$dir/lighttpd.log" 2>/dev/null | sed 's/^/# /'
stop_stack "$dir"
[ -n "${CIIS_KEEP_TMP:-}" ] || rm -rf "$dir"
finish
