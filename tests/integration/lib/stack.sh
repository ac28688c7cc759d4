# The whole ciis stack for integration tests: a private MariaDB, a ciis.conf,
# the schema (ciis-admin migrate), organizations orgA and orgB, lighttpd
# running the *shipped* lighttpd/ciis.conf (which starts ciis-api through
# bin-path), tokens for every role, and DIR/env for the tests to read.
# Source common.sh and mariadb.sh first.
#
#   start_stack DIR      idempotent: a live stack in DIR is reused
#   stop_stack DIR       lighttpd (and with it ciis-api), then MariaDB
#   start_lighttpd DIR [TEMPLATE]   (re)start only lighttpd, same port
#   relay_port DIR       where lighttpd and Apache send the relay routes
#                        (RELAY_PORT in DIR/env); nothing listens there
#                        unless a test starts ciis-relay on it
#   stop_lighttpd DIR
#   stack_alive DIR
#   api_pids DIR         pids of the ciis-api children of lighttpd
#
# CIIS_LIGHTTPD_TEMPLATE=conf/x.in renders another lighttpd config, and
# CIIS_STACK_BEFORE_LIGHTTPD='cmd' runs cmd after the migration, before
# lighttpd (t-txn-kill.sh starts its own ciis-api there).
#
# CIIS_TEST_PROXY_IDLE=SECONDS sets lighttpd's server.max-read-idle (120
# otherwise) and, in lib/apache.sh, Apache's Timeout and ProxyTimeout
# (the shipped 120 otherwise): the idle timeouts of proxied WebSockets.
#
# CIIS_TEST_STACK=host:port with CIIS_CONFIG=FILE (that stack's config)
# aims start_stack at a stack that is already running: nothing is started
# or stopped, orgA/orgB are added to it and tokens minted from its key.

CIIS_ORG_A=orgA
CIIS_ORG_B=orgB
: "${CIIS_MAX_BODY_BYTES:=65536}"

stack_alive() {
	[ -f "$1/env" ] || return 1
	if grep -q "^EXTERNAL='1'" "$1/env"; then
		_sa_url=$(sed -n "s/^BASE_URL='\(.*\)'$/\1/p" "$1/env")
		wait_http "${_sa_url}health" 2 >/dev/null 2>&1
		return
	fi
	pid_alive "$(cat "$1/lighttpd.pid" 2>/dev/null)" || return 1
	mariadb_alive "$1" || return 1
	wait_http "http://127.0.0.1:$(cat "$1/lighttpd.port")/health" 2 >/dev/null 2>&1
}

# _render TEMPLATE OUT: substitute the @VARS@ of a conf/*.in file.
_render() {
	sed -e "s|@PORT@|$_lt_port|g" \
	    -e "s|@DOCROOT@|$_lt_dir/docroot|g" \
	    -e "s|@ERRORLOG@|$_lt_dir/lighttpd-error.log|g" \
	    -e "s|@PIDFILE@|$_lt_dir/lighttpd.pid|g" \
	    -e "s|@CIIS_API@|$CIIS_API_BIN|g" \
	    -e "s|@CIIS_CONFIG@|$_lt_dir/ciis.conf|g" \
	    -e "s|@SOCKET_DIR@|$(sock_dir "$_lt_dir")|g" \
	    -e "s|@ACCESSLOG@|$_lt_dir/access.log|g" \
	    -e "s|@FCGI_PORT@|${CIIS_FCGI_PORT:-0}|g" \
	    -e "s|@RELAY_PORT@|$(cat "$_lt_dir/relay.port")|g" \
	    -e "s|@MAX_READ_IDLE@|${CIIS_TEST_PROXY_IDLE:-120}|g" \
	    -e "s|@SHIPPED_CONF@|$top_srcdir/lighttpd/ciis.conf|g" \
	    "$1" > "$2"
}

start_lighttpd() {
	require_tool lighttpd
	_lt_dir=$1
	_lt_tmpl=${2:-$CIIS_IT_SRC/conf/lighttpd.conf.in}
	mkdir -p "$_lt_dir/docroot"
	[ -s "$_lt_dir/lighttpd.port" ] || free_port > "$_lt_dir/lighttpd.port"
	relay_port "$_lt_dir" >/dev/null
	_lt_port=$(cat "$_lt_dir/lighttpd.port")
	_render "$_lt_tmpl" "$_lt_dir/lighttpd.conf"
	lighttpd -tt -f "$_lt_dir/lighttpd.conf" >"$_lt_dir/lighttpd-check.log" 2>&1 || {
		cat "$_lt_dir/lighttpd-check.log" >&2
		die "lighttpd rejects $_lt_dir/lighttpd.conf"
	}
	# Foreground (-D) so that ciis-api's stderr (its log, ASan reports)
	# lands in lighttpd.log.
	lighttpd -D -f "$_lt_dir/lighttpd.conf" </dev/null >>"$_lt_dir/lighttpd.log" 2>&1 &
	echo $! > "$_lt_dir/lighttpd.pid"
	BASE_URL=http://127.0.0.1:$_lt_port/
	export BASE_URL
	wait_http "${BASE_URL}health" 30 || {
		tail -n 30 "$_lt_dir/lighttpd.log" "$_lt_dir/lighttpd-error.log" >&2
		die "lighttpd on port $_lt_port does not answer"
	}
}

