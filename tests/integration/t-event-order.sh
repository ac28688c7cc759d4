#!/bin/sh
# t-event-order: event ids become visible in commit order with none skipped.
# Starts a private MariaDB (tests/integration/lib/mariadb.sh), applies
# every sql/ migration to a database of its own and runs event_order against it
# (the scenarios of ARCHITECTURE.md "The event log" plus a stress run).
# EVENT_ORDER_WRITERS / EVENT_ORDER_TXNS change the stress size.
PATH=$PATH:/usr/sbin:/usr/local/sbin
export PATH
CIIS_DB_NAME=ciis_event_order
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/mariadb.sh"

require_tool node		# free_port
bin=$top_builddir/tests/integration/event_order
require_built "$bin"

make_tmpdir dir
# mariadbd's tmpdir defaults to $TMPDIR: keep its #sql-temptable-<pid> files
# private, since a shared /tmp saw a concurrent install fail on them.
mkdir "$dir/tmp" && TMPDIR=$dir/tmp && export TMPDIR
on_cleanup "stop_mariadb '$dir'"
start_mariadb "$dir"
for f in "$top_srcdir"/sql/[0-9][0-9][0-9]_*.sql; do
	mariadb_root "$dir" "$DB_NAME" < "$f" || die "applying $f failed"
done

"$bin" -S "$DB_SOCKET" -u "$DB_USER" -p "$DB_PASSWORD" -d "$DB_NAME" \
	-w "${EVENT_ORDER_WRITERS:-8}" -n "${EVENT_ORDER_TXNS:-300}"
rc=$?
log "mariadbd tmpdir: $(mariadb_root "$dir" -N -e 'SELECT @@tmpdir')"
exit $rc
