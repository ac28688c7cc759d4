/* ciis-admin migrate: apply, in file-name order, every NNN_name.sql of the
 * SQL directory whose number schema_version does not list yet, recording
 * each after its script ran.  MySQL commits DDL as it goes, so a script that
 * fails halfway is not recorded and must be safe to run again (ours use
 * IF NOT EXISTS / INSERT IGNORE). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "tools/admin.h"

#define SCRIPT_MAX (16 * 1024 * 1024)	/* our own files; a bigger one is a mistake */

struct migration {
	int64_t version;
	char *file;		/* owned: "001_schema.sql" */
};

/* Exactly three digits keep file-name order and number order the same. */
static int
migration_version(const char *name, int64_t *version)
{
	size_t n = strlen(name);

	if (n < 9 || name[3] != '_' || strcmp(name + n - 4, ".sql") != 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (name[i] < '0' || name[i] > '9')
			return -1;
	*version = (name[0] - '0') * 100 + (name[1] - '0') * 10 + (name[2] - '0');
	return *version > 0 ? 0 : -1;
}

static int
is_migration(const struct dirent *d)
{
	int64_t v;

	return migration_version(d->d_name, &v) == 0;
}

static void
migrations_free(struct migration *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].file);
	free(m);
}

/* The migrations of dir in file-name order; two files of one number are an
 * error, since either order would be a guess. */