# relay_port DIR: the port the front ends of DIR send the relay routes to
# (chosen once; a test that runs ciis-relay for the stack listens there).
relay_port() {
	[ -s "$1/relay.port" ] || free_port > "$1/relay.port"
	cat "$1/relay.port"
}

api_pids() {
	_ap_lt=$(cat "$1/lighttpd.pid" 2>/dev/null)
	[ -n "$_ap_lt" ] && children_of "$_ap_lt"
}

stop_lighttpd() {
	_sl_pid=$(cat "$1/lighttpd.pid" 2>/dev/null)
	pid_alive "$_sl_pid" || { rm -f "$1/lighttpd.pid"; return 0; }
	_sl_kids=$(children_of "$_sl_pid")
	stop_pid "$_sl_pid" 15
	# lighttpd TERMs its bin-path child; wait for it so that its exit
	# (LeakSanitizer's report) is in the log before anyone reads it.
	for _k in $_sl_kids; do
		wait_until 15 eval "! pid_alive $_k" || {
			printf '# ciis-api %s ignored SIGTERM for 15 s; killing it\n' "$_k"
			kill -KILL "$_k" 2>/dev/null
		}
	done
	rm -f "$1/lighttpd.pid"
}

# write_ciis_conf DIR: the config every program of the stack reads.
write_ciis_conf() {
	[ -s "$1/jwt.secret" ] ||
		od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$1/jwt.secret"
	cat > "$1/ciis.conf" <<CONF
# written by tests/integration/lib/stack.sh
db.socket = $DB_SOCKET
db.user = $DB_USER
db.password = $DB_PASSWORD
db.name = $DB_NAME
jwt.secret = $(cat "$1/jwt.secret")
log.level = ${CIIS_TEST_LOG_LEVEL:-info}
http.max_body_bytes = $CIIS_MAX_BODY_BYTES
CONF
}

_admin() {
	"$CIIS_ADMIN_BIN" -c "$_st_conf" "$@" >>"$_st_dir/admin.log" 2>&1 || {
		tail -n 20 "$_st_dir/admin.log" >&2
		die "ciis-admin $* failed"
	}
}

_token() {	# USER ORG ROLE [TTL]
	_t=$("$CIIS_TOKEN_BIN" -c "$_st_conf" --user "$1" --org "$2" --role "$3" \
		--ttl "${4:-14400}" --name "Test $3 $1" 2>>"$_st_dir/admin.log") &&
		[ -n "$_t" ] || die "ciis-token --user $1 --org $2 --role $3 failed"
	printf '%s' "$_t"
}

_conf_get() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$2" | tail -n 1; }

_env_line() { printf "%s='%s'\n" "$1" "$2" >> "$_st_dir/env.tmp"; }

# Organizations and tokens, then DIR/env (written last: its presence
# means the stack is complete).
_stack_finish() {
	_admin add-org "$CIIS_ORG_A" "Organization A"
	_admin add-org "$CIIS_ORG_B" "Organization B"
	_tv=$(_token u-viewer-a "$CIIS_ORG_A" viewer) || exit 1
	_tr=$(_token u-reporter-a "$CIIS_ORG_A" reporter) || exit 1
	_ts=$(_token u-staff-a "$CIIS_ORG_A" staff) || exit 1
	_ta=$(_token u-admin-a "$CIIS_ORG_A" admin) || exit 1
	_tba=$(_token u-admin-b "$CIIS_ORG_B" admin) || exit 1
	_tbv=$(_token u-viewer-b "$CIIS_ORG_B" viewer) || exit 1
	# An expired token: a negative ttl if ciis-token takes one, else 1 s
	# and wait it out.
	_te=$("$CIIS_TOKEN_BIN" -c "$_st_conf" --user u-expired-a --org "$CIIS_ORG_A" \
		--role admin --ttl -60 2>/dev/null) || _te=
	if [ -z "$_te" ]; then
		_te=$(_token u-expired-a "$CIIS_ORG_A" admin 1) || exit 1
		sleep 2
	fi
	: > "$_st_dir/env.tmp"
	_env_line EXTERNAL "$_st_external"
	_env_line STACK_DIR "$_st_dir"
	_env_line BASE_URL "$BASE_URL"
	_env_line CIIS_CONF "$_st_conf"
	_env_line DB_SOCKET "$DB_SOCKET"
	_env_line DB_HOST "${DB_HOST:-}"
	_env_line DB_PORT "${DB_PORT:-}"
	_env_line DB_NAME "$DB_NAME"
	_env_line DB_USER "$DB_USER"
	_env_line DB_PASSWORD "$DB_PASSWORD"
	_env_line JWT_SECRET "$(_conf_get jwt.secret "$_st_conf")"
	_env_line MAX_BODY_BYTES "$(_conf_get http.max_body_bytes "$_st_conf")"
	_env_line LIGHTTPD_PID "$(cat "$_st_dir/lighttpd.pid" 2>/dev/null)"
	_env_line RELAY_PORT "$(cat "$_st_dir/relay.port" 2>/dev/null)"
	_env_line LIGHTTPD_LOG "$_st_dir/lighttpd.log"
	_env_line LIGHTTPD_ERRORLOG "$_st_dir/lighttpd-error.log"
	_env_line ACCESS_LOG "$_st_dir/access.log"
	_env_line ORG_A "$CIIS_ORG_A"
	_env_line ORG_B "$CIIS_ORG_B"
	_env_line USER_VIEWER u-viewer-a
	_env_line USER_REPORTER u-reporter-a
	_env_line USER_STAFF u-staff-a
	_env_line USER_ADMIN u-admin-a
	_env_line USER_B_ADMIN u-admin-b
	_env_line TOKEN_VIEWER "$_tv"
	_env_line TOKEN_REPORTER "$_tr"
	_env_line TOKEN_STAFF "$_ts"
	_env_line TOKEN_ADMIN "$_ta"
	_env_line TOKEN_B_ADMIN "$_tba"
	_env_line TOKEN_B_VIEWER "$_tbv"
	_env_line TOKEN_EXPIRED "$_te"
	mv "$_st_dir/env.tmp" "$_st_dir/env"
}

