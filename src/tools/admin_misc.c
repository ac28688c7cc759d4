/* ciis-admin's small commands: add-org, check-config, prune and stats.
 * Each parses its arguments before touching the config or the database, so
 * a usage error is exit 2 on any machine. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/auth.h"
#include "core/event.h"
#include "core/issue.h"
#include "core/json.h"
#include "core/place.h"
#include "tools/admin.h"

/* Rows per DELETE: short locks and bounded undo.  Spelled into the SQL as a
 * literal (XSTR), so no placeholder LIMIT is needed. */
#define PRUNE_BATCH 10000
#define STR(x) #x
#define XSTR(x) STR(x)
#define PRUNE_MAX_AGE (100LL * 365 * 24 * 3600)

int
admin_add_org(struct admin *a, int argc, char **argv)
{
	struct ciis_err err;
	struct ciis_db *db;
	long cp;

	if (argc != 3)
		return admin_usage(a, "expected ID NAME");
	if (!ciis_org_id_valid(argv[1]))
		return admin_usage(a, "invalid id '%s': expected 1..%d of [A-Za-z0-9_-]",
		    argv[1], CIIS_ID_MAX);
	cp = ciis_utf8_len(argv[2], strlen(argv[2]));
	if (cp < 1 || cp > 200)
		return admin_usage(a, "invalid name: expected 1..200 characters of UTF-8");
	if ((db = admin_db(a)) == NULL)
		return ADMIN_FAIL;
	ciis_err_clear(&err);
	if (ciis_org_upsert(db, argv[1], argv[2], &err) != 0)
		return admin_fail_err(a, argv[1], &err);
	printf("add-org: %s: %s\n", argv[1], argv[2]);
	return ADMIN_OK;
}

/* Every step prints one "check-config: …" line; the first failure ends it. */
static int
check_keys(struct admin *a, const struct ciis_conf *c)
{
	char errbuf[512];
	struct ciis_keys *k = ciis_keys_load(c, 0, errbuf, sizeof errbuf);

	if (k == NULL)
		return admin_fail(a, "jwt keys: %s", errbuf);
	printf("check-config: jwt keys: ok (%s)\n", c->jwt_algorithm);
	ciis_keys_free(k);
	return ADMIN_OK;
}

/* A database without the schema is a failure too: neither server can run
 * on it, and the message says what to do. */
static int
check_db(struct admin *a, const struct ciis_conf *c)
{
	struct ciis_db *db = admin_db(a);
	struct ciis_err err;
	int64_t version = 0;

	if (db == NULL)
		return ADMIN_FAIL;
	ciis_err_clear(&err);
	if (ciis_db_ping(db, &err) != 0)
		return admin_fail_err(a, "database", &err);
	printf("check-config: database: ok (%s)\n", c->db_name);
	if (admin_schema_version(db, &version, &err) != 0)
		return admin_fail_err(a, "schema_version", &err);
	if (version == 0)
		return admin_fail(a, "schema: not migrated (run 'ciis-admin migrate')");
	printf("check-config: schema version %" PRId64 "\n", version);
	return ADMIN_OK;
}

int
admin_check_config(struct admin *a, int argc, char **argv)
{
	const struct ciis_conf *c;
	int rc;

	if (argc != 1)
		return admin_usage(a, "takes no arguments");
	if ((c = admin_conf(a)) == NULL)
		return ADMIN_FAIL;
	ciis_conf_dump(c, stdout);	/* its first line names the file read */
	fflush(stdout);		/* keep the dump before any later stderr line */
	if ((rc = check_keys(a, c)) != ADMIN_OK)
		return rc;
	if ((rc = check_db(a, c)) != ADMIN_OK)
		return rc;
	printf("check-config: ok\n");
	return ADMIN_OK;
}

static int
parse_age(struct admin *a, const char *s, long long *age)
{
	char *end;

	errno = 0;
	*age = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *age < 0 || *age > PRUNE_MAX_AGE)
		return admin_usage(a, "--older-than: expected seconds, 0..%lld, got '%s'",
		    PRUNE_MAX_AGE, s);
	return ADMIN_OK;
}

/* The cutoff is fixed once, in the server's clock (created_at is written
 * with UTC_TIMESTAMP(3)), so later batches do not chase a moving "now". */
static int
prune_cutoff(struct ciis_db *db, long long age, char *out, size_t n, struct ciis_err *err)
{
	struct ciis_param p = CIIS_PI64(age);
	struct ciis_rows rows = { 0 };
	int rc = -1;

	if (ciis_db_query(db, "SELECT UTC_TIMESTAMP(3) - INTERVAL ? SECOND", &p, 1, &rows, err) != 0)
		return -1;
	if (rows.nrows == 1 && ciis_rows_get(&rows, 0, 0) != NULL) {
		snprintf(out, n, "%s", ciis_rows_get(&rows, 0, 0));
		rc = 0;
	} else
		CIIS_ERR(err, CIIS_E_INTERNAL, "", "no current time from the server");
	ciis_rows_free(&rows);
	return rc;
}

