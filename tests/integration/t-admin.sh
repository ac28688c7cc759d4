#!/bin/sh
# t-admin: every ciis-admin command against a private MariaDB of its own
# (tests/integration/lib/mariadb.sh): exit codes, migrate run twice and with
# a new migration, add-org idempotence, seed-demo through the core's issue
# store (its events included), stats, prune in batches, check-config.
# CIIS_VALGRIND=1 runs every ciis-admin call under valgrind (leaks fatal).
PATH=$PATH:/usr/sbin:/usr/local/sbin
export PATH
CIIS_DB_NAME=ciis_admin
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/mariadb.sh"

require_tool node		# free_port
require_built "$CIIS_ADMIN_BIN"
[ -z "${CIIS_VALGRIND:-}" ] || require_tool valgrind

make_tmpdir dir
on_cleanup "stop_mariadb '$dir'"
start_mariadb "$dir"

conf=$dir/ciis.conf
cat > "$conf" <<CONF
# t-admin: socket connection
db.socket = $DB_SOCKET
db.user = $DB_USER
db.password = $DB_PASSWORD
db.name = $DB_NAME
jwt.secret = t-admin-secret-0123456789abcdef0123456789
events.retention_hours = 24
CONF
badconf=$dir/bad.conf		# TCP this time, wrong password
cat > "$badconf" <<CONF
db.host = 127.0.0.1
db.port = $DB_PORT
db.user = $DB_USER
db.password = not-the-password
db.name = $DB_NAME
jwt.secret = t-admin-secret-0123456789abcdef0123456789
CONF

# admin ARGS...: run ciis-admin; stdout in $dir/out, stderr in $dir/err, $rc.
admin() {
	if [ -n "${CIIS_VALGRIND:-}" ]; then
		valgrind -q --leak-check=full --error-exitcode=9 \
			"$CIIS_ADMIN_BIN" "$@" >"$dir/out" 2>"$dir/err"
	else
		"$CIIS_ADMIN_BIN" "$@" >"$dir/out" 2>"$dir/err"
	fi
	rc=$?
	sed -n '1,40s/^/#   out: /p' "$dir/out"
	sed 's/^/#   err: /' "$dir/err"
}
# expect_rc NAME RC ARGS...
expect_rc() {
	_name=$1 _want=$2
	shift 2
	admin "$@"
	check_eq "$_name (exit $_want)" "$_want" "$rc"
}
out_has() { grep -q -- "$1" "$dir/out"; }
err_has() { grep -q -- "$1" "$dir/err"; }
sql() { mariadb_root "$dir" -N -B "$DB_NAME" -e "$1"; }

# ---- usage: no config or database needed ---------------------------------
expect_rc "--version" 0 --version
check "--version names the version" out_has "^ciis-admin [0-9]"
expect_rc "--help" 0 --help
check "--help lists add-org" out_has "add-org ID NAME"
expect_rc "no command" 2
expect_rc "unknown command" 2 frobnicate
expect_rc "add-org without a name" 2 add-org only-id
expect_rc "add-org bad id" 2 add-org 'bad id!' Name
expect_rc "add-org 65-char id" 2 add-org \
	aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa Name
expect_rc "prune --older-than x" 2 prune --older-than x
expect_rc "prune --older-than without value" 2 prune --older-than
expect_rc "migrate stray argument" 2 migrate extra
expect_rc "stats with an argument" 2 stats now
expect_rc "missing config file" 1 -c "$dir/nope.conf" stats
check "missing config file: message" err_has "nope.conf"

# ---- before migrate --------------------------------------------------------
expect_rc "check-config unmigrated" 1 -c "$conf" check-config
check "check-config unmigrated: says so" err_has "not migrated"
expect_rc "check-config wrong password" 1 -c "$badconf" check-config
check "check-config wrong password: database message" err_has "database"
expect_rc "stats wrong password" 1 -c "$badconf" stats

