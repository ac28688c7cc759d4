/* What every holder of a stream does with it (stream.h): matching an event
 * against the stream's filter, reading events the ring no longer holds,
 * the heatmap snapshot, and the stream's end. */
#include "api/stream.h"

#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/heatmap.h"
#include "core/xalloc.h"

#define REPLAY_BATCH 200

int
api_stream_match(const struct api_stream *s, const struct ciis_entry *e, struct ciis_buf *out)
{
	if (s->kind == API_STREAM_ISSUES) {
		if (ciis_sse_issue_match(&s->filter, e))
			ciis_buf_append(out, e->sse, e->sse_len);
		return 0;
	}
	return ciis_sse_heatmap_match(s->org_id, s->heatmap.campus, s->heatmap.building,
	    s->heatmap.nbuilding, e);
}

void
api_stream_touched(struct api_stream *s, int64_t now)
{
	int64_t at = s->last_update + API_STREAM_COALESCE_MS;

	/* one update per change burst, at most one a second */
	if (s->next_coalesced == 0)
		s->next_coalesced = at > now + 100 ? at : now + 100;
}

int
api_stream_replay(const struct api_stream *s, int64_t *pos, struct ciis_buf *out, int *touched)
{
	struct ciis_err err;
	struct ciis_event *evs;
	struct ciis_db *db = ciis_db_pool_get(s->ctx->pool, &err);
	int64_t hole = 0;
	size_t n = 0;
	int rc = -1;

	if (db != NULL && ciis_event_read(db, *pos, REPLAY_BATCH, &evs, &n, &hole, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct ciis_entry *e = ciis_entry_new(&evs[i]);

			*touched |= api_stream_match(s, e, out);
			*pos = e->id;
			ciis_entry_unref(e);
		}
		ciis_event_free_array(evs, n);
		rc = n > 0 ? 0 : -1;
		/* the ring has moved on past these ids: a hole here is for good */
		if (n == 0 && hole > 0) {
			*pos = hole - 1;
			rc = 0;
		}
	}
	ciis_db_pool_put(s->ctx->pool, db);
	return rc;
}

int
api_stream_snapshot(const struct api_stream *s, struct ciis_db *db, const char *type,
    struct ciis_buf *out, int64_t *last, struct ciis_err *err)
{
	struct json_object *o, *id;

	if (ciis_heatmap_snapshot(db, s->org_id, &s->heatmap, &o, err) != 0)
		return -1;
	json_object_object_get_ex(o, "lastEventId", &id);
	*last = json_object_get_int64(id);
	ciis_sse_typed(out, type, o, *last);
	json_object_put(o);
	return 0;
}

/* Hand the stream's row to the tailer's chore for removal: a thousand
 * streams ending at once take no thousand connections. */
static void
unregister(struct api_stream *s)
{
	struct api_ctx *ctx = s->ctx;

	if (!s->registered)
		return;
	pthread_mutex_lock(&ctx->ended_lock);
	if (ctx->nended == ctx->ended_cap) {
		ctx->ended_cap = ctx->ended_cap ? ctx->ended_cap * 2 : 64;
		ctx->ended = ciis_xrealloc(ctx->ended, ctx->ended_cap * sizeof *ctx->ended);
	}
	memcpy(ctx->ended[ctx->nended++], s->id, sizeof s->id);
	pthread_mutex_unlock(&ctx->ended_lock);
	s->registered = 0;
}

void
api_stream_free(struct api_stream *s)
{
	if (s == NULL)
		return;
	unregister(s);
	if (s->counted)
		__atomic_sub_fetch(&s->ctx->metrics.streams[s->kind], 1, __ATOMIC_RELAXED);
	ciis_buf_cleanup(&s->msg);
	ciis_buf_cleanup(&s->wbuf);
	ciis_buf_cleanup(&s->job.out);
	free(s->cats);
	free(s);
}