/* Delete in batches until one comes back short.  Ids come from event_seq,
 * not the table, so emptying it never reuses an id. */
static int
prune_batches(struct ciis_db *db, const char *cutoff, uint64_t *total, struct ciis_err *err)
{
	struct ciis_param p = CIIS_PSTR(cutoff);
	uint64_t affected;

	*total = 0;
	do {
		affected = 0;
		if (ciis_db_exec(db, "DELETE FROM events WHERE created_at < ? ORDER BY id "
		    "LIMIT " XSTR(PRUNE_BATCH), &p, 1, &affected, NULL, err) != 0)
			return -1;
		*total += affected;
	} while (affected >= PRUNE_BATCH);
	return 0;
}

int
admin_prune(struct admin *a, int argc, char **argv)
{
	const char *given = NULL;
	long long age = -1;
	char cutoff[64];
	struct ciis_err err;
	struct ciis_db *db;
	uint64_t total = 0;

	for (int i = 1; i < argc; i++) {
		int got = admin_opt(argc, argv, &i, "--older-than", &given);

		if (got < 0)
			return admin_usage(a, "--older-than needs SECONDS");
		if (got == 0)
			return admin_usage(a, "unexpected argument '%s'", argv[i]);
		if (parse_age(a, given, &age) != ADMIN_OK)
			return ADMIN_USAGE;
	}
	if ((db = admin_db(a)) == NULL)
		return ADMIN_FAIL;
	if (age < 0)
		age = a->conf.events_retention_hours * 3600LL;
	ciis_err_clear(&err);
	if (prune_cutoff(db, age, cutoff, sizeof cutoff, &err) != 0 ||
	    prune_batches(db, cutoff, &total, &err) != 0)
		return admin_fail_err(a, "events", &err);
	printf("prune: deleted %" PRIu64 " events older than %lld seconds (before %s UTC)\n",
	    total, age, cutoff);
	return ADMIN_OK;
}

/* Counts in one round trip; column i is counts[i]. */
static const char *const counts[] = {
	"organizations", "campuses", "buildings", "issues", "events",
};

static int
print_counts(struct ciis_db *db, struct ciis_err *err)
{
	struct ciis_rows rows = { 0 };

	if (ciis_db_query(db, "SELECT (SELECT COUNT(*) FROM organizations), "
	    "(SELECT COUNT(*) FROM campuses), (SELECT COUNT(*) FROM buildings), "
	    "(SELECT COUNT(*) FROM issues), (SELECT COUNT(*) FROM events)",
	    NULL, 0, &rows, err) != 0)
		return -1;
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		printf("%s: %" PRId64 "\n", counts[i], rows.nrows ? ciis_rows_i64(&rows, 0, i) : 0);
	ciis_rows_free(&rows);
	return 0;
}

/* Every status is printed, zeros included, in the order of the enum. */
static int
print_by_status(struct ciis_db *db, struct ciis_err *err)
{
	struct ciis_rows rows = { 0 };
	int64_t n[CIIS_ST_COUNT] = { 0 };

	if (ciis_db_query(db, "SELECT status, COUNT(*) FROM issues GROUP BY status",
	    NULL, 0, &rows, err) != 0)
		return -1;
	for (size_t r = 0; r < rows.nrows; r++) {
		const char *name = ciis_rows_get(&rows, r, 0);
		int st = name ? ciis_status_parse(name) : -1;

		if (st >= 0)
			n[st] = ciis_rows_i64(&rows, r, 1);
	}
	ciis_rows_free(&rows);
	for (int st = 0; st < CIIS_ST_COUNT; st++)
		printf("issues.%s: %" PRId64 "\n", ciis_status_name((enum ciis_status)st), n[st]);
	return 0;
}

int
admin_stats(struct admin *a, int argc, char **argv)
{
	struct ciis_err err;
	struct ciis_db *db;
	int64_t last = 0;

	if (argc != 1)
		return admin_usage(a, "takes no arguments");
	if ((db = admin_db(a)) == NULL)
		return ADMIN_FAIL;
	ciis_err_clear(&err);
	if (print_counts(db, &err) != 0 || print_by_status(db, &err) != 0 ||
	    ciis_event_last_id(db, &last, &err) != 0)
		return admin_fail_err(a, "query", &err);
	printf("last_event_id: %" PRId64 "\n", last);
	return ADMIN_OK;
}
