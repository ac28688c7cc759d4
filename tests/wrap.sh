#!/bin/sh
# Runs a test program, under valgrind when CIIS_VALGRIND is set.
if [ -n "$CIIS_VALGRIND" ]; then
	CK_FORK=no exec valgrind -q --leak-check=full --error-exitcode=9 "$@"
fi
exec "$@"