static int
migrations_list(struct admin *a, const char *dir, struct migration **out, size_t *n)
{
	struct dirent **ents = NULL;
	int count = scandir(dir, &ents, is_migration, alphasort);
	int rc = ADMIN_OK;

	*out = NULL;
	*n = 0;
	if (count < 0)
		return admin_fail(a, "%s: %s", dir, strerror(errno));
	*out = ciis_xcalloc((size_t)count + 1, sizeof **out);
	for (int i = 0; i < count; i++) {
		struct migration *m = &(*out)[*n];

		migration_version(ents[i]->d_name, &m->version);
		m->file = ciis_xstrdup(ents[i]->d_name);
		(*n)++;
		if (*n > 1 && m[-1].version == m->version && rc == ADMIN_OK)
			rc = admin_fail(a, "%s and %s have the same number", m[-1].file, m->file);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

/* The first migration creates schema_version, so ask before reading it. */
static int
schema_table_exists(struct ciis_db *db, int *exists, struct ciis_err *err)
{
	struct ciis_rows rows = { 0 };

	if (ciis_db_query(db, "SELECT COUNT(*) FROM information_schema.tables "
	    "WHERE table_schema = DATABASE() AND table_name = 'schema_version'",
	    NULL, 0, &rows, err) != 0)
		return -1;
	*exists = rows.nrows > 0 && ciis_rows_i64(&rows, 0, 0) > 0;
	ciis_rows_free(&rows);
	return 0;
}

int
admin_schema_version(struct ciis_db *db, int64_t *version, struct ciis_err *err)
{
	struct ciis_rows rows = { 0 };
	int exists = 0;

	*version = 0;
	if (schema_table_exists(db, &exists, err) != 0)
		return -1;
	if (!exists)
		return 0;
	if (ciis_db_query(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version",
	    NULL, 0, &rows, err) != 0)
		return -1;
	if (rows.nrows > 0)
		*version = ciis_rows_i64(&rows, 0, 0);
	ciis_rows_free(&rows);
	return 0;
}

/* Versions already applied, into rows (column 0); empty before the first. */
static int
applied_versions(struct ciis_db *db, struct ciis_rows *rows, struct ciis_err *err)
{
	int exists = 0;

	if (schema_table_exists(db, &exists, err) != 0)
		return -1;
	if (!exists)
		return 0;
	return ciis_db_query(db, "SELECT version FROM schema_version", NULL, 0, rows, err);
}

static int
is_applied(const struct ciis_rows *rows, int64_t version)
{
	for (size_t r = 0; r < rows->nrows; r++)
		if (ciis_rows_i64(rows, r, 0) == version)
			return 1;
	return 0;
}

/* Read dir/file into b; -1 with a message printed. */
static int
read_script(struct admin *a, const char *dir, const char *file, struct ciis_buf *b)
{
	char *path = ciis_xasprintf("%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	char chunk[8192];
	size_t n;
	int rc = -1;

	if (f == NULL) {
		admin_fail(a, "%s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b->len + n <= SCRIPT_MAX)
		ciis_buf_append(b, chunk, n);
	if (ferror(f))
		admin_fail(a, "%s: %s", path, strerror(errno));
	else if (n > 0)
		admin_fail(a, "%s: larger than %d bytes", path, SCRIPT_MAX);
	else
		rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(path);
	return rc;
}

static int
apply_one(struct admin *a, struct ciis_db *db, const char *dir, const struct migration *m)
{
	struct ciis_buf script;
	struct ciis_param p[2] = { CIIS_PI64(m->version), CIIS_PSTR(m->file) };
	struct ciis_err err;
	int rc = ADMIN_FAIL;

	ciis_buf_init(&script);
	ciis_err_clear(&err);
	if (read_script(a, dir, m->file, &script) != 0)
		goto out;
	if (ciis_db_script(db, ciis_buf_str(&script), &err) != 0) {
		admin_fail_err(a, m->file, &err);
		goto out;
	}
	if (ciis_db_exec(db, "INSERT INTO schema_version (version, name, applied_at) "
	    "VALUES (?, ?, UTC_TIMESTAMP(3))", p, 2, NULL, NULL, &err) != 0) {
		admin_fail_err(a, m->file, &err);
		goto out;
	}
	printf("migrate: applied %s (version %lld)\n", m->file, (long long)m->version);
	rc = ADMIN_OK;
out:
	ciis_buf_cleanup(&script);
	return rc;
}

static int
parse_args(struct admin *a, int argc, char **argv, const char **dir)
{
	*dir = CIIS_SQL_DIR;
	for (int i = 1; i < argc; i++) {
		int got = admin_opt(argc, argv, &i, "--sql-dir", dir);

		if (got < 0)
			return admin_usage(a, "--sql-dir needs a directory");
		if (got == 0)
			return admin_usage(a, "unexpected argument '%s'", argv[i]);
	}
	return ADMIN_OK;
}

static int
apply_pending(struct admin *a, struct ciis_db *db, const char *dir,
    const struct migration *m, size_t n, const struct ciis_rows *done)
{
	size_t applied = 0;
	struct ciis_err err;
	int64_t version = 0;

	for (size_t i = 0; i < n; i++) {
		if (is_applied(done, m[i].version))
			continue;
		if (apply_one(a, db, dir, &m[i]) != ADMIN_OK)
			return ADMIN_FAIL;
		applied++;
	}
	ciis_err_clear(&err);
	if (admin_schema_version(db, &version, &err) != 0)
		return admin_fail_err(a, "schema_version", &err);
	if (applied == 0)
		printf("migrate: nothing to apply; schema version %lld\n", (long long)version);
	else
		printf("migrate: %zu applied; schema version %lld\n", applied, (long long)version);
	return ADMIN_OK;
}

int
admin_migrate(struct admin *a, int argc, char **argv)
{
	struct migration *m = NULL;
	struct ciis_rows done = { 0 };
	struct ciis_err err;
	struct ciis_db *db;
	const char *dir;
	size_t n = 0;
	int rc;

	ciis_err_clear(&err);
	if ((rc = parse_args(a, argc, argv, &dir)) != ADMIN_OK)
		return rc;
	if ((rc = migrations_list(a, dir, &m, &n)) != ADMIN_OK)
		goto out;
	rc = ADMIN_FAIL;
	if (n == 0) {
		admin_fail(a, "%s: no NNN_name.sql files", dir);
		goto out;
	}
	if ((db = admin_db(a)) == NULL)
		goto out;
	if (applied_versions(db, &done, &err) != 0) {
		admin_fail_err(a, "schema_version", &err);
		goto out;
	}
	rc = apply_pending(a, db, dir, m, n, &done);
out:
	ciis_rows_free(&done);
	migrations_free(m, n);
	return rc;
}
