/* ciis-admin: what every command shares.  main (admin.c) parses the global
 * options and picks a command from its table; a command parses its own
 * arguments first (so usage errors need no config), then asks for the
 * configuration and the database, which are loaded once, on first use. */
#ifndef CIIS_TOOLS_ADMIN_H
#define CIIS_TOOLS_ADMIN_H

#include <stdint.h>

#include "core/config.h"
#include "core/db.h"
#include "core/err.h"

/* Exit codes of every command. */
enum { ADMIN_OK = 0, ADMIN_FAIL = 1, ADMIN_USAGE = 2 };

struct admin {
	const char *cmd;	/* the command's name, prefixed to messages */
	const char *conf_path;	/* -c FILE; NULL: $CIIS_CONFIG or the default */
	struct ciis_conf conf;
	int conf_state;		/* 0 not loaded yet, 1 loaded, -1 load failed */
	struct ciis_db *db;	/* owned; closed by admin_cleanup() */
};

/* A command: argv[0] is its name.  Returns one of the exit codes above. */
int admin_migrate(struct admin *a, int argc, char **argv);
int admin_seed_demo(struct admin *a, int argc, char **argv);
int admin_prune(struct admin *a, int argc, char **argv);
int admin_stats(struct admin *a, int argc, char **argv);
int admin_check_config(struct admin *a, int argc, char **argv);
int admin_add_org(struct admin *a, int argc, char **argv);

/* The configuration, loaded on the first call; NULL after printing the
 * loader's error line. */
const struct ciis_conf *admin_conf(struct admin *a);
/* The connection, opened on the first call; NULL after printing why. */
struct ciis_db *admin_db(struct admin *a);
void admin_cleanup(struct admin *a);

/* "ciis-admin: CMD: message" on stderr; return ADMIN_FAIL (or ADMIN_USAGE). */
int admin_fail(const struct admin *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int admin_usage(const struct admin *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* admin_fail("WHAT: <err's message>"). */
int admin_fail_err(const struct admin *a, const char *what, const struct ciis_err *err);

/*
 * Take the value of option `name` ("--sql-dir") from argv[*i], given as
 * "--sql-dir DIR" or "--sql-dir=DIR", advancing *i past it.  Returns 1 when
 * argv[*i] is that option, 0 when it is not, -1 when its value is missing.
 */
int admin_opt(int argc, char **argv, int *i, const char *name, const char **value);

/* The highest version in schema_version; *version 0 when the table does not
 * exist yet (nothing migrated) or is empty. */
int admin_schema_version(struct ciis_db *db, int64_t *version, struct ciis_err *err);

#endif
