/* Appending to and reading the events table.  The counter row is updated by
 * the last statements of the caller's transaction, so its lock is held only
 * from here to COMMIT. */
#include "core/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/xalloc.h"

static const char SQL_TAKE_IDS[] =
    "UPDATE event_seq SET last = LAST_INSERT_ID(last + ?) WHERE id = 1";
static const char SQL_LAST_INSERT_ID[] = "SELECT LAST_INSERT_ID()";
static const char SQL_INSERT[] =
    "INSERT INTO events (id, type, org_id, campus_id, building_id, issue_id,"
    " document_id, user_id, actor_id, issue_version, payload, subject, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(? / 1000))";
static const char SQL_READ[] =
    "SELECT id, type, org_id, campus_id, building_id, issue_id, user_id,"
    " actor_id, issue_version, payload, UNIX_TIMESTAMP(created_at) * 1000, subject,"
    " document_id"
    " FROM events WHERE id > ? ORDER BY id LIMIT ?";
static const char SQL_LAST[] = "SELECT last FROM event_seq WHERE id = 1";
static const char SQL_OLDEST[] = "SELECT MIN(id) FROM events";

/* Reserve n ids; *first is the lowest. */
static int
take_ids(struct ciis_db *db, size_t n, int64_t *first, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PI64((int64_t)n) };
	struct ciis_rows rows;
	uint64_t affected = 0, last = 0;

	if (ciis_db_exec(db, SQL_TAKE_IDS, p, 1, &affected, &last, err) != 0)
		return -1;
	if (affected != 1)
		return CIIS_ERR(err, CIIS_E_INTERNAL, "", "event_seq row missing: run ciis-admin migrate");
	if (last == 0) {
		/* connectors that do not report LAST_INSERT_ID(expr) of an UPDATE */
		if (ciis_db_query(db, SQL_LAST_INSERT_ID, NULL, 0, &rows, err) != 0)
			return -1;
		last = (uint64_t)ciis_rows_i64(&rows, 0, 0);
		ciis_rows_free(&rows);
	}
	*first = (int64_t)last - (int64_t)n + 1;
	return 0;
}

static struct ciis_param
id_or_null(int64_t v)
{
	return v ? CIIS_PI64(v) : CIIS_PNULL;
}

static struct ciis_param
str_or_null(const char *s)
{
	return s[0] ? CIIS_PSTR(s) : CIIS_PNULL;
}

static int
insert_one(struct ciis_db *db, struct ciis_event *ev, struct ciis_err *err)
{
	struct ciis_param p[] = {
		CIIS_PI64(ev->id), CIIS_PSTR(ev->type), CIIS_PSTR(ev->org_id),
		id_or_null(ev->campus_id), id_or_null(ev->building_id),
		id_or_null(ev->issue_id), id_or_null(ev->document_id), str_or_null(ev->user_id),
		str_or_null(ev->actor_id), id_or_null(ev->issue_version),
		CIIS_PSTR(ciis_json_text(ev->payload)),
		ev->subject ? CIIS_PSTR(ciis_json_text(ev->subject)) : CIIS_PNULL,
		CIIS_PI64(ev->created_at),
	};

	return ciis_db_exec(db, SQL_INSERT, p, sizeof p / sizeof p[0], NULL, NULL, err);
}

int
ciis_event_append(struct ciis_db *db, struct ciis_event *evs, size_t n,
    struct ciis_err *err)
{
	int64_t first = 0, now = ciis_now_ms();
	char ts[CIIS_TIME_LEN];

	if (n == 0)
		return 0;
	if (take_ids(db, n, &first, err) != 0)
		return -1;
	ciis_time_format(now, ts);
	for (size_t i = 0; i < n; i++) {
		struct ciis_event *ev = &evs[i];

		ev->id = first + (int64_t)i;
		ev->created_at = now;
		json_object_object_add(ev->payload, "eventId", json_object_new_int64(ev->id));
		if (!json_object_object_get_ex(ev->payload, "timestamp", NULL))
			json_object_object_add(ev->payload, "timestamp", json_object_new_string(ts));
		if (insert_one(db, ev, err) != 0)
			return -1;
	}
	return 0;
}

