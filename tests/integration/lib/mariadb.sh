# A private MariaDB per test stack (DEPLOY-NOTES §4): own datadir, unix
# socket and 127.0.0.1 port under DIR/mariadb, never the system instance.
# Source common.sh first.
#
#   start_mariadb DIR     install (once) and start; idempotent; exports
#                         DB_SOCKET DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD
#   stop_mariadb DIR      clean shutdown (data kept)
#   restart_mariadb DIR   stop + start on the same socket and port
#   mariadb_root DIR ARGS...   the mariadb client as root over the socket

: "${CIIS_DB_NAME:=ciis}"
: "${CIIS_DB_USER:=ciis}"
: "${CIIS_DB_PASSWORD:=ciis-test-pw}"

_mdb_dir() { echo "$1/mariadb"; }

_mdb_vars() {
	_md=$(_mdb_dir "$1")
	_msock=$(cat "$_md/socket" 2>/dev/null)
	_mport=$(cat "$_md/port" 2>/dev/null)
}

mariadb_root() {
	_mdb_vars "$1"
	shift
	mariadb --no-defaults --socket="$_msock" -uroot "$@"
}

mariadb_alive() {
	_mdb_vars "$1"
	[ -n "$_msock" ] && [ -S "$_msock" ] || return 1
	mariadb --no-defaults --socket="$_msock" -uroot -N -e 'SELECT 1' >/dev/null 2>&1
}

_mdb_export() {
	_mdb_vars "$1"
	DB_SOCKET=$_msock
	DB_HOST=127.0.0.1
	DB_PORT=$_mport
	DB_NAME=$CIIS_DB_NAME
	DB_USER=$CIIS_DB_USER
	DB_PASSWORD=$CIIS_DB_PASSWORD
	MARIADB_DIR=$_md
	export DB_SOCKET DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD MARIADB_DIR
}

_mdb_launch() {
	_md=$(_mdb_dir "$1")
	_mdb_vars "$1"
	mkdir -p "$_md/tmp"	# its own tmpdir: installs in parallel clash in /tmp
	mariadbd --no-defaults --datadir="$_md/data" --socket="$_msock" \
		--tmpdir="$_md/tmp" \
		--port="$_mport" --bind-address=127.0.0.1 \
		--pid-file="$_md/mariadbd.pid" --log-error="$_md/error.log" \
		--user=root --skip-name-resolve --innodb-buffer-pool-size=64M \
		--innodb-log-file-size=8M --innodb-flush-log-at-trx-commit=2 \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--max-connections=300 \
		</dev/null >>"$_md/mariadbd.out" 2>&1 &
	echo $! > "$_md/pid"
	_mpid=$!
	_end=$(( $(date +%s) + 60 ))
	until mariadb-admin --no-defaults --socket="$_msock" -uroot ping >/dev/null 2>&1; do
		if ! pid_alive "$_mpid" || [ "$(date +%s)" -ge "$_end" ]; then
			tail -n 30 "$_md/error.log" >&2 2>/dev/null
			die "mariadbd did not start (see $_md/error.log)"
		fi
		sleep 0.1
	done
}

start_mariadb() {
	require_tool mariadbd
	require_tool mariadb-install-db
	require_tool mariadb
	require_tool mariadb-admin
	mkdir -p "$1"
	_md=$(_mdb_dir "$1")
	mkdir -p "$_md"
	if mariadb_alive "$1"; then
		_mdb_export "$1"
		return 0
	fi
	if [ ! -d "$_md/data/mysql" ]; then
		rm -rf "$_md/data"
		mkdir -p "$_md/tmp"
		mariadb-install-db --no-defaults --datadir="$_md/data" --user=root \
			--tmpdir="$_md/tmp" \
			--auth-root-authentication-method=normal --skip-test-db \
			--innodb-log-file-size=8M >"$_md/install.log" 2>&1 || {
			cat "$_md/install.log" >&2
			die "mariadb-install-db failed"
		}
	fi
	[ -s "$_md/socket" ] || echo "$(sock_dir "$_md")/mysqld.sock" > "$_md/socket"
	[ -s "$_md/port" ] || free_port > "$_md/port"
	_mdb_launch "$1"
	mariadb_root "$1" <<SQL || die "creating the database and user failed"
CREATE DATABASE IF NOT EXISTS \`$CIIS_DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$CIIS_DB_USER'@'localhost' IDENTIFIED BY '$CIIS_DB_PASSWORD';
CREATE USER IF NOT EXISTS '$CIIS_DB_USER'@'127.0.0.1' IDENTIFIED BY '$CIIS_DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$CIIS_DB_NAME\`.* TO '$CIIS_DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`$CIIS_DB_NAME\`.* TO '$CIIS_DB_USER'@'127.0.0.1';
SQL
	_mdb_export "$1"
}

stop_mariadb() {
	_md=$(_mdb_dir "$1")
	_mdb_vars "$1"
	_mpid=$(cat "$_md/pid" 2>/dev/null)
	if [ -n "$_msock" ] && [ -S "$_msock" ]; then
		mariadb-admin --no-defaults --socket="$_msock" -uroot shutdown >/dev/null 2>&1
	fi
	stop_pid "$_mpid" 20
	rm -f "$_md/pid"
}

restart_mariadb() {
	stop_mariadb "$1"
	_mdb_launch "$1"
	_mdb_export "$1"
}
