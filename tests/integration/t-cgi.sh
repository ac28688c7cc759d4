#!/bin/sh
# The same ciis-api binary as plain CGI (stdin a file, not a socket): it
# answers GET /health and a POST create with a CGI "Status:" header, against
# the shared stack's database, and what it writes is what the FastCGI
# server then serves.
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/mariadb.sh"
. "$top_srcdir/tests/integration/lib/stack.sh"

require_tool curl
require_built "$CIIS_API_BIN"
dir=$CIIS_SHARED_STACK
own=
if ! stack_alive "$dir"; then
	make_tmpdir dir
	own=1
	on_cleanup "stop_stack '$dir'"
	log "shared stack not running: starting a private one in $dir"
	start_stack "$dir"
fi
. "$dir/env"
make_tmpdir tmp

# cgi METHOD URI [BODY] [TOKEN] [CONTENT_TYPE]: run one CGI request; sets
# $status, $ctype and leaves the body in $tmp/body.
cgi() {
	_uri=$2
	_path=${_uri%%\?*}
	_query=
	case $_uri in *\?*) _query=${_uri#*\?} ;; esac
	printf '%s' "${3:-}" > "$tmp/in"
	_len=$(wc -c < "$tmp/in" | tr -d ' ')
	set -- env -i PATH="$PATH" CIIS_CONFIG="$CIIS_CONF" \
		ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" \
		GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 SERVER_SOFTWARE=t-cgi \
		SERVER_NAME=localhost SERVER_PORT=80 REMOTE_ADDR=127.0.0.1 \
		REQUEST_METHOD="$1" REQUEST_URI="$_uri" SCRIPT_NAME=/cgi-bin/ciis-api \
		PATH_INFO="$_path" QUERY_STRING="$_query" \
		${3:+CONTENT_TYPE="${5:-application/json}"} ${3:+CONTENT_LENGTH="$_len"} \
		${4:+HTTP_AUTHORIZATION="Bearer $4"} "$CIIS_API_BIN"
	"$@" < "$tmp/in" > "$tmp/out" 2> "$tmp/err"
	cgi_rc=$?
	cat "$tmp/err" >> "$tmp/stderr.all"
	# Headers end at the first empty line (CRLF or LF).
	node -e '
const fs = require("fs");
const buf = fs.readFileSync(process.argv[1]);
const s = buf.toString("latin1");
let i = s.indexOf("\r\n\r\n"), skip = 4;
const j = s.indexOf("\n\n");
if (i < 0 || (j >= 0 && j < i)) { i = j; skip = 2; }
if (i < 0) { fs.writeFileSync(process.argv[2], "status=none\nctype=\n"); fs.writeFileSync(process.argv[3], buf); process.exit(0); }
const head = s.slice(0, i).split(/\r?\n/);
let status = "200", ctype = "";
for (const h of head) {
  const m = /^([^:]+):\s*(.*)$/.exec(h);
  if (!m) continue;
  if (m[1].toLowerCase() === "status") status = m[2].split(" ")[0];
  if (m[1].toLowerCase() === "content-type") ctype = m[2];
}
fs.writeFileSync(process.argv[2], `status=${status}\nctype="${ctype}"\n`);
fs.writeFileSync(process.argv[3], buf.subarray(i + skip));
' "$tmp/out" "$tmp/head" "$tmp/body"
	. "$tmp/head"
}
body() { json_get "$1" < "$tmp/body"; }

cgi GET /health
check_eq "CGI GET /health: exit status 0" 0 "$cgi_rc"
check_eq "CGI GET /health: Status 200" 200 "$status"
case $ctype in application/json*) ok "CGI GET /health: Content-Type $ctype" ;;
*) not_ok "CGI GET /health: Content-Type application/json, got '$ctype'" ;; esac
check_eq "CGI GET /health: status ok" ok "$(body j.status)"
check_eq "CGI GET /health: db ok" ok "$(body j.db)"
check_eq "CGI GET /health: lastEventId a number" number "$(body 'typeof j.lastEventId')"

cgi GET /api/issues
check_eq "CGI without a token: Status 401" 401 "$status"
check_eq "CGI without a token: unauthorized" unauthorized "$(body j.error.code)"

cgi POST "/api/organizations/$ORG_A/campuses" '{"name":"CGI campus"}' "$TOKEN_ADMIN"
check_eq "CGI POST campus: Status 201" 201 "$status"
campus=$(body j.id)
cgi POST "/api/campuses/$campus/buildings" '{"name":"CGI hall","lat":1.5,"lng":2.5}' "$TOKEN_ADMIN"
check_eq "CGI POST building: Status 201" 201 "$status"
bldg=$(body j.id)
check_eq "CGI POST building: campusId" "$campus" "$(body j.campusId)"

title="CGI issue $$ é😀"
req=$(printf '{"title":"%s","category":"plumbing","priority":"high","buildingId":"%s","description":"via CGI"}' "$title" "$bldg")
cgi POST /api/issues "$req" "$TOKEN_REPORTER"
check_eq "CGI POST /api/issues: exit status 0" 0 "$cgi_rc"
check_eq "CGI POST /api/issues: Status 201" 201 "$status"
id=$(body j.id)
check_eq "CGI create: title verbatim" "$title" "$(body j.title)"
check_eq "CGI create: status open" open "$(body j.status)"
check_eq "CGI create: version 1" 1 "$(body j.version)"
check_eq "CGI create: organizationId from the token" "$ORG_A" "$(body j.organizationId)"
check_eq "CGI create: reporterId from the token" "$USER_REPORTER" "$(body j.reporterId)"
check_eq "CGI create: id a decimal string" yes "$(body '/^[0-9]+$/.test(j.id) ? "yes" : "no"')"

n=$(mariadb --no-defaults ${DB_SOCKET:+--socket="$DB_SOCKET"} -u"$DB_USER" -p"$DB_PASSWORD" -N \
	-e "SELECT COUNT(*) FROM events WHERE issue_id = ${id:-0} AND type = 'issue:created'" "$DB_NAME" 2>&1)
check_eq "CGI create appended its issue:created event" 1 "$n"

code=$(curl -s -o "$tmp/http" -w '%{http_code}' -H "Authorization: Bearer $TOKEN_VIEWER" "${BASE_URL}api/issues/$id")
check_eq "the FastCGI server serves the CGI-created issue" 200 "$code"
check_eq "same title over FastCGI" "$title" "$(json_get j.title < "$tmp/http")"

cgi GET "/api/issues/$id" '' "$TOKEN_VIEWER"
check_eq "CGI GET /api/issues/{id}: Status 200" 200 "$status"
check_eq "CGI GET: same id" "$id" "$(body j.id)"
cgi GET "/api/issues?buildingId=$bldg&limit=5" '' "$TOKEN_VIEWER"
check_eq "CGI GET list with a query string: one item" 1 "$(body j.items.length)"

cgi POST /api/issues '{"title":' "$TOKEN_REPORTER"
check_eq "CGI malformed JSON: Status 400" 400 "$status"
cgi POST /api/issues "$req" "$TOKEN_REPORTER" text/plain
check_eq "CGI wrong Content-Type: Status 415" 415 "$status"

if grep -q -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' "$tmp/stderr.all" 2>/dev/null; then
	not_ok "no sanitizer report from the CGI runs"
	head -n 60 "$tmp/stderr.all"
else
	ok "no sanitizer report from the CGI runs"
fi
finish
