/* GET /api/realtime/users/online from the presence table. */
#include "core/presence.h"

#include "core/clock.h"

static const char SQL_ONLINE[] =
    "SELECT user_id, MAX(name), MAX(status = 'online'),"
    " FLOOR(UNIX_TIMESTAMP(MAX(seen_at)) * 1000)"
    " FROM presence"
    " WHERE org_id = ? AND status <> 'offline'"
    "  AND seen_at > UTC_TIMESTAMP(3) - INTERVAL 60 SECOND"
    " GROUP BY user_id ORDER BY user_id LIMIT ? OFFSET ?";

static struct json_object *
user_json(const struct ciis_rows *rows, size_t r)
{
	struct json_object *o = json_object_new_object();
	char seen[CIIS_TIME_LEN];

	ciis_time_format(ciis_rows_i64(rows, r, 3), seen);
	json_object_object_add(o, "userId", json_object_new_string(ciis_rows_get(rows, r, 0)));
	json_object_object_add(o, "name", json_object_new_string(ciis_rows_get(rows, r, 1)));
	json_object_object_add(o, "status",
	    json_object_new_string(ciis_rows_i64(rows, r, 2) ? "online" : "away"));
	json_object_object_add(o, "lastSeen", json_object_new_string(seen));
	return o;
}

int
ciis_presence_online(struct ciis_db *db, const char *org, int64_t after, int limit,
    struct json_object **items, int64_t *next, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PSTR(org), CIIS_PNULL, CIIS_PI64(after) };
	struct ciis_rows rows = { 0 };
	size_t shown;

	*items = NULL;
	*next = 0;
	p[1] = CIIS_PI64((int64_t)limit + 1);	/* one more: is there another page? */
	if (ciis_db_query(db, SQL_ONLINE, p, 3, &rows, err) != 0)
		return -1;
	shown = rows.nrows > (size_t)limit ? (size_t)limit : rows.nrows;
	*items = json_object_new_array();
	for (size_t r = 0; r < shown; r++)
		json_object_array_add(*items, user_json(&rows, r));
	if (rows.nrows > shown)
		*next = after + (int64_t)shown;
	ciis_rows_free(&rows);
	return 0;
}
