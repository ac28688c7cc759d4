/* The open SSE streams of every process, in the sse_streams table: the
 * per-user cap across processes and the summed stats. */
#ifndef CIIS_CORE_STREAMS_H
#define CIIS_CORE_STREAMS_H

#include <stddef.h>
#include <stdint.h>

#include "core/db.h"
#include "core/err.h"

#define CIIS_STREAM_FRESH_SECONDS 60	/* a row not refreshed for this long is dead */

/* Register stream id of user (kind: "issues" | "heatmap" | "notifications").
 * Over max open streams of that user → -1 with CIIS_E_RATE_LIMITED and
 * nothing registered; 503 when the database is down. */
int ciis_streams_open(struct ciis_db *db, const char *id, const char *process_id,
    const char *org, const char *user, const char *kind, long max, struct ciis_err *err);
void ciis_streams_close(struct ciis_db *db, const char *id);
/* Unregister ids[0..n) in one statement (streams that ended meanwhile). */
int ciis_streams_close_many(struct ciis_db *db, const char *const *ids, size_t n,
    struct ciis_err *err);
/* Refresh this process's rows and drop dead rows of any process. */
int ciis_streams_refresh(struct ciis_db *db, const char *process_id, struct ciis_err *err);

struct ciis_stream_counts {
	int64_t issues, heatmap, notifications;
	int64_t ws_connections, ws_users;	/* the relay's presence rows */
	int64_t ws_rooms;			/* summed over the relay processes */
};
int ciis_streams_counts(struct ciis_db *db, struct ciis_stream_counts *out, struct ciis_err *err);

#endif