_start_external() {
	: "${CIIS_CONFIG:?CIIS_TEST_STACK needs CIIS_CONFIG=the config file of that stack}"
	_st_conf=$CIIS_CONFIG
	_st_external=1
	BASE_URL=http://$CIIS_TEST_STACK/
	DB_SOCKET=$(_conf_get db.socket "$_st_conf")
	DB_HOST=$(_conf_get db.host "$_st_conf")
	DB_PORT=$(_conf_get db.port "$_st_conf")
	DB_USER=$(_conf_get db.user "$_st_conf")
	DB_PASSWORD=$(_conf_get db.password "$_st_conf")
	DB_NAME=$(_conf_get db.name "$_st_conf")
	DB_NAME=${DB_NAME:-ciis}
	wait_http "${BASE_URL}health" 10 || die "no stack answers at $BASE_URL"
	_stack_finish
}

start_stack() {
	_st_dir=$1
	mkdir -p "$_st_dir"
	_st_dir=$(cd "$_st_dir" && pwd)
	_st_conf=$_st_dir/ciis.conf
	_st_external=0
	if stack_alive "$_st_dir"; then
		. "$_st_dir/env"
		export BASE_URL
		return 0
	fi
	rm -f "$_st_dir/env"
	# Left over from a stopped stack: its ports may be someone else's now.
	pid_alive "$(cat "$_st_dir/lighttpd.pid" 2>/dev/null)" || rm -f "$_st_dir/lighttpd.port" "$_st_dir/relay.port"
	mariadb_alive "$_st_dir" || rm -f "$_st_dir/mariadb/port"
	require_built "$CIIS_ADMIN_BIN"
	require_built "$CIIS_TOKEN_BIN"
	require_tool curl
	if [ -n "${CIIS_TEST_STACK:-}" ]; then
		_start_external
		return 0
	fi
	require_built "$CIIS_API_BIN"
	start_mariadb "$_st_dir"
	write_ciis_conf "$_st_dir"
	_admin migrate --sql-dir "$top_srcdir/sql"
	pid_alive "$(cat "$_st_dir/lighttpd.pid" 2>/dev/null)" && stop_lighttpd "$_st_dir"
	# A test that runs ciis-api itself (conf/lighttpd-ext.conf.in) starts
	# it here, once the config and the schema exist.
	[ -z "${CIIS_STACK_BEFORE_LIGHTTPD:-}" ] || eval "$CIIS_STACK_BEFORE_LIGHTTPD"
	start_lighttpd "$_st_dir" "${CIIS_LIGHTTPD_TEMPLATE:-}"
	wait_http "${BASE_URL}health" 30 200 || {
		tail -n 30 "$_st_dir/lighttpd.log" >&2
		die "GET /health does not answer 200"
	}
	_stack_finish
}

stop_stack() {
	[ -d "$1" ] || return 0
	if [ -f "$1/env" ] && grep -q "^EXTERNAL='1'" "$1/env"; then
		rm -f "$1/env"
		return 0
	fi
	stop_lighttpd "$1"
	stop_mariadb "$1"
	rm -f "$1/env"
	for _sd in "$1/sockdir" "$1/mariadb/sockdir"; do
		[ -f "$_sd" ] && rm -rf "$(cat "$_sd")" && rm -f "$_sd"
	done
	return 0
}

# The shared stack of t-00-setup.sh / t-zz-teardown.sh.
CIIS_SHARED_STACK=${CIIS_SHARED_STACK:-$top_builddir/tests/integration/stack}
