/* The SSE streams (SPEC §7, doc/sse.md): opening them.  The request thread
 * checks the filter, registers the stream, writes the headers, retry: and
 * the initial (or the replay of a resumed stream) through libfcgi, then
 * leaves the stream in io->held for the writer thread (writer.h), which
 * holds it from then on, and the thread ends.  A database connection is
 * taken only to open. */
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
#include "core/ring.h"
#include "core/sse.h"
#include "core/streams.h"
#include "core/tail.h"
#include "core/xalloc.h"

#define RETRY_MS 3000		/* also the retry: line every stream starts with */
#define RATE_LIMITED_RETRY_MS 5000
#define HEATMAP_MIN_INTERVAL 5000
#define MAX_BODY 65536		/* of a stream request, read to its end before the handoff */

static const char *const kind_names[API_STREAM_KINDS] = { "issues", "heatmap" };

/* Write what s->msg holds through libfcgi, and let go of the buffer: an
 * initial of many issues must not stay as this stream's memory. */
static int
write_out(struct api_stream *s, struct api_req *req)
{
	int rc = 0;

	if (s->msg.len > 0) {
		rc = req->io->write(req->io, s->msg.data, s->msg.len);
		ciis_buf_cleanup(&s->msg);
		s->last_write = ciis_monotonic_ms();
		s->next_beat = s->last_write + req->ctx->conf->sse_heartbeat_seconds * 1000L;
	}
	return rc == 0 ? req->io->flush(req->io) : rc;
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
static void
send_passing_error(struct api_stream *s, struct api_req *req, const char *code, long retry_ms)
{
	ciis_buf_cleanup(&s->msg);
	send_headers(req);
	ciis_sse_error(&s->msg, code, retry_ms);
	write_out(s, req);
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

/* The filter's category names are lent from the request: copy them into
 * one block the stream owns, since the request goes away. */
static void
own_categories(struct api_stream *s)
{
	struct ciis_heatmap_filter *f = &s->heatmap;
	size_t len = 0, at = 0;

	for (size_t i = 0; i < f->ncategory; i++)
		len += strlen(f->category[i]) + 1;
	if (len == 0)
		return;
	s->cats = ciis_xmalloc(len);
	for (size_t i = 0; i < f->ncategory; i++) {
		size_t n = strlen(f->category[i]) + 1;

		memcpy(s->cats + at, f->category[i], n);
		f->category[i] = s->cats + at;
		at += n;
	}
}

static int
heatmap_params(struct api_req *req, struct api_stream *s, struct ciis_err *err)
{
	long interval;

	if (api_heatmap_filter(req, &s->heatmap, err) != 0 ||
	    api_req_query_int(req, "updateInterval", -2147483647L, 86400000, 30000, &interval, err) != 0)
		return -1;
	own_categories(s);
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

/* ---- the initial snapshot ---- */

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
		ciis_sse_typed(&s->msg, "initial", items, last);
		json_object_put(items);
		s->pos = last;
		rc = 0;
	}
	ciis_db_rollback(db);
	return rc;
}

static void
heatmap_schedule(struct api_stream *s)
{
	s->last_update = ciis_monotonic_ms();
	s->next_periodic = s->last_update + s->interval;
}

static int
initial(struct api_stream *s, struct ciis_db *db, struct ciis_err *err)
{
	int64_t last;

	if (s->kind == API_STREAM_ISSUES)
		return issues_initial(s, db, err);
	if (api_stream_snapshot(s, db, "initial", &s->msg, &last, err) != 0)
		return -1;
	if (s->pos < last)
		s->pos = last;
	heatmap_schedule(s);
	return 0;
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

/* ---- opening ---- */

static void
stream_id(struct api_stream *s)
{
	static long counter;

	snprintf(s->id, sizeof s->id, "%.40s:%ld", s->ctx->process_id,
	    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
}

/* Register, then queue initial or reset+initial, or set the resume point. */
static int
open_stream(struct api_stream *s, struct api_req *req, struct ciis_err *err)
{
	struct ciis_db *db = api_req_db(req, err);
	int64_t from;

	if (db == NULL)
		return -1;
	stream_id(s);
	if (ciis_streams_open(db, s->id, s->ctx->process_id, req->who.org_id, req->who.user_id,
	    kind_names[s->kind], s->ctx->conf->sse_max_streams_per_user, err) != 0)
		return -1;
	s->registered = 1;
	if (!resume_point(req, &from))
		return initial(s, db, err);
	if (resumable(db, from, err)) {
		s->pos = from;
		if (s->kind == API_STREAM_HEATMAP)
			heatmap_schedule(s);
		return 0;
	}
	ciis_sse_bare(&s->msg, "reset");
	return initial(s, db, err);
}

/* Give the request's connection back: a held stream must not hold one. */
static void
release_db(struct api_req *req)
{
	ciis_db_pool_put(req->ctx->pool, req->db);
	req->db = NULL;
}

/* What the ring or the table has after s->pos (the replay of a resumed
 * stream; what was committed since the snapshot), written in budgets as it
 * goes, on this thread as the initial was.  -1 when the client left.  When
 * the table cannot be read now, the writer tries again later. */
static int
catch_up(struct api_stream *s, struct api_req *req)
{
	struct ciis_ring *ring = ciis_tail_ring(s->ctx->tail);
	struct ciis_entry *e;
	enum ciis_ring_get r;
	int touched = 0;

	for (;;) {
		if (s->msg.len >= API_STREAM_BUDGET &&
		    (write_out(s, req) != 0 || req->io->gone(req->io)))
			return -1;
		if ((r = ciis_ring_get(ring, s->pos + 1, &e)) == CIIS_RING_NOT_YET)
			break;
		if (r == CIIS_RING_FOUND) {
			touched |= api_stream_match(s, e, &s->msg);
			s->pos = e->id;
			ciis_entry_unref(e);
		} else if (api_stream_replay(s, &s->pos, &s->msg, &touched) != 0) {
			s->retry_at = ciis_monotonic_ms() + API_STREAM_RETRY_MS;
			break;
		}
	}
	if (touched)
		api_stream_touched(s, ciis_monotonic_ms());
	return write_out(s, req) == 0 && !req->io->gone(req->io) ? 0 : -1;
}

/* libfcgi must have read the request to its end (the empty FCGI_STDIN
 * record) before the writer reads the connection, so that what comes next
 * there starts a record.  A stream request has no body; the stream of one
 * with more than MAX_BODY bytes is not handed over. */
static int
read_to_end(struct api_req *req)
{
	char buf[4096];
	long n, total = 0;

	while ((n = req->io->read(req->io, buf, sizeof buf)) > 0)
		if ((total += n) > MAX_BODY)
			return -1;
	return n == 0 ? 0 : -1;
}

static int
run_stream(struct api_req *req, struct api_stream *s, struct ciis_err *err)
{
	if (s->ctx->writer == NULL)
		return CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "streams need ciis-api running as FastCGI");
	s->exp_mono = ciis_monotonic_ms() + (req->who.exp * 1000 - ciis_now_ms());
	if (open_stream(s, req, err) != 0) {
		int limited = err->code == CIIS_E_RATE_LIMITED;

		/* its row may have stayed behind (a delete that failed): queue it */
		s->registered = s->id[0] != '\0';
		release_db(req);
		send_passing_error(s, req, limited ? "rate_limited" : "unavailable",
		    limited ? RATE_LIMITED_RETRY_MS : RETRY_MS);
		api_stream_free(s);
		return 0;
	}
	release_db(req);
	send_headers(req);
	/* retry: first, then what open_stream queued (initial, or reset + initial) */
	req->io->write(req->io, "retry: 3000\n\n", 13);
	s->counted = 1;
	__atomic_add_fetch(&s->ctx->metrics.streams[s->kind], 1, __ATOMIC_RELAXED);
	if (catch_up(s, req) != 0 || api_stopping() || read_to_end(req) != 0) {
		api_stream_free(s);	/* ends as any request: FCGX_Finish_r */
		return 0;
	}
	req->io->held = s;
	return 0;
}

static struct api_stream *
stream_new(struct api_req *req, enum api_stream_kind kind)
{
	struct api_stream *s = ciis_xcalloc(1, sizeof *s);

	s->ctx = req->ctx;
	s->kind = kind;
	s->fd = -1;
	snprintf(s->org_id, sizeof s->org_id, "%s", req->who.org_id);
	ciis_buf_init(&s->msg);
	ciis_buf_init(&s->wbuf);
	ciis_buf_init(&s->job.out);
	return s;
}

static int
stream(struct api_req *req, enum api_stream_kind kind, struct ciis_err *err)
{
	struct api_stream *s = stream_new(req, kind);

	/* a bad request is plain JSON: the client must change it */
	if ((kind == API_STREAM_ISSUES ? issues_filter(req, s, err) : heatmap_params(req, s, err)) != 0 ||
	    run_stream(req, s, err) != 0) {
		api_stream_free(s);
		return -1;
	}
	return 0;
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
