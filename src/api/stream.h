/* One SSE stream's state.  A request thread opens it (h_stream.c: the
 * filter, the registration, the initial or the replay, written through
 * libfcgi), then hands it to the writer thread (writer.c), which owns it
 * from then on and frees it when it ends.  Nothing in it points into the
 * request: what the stream needs of it is copied before the handoff. */
#ifndef CIIS_API_STREAM_H
#define CIIS_API_STREAM_H

#include <stdint.h>

#include "api/fcgi_rec.h"
#include "api/req.h"
#include "api/workers.h"
#include "core/auth.h"
#include "core/buf.h"
#include "core/heatmap.h"
#include "core/ring.h"
#include "core/sse.h"

#define API_STREAM_BUDGET 65536	/* bytes of messages taken before writing them */
#define API_STREAM_COALESCE_MS 1000	/* heatmap: one update a second at most */
#define API_STREAM_RETRY_MS 1000	/* the table could not be read: again after this */

struct api_writer;

enum api_job_kind { API_JOB_REPLAY, API_JOB_SNAPSHOT };

/* The stream's one database errand at a time, run by a worker while the
 * writer leaves pos alone (busy). */
struct api_stream_job {
	struct api_job job;		/* first: a struct api_job * is one of these */
	struct api_stream *s;		/* the stream it belongs to */
	enum api_job_kind kind;
	int64_t pos;			/* in: replay after it; out: the last id handled */
	struct ciis_buf out;		/* out: messages for the stream, owned */
	int ok;				/* out: the table could be read */
	int touched;			/* out: heatmap events of the filter were among them */
};

struct api_stream {
	struct api_ctx *ctx;		/* borrowed: lives as long as the process */
	enum api_stream_kind kind;
	char id[64];			/* its row in sse_streams */
	int registered;
	char org_id[CIIS_ID_MAX + 1];	/* the token's organization */
	int64_t pos;			/* the last event id handled */
	int64_t exp_mono;		/* the token's exp, on the monotonic clock */
	int64_t next_beat;		/* heartbeat due (monotonic ms) */
	int64_t last_write;		/* monotonic ms */
	struct ciis_buf msg;		/* messages not yet written, owned */
	struct ciis_sse_filter filter;	/* issues stream */
	struct ciis_heatmap_filter heatmap;	/* heatmap stream; categories point into cats */
	char *cats;			/* owned: the category names, NUL-separated */
	long interval;			/* heatmap: periodic update, ms */
	int64_t last_update, next_periodic, next_coalesced;	/* heatmap, monotonic; 0 = none */
	int64_t retry_at;		/* the table could not be read: again then (0 = no) */
	int counted;			/* in ctx->metrics.streams */

	/* The writer thread's, once it holds the stream (writer.c). */
	struct api_writer *writer;	/* borrowed: the one holding it */
	struct api_stream *next;	/* the writer's list of streams handed to it */
	int fd;				/* the FastCGI connection, -1 once closed */
	int request_id;
	struct ciis_buf wbuf;		/* FastCGI records not yet written, owned */
	size_t woff;			/* of wbuf, written already */
	int wwait;			/* waiting for EPOLLOUT */
	struct api_fcgi_reader rd;
	int busy;			/* job is with a worker */
	int ending;			/* the end records are queued: close once written */
	int lingering;			/* ending, written, half-closed: waiting for EOF */
	int64_t end_by;			/* ending: close then even if not all written */
	int more;			/* more events are due than one round took */
	size_t slot;			/* index in the writer's table */
	struct api_stream_job job;
};

/* Deliver entry e to s if it matches: the issues stream's message appended
 * to out; for the heatmap stream 1 when e touches its filter.  Reads only
 * what never changes once the stream is open, so a worker may call it. */
int api_stream_match(const struct api_stream *s, const struct ciis_entry *e, struct ciis_buf *out);
/* Heatmap: schedule the coalesced update after a touching event. */
void api_stream_touched(struct api_stream *s, int64_t now);
/* Read the next events after *pos from the table (at most one batch),
 * appending the matching messages to out and moving *pos; 0 when it moved,
 * -1 when the table cannot be read now.  *touched as api_stream_match. */
int api_stream_replay(const struct api_stream *s, int64_t *pos, struct ciis_buf *out,
    int *touched);
/* The heatmap snapshot as a message of type ("initial", "update") appended
 * to out; *last gets the id of the last event it includes. */
int api_stream_snapshot(const struct api_stream *s, struct ciis_db *db, const char *type,
    struct ciis_buf *out, int64_t *last, struct ciis_err *err);
/* The stream is over: queue its sse_streams row for the tailer's chore,
 * uncount it, free everything it owns and s itself (NULL ok).  It must not
 * hold a connection or be with a worker. */
void api_stream_free(struct api_stream *s);

/* Is the process shutting down (streams end)?  main.c. */
int api_stopping(void);

#endif
