/* sse_streams: insert first, then count, so two streams opening at once on
 * two processes can both be refused but never both let past the cap. */
#include "core/streams.h"

#include <string.h>

#include "core/sqlq.h"

static const char SQL_OPEN[] =
    "INSERT INTO sse_streams (id, process_id, org_id, user_id, kind, opened_at, seen_at)"
    " VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";
static const char SQL_COUNT_USER[] =
    "SELECT COUNT(*) FROM sse_streams WHERE org_id = ? AND user_id = ?"
    " AND seen_at > UTC_TIMESTAMP(3) - INTERVAL 60 SECOND";
static const char SQL_CLOSE[] = "DELETE FROM sse_streams WHERE id = ?";
static const char SQL_REFRESH[] =
    "UPDATE sse_streams SET seen_at = UTC_TIMESTAMP(3) WHERE process_id = ?";
static const char SQL_DROP_DEAD[] =
    "DELETE FROM sse_streams WHERE seen_at < UTC_TIMESTAMP(3) - INTERVAL 60 SECOND";
static const char SQL_COUNT_KINDS[] =
    "SELECT kind, COUNT(*) FROM sse_streams"
    " WHERE seen_at > UTC_TIMESTAMP(3) - INTERVAL 60 SECOND GROUP BY kind";
static const char SQL_COUNT_ROOMS[] =
    "SELECT COALESCE(SUM(rooms), 0) FROM relay_processes"
    " WHERE seen_at > UTC_TIMESTAMP(3) - INTERVAL 60 SECOND";
static const char SQL_COUNT_WS[] =
    "SELECT COUNT(*), COUNT(DISTINCT org_id, user_id) FROM presence"
    " WHERE seen_at > UTC_TIMESTAMP(3) - INTERVAL 60 SECOND";

int
ciis_streams_open(struct ciis_db *db, const char *id, const char *process_id,
    const char *org, const char *user, const char *kind, long max, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PSTR(id), CIIS_PSTR(process_id), CIIS_PSTR(org),
		CIIS_PSTR(user), CIIS_PSTR(kind) };
	struct ciis_param q[] = { CIIS_PSTR(org), CIIS_PSTR(user) };
	struct ciis_rows rows;
	int64_t open;

	if (ciis_db_exec(db, SQL_OPEN, p, 5, NULL, NULL, err) != 0)
		return -1;
	if (ciis_db_query(db, SQL_COUNT_USER, q, 2, &rows, err) != 0) {
		ciis_streams_close(db, id);
		return -1;
	}
	open = ciis_rows_i64(&rows, 0, 0);
	ciis_rows_free(&rows);
	if (open > max) {
		ciis_streams_close(db, id);
		return CIIS_ERR(err, CIIS_E_RATE_LIMITED, "", "at most %ld streams per user", max);
	}
	return 0;
}

void
ciis_streams_close(struct ciis_db *db, const char *id)
{
	struct ciis_param p[] = { CIIS_PSTR(id) };
	struct ciis_err err;

	/* a row left behind by a failure here stops counting after a minute */
	ciis_db_exec(db, SQL_CLOSE, p, 1, NULL, NULL, &err);
}

int
ciis_streams_close_many(struct ciis_db *db, const char *const *ids, size_t n,
    struct ciis_err *err)
{
	struct ciis_sqlq q;
	int rc;

	if (n == 0)
		return 0;
	ciis_sqlq_init(&q, "DELETE FROM sse_streams WHERE 1 = 1");
	ciis_sqlq_in_strs(&q, "id", ids, n);
	rc = ciis_db_exec(db, ciis_buf_str(&q.sql), q.p, q.n, NULL, NULL, err);
	ciis_sqlq_cleanup(&q);
	return rc;
}

int
ciis_streams_refresh(struct ciis_db *db, const char *process_id, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PSTR(process_id) };

	if (ciis_db_exec(db, SQL_REFRESH, p, 1, NULL, NULL, err) != 0)
		return -1;
	return ciis_db_exec(db, SQL_DROP_DEAD, NULL, 0, NULL, NULL, err);
}

int
ciis_streams_counts(struct ciis_db *db, struct ciis_stream_counts *out, struct ciis_err *err)
{
	struct ciis_rows rows;

	memset(out, 0, sizeof *out);
	if (ciis_db_query(db, SQL_COUNT_KINDS, NULL, 0, &rows, err) != 0)
		return -1;
	for (size_t r = 0; r < rows.nrows; r++) {
		const char *kind = ciis_rows_get(&rows, r, 0);
		int64_t n = ciis_rows_i64(&rows, r, 1);

		if (strcmp(kind, "issues") == 0)
			out->issues = n;
		else if (strcmp(kind, "heatmap") == 0)
			out->heatmap = n;
		else
			out->notifications = n;
	}
	ciis_rows_free(&rows);
	if (ciis_db_query(db, SQL_COUNT_WS, NULL, 0, &rows, err) != 0)
		return -1;
	out->ws_connections = ciis_rows_i64(&rows, 0, 0);
	out->ws_users = ciis_rows_i64(&rows, 0, 1);
	ciis_rows_free(&rows);
	if (ciis_db_query(db, SQL_COUNT_ROOMS, NULL, 0, &rows, err) != 0)
		return -1;
	out->ws_rooms = ciis_rows_i64(&rows, 0, 0);
	ciis_rows_free(&rows);
	return 0;
}
