/* The SSE streams (SPEC §7, doc/sse.md).  Each stream holds its request
 * thread; it takes a database connection only to open (snapshot, the
 * per-user cap), to replay what the ring no longer holds, and to close.
 * Everything live comes from the process's tailer through the ring. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/params.h"
#include "api/resp.h"
#include "api/stream.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/heatmap.h"
#include "core/log.h"
#include "core/ring.h"
#include "core/sse.h"
#include "core/streams.h"
#include "core/tail.h"
#include "core/xalloc.h"

#define REPLAY_BATCH 200
#define RETRY_MS 3000		/* also the retry: line every stream starts with */
#define RATE_LIMITED_RETRY_MS 5000
#define HEATMAP_MIN_INTERVAL 5000
#define HEATMAP_COALESCE_MS 1000
#define GONE_CHECK_MS 1000
#define KEEPALIVE_MS 5000
#define OUT_KEEP 4096		/* bytes of output buffer a held stream keeps */
#define OUT_BUDGET 65536	/* bytes of messages queued before writing */

static const char *const kind_names[API_STREAM_KINDS] = { "issues", "heatmap" };

static int
write_out(struct api_stream *s)
{
	int rc = 0;

	if (s->out.len > 0) {
		rc = s->req->io->write(s->req->io, s->out.data, s->out.len);
		if (rc == 0)
			rc = s->req->io->flush(s->req->io);
		/* an initial of many issues must not stay as this stream's buffer */
		if (s->out.cap > OUT_KEEP)
			ciis_buf_cleanup(&s->out);
		else
			ciis_buf_reset(&s->out);
		s->last_write = ciis_monotonic_ms();
		s->next_beat = s->last_write + s->req->ctx->conf->sse_heartbeat_seconds * 1000;
	}
	return rc;
}

static void
send_headers(struct api_req *req)
{
	static const char h[] = "Status: 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n\r\n";

	req->io->write(req->io, h, sizeof h - 1);
	req->status = 200;
}

/* The 200 stream that tells a browser to come back later: a native
 * EventSource never retries after any other status. */
static int
send_passing_error(struct api_stream *s, const char *code, long retry_ms)
{
	ciis_buf_reset(&s->out);
	send_headers(s->req);
	ciis_sse_error(&s->out, code, retry_ms);
	write_out(s);
	return 0;
}

/* organizationId, when given, must be the token's own (403). */
static int
check_org(struct api_req *req, struct ciis_err *err)
{
	const char *org = api_req_query(req, "organizationId");

	if (org != NULL && strcmp(org, req->who.org_id) != 0)
		return CIIS_ERR(err, CIIS_E_FORBIDDEN, "organizationId",
		    "organizationId: not the organization of this token");
	return 0;
}

static unsigned
mask_of(const int *v, size_t n)
{
	unsigned m = 0;

	for (size_t i = 0; i < n; i++)
		m |= 1u << v[i];
	return m;
}

static int
issues_filter(struct api_req *req, struct api_stream *s, struct ciis_err *err)
{
	struct ciis_sse_filter *f = &s->filter;
	int prio[CIIS_FILTER_MAX], st[CIIS_FILTER_MAX];
	size_t nprio, nst;

	memset(f, 0, sizeof *f);
	snprintf(f->org_id, sizeof f->org_id, "%s", req->who.org_id);
	if (check_org(req, err) != 0 ||
	    api_query_ids(req, "campusId", f->campus, CIIS_FILTER_MAX, &f->ncampus, err) != 0 ||
	    api_query_ids(req, "buildingId", f->building, CIIS_FILTER_MAX, &f->nbuilding, err) != 0 ||
	    api_query_enums(req, "priorities", ciis_priority_parse, prio, CIIS_FILTER_MAX, &nprio, err) != 0 ||
	    api_query_enums(req, "statuses", ciis_status_parse, st, CIIS_FILTER_MAX, &nst, err) != 0)
		return -1;
	f->priorities = mask_of(prio, nprio);
	f->statuses = mask_of(st, nst);
	return 0;
}

static int
heatmap_params(struct api_req *req, struct api_stream *s, struct ciis_err *err)
{
	long interval;

	if (api_heatmap_filter(req, &s->heatmap, err) != 0 ||
	    api_req_query_int(req, "updateInterval", -2147483647L, 86400000, 30000, &interval, err) != 0)
		return -1;
	/* under the minimum is raised, not refused (SPEC §11) */
	s->interval = interval < HEATMAP_MIN_INTERVAL ? HEATMAP_MIN_INTERVAL : interval;
	return 0;
}

