/* Reading issues from the database: one, a filtered page, the history.
 * The changes (issue_change.c) share the row mapping declared in
 * issue_store_int.h. */
#include "core/issue_store.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/issue_store_int.h"
#include "core/json.h"
#include "core/sqlq.h"
#include "core/xalloc.h"

#define ISSUE_COLS \
	"id, org_id, campus_id, building_id, title, description, category," \
	" priority, status, reporter_id, assigned_to, floor, room, lat, lng," \
	" resolution, version, UNIX_TIMESTAMP(created_at) * 1000," \
	" UNIX_TIMESTAMP(updated_at) * 1000, UNIX_TIMESTAMP(resolved_at) * 1000"

const char ciis_sql_issue_get[] =
    "SELECT " ISSUE_COLS " FROM issues WHERE id = ? AND org_id = ?";
const char ciis_sql_issue_lock[] =
    "SELECT " ISSUE_COLS " FROM issues WHERE id = ? AND org_id = ? FOR UPDATE";
static const char SQL_HISTORY[] =
    "SELECT event_id, type, UNIX_TIMESTAMP(created_at) * 1000, actor_id, payload"
    " FROM issue_history WHERE issue_id = ? AND org_id = ? AND event_id > ?"
    " ORDER BY event_id LIMIT ?";

static char *
cell_dup(const struct ciis_rows *rows, size_t r, size_t c)
{
	const char *s = ciis_rows_get(rows, r, c);

	return s ? ciis_xstrdup(s) : NULL;
}

static void
cell_copy(char *dst, size_t n, const struct ciis_rows *rows, size_t r, size_t c)
{
	const char *s = ciis_rows_get(rows, r, c);

	snprintf(dst, n, "%s", s ? s : "");
}

void
ciis_issue_from_row(struct ciis_issue *is, const struct ciis_rows *rows, size_t r)
{
	const char *prio = ciis_rows_get(rows, r, 7), *st = ciis_rows_get(rows, r, 8);
	struct ciis_location *l = &is->location;

	ciis_issue_init(is);
	is->id = ciis_rows_i64(rows, r, 0);
	cell_copy(is->org_id, sizeof is->org_id, rows, r, 1);
	is->campus_id = ciis_rows_i64(rows, r, 2);
	is->building_id = ciis_rows_i64(rows, r, 3);
	is->title = cell_dup(rows, r, 4);
	is->description = cell_dup(rows, r, 5);
	is->category = cell_dup(rows, r, 6);
	is->priority = (enum ciis_priority)(prio ? ciis_priority_parse(prio) : CIIS_PRIO_MEDIUM);
	is->status = (enum ciis_status)(st ? ciis_status_parse(st) : CIIS_ST_OPEN);
	cell_copy(is->reporter_id, sizeof is->reporter_id, rows, r, 9);
	is->assigned_to = cell_dup(rows, r, 10);
	l->floor = cell_dup(rows, r, 11);
	l->room = cell_dup(rows, r, 12);
	if ((l->has_lat = ciis_rows_get(rows, r, 13) != NULL))
		l->lat = ciis_rows_dbl(rows, r, 13);
	if ((l->has_lng = ciis_rows_get(rows, r, 14) != NULL))
		l->lng = ciis_rows_dbl(rows, r, 14);
	is->resolution = cell_dup(rows, r, 15);
	is->version = ciis_rows_i64(rows, r, 16);
	is->created_at = ciis_rows_i64(rows, r, 17);
	is->updated_at = ciis_rows_i64(rows, r, 18);
	is->resolved_at = ciis_rows_i64(rows, r, 19);
}

int
ciis_issue_load(struct ciis_db *db, const char *sql, const char *org, int64_t id,
    struct ciis_issue *out, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PI64(id), CIIS_PSTR(org) };
	struct ciis_rows rows;
	int rc = 0;

	if (ciis_db_query(db, sql, p, 2, &rows, err) != 0)
		return -1;
	if (rows.nrows == 0)
		rc = CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "no such issue");
	else
		ciis_issue_from_row(out, &rows, 0);
	ciis_rows_free(&rows);
	return rc;
}

int
ciis_issue_get(struct ciis_db *db, const char *org, int64_t id,
    struct ciis_issue *out, struct ciis_err *err)
{
	return ciis_issue_load(db, ciis_sql_issue_get, org, id, out, err);
}

/* ---- lists ---- */

/* The list's status and priority filters as names for IN (...). */
static void
in_enums(struct ciis_sqlq *q, const char *col, const int *v, size_t n,
    const char *(*name)(int))
{
	const char *names[CIIS_FILTER_MAX];

	for (size_t i = 0; i < n; i++)
		names[i] = name(v[i]);
	ciis_sqlq_in_strs(q, col, names, n);
}

