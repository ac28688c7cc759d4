# bench/lib.sh: what the benchmark harnesses bench/run-*.sh share (POSIX sh,
# sourced).  A script sets -u and `here` (its own directory), then sources
# this file, which adds the sbin directories to PATH and defaults
# top_srcdir (here/..) and top_builddir (the working directory), as
# `make bench-*-run` sets them.  The bench_* functions are for the runs
# against the integration harness's stack (run-sse.sh, run-relay.sh);
# bench_harness loads that harness first.
#
#   bench_usage          the script's header (line 2 up to `set -u`), exit 2
#   bench_harness        tests/integration/lib, and lighttpd, curl and node
#   bench_tmpdir         D: a tmpdir removed at exit; S=$D/stack, stopped at exit
#   bench_start_stack    the stack in $S; its env read; port: lighttpd's
#   bench_campus NAME    campus and building: a campus NAME of orgA, a building NAME

PATH=$PATH:/usr/sbin:/usr/local/sbin
export PATH
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=$(pwd)}"

bench_usage() {
	sed -n '2,/^set -u/p' "$0" | sed '$d' >&2
	exit 2
}

# The harness reads top_srcdir and top_builddir, and so do the servers it
# starts.  A missing tool exits 77 (99 under CI), as in make check.
bench_harness() {
	export top_srcdir top_builddir
	. "$top_srcdir/tests/integration/lib/common.sh"
	. "$top_srcdir/tests/integration/lib/mariadb.sh"
	. "$top_srcdir/tests/integration/lib/stack.sh"
	require_tool lighttpd
	require_tool curl
	require_tool node
}

bench_tmpdir() {
	make_tmpdir D
	S=$D/stack
	mkdir -p "$S"
	on_cleanup "stop_stack '$S'"
}

bench_start_stack() {
	log "loadavg at start: $(cat /proc/loadavg)"
	start_stack "$S"
	. "$S/env"
	port=$(cat "$S/lighttpd.port")
	log "$(mariadb_root "$S" -N -e 'SELECT VERSION()'); lighttpd on 127.0.0.1:$port"
}

bench_post() {	# PATH JSON: POST as orgA's admin, the answer on stdout
	curl -s -m 10 -H "Authorization: Bearer $TOKEN_ADMIN" -H 'Content-Type: application/json' \
		-d "$2" "${BASE_URL}${1#/}"
}

# The creates' campus and building; dies when there is none.
bench_campus() {	# NAME
	campus=$(bench_post "/api/organizations/$ORG_A/campuses" "{\"name\":\"$1\"}" | json_get j.id)
	building=$(bench_post "/api/campuses/$campus/buildings" "{\"name\":\"$1\"}" | json_get j.id)
	case $building in '' | *[!0-9]*) die "could not create a building (campus '$campus', building '$building')" ;; esac
	log "campus $campus, building $building"
}