/* Last-Event-ID (header, or ?lastEventId=): 1 and *id when resuming. */
static int
resume_point(struct api_req *req, int64_t *id)
{
	const char *v = api_req_env(req, "HTTP_LAST_EVENT_ID");

	if (v == NULL || *v == '\0')
		v = api_req_query(req, "lastEventId");
	if (v == NULL || *v == '\0')
		return 0;
	*id = strcmp(v, "0") == 0 ? 0 : -1;
	if (*id < 0 && ciis_id_parse(v, id) != 0)
		*id = -1;	/* not an id of ours: answered with reset */
	return 1;
}

/* ---- the issues stream ---- */

static int
issues_initial(struct api_stream *s, struct ciis_db *db, struct ciis_err *err)
{
	struct ciis_issue_filter lf;
	struct json_object *items;
	int64_t last = 0, next;
	int rc = -1;

	memset(&lf, 0, sizeof lf);
	memcpy(lf.campus, s->filter.campus, sizeof lf.campus);
	lf.ncampus = s->filter.ncampus;
	memcpy(lf.building, s->filter.building, sizeof lf.building);
	lf.nbuilding = s->filter.nbuilding;
	for (int p = 0; p < CIIS_PRIO_COUNT; p++)
		if (s->filter.priorities & (1u << p))
			lf.priority[lf.npriority++] = p;
	for (int st = 0; st < CIIS_ST_COUNT; st++)
		if (s->filter.statuses & (1u << st))
			lf.status[lf.nstatus++] = st;
	lf.limit = 50;
	if (ciis_db_begin_snapshot(db, err) != 0)
		return -1;
	if (ciis_event_last_id(db, &last, err) == 0 &&
	    ciis_issue_list(db, s->filter.org_id, &lf, &items, &next, err) == 0) {
		ciis_sse_typed(&s->out, "initial", items, last);
		json_object_put(items);
		s->pos = last;
		rc = 0;
	}
	ciis_db_rollback(db);
	return rc;
}

static int
heatmap_initial(struct api_stream *s, struct ciis_db *db, const char *type, struct ciis_err *err)
{
	struct json_object *o, *last;

	if (ciis_heatmap_snapshot(db, s->req->who.org_id, &s->heatmap, &o, err) != 0)
		return -1;
	json_object_object_get_ex(o, "lastEventId", &last);
	ciis_sse_typed(&s->out, type, o, json_object_get_int64(last));
	if (s->pos < json_object_get_int64(last))
		s->pos = json_object_get_int64(last);
	json_object_put(o);
	s->last_update = ciis_monotonic_ms();
	s->next_periodic = s->last_update + s->interval;
	return 0;
}

static int
initial(struct api_stream *s, struct ciis_db *db, struct ciis_err *err)
{
	if (s->kind == API_STREAM_ISSUES)
		return issues_initial(s, db, err);
	return heatmap_initial(s, db, "initial", err);
}

/* Is `id` a point of the retained log a stream can resume after? */
static int
resumable(struct ciis_db *db, int64_t id, struct ciis_err *err)
{
	int64_t last, oldest;

	if (id < 0 || ciis_event_last_id(db, &last, err) != 0)
		return 0;
	if (id > last)
		return 0;	/* a log this database never had */
	if (id == last)
		return 1;
	if (ciis_event_oldest_id(db, &oldest, err) != 0)
		return 0;
	return oldest > 0 && id + 1 >= oldest;
}

/* ---- delivery ---- */

static void
heatmap_touched(struct api_stream *s)
{
	int64_t now = ciis_monotonic_ms(), at = s->last_update + HEATMAP_COALESCE_MS;

	/* one update per change burst, at most one a second */
	if (s->next_coalesced == 0)
		s->next_coalesced = at > now + 100 ? at : now + 100;
}

static void
handle(struct api_stream *s, const struct ciis_entry *e)
{
	if (s->kind == API_STREAM_ISSUES) {
		if (ciis_sse_issue_match(&s->filter, e))
			ciis_buf_append(&s->out, e->sse, e->sse_len);
	} else if (ciis_sse_heatmap_match(s->req->who.org_id, s->heatmap.campus,
	    s->heatmap.building, s->heatmap.nbuilding, e)) {
		heatmap_touched(s);
	}
	s->pos = e->id;
}