static void
copy_id(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void
event_from_row(struct ciis_event *ev, const struct ciis_rows *rows, size_t r)
{
	const char *payload = ciis_rows_get(rows, r, 9), *subject = ciis_rows_get(rows, r, 11);

	memset(ev, 0, sizeof *ev);
	ev->id = ciis_rows_i64(rows, r, 0);
	copy_id(ev->type, sizeof ev->type, ciis_rows_get(rows, r, 1));
	copy_id(ev->org_id, sizeof ev->org_id, ciis_rows_get(rows, r, 2));
	ev->campus_id = ciis_rows_i64(rows, r, 3);
	ev->building_id = ciis_rows_i64(rows, r, 4);
	ev->issue_id = ciis_rows_i64(rows, r, 5);
	copy_id(ev->user_id, sizeof ev->user_id, ciis_rows_get(rows, r, 6));
	copy_id(ev->actor_id, sizeof ev->actor_id, ciis_rows_get(rows, r, 7));
	ev->issue_version = ciis_rows_i64(rows, r, 8);
	/* our own JSON; a row that does not parse still carries its id */
	ev->payload = payload ? json_tokener_parse(payload) : NULL;
	if (ev->payload == NULL)
		ev->payload = json_object_new_object();
	ev->created_at = (int64_t)ciis_rows_dbl(rows, r, 10);
	ev->subject = subject ? json_tokener_parse(subject) : NULL;
	ev->document_id = ciis_rows_i64(rows, r, 12);
}

int
ciis_event_read(struct ciis_db *db, int64_t after, size_t limit,
    struct ciis_event **out, size_t *n, int64_t *hole, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PI64(after), CIIS_PI64((int64_t)limit) };
	struct ciis_rows rows;
	size_t keep = 0;

	*out = NULL;
	*n = 0;
	if (hole != NULL)
		*hole = 0;
	if (ciis_db_query(db, SQL_READ, p, 2, &rows, err) != 0)
		return -1;
	while (keep < rows.nrows && ciis_rows_i64(&rows, keep, 0) == after + 1 + (int64_t)keep)
		keep++;
	if (keep < rows.nrows && hole != NULL)
		*hole = ciis_rows_i64(&rows, keep, 0);
	if (keep > 0) {
		*out = ciis_xcalloc(keep, sizeof **out);
		for (size_t r = 0; r < keep; r++)
			event_from_row(&(*out)[r], &rows, r);
	}
	*n = keep;
	ciis_rows_free(&rows);
	return 0;
}

int
ciis_event_last_id(struct ciis_db *db, int64_t *last, struct ciis_err *err)
{
	struct ciis_rows rows;

	if (ciis_db_query(db, SQL_LAST, NULL, 0, &rows, err) != 0)
		return -1;
	*last = ciis_rows_i64(&rows, 0, 0);
	ciis_rows_free(&rows);
	return 0;
}

static void (*commit_hook)(void *);
static void *commit_arg;

void
ciis_event_set_commit_hook(void (*fn)(void *), void *arg)
{
	/* a committer loads fn, then arg: fn is cleared first and set last */
	__atomic_store_n(&commit_hook, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&commit_arg, arg, __ATOMIC_RELEASE);
	if (fn != NULL)
		__atomic_store_n(&commit_hook, fn, __ATOMIC_RELEASE);
}

void
ciis_event_committed(void)
{
	void (*fn)(void *) = __atomic_load_n(&commit_hook, __ATOMIC_ACQUIRE);

	if (fn != NULL)
		fn(__atomic_load_n(&commit_arg, __ATOMIC_ACQUIRE));
}

int
ciis_event_oldest_id(struct ciis_db *db, int64_t *oldest, struct ciis_err *err)
{
	struct ciis_rows rows;

	if (ciis_db_query(db, SQL_OLDEST, NULL, 0, &rows, err) != 0)
		return -1;
	*oldest = ciis_rows_i64(&rows, 0, 0);
	ciis_rows_free(&rows);
	return 0;
}

void
ciis_event_cleanup(struct ciis_event *ev)
{
	json_object_put(ev->payload);
	json_object_put(ev->subject);
	ev->payload = ev->subject = NULL;
}

void
ciis_event_free_array(struct ciis_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ciis_event_cleanup(&evs[i]);
	free(evs);
}
