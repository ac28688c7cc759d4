#!/bin/sh
# With its own stack: while ciis-api runs under lighttpd, stop MariaDB →
# 503 unavailable with Retry-After (and /health 503, "db":"down"); start it
# again → requests succeed within a few seconds, and the ciis-api process
# is the same one (no restart).
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/mariadb.sh"
. "$top_srcdir/tests/integration/lib/stack.sh"

require_tool curl
make_tmpdir dir
on_cleanup "stop_stack '$dir'"
CIIS_TEST_STACK= start_stack "$dir"
. "$dir/env"
tmp=$dir/t
mkdir -p "$tmp"

# req METHOD PATH [BODY] → $code, headers in $tmp/h, body in $tmp/b
req() {
	code=$(curl -s -m 15 -o "$tmp/b" -D "$tmp/h" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer $TOKEN_ADMIN" \
		${3:+-H 'Content-Type: application/json'} ${3:+--data-binary "$3"} "${BASE_URL}${2#/}")
}
hdr() { sed -n "s/^$1:[[:space:]]*//Ip" "$tmp/h" | tr -d '\r' | head -n 1; }
b() { json_get "$1" < "$tmp/b"; }

pid=$(api_pids "$dir")
check "ciis-api runs under lighttpd (pid $pid)" [ -n "$pid" ]

req POST "/api/organizations/$ORG_A/campuses" '{"name":"restart campus"}'
check_eq "before: create campus 201" 201 "$code"
campus=$(b j.id)
req POST "/api/campuses/$campus/buildings" '{"name":"restart hall"}'
check_eq "before: create building 201" 201 "$code"
bldg=$(b j.id)
issue_body() { printf '{"title":"%s","category":"plumbing","buildingId":"%s"}' "$1" "$bldg"; }
req POST /api/issues "$(issue_body before)"
check_eq "before: create issue 201" 201 "$code"
req GET /health
check_eq "before: /health 200" 200 "$code"

stop_mariadb "$dir"
ok "MariaDB stopped"

t0=$(date +%s)
req GET /api/issues
check_eq "db down: GET /api/issues → 503" 503 "$code"
check_eq "db down: code unavailable" unavailable "$(b j.error.code)"
check_eq "db down: error body is exactly {error:{code,message}}" '["error"]|["code","message"]' \
	"$(b 'JSON.stringify(Object.keys(j).sort()) + "|" + JSON.stringify(Object.keys(j.error).sort())')"
ra=$(hdr Retry-After)
case $ra in [0-9]*) ok "db down: Retry-After: $ra" ;; *) not_ok "db down: Retry-After header, got '$ra'" ;; esac
req POST /api/issues "$(issue_body during)"
check_eq "db down: POST /api/issues → 503" 503 "$code"
check_eq "db down: POST code unavailable" unavailable "$(b j.error.code)"
req GET /health
check_eq "db down: /health → 503" 503 "$code"
check_eq 'db down: /health "db":"down"' down "$(b j.db)"
case $(hdr Retry-After) in [0-9]*) ok "db down: /health Retry-After" ;; *) not_ok "db down: /health Retry-After" ;; esac
t1=$(date +%s)
check "db down: the 503s came quickly ($((t1 - t0)) s for 4 requests)" [ $((t1 - t0)) -le 20 ]
check_eq "db down: ciis-api still the same process" "$pid" "$(api_pids "$dir")"

start_mariadb "$dir"
ok "MariaDB started again"
t0=$(date +%s)
back=
while [ $(( $(date +%s) - t0 )) -lt 10 ]; do
	req GET /api/issues
	if [ "$code" = 200 ]; then back=$(( $(date +%s) - t0 )); break; fi
	sleep 0.2
done
check "db back: GET /api/issues 200 within 10 s (after ${back:-never} s)" [ -n "$back" ]
req POST /api/issues "$(issue_body after)"
check_eq "db back: create issue 201" 201 "$code"
req GET /health
check_eq "db back: /health 200" 200 "$code"
check_eq 'db back: /health "db":"ok"' ok "$(b j.db)"
check_eq "db back: ciis-api pid unchanged" "$pid" "$(api_pids "$dir")"
check "db back: ciis-api $pid alive" pid_alive "$pid"

# A second outage: the reconnect is not a one-off.
restart_mariadb "$dir"
t0=$(date +%s)
back=
while [ $(( $(date +%s) - t0 )) -lt 10 ]; do
	req GET "/api/issues?buildingId=$bldg"
	if [ "$code" = 200 ]; then back=1; break; fi
	sleep 0.2
done
check "second restart: requests succeed again" [ -n "$back" ]
check_eq "second restart: both issues created while up are listed" 2 "$(b j.items.length)"
check_eq "second restart: ciis-api pid unchanged" "$pid" "$(api_pids "$dir")"

stop_lighttpd "$dir"
if grep -q -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' "$dir/lighttpd.log"; then
	not_ok "no sanitizer report in ciis-api's log"
	grep -n -A 30 -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' "$dir/lighttpd.log" | head -n 80
else
	ok "no sanitizer report in ciis-api's log"
fi
finish