/* Events after s->pos that the ring no longer holds, from the table. */
static int
replay_batch(struct api_stream *s)
{
	struct ciis_err err;
	struct ciis_event *evs;
	struct ciis_db *db = ciis_db_pool_get(s->req->ctx->pool, &err);
	int64_t hole = 0;
	size_t n = 0;
	int rc = -1;

	if (db != NULL && ciis_event_read(db, s->pos, REPLAY_BATCH, &evs, &n, &hole, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct ciis_entry *e = ciis_entry_new(&evs[i]);

			handle(s, e);
			ciis_entry_unref(e);
		}
		ciis_event_free_array(evs, n);
		rc = n > 0 ? 0 : -1;
		/* the ring has moved on past these ids: a hole here is for good */
		if (n == 0 && hole > 0) {
			s->pos = hole - 1;
			rc = 0;
		}
	}
	ciis_db_pool_put(s->req->ctx->pool, db);
	return rc;
}

enum drained { DRAINED, MORE, STALLED };

/* Take the events available after s->pos, at most OUT_BUDGET bytes of
 * messages at a time so that a long replay is written as it goes (and the
 * stream still notices expiry and a client that left).  STALLED: the events
 * due are in the table only, and it cannot be read now. */
static enum drained
drain(struct api_stream *s)
{
	struct ciis_ring *ring = ciis_tail_ring(s->req->ctx->tail);
	struct ciis_entry *e;

	while (s->out.len < OUT_BUDGET) {
		enum ciis_ring_get r = ciis_ring_get(ring, s->pos + 1, &e);

		if (r == CIIS_RING_NOT_YET)
			return DRAINED;
		if (r == CIIS_RING_GONE) {
			if (replay_batch(s) != 0)
				return STALLED;
			continue;
		}
		handle(s, e);
		ciis_entry_unref(e);
	}
	return MORE;
}

static int
heatmap_update_due(struct api_stream *s)
{
	int64_t now = ciis_monotonic_ms();
	struct ciis_err err;
	struct ciis_db *db;
	int rc;

	if (!((s->next_coalesced && now >= s->next_coalesced) || now >= s->next_periodic))
		return 0;
	if ((db = ciis_db_pool_get(s->req->ctx->pool, &err)) == NULL) {
		s->next_periodic = now + HEATMAP_COALESCE_MS;	/* database away: soon again */
		return 0;
	}
	rc = heatmap_initial(s, db, "update", &err);
	ciis_db_pool_put(s->req->ctx->pool, db);
	if (rc == 0) {
		s->next_coalesced = 0;
	} else {
		/* the snapshot failed: not again before a second has passed */
		s->next_periodic = now + HEATMAP_COALESCE_MS;
		if (s->next_coalesced)
			s->next_coalesced = now + HEATMAP_COALESCE_MS;
	}
	return 0;
}

static int64_t
next_deadline(const struct api_stream *s)
{
	int64_t d = s->next_beat;

	if (s->kind == API_STREAM_HEATMAP) {
		if (s->next_periodic < d)
			d = s->next_periodic;
		if (s->next_coalesced && s->next_coalesced < d)
			d = s->next_coalesced;
	}
	if (s->exp_mono < d)
		d = s->exp_mono;
	/* at least once a second, to notice a client that left */
	if (d > ciis_monotonic_ms() + GONE_CHECK_MS)
		d = ciis_monotonic_ms() + GONE_CHECK_MS;
	return d;
}

