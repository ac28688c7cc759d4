# A private Apache in front of a second ciis-api, for the integration tests
# (DEPLOY-NOTES §9).  Source common.sh first; DIR is a stack directory of
# stack.sh (its ciis.conf and MariaDB are used).
#
#   start_apache DIR [TEMPLATE]   idempotent: ciis-api --listen 127.0.0.1:P
#                  (its own process on the stack's database, log in
#                  DIR/apache-api.log), then Apache on a loopback port
#                  running conf/apache.conf.in, which includes the shipped
#                  apache-conf/ciis-proxy-fcgi.conf verbatim (its relay
#                  routes to DIR's relay_port).  Exports APACHE_URL (with a
#                  trailing /).
#   stop_apache DIR      Apache, then its ciis-api
#   stop_apache_httpd DIR   Apache only: its connections drop, its ciis-api
#                        stays; start_apache DIR brings it back on the same port
#   restart_apache DIR   apache2 -k restart: open connections are dropped,
#                        the port and the ciis-api stay
#   apache_alive DIR
#   apache_api_pid DIR

_ap_bin() {
	for _ab in apache2 /usr/sbin/apache2 httpd /usr/sbin/httpd; do
		command -v "$_ab" 2>/dev/null && return 0
	done
	return 1
}

apache_api_pid() { cat "$1/apache-api.pid" 2>/dev/null; }

apache_alive() {
	pid_alive "$(cat "$1/apache.pid" 2>/dev/null)" &&
		pid_alive "$(apache_api_pid "$1")"
}

_ap_moddir() {
	for _am in /usr/lib/apache2/modules /usr/lib64/httpd/modules /usr/libexec/apache2; do
		[ -f "$_am/mod_proxy_fcgi.so" ] && { echo "$_am"; return 0; }
	done
	return 1
}

_ap_port_open() {
	node -e "require('net').connect($1,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"
}

_ap_start_api() {
	_aa_dir=$1
	pid_alive "$(apache_api_pid "$_aa_dir")" && return 0
	_aa_port=$(cat "$_aa_dir/apache-fcgi.port")
	# The caller's environment (CIIS_SSE_HEARTBEAT_SECONDS...) reaches it,
	# as lighttpd's reaches the ciis-api it starts.
	CIIS_CONFIG=$_aa_dir/ciis.conf "$CIIS_API_BIN" --listen "127.0.0.1:$_aa_port" \
		</dev/null >>"$_aa_dir/apache-api.log" 2>&1 &
	echo $! > "$_aa_dir/apache-api.pid"
	wait_until 15 _ap_port_open "$_aa_port" || {
		tail -n 20 "$_aa_dir/apache-api.log" >&2
		die "ciis-api --listen 127.0.0.1:$_aa_port does not listen (see $_aa_dir/apache-api.log)"
	}
}

