/* ciis-admin: the operator's tool (SPEC §1).  This file holds main, the
 * command table and what the commands share; each command lives in
 * admin_migrate.c, admin_seed.c or admin_misc.c.  Exit codes: 0 ok,
 * 1 failure (message on stderr), 2 usage. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "tools/admin.h"

static const struct command {
	const char *name;
	int (*run)(struct admin *a, int argc, char **argv);
	const char *args;	/* for the usage text */
} commands[] = {
	{ "migrate", admin_migrate, "[--sql-dir DIR]" },
	{ "seed-demo", admin_seed_demo, "" },
	{ "prune", admin_prune, "[--older-than SECONDS]" },
	{ "stats", admin_stats, "" },
	{ "check-config", admin_check_config, "" },
	{ "add-org", admin_add_org, "ID NAME" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *out)
{
	fprintf(out, "usage: ciis-admin [-c FILE] COMMAND [ARGS]\n"
	    "       ciis-admin --help | --version\n"
	    "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s %s\n", commands[i].name, commands[i].args);
	fprintf(out, "The config file is FILE, else $CIIS_CONFIG, else %s.\n", CIIS_CONF_DEFAULT);
}

static const struct command *
command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
vreport(const struct admin *a, const char *fmt, va_list ap)
{
	fprintf(stderr, "ciis-admin: ");
	if (a != NULL && a->cmd != NULL)
		fprintf(stderr, "%s: ", a->cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
admin_fail(const struct admin *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(a, fmt, ap);
	va_end(ap);
	return ADMIN_FAIL;
}

int
admin_usage(const struct admin *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(a, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'ciis-admin --help'.\n");
	return ADMIN_USAGE;
}

int
admin_fail_err(const struct admin *a, const char *what, const struct ciis_err *err)
{
	return admin_fail(a, "%s: %s", what, err->message[0] ? err->message : "failed");
}

int
admin_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

const struct ciis_conf *
admin_conf(struct admin *a)
{
	char errbuf[512];
	int level;

	if (a->conf_state != 0)
		return a->conf_state > 0 ? &a->conf : NULL;
	if (ciis_conf_load(&a->conf, a->conf_path, errbuf, sizeof errbuf) != 0) {
		a->conf_state = -1;
		fprintf(stderr, "ciis-admin: %s\n", errbuf);
		return NULL;
	}
	a->conf_state = 1;
	if ((level = ciis_log_level_parse(a->conf.log_level)) >= 0)
		ciis_log_set_level((enum ciis_log_level)level);
	return &a->conf;
}

struct ciis_db *
admin_db(struct admin *a)
{
	struct ciis_err err;

	if (a->db != NULL)
		return a->db;
	if (admin_conf(a) == NULL)
		return NULL;
	ciis_err_clear(&err);
	/* db.c has logged the server's reason (access denied, no such socket) */
	if ((a->db = ciis_db_open(&a->conf, &err)) == NULL)
		admin_fail(a, "cannot connect to database '%s': %s", a->conf.db_name, err.message);
	return a->db;
}

/* The connection borrows conf, so it goes first.  A failed load leaves
 * defaults that still need freeing; an untried one left nothing. */
void
admin_cleanup(struct admin *a)
{
	ciis_db_close(a->db);
	a->db = NULL;
	if (a->conf_state != 0)
		ciis_conf_cleanup(&a->conf);
	a->conf_state = 0;
}

/* "+" stops at the command's name: what follows belongs to the command. */
static int
parse_global(int argc, char **argv, struct admin *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->conf_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return ADMIN_OK;
		case 'V':
			printf("ciis-admin %s\n", PACKAGE_VERSION);
			return ADMIN_OK;
		default:
			usage(stderr);
			return ADMIN_USAGE;
		}
	}
	return -1;	/* go on with the command */
}

int
main(int argc, char **argv)
{
	struct admin a = { 0 };
	const struct command *cmd;
	int rc;

	if ((rc = parse_global(argc, argv, &a)) >= 0)
		goto out;
	if (optind >= argc) {
		rc = admin_usage(NULL, "a command is required");
		goto out;
	}
	if ((cmd = command_find(argv[optind])) == NULL) {
		rc = admin_usage(NULL, "unknown command '%s'", argv[optind]);
		goto out;
	}
	a.cmd = cmd->name;
	ciis_db_library_init();
	rc = cmd->run(&a, argc - optind, argv + optind);
	ciis_db_thread_end();
out:
	admin_cleanup(&a);
	return rc;
}