static void
live(struct api_stream *s)
{
	struct ciis_ring *ring = ciis_tail_ring(s->req->ctx->tail);

	while (!api_stopping()) {
		enum drained d = drain(s);

		if (s->kind == API_STREAM_HEATMAP)
			heatmap_update_due(s);
		if (ciis_monotonic_ms() >= s->exp_mono) {
			ciis_sse_bare(&s->out, "expired");
			write_out(s);
			return;
		}
		if (s->out.len == 0 && ciis_monotonic_ms() >= s->next_beat)
			ciis_sse_bare(&s->out, "heartbeat");
		/* web servers notice a client that left only when they write to
		 * it; an SSE comment (ignored by EventSource) makes them write */
		if (s->out.len == 0 && ciis_monotonic_ms() >= s->last_write + KEEPALIVE_MS)
			ciis_buf_puts(&s->out, ":\n\n");
		/* a client that left is seen by a failing write, or sooner by
		 * the web server closing our connection */
		if (write_out(s) != 0 || s->req->io->gone(s->req->io))
			return;
		if (d == MORE)
			continue;
		/* stalled on the table: wait for the deadline, not for the ring */
		ciis_ring_wait(ring, d == STALLED ? INT64_MAX : s->pos + 1, next_deadline(s));
	}
}

/* ---- opening ---- */

static void
stream_id(struct api_stream *s)
{
	static long counter;

	snprintf(s->id, sizeof s->id, "%.40s:%ld", s->req->ctx->process_id,
	    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
}

/* Register, then send initial or reset+initial, or the resume point. */
static int
open_stream(struct api_stream *s, struct ciis_err *err)
{
	struct api_req *req = s->req;
	struct ciis_db *db = api_req_db(req, err);
	int64_t from;

	if (db == NULL)
		return -1;
	stream_id(s);
	if (ciis_streams_open(db, s->id, req->ctx->process_id, req->who.org_id, req->who.user_id,
	    kind_names[s->kind], req->ctx->conf->sse_max_streams_per_user, err) != 0)
		return -1;
	s->registered = 1;
	if (!resume_point(req, &from))
		return initial(s, db, err);
	if (resumable(db, from, err)) {
		s->pos = from;
		if (s->kind == API_STREAM_HEATMAP) {
			s->last_update = ciis_monotonic_ms();
			s->next_periodic = s->last_update + s->interval;
		}
		return 0;
	}
	ciis_sse_bare(&s->out, "reset");
	return initial(s, db, err);
}

/* Hand the stream's row to the tailer's chore for removal. */
static void
close_stream(struct api_stream *s)
{
	struct api_ctx *ctx = s->req->ctx;

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

/* Give the request's connection back: a held stream must not hold one. */
static void
release_db(struct api_req *req)
{
	ciis_db_pool_put(req->ctx->pool, req->db);
	req->db = NULL;
}

static int
run_stream(struct api_stream *s, struct ciis_err *err)
{
	struct api_req *req = s->req;
	long *open = &req->ctx->metrics.streams[s->kind];

	if (req->ctx->tail == NULL)
		return CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "streams need ciis-api running as FastCGI");
	s->exp_mono = ciis_monotonic_ms() + (req->who.exp * 1000 - ciis_now_ms());
	if (open_stream(s, err) != 0) {
		int limited = err->code == CIIS_E_RATE_LIMITED;

		/* its row may have stayed behind (a delete that failed): queue it */
		s->registered = s->id[0] != '\0';
		close_stream(s);
		release_db(req);
		return send_passing_error(s, limited ? "rate_limited" : "unavailable",
		    limited ? RATE_LIMITED_RETRY_MS : RETRY_MS);
	}
	release_db(req);
	send_headers(req);
	/* retry: first, then what open_stream queued (initial, or reset + initial) */
	req->io->write(req->io, "retry: 3000\n\n", 13);
	__atomic_add_fetch(open, 1, __ATOMIC_RELAXED);
	live(s);
	__atomic_sub_fetch(open, 1, __ATOMIC_RELAXED);
	close_stream(s);
	return 0;
}

static int
stream(struct api_req *req, enum api_stream_kind kind, struct ciis_err *err)
{
	struct api_stream s;
	int rc = -1;

	memset(&s, 0, sizeof s);
	s.req = req;
	s.kind = kind;
	ciis_buf_init(&s.out);
	/* a bad request is plain JSON: the client must change it */
	if ((kind == API_STREAM_ISSUES ? issues_filter(req, &s, err) : heatmap_params(req, &s, err)) == 0)
		rc = run_stream(&s, err);
	ciis_buf_cleanup(&s.out);
	return rc;
}

int
h_stream_issues(struct api_req *req, struct ciis_err *err)
{
	return stream(req, API_STREAM_ISSUES, err);
}

int
h_stream_heatmap(struct api_req *req, struct ciis_err *err)
{
	return stream(req, API_STREAM_HEATMAP, err);
}