start_apache() {
	_ap_dir=$1
	_ap_tmpl=${2:-$CIIS_IT_SRC/conf/apache.conf.in}
	APACHE_BIN=$(_ap_bin) || require_tool apache2
	_ap_mods=$(_ap_moddir) || require_tool mod_proxy_fcgi.so
	require_built "$CIIS_API_BIN"
	[ -f "$_ap_dir/ciis.conf" ] || die "start_apache: $_ap_dir/ciis.conf is missing (start_stack first)"
	mkdir -p "$_ap_dir/docroot" "$_ap_dir/apache-run"
	if apache_alive "$_ap_dir"; then
		APACHE_URL=http://127.0.0.1:$(cat "$_ap_dir/apache.port")/
		export APACHE_URL
		return 0
	fi
	# The ports stay those of DIR's first start (a restart keeps the
	# browser's origin); a stack directory is not reused across runs.
	pid_alive "$(cat "$_ap_dir/apache.pid" 2>/dev/null)" && stop_apache_httpd "$_ap_dir"
	[ -s "$_ap_dir/apache.port" ] || free_port > "$_ap_dir/apache.port"
	[ -s "$_ap_dir/apache-fcgi.port" ] || free_port > "$_ap_dir/apache-fcgi.port"
	_ap_port=$(cat "$_ap_dir/apache.port")
	# Apache's children run as www-data when started by root: they must
	# reach the document root (mktemp makes 0700 directories).
	if [ "$(id -u)" -eq 0 ]; then
		_ap_user='User www-data
Group www-data'
		# They must reach the document root: DIR may be a 0700 mktemp
		# directory (only DIR and docroot are touched, never a parent).
		chmod o+x "$_ap_dir" 2>/dev/null
		chmod o+rx "$_ap_dir/docroot" 2>/dev/null
	else
		_ap_user='# not root: the children run as the invoking user'
	fi
	if [ -n "${CIIS_TEST_PROXY_IDLE:-}" ]; then
		_ap_idle="# CIIS_TEST_PROXY_IDLE: the idle timeout of proxied WebSockets
Timeout $CIIS_TEST_PROXY_IDLE
ProxyTimeout $CIIS_TEST_PROXY_IDLE"
	else
		_ap_idle='# Timeout and ProxyTimeout: the shipped ones'
	fi
	_ap_start_api "$_ap_dir"
	awk -v user="$_ap_user" -v idle="$_ap_idle" \
	    '{ gsub(/@USER_LINES@/, user); gsub(/@IDLE_LINES@/, idle); print }' "$_ap_tmpl" |
	sed -e "s|@PORT@|$_ap_port|g" \
	    -e "s|@FCGI_PORT@|$(cat "$_ap_dir/apache-fcgi.port")|g" \
	    -e "s|@RELAY_PORT@|$(relay_port "$_ap_dir")|g" \
	    -e "s|@DIR@|$_ap_dir|g" \
	    -e "s|@DOCROOT@|$_ap_dir/docroot|g" \
	    -e "s|@MODDIR@|$_ap_mods|g" \
	    -e "s|@SHIPPED_CONF@|$top_srcdir/apache-conf/ciis-proxy-fcgi.conf|g" \
	    > "$_ap_dir/apache.conf"
	"$APACHE_BIN" -t -f "$_ap_dir/apache.conf" >"$_ap_dir/apache-check.log" 2>&1 || {
		cat "$_ap_dir/apache-check.log" >&2
		die "apache2 rejects $_ap_dir/apache.conf"
	}
	"$APACHE_BIN" -f "$_ap_dir/apache.conf" -k start </dev/null >>"$_ap_dir/apache-start.log" 2>&1 || {
		cat "$_ap_dir/apache-start.log" "$_ap_dir/apache-error.log" >&2 2>/dev/null
		die "apache2 -k start failed"
	}
	APACHE_URL=http://127.0.0.1:$_ap_port/
	export APACHE_URL
	wait_http "${APACHE_URL}health" 30 200 || {
		tail -n 30 "$_ap_dir/apache-error.log" "$_ap_dir/apache-api.log" >&2
		die "Apache on port $_ap_port does not answer GET /health with 200"
	}
}

restart_apache() {
	APACHE_BIN=$(_ap_bin) || return 1
	"$APACHE_BIN" -f "$1/apache.conf" -k restart </dev/null >>"$1/apache-start.log" 2>&1
}

# stop_apache_httpd DIR: Apache only (its open connections drop); its
# ciis-api keeps running, and start_apache DIR brings Apache back.
stop_apache_httpd() {
	_sa_dir=$1
	_sa_pid=$(cat "$_sa_dir/apache.pid" 2>/dev/null)
	if pid_alive "$_sa_pid"; then
		APACHE_BIN=$(_ap_bin) && [ -f "$_sa_dir/apache.conf" ] &&
			"$APACHE_BIN" -f "$_sa_dir/apache.conf" -k stop </dev/null >>"$_sa_dir/apache-start.log" 2>&1
		wait_until 15 eval "! pid_alive $_sa_pid" || stop_pid "$_sa_pid" 5
	fi
	rm -f "$_sa_dir/apache.pid"
}

stop_apache() {
	_sa_dir=$1
	stop_apache_httpd "$_sa_dir"
	_sa_api=$(apache_api_pid "$_sa_dir")
	if pid_alive "$_sa_api"; then
		stop_pid "$_sa_api" 15 || :
	fi
	rm -f "$_sa_dir/apache-api.pid"
	return 0
}
