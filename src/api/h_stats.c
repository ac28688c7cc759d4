/* /api/realtime/stats (every live process, from the database),
 * /api/realtime/users/online (the relay's presence rows) and /metrics
 * (this process, Prometheus text, loopback clients only). */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "api/resp.h"
#include "core/buf.h"
#include "core/event.h"
#include "core/presence.h"
#include "core/streams.h"
#include "core/tail.h"

static struct json_object *
sse_part(const struct ciis_stream_counts *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "streams", json_object_new_int64(c->issues + c->heatmap + c->notifications));
	json_object_object_add(o, "issueStreams", json_object_new_int64(c->issues));
	json_object_object_add(o, "heatmapStreams", json_object_new_int64(c->heatmap));
	json_object_object_add(o, "notificationStreams", json_object_new_int64(c->notifications));
	return o;
}

static struct json_object *
ws_part(const struct ciis_stream_counts *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "connections", json_object_new_int64(c->ws_connections));
	json_object_object_add(o, "users", json_object_new_int64(c->ws_users));
	json_object_object_add(o, "rooms", json_object_new_int64(c->ws_rooms));
	return o;
}

int
h_realtime_stats(struct api_req *req, struct ciis_err *err)
{
	struct ciis_stream_counts c;
	struct json_object *o, *ev;
	struct ciis_db *db;
	int64_t last;

	if ((db = api_req_db(req, err)) == NULL || ciis_streams_counts(db, &c, err) != 0 ||
	    ciis_event_last_id(db, &last, err) != 0)
		return -1;
	o = json_object_new_object();
	ev = json_object_new_object();
	json_object_object_add(ev, "lastEventId", json_object_new_int64(last));
	json_object_object_add(o, "sse", sse_part(&c));
	json_object_object_add(o, "websocket", ws_part(&c));
	json_object_object_add(o, "events", ev);
	api_send_json(req, 200, o, NULL);
	json_object_put(o);
	return 0;
}

/* GET /api/realtime/users/online: the caller's organization, from the
 * relay's presence rows (every relay process writes its own). */
int
h_users_online(struct api_req *req, struct ciis_err *err)
{
	struct json_object *items;
	struct ciis_db *db;
	int64_t after, next;
	int limit;

	if (api_page_params(req, &limit, &after, err) != 0 || (db = api_req_db(req, err)) == NULL ||
	    ciis_presence_online(db, req->who.org_id, after, limit, &items, &next, err) != 0)
		return -1;
	api_send_list(req, items, next);
	return 0;
}

/* REMOTE_ADDR in 127.0.0.0/8 or ::1 (FastCGI passes the client address). */
static int
loopback_client(struct api_req *req)
{
	const char *a = api_req_env(req, "REMOTE_ADDR");

	return a != NULL && (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
	    strncmp(a, "::ffff:127.", 11) == 0);
}

static void
metric(struct ciis_buf *b, const char *name, const char *type, const char *help)
{
	ciis_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
render_metrics(struct api_ctx *ctx, struct ciis_buf *b)
{
	struct ciis_tail_stats ts = { .last_id = -1 };
	const struct api_metrics *m = &ctx->metrics;

	if (ctx->tail != NULL)
		ciis_tail_stats(ctx->tail, &ts);
	metric(b, "ciis_sse_streams", "gauge", "Open SSE streams of this process.");
	ciis_buf_printf(b, "ciis_sse_streams{kind=\"issues\"} %ld\n",
	    __atomic_load_n(&m->streams[API_STREAM_ISSUES], __ATOMIC_RELAXED));
	ciis_buf_printf(b, "ciis_sse_streams{kind=\"heatmap\"} %ld\n",
	    __atomic_load_n(&m->streams[API_STREAM_HEATMAP], __ATOMIC_RELAXED));
	metric(b, "ciis_events_tailed_total", "counter", "Events the tailer published.");
	ciis_buf_printf(b, "ciis_events_tailed_total %lld\n", (long long)ts.tailed);
	metric(b, "ciis_tail_last_event_id", "gauge", "Last event id the tailer published.");
	ciis_buf_printf(b, "ciis_tail_last_event_id %lld\n", (long long)ts.last_id);
	metric(b, "ciis_tail_lag_seconds", "gauge", "Commit to publish delay of the last event tailed.");
	ciis_buf_printf(b, "ciis_tail_lag_seconds %.3f\n", ts.lag_ms / 1000.0);
	metric(b, "ciis_tail_db_up", "gauge", "Whether the tailer's last read reached the database.");
	ciis_buf_printf(b, "ciis_tail_db_up %d\n", ts.db_ok);
	metric(b, "ciis_http_requests_total", "counter", "Requests answered, by status.");
	for (int s = 100; s < 600; s++) {
		long n = __atomic_load_n(&m->requests[s], __ATOMIC_RELAXED);

		if (n > 0)
			ciis_buf_printf(b, "ciis_http_requests_total{status=\"%d\"} %ld\n", s, n);
	}
}

int
h_metrics(struct api_req *req, struct ciis_err *err)
{
	struct ciis_buf b;

	if (!loopback_client(req))
		return CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "no such resource");
	ciis_buf_init(&b);
	render_metrics(req->ctx, &b);
	api_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, ciis_buf_str(&b), b.len);
	ciis_buf_cleanup(&b);
	return 0;
}
