#!/bin/sh
# systemd/ciis-relay.service: `systemd-analyze verify` accepts it (with
# ExecStart pointed at the built ciis-relay, since verify wants the program
# to exist), and the unit make built has every @path@ filled in.  Skipped
# where systemd-analyze is missing (it is not needed to build or run ciis,
# so not even under CI).
. "$top_srcdir/tests/integration/lib/common.sh"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo 'SKIP: systemd-analyze is not installed'
	exit 77
fi
require_built "$top_builddir/src/relay/ciis-relay"
make_tmpdir T
in=$top_srcdir/systemd/ciis-relay.service.in
unit=$T/ciis-relay.service
sed -e "s|@sbindir@|$top_builddir/src/relay|g" -e "s|@sysconfdir@|$T/etc|g" "$in" > "$unit"

# --man=no: the man pages of Documentation= are not installed yet.
if systemd-analyze verify --man=no "$unit" > "$T/verify.log" 2>&1 && [ ! -s "$T/verify.log" ]; then
	ok 'systemd-analyze verify: no complaint'
else
	sed 's/^/# /' "$T/verify.log"
	not_ok 'systemd-analyze verify'
fi

check_eq 'Type=simple' 'simple' "$(sed -n 's/^Type=//p' "$unit")"
check_eq 'ExecReload sends SIGHUP' '/bin/kill -HUP $MAINPID' "$(sed -n 's/^ExecReload=//p' "$unit")"
check_eq 'Restart=on-failure' 'on-failure' "$(sed -n 's/^Restart=//p' "$unit")"
nofile=$(sed -n 's/^LimitNOFILE=//p' "$unit")
if [ "${nofile:-0}" -ge 20100 ] 2>/dev/null; then
	ok "LimitNOFILE=$nofile holds 20,000 connections"
else
	not_ok "LimitNOFILE=$nofile is too low for 20,000 connections"
fi
user=$(sed -n 's/^User=//p' "$unit")
if [ -n "$user" ] && [ "$user" != root ]; then ok "runs as $user"; else not_ok "User= is '$user'"; fi

# What make built (absent with --with-systemdsystemunitdir=no).
built=$top_builddir/systemd/ciis-relay.service
if [ -f "$built" ]; then
	if grep -q '@[a-z]*@' "$built"; then
		not_ok "the built unit still has @...@: $(grep '@[a-z]*@' "$built" | head -n 1)"
	else
		ok 'the built unit has every path filled in'
	fi
	case $(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$built") in
	/*/ciis-relay) ok 'the built unit starts $(sbindir)/ciis-relay' ;;
	*) not_ok "ExecStart of the built unit: $(sed -n 's/^ExecStart=//p' "$built")" ;;
	esac
fi
finish