static const char *
status_name_int(int s)
{
	return ciis_status_name((enum ciis_status)s);
}

static const char *
priority_name_int(int p)
{
	return ciis_priority_name((enum ciis_priority)p);
}

static void
build_list_query(struct ciis_sqlq *q, const char *org, const struct ciis_issue_filter *f)
{
	ciis_sqlq_init(q, "SELECT " ISSUE_COLS " FROM issues WHERE org_id = ?");
	ciis_sqlq_param(q, CIIS_PSTR(org));
	ciis_sqlq_in_ids(q, "campus_id", f->campus, f->ncampus);
	ciis_sqlq_in_ids(q, "building_id", f->building, f->nbuilding);
	in_enums(q, "status", f->status, f->nstatus, status_name_int);
	in_enums(q, "priority", f->priority, f->npriority, priority_name_int);
	ciis_sqlq_in_strs(q, "category", f->category, f->ncategory);
	ciis_sqlq_in_strs(q, "assigned_to", f->assigned, f->nassigned);
	if (f->before > 0) {
		ciis_sqlq_text(q, " AND id < ?");
		ciis_sqlq_param(q, CIIS_PI64(f->before));
	}
	ciis_sqlq_text(q, " ORDER BY id DESC LIMIT ?");
	ciis_sqlq_param(q, CIIS_PI64(f->limit + 1));	/* one more tells whether a next page exists */
}

int
ciis_issue_list(struct ciis_db *db, const char *org, const struct ciis_issue_filter *f,
    struct json_object **items, int64_t *next, struct ciis_err *err)
{
	struct ciis_sqlq q;
	struct ciis_rows rows;
	size_t shown;
	int rc;

	build_list_query(&q, org, f);
	rc = ciis_sqlq_query(db, &q, &rows, err);
	ciis_sqlq_cleanup(&q);
	if (rc != 0)
		return -1;
	shown = rows.nrows > (size_t)f->limit ? (size_t)f->limit : rows.nrows;
	*items = json_object_new_array();
	for (size_t r = 0; r < shown; r++) {
		struct ciis_issue is;

		ciis_issue_from_row(&is, &rows, r);
		json_object_array_add(*items, ciis_issue_to_json(&is));
		ciis_issue_cleanup(&is);
	}
	*next = rows.nrows > shown ? ciis_rows_i64(&rows, shown - 1, 0) : 0;
	ciis_rows_free(&rows);
	return 0;
}

/* ---- history ---- */

static struct json_object *
history_item(const struct ciis_rows *rows, size_t r)
{
	struct json_object *o = json_object_new_object(), *data;
	const char *payload = ciis_rows_get(rows, r, 4);
	char ts[CIIS_TIME_LEN];

	ciis_time_format(ciis_rows_i64(rows, r, 2), ts);
	data = payload ? json_tokener_parse(payload) : NULL;
	json_object_object_add(o, "eventId", json_object_new_int64(ciis_rows_i64(rows, r, 0)));
	json_object_object_add(o, "type", json_object_new_string(ciis_rows_get(rows, r, 1)));
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	json_object_object_add(o, "actorId", ciis_json_str_or_null(ciis_rows_get(rows, r, 3)));
	json_object_object_add(o, "data", data ? data : json_object_new_object());
	return o;
}

int
ciis_issue_history(struct ciis_db *db, const char *org, int64_t id, int64_t after,
    int limit, struct json_object **items, int64_t *next, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PI64(id), CIIS_PSTR(org), CIIS_PI64(after),
		CIIS_PI64(limit + 1) };
	struct ciis_issue is;
	struct ciis_rows rows;
	size_t shown;

	if (ciis_issue_get(db, org, id, &is, err) != 0)
		return -1;
	ciis_issue_cleanup(&is);
	if (ciis_db_query(db, SQL_HISTORY, p, 4, &rows, err) != 0)
		return -1;
	shown = rows.nrows > (size_t)limit ? (size_t)limit : rows.nrows;
	*items = json_object_new_array();
	for (size_t r = 0; r < shown; r++)
		json_object_array_add(*items, history_item(&rows, r));
	*next = rows.nrows > shown ? ciis_rows_i64(&rows, shown - 1, 0) : 0;
	ciis_rows_free(&rows);
	return 0;
}

void
ciis_conflict_cleanup(struct ciis_conflict *c)
{
	if (c->fields)
		json_object_put(c->fields);
	if (c->current)
		json_object_put(c->current);
	memset(c, 0, sizeof *c);
}
