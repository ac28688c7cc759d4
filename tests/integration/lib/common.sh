# Shared shell helpers for the integration tests (POSIX sh: automake runs
# the .sh tests with $(SHELL)).  Source it; it sets nothing up by itself
# except the cleanup trap.
#
#   free_port            a free 127.0.0.1 TCP port (asked from the kernel)
#   require_tool NAME    exit 77 (skip) if NAME is missing, 99 under CI
#   wait_http URL [SECS] [CODES]   until URL answers (CODES: "200" or "200|503")
#   on_cleanup 'CMD'     run CMD at exit (last registered runs first)
#   die MSG              print MSG and exit 1 (cleanup runs)
#   ok/not_ok/check_eq   one line per check; finish exits non-zero on failure

: "${top_srcdir:?top_srcdir must be set (make check exports it)}"
: "${top_builddir:?top_builddir must be set (make check exports it)}"

CIIS_IT_SRC=$top_srcdir/tests/integration
CIIS_API_BIN=${CIIS_API_BIN:-$top_builddir/src/api/ciis-api}
CIIS_ADMIN_BIN=${CIIS_ADMIN_BIN:-$top_builddir/src/tools/ciis-admin}
CIIS_TOKEN_BIN=${CIIS_TOKEN_BIN:-$top_builddir/src/tools/ciis-token}
# Sanitizer builds: keep going past the first report only where it is
# harmless, and make leaks fatal at exit (the teardown greps the logs).
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

log() { printf '# %s\n' "$*"; }

die() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# A port the kernel just handed out and released.  Racy in theory like every
# free-port helper; never a fixed number, so parallel tests do not collide.
free_port() {
	node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

require_tool() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ -n "${CI:-}" ]; then
		printf 'ERROR: %s is required but not installed (CI)\n' "$1" >&2
		exit 99
	fi
	printf 'SKIP: %s is not installed\n' "$1"
	exit 77
}

# Program built by this tree: missing means the build is broken, not a skip.
require_built() {
	[ -x "$1" ] && return 0
	printf 'ERROR: %s has not been built\n' "$1" >&2
	exit 99
}

# wait_http URL [SECONDS] [CODES]: poll until URL answers with an HTTP status
# matching CODES (a case pattern such as "200" or "200|503"; default: any).
wait_http() {
	_wh_url=$1 _wh_secs=${2:-20} _wh_codes=${3:-}
	_wh_end=$(( $(date +%s) + _wh_secs ))
	while :; do
		_wh_code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$_wh_url" 2>/dev/null)
		if [ -n "$_wh_code" ] && [ "$_wh_code" != 000 ]; then
			[ -z "$_wh_codes" ] && return 0
			eval "case \$_wh_code in $_wh_codes) return 0 ;; esac"
		fi
		[ "$(date +%s)" -ge "$_wh_end" ] && {
			printf '# wait_http %s: gave up after %ss (last status %s)\n' \
				"$_wh_url" "$_wh_secs" "${_wh_code:-none}" >&2
			return 1
		}
		sleep 0.1
	done
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
	_wu_end=$(( $(date +%s) + $1 ))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$_wu_end" ] && return 1
		sleep 0.1
	done
}

# pid_alive PID: running (a zombie child not yet reaped counts as gone).
pid_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	case $(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null) in
	Z | X) return 1 ;;
	esac
	return 0
}

# stop_pid PID [SECS]: TERM, wait, then KILL.
stop_pid() {
	pid_alive "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	wait_until "${2:-10}" eval "! pid_alive $1" && return 0
	kill -KILL "$1" 2>/dev/null
	wait_until 5 eval "! pid_alive $1"
}

# children_of PID: its direct children (no procps needed).
children_of() {
	_co_want=$1
	for _cp in /proc/[0-9]*/stat; do
		_cp_line=$(cat "$_cp" 2>/dev/null) || continue
		# field 4 (ppid) follows "(comm)", which may contain spaces
		set -- ${_cp_line##*) }
		[ "$2" = "$_co_want" ] || continue
		_cp=${_cp#/proc/}
		echo "${_cp%/stat}"
	done
}

# ---- cleanup registry ----------------------------------------------------
_ciis_cleanup=
on_cleanup() {
	_ciis_cleanup="$1
$_ciis_cleanup"
}
_ciis_run_cleanup() {
	_rc=$?
	trap - EXIT HUP INT TERM
	_old_ifs=$IFS
	IFS='
'
	for _c in $_ciis_cleanup; do
		IFS=$_old_ifs
		eval "$_c" || :
	done
	IFS=$_old_ifs
	exit "$_rc"
}
trap _ciis_run_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- one line per check ----------------------------------------------------
_ciis_failed=0
_ciis_checks=0
ok() { _ciis_checks=$((_ciis_checks + 1)); printf 'ok - %s\n' "$*"; }
not_ok() {
	_ciis_checks=$((_ciis_checks + 1))
	_ciis_failed=$((_ciis_failed + 1))
	printf 'not ok - %s\n' "$*"
}
# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}
# check NAME CMD...: ok if CMD succeeds
check() {
	_ck_name=$1
	shift
	if "$@"; then ok "$_ck_name"; else not_ok "$_ck_name"; fi
}
finish() {
	printf '# %d checks, %d failed\n' "$_ciis_checks" "$_ciis_failed"
	[ "$_ciis_failed" -eq 0 ] || exit 1
	exit 0
}

# A private temporary directory removed at exit (unless CIIS_KEEP_TMP is set).
# make_tmpdir VAR: a new directory in $VAR, removed by the cleanup trap.  It
# sets a variable rather than printing, since a trap registered inside
# $(...) would be lost with the subshell.
make_tmpdir() {
	_mt=$(mktemp -d "${TMPDIR:-/tmp}/ciis-it.XXXXXX") || die "mktemp failed"
	[ -n "${CIIS_KEEP_TMP:-}" ] || on_cleanup "rm -rf '$_mt'"
	eval "$1=\$_mt"
}

# A directory for unix sockets whose paths stay under the 108-byte limit,
# even when DIR is deep (distcheck's _build/sub/...).
sock_dir() {
	_sd=$1/sock
	if [ ${#_sd} -gt 70 ]; then
		if [ -f "$1/sockdir" ] && [ -d "$(cat "$1/sockdir")" ]; then
			cat "$1/sockdir"
			return
		fi
		_sd=$(mktemp -d "/tmp/ciis-s.XXXXXX") || die "mktemp failed"
		echo "$_sd" > "$1/sockdir"
	fi
	mkdir -p "$_sd"
	echo "$_sd"
}

# json_get EXPR < JSON: print a JS expression over the parsed value `j`.
json_get() {
	node -e 'let s = require("fs").readFileSync(0, "utf8"); let j;
try { j = JSON.parse(s); } catch (e) { console.log("<not json: " + s.slice(0, 80) + ">"); process.exit(0); }
const v = (0, eval)("(j) => (" + process.argv[1] + ")")(j);
console.log(typeof v === "string" ? v : JSON.stringify(v));' "$1"
}