# ---- migrate ---------------------------------------------------------------
expect_rc "migrate" 0 -c "$conf" migrate --sql-dir "$top_srcdir/sql"
check "migrate: applied 001" out_has "applied 001_schema.sql"
check "migrate: applied 002" out_has "applied 002_sse_streams.sql"
check "migrate: applied 003" out_has "applied 003_relay_sessions.sql"
check "migrate: applied 004" out_has "applied 004_relay_processes.sql"
check "migrate: applied 005" out_has "applied 005_documents.sql"
check "migrate: applied 006" out_has "applied 006_presence_users.sql"
check_eq "schema_version after migrate" "1	001_schema.sql
2	002_sse_streams.sql
3	003_relay_sessions.sql
4	004_relay_processes.sql
5	005_documents.sql
6	006_presence_users.sql" \
	"$(sql 'SELECT version, name FROM schema_version ORDER BY version')"
expect_rc "migrate again" 0 -c "$conf" migrate --sql-dir="$top_srcdir/sql"
check "migrate again: nothing to apply" out_has "nothing to apply"
check "migrate again: no applied line" eval "! out_has applied"
mkdir "$dir/sql"
cp "$top_srcdir"/sql/*.sql "$dir/sql/"
printf 'CREATE TABLE t_admin_probe (id INT PRIMARY KEY);\nINSERT INTO t_admin_probe VALUES (7);\n' \
	> "$dir/sql/900_probe.sql"
echo 'not a migration' > "$dir/sql/README"
expect_rc "migrate a new one" 0 -c "$conf" migrate --sql-dir "$dir/sql"
check "migrate a new one: only 900" eval 'out_has "applied 900_probe.sql" && ! out_has "applied 001"'
check_eq "probe table" 7 "$(sql 'SELECT id FROM t_admin_probe')"
cp "$dir/sql/900_probe.sql" "$dir/sql/900_again.sql"
expect_rc "migrate duplicate number" 1 -c "$conf" migrate --sql-dir "$dir/sql"
printf 'CREATE TABLE broken (\n' > "$dir/sql/901_broken.sql"
rm "$dir/sql/900_again.sql"
expect_rc "migrate a broken script" 1 -c "$conf" migrate --sql-dir "$dir/sql"
check_eq "broken script not recorded" 0 "$(sql 'SELECT COUNT(*) FROM schema_version WHERE version = 901')"
expect_rc "migrate missing dir" 1 -c "$conf" migrate --sql-dir "$dir/none"

# ---- check-config ----------------------------------------------------------
expect_rc "check-config" 0 -c "$conf" check-config
check "check-config: schema version" out_has "schema version 900"
check "check-config: dump shows db.name" out_has "$DB_NAME"
check "check-config: secret masked" eval '! grep -q t-admin-secret "$dir/out"'
check "check-config: ok line" out_has "check-config: ok"
CIIS_CONFIG=$conf
export CIIS_CONFIG
expect_rc "check-config via CIIS_CONFIG" 0 check-config
unset CIIS_CONFIG

# ---- add-org ---------------------------------------------------------------
expect_rc "add-org" 0 -c "$conf" add-org campus-x_1 "First Name"
expect_rc "add-org again renames" 0 -c "$conf" add-org campus-x_1 "Ünïcode Name"
check_eq "add-org: one row, new name" "1	Ünïcode Name" \
	"$(sql "SELECT COUNT(*), MAX(name) FROM organizations WHERE id = 'campus-x_1'")"
id64=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
expect_rc "add-org 64-char id" 0 -c "$conf" add-org "$id64" "Long"

# ---- seed-demo -------------------------------------------------------------
expect_rc "seed-demo" 0 -c "$conf" seed-demo
check_eq "demo organization" "Demo University" "$(sql "SELECT name FROM organizations WHERE id = 'demo'")"
check_eq "demo campuses" 2 "$(sql "SELECT COUNT(*) FROM campuses WHERE org_id = 'demo'")"
check_eq "demo buildings" 10 "$(sql "SELECT COUNT(*) FROM buildings WHERE org_id = 'demo'")"
check_eq "demo issues" 50 "$(sql "SELECT COUNT(*) FROM issues WHERE org_id = 'demo'")"
check_eq "every status" 5 "$(sql "SELECT COUNT(DISTINCT status) FROM issues WHERE org_id = 'demo'")"
check_eq "every priority" 4 "$(sql "SELECT COUNT(DISTINCT priority) FROM issues WHERE org_id = 'demo'")"
check "several categories" test "$(sql "SELECT COUNT(DISTINCT category) FROM issues WHERE org_id = 'demo'")" -ge 6
check "some assigned" test "$(sql "SELECT COUNT(*) FROM issues WHERE org_id = 'demo' AND assigned_to IS NOT NULL")" -ge 20
check_eq "buildings near their campus (< 0.02 deg)" 0 "$(sql "SELECT COUNT(*) FROM buildings b JOIN campuses c ON c.id = b.campus_id
	WHERE b.org_id = 'demo' AND (ABS(b.lat - c.lat) > 0.02 OR ABS(b.lng - c.lng) > 0.02)")"
check_eq "issue:created events" 50 "$(sql "SELECT COUNT(*) FROM events WHERE org_id = 'demo' AND type = 'issue:created'")"
check_eq "issue:assigned events" "$(sql "SELECT COUNT(*) FROM issues WHERE org_id = 'demo' AND assigned_to IS NOT NULL")" \
	"$(sql "SELECT COUNT(*) FROM events WHERE org_id = 'demo' AND type = 'issue:assigned'")"
check_eq "issue:resolved events" 17 "$(sql "SELECT COUNT(*) FROM events WHERE org_id = 'demo' AND type = 'issue:resolved'")"
check_eq "resolved and closed have a resolution" 0 "$(sql "SELECT COUNT(*) FROM issues WHERE org_id = 'demo'
	AND status IN ('resolved','closed') AND (resolution IS NULL OR resolved_at IS NULL)")"
check_eq "versions follow the events" 0 "$(sql "SELECT COUNT(*) FROM issues i WHERE org_id = 'demo' AND version <>
	(SELECT COUNT(*) FROM events e WHERE e.issue_id = i.id AND e.type LIKE 'issue:%')")"
expect_rc "seed-demo again" 0 -c "$conf" seed-demo
check "seed-demo again: says so" out_has "already has 50 issues"
check_eq "seed-demo again: still 50" 50 "$(sql "SELECT COUNT(*) FROM issues WHERE org_id = 'demo'")"

# ---- stats -----------------------------------------------------------------
expect_rc "stats" 0 -c "$conf" stats
check "stats: issues" out_has "^issues: 50$"
check "stats: campuses" out_has "^campuses: 2$"
check "stats: organizations" out_has "^organizations: 3$"
check "stats: open" out_has "^issues.open: 14$"
check "stats: closed" out_has "^issues.closed: 8$"
check "stats: events" out_has "^events: $(sql 'SELECT COUNT(*) FROM events')$"
check "stats: last event id" out_has "^last_event_id: $(sql 'SELECT MAX(id) FROM events')$"

# ---- prune -----------------------------------------------------------------
events=$(sql 'SELECT COUNT(*) FROM events')
last=$(sql 'SELECT MAX(id) FROM events')
expect_rc "prune (retention 24 h)" 0 -c "$conf" prune
check "prune: nothing is old" out_has "deleted 0 events"
sql "UPDATE events SET created_at = created_at - INTERVAL 2 DAY ORDER BY id LIMIT 10"
expect_rc "prune after ageing 10" 0 -c "$conf" prune
check "prune: 10 deleted" out_has "deleted 10 events"
check_eq "prune: the rest stays" $((events - 10)) "$(sql 'SELECT COUNT(*) FROM events')"
# More than one batch: 10050 old rows above every real id.
sql "INSERT INTO events (id, type, org_id, payload, created_at)
	SELECT 1000000 + seq, 'issue:note', 'demo', '{}', UTC_TIMESTAMP(3) - INTERVAL 3 HOUR FROM seq_1_to_10050"
expect_rc "prune --older-than 3600 (two batches)" 0 -c "$conf" prune --older-than 3600
check "prune: 10050 deleted" out_has "deleted 10050 events"
check_eq "prune: recent ones kept" $((events - 10)) "$(sql 'SELECT COUNT(*) FROM events')"
sleep 1
expect_rc "prune --older-than=0" 0 -c "$conf" prune --older-than=0
check_eq "prune: all gone" 0 "$(sql 'SELECT COUNT(*) FROM events')"
expect_rc "stats after pruning everything" 0 -c "$conf" stats
check "stats: last event id survives the prune" out_has "^last_event_id: $last$"

finish
