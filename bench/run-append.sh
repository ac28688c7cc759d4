#!/bin/sh
# run-append.sh [append_bench options]: what commit-ordered event ids cost.
# Starts a throwaway MariaDB with durable commits (server defaults:
# innodb_flush_log_at_trx_commit=1, no binlog; socket only, no TCP port),
# applies the sql/ migrations and runs bench/append_bench: 1, 4 and 16
# writers, counter ids vs plain auto-increment, 8 s per figure, 2 rounds.
#   make bench && bench/run-append.sh            (from the build directory)
#   bench/run-append.sh -t 4 -r 1 -W 1,16         (shorter)
# Not tests/integration/lib/mariadb.sh: that server trades durability for
# speed (flush_log_at_trx_commit=2), which would hide the cost measured here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${APPEND_BENCH:-$top_builddir/bench/append_bench}

need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "run-append: $1 is not installed" >&2
	[ -n "${CI:-}" ] && exit 99
	exit 77
}
for t in mariadbd mariadb-install-db mariadb mariadb-admin; do need "$t"; done
[ -x "$bin" ] || { echo "run-append: $bin not built (make bench)" >&2; exit 99; }

D=$(mktemp -d "${TMPDIR:-/tmp}/ciis-bench.XXXXXX") || exit 99
sock=$D/m.sock
pid=
stop() {
	if [ -n "$pid" ]; then
		mariadb-admin --no-defaults --socket="$sock" -uroot shutdown >/dev/null 2>&1 ||
			kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$D"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

asroot=
[ "$(id -u)" = 0 ] && asroot=--user=root
mkdir "$D/tmp" || exit 99
mariadb-install-db --no-defaults --datadir="$D/data" --tmpdir="$D/tmp" $asroot \
	--auth-root-authentication-method=normal --skip-test-db \
	--innodb-log-file-size=16M >"$D/install.log" 2>&1 || {
	cat "$D/install.log" >&2
	exit 99
}
mariadbd --no-defaults --datadir="$D/data" --socket="$sock" --skip-networking \
	--pid-file="$D/m.pid" --log-error="$D/err.log" --tmpdir="$D/tmp" $asroot \
	--innodb-buffer-pool-size=64M --innodb-log-file-size=16M --skip-name-resolve \
	--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
	</dev/null >"$D/out.log" 2>&1 &
pid=$!
n=0
until mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1; do
	n=$((n + 1))
	if [ $n -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
		cat "$D/err.log" >&2
		exit 99
	fi
	sleep 0.1
done
sql() { mariadb --no-defaults --socket="$sock" -uroot "$@"; }
sql -e 'CREATE DATABASE ciis_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci' || exit 99
for f in "$top_srcdir"/sql/[0-9][0-9][0-9]_*.sql; do
	sql ciis_bench < "$f" || exit 99
done

echo "# $(date)"
echo "# $(uname -srm); $(nproc) cores; $(sql -N -e 'SELECT VERSION()')"
echo "# flush_log_at_trx_commit=$(sql -N -e 'SELECT @@innodb_flush_log_at_trx_commit')," \
	"log_bin=$(sql -N -e 'SELECT @@log_bin')," \
	"isolation=$(sql -N -e 'SELECT @@tx_isolation') (ciis sessions: READ-COMMITTED)"
[ $# -gt 0 ] || set -- -t 8 -r 2
echo "# append_bench $*"
"$bin" -S "$sock" -u root -d ciis_bench "$@"
