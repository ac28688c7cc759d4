/* Engine.IO sessions.  A session has one transport at a time: polling (a
 * queue of packets answered to the held GET) or a WebSocket; during an
 * upgrade a second, probing WebSocket waits for "5".  Closing is immediate:
 * the session leaves the table at once (so later requests get "Session ID
 * unknown"), the transports are told, the layer above hears on_close, and
 * the memory goes at the end of the loop round. */
#include "relay/eio.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/eio_codec.h"
#include "relay/ws.h"

const struct eio_config eio_config_default = {
	.ping_interval_ms = 25000,
	.ping_timeout_ms = 20000,
	.upgrade_timeout_ms = 10000,
	.max_payload = 1000000,
	.max_buffered = 4000000,
	.close_wait_ms = 1000,
};

/* Engine.IO error codes (server.ts abortRequest), answered with HTTP 400. */
enum eio_err {
	E_TRANSPORT = 0,
	E_SID,
	E_METHOD,
	E_BAD_REQUEST,
	E_FORBIDDEN,
	E_VERSION,
};

static const char *const err_text[] = {
	"Transport unknown", "Session ID unknown", "Bad handshake method",
	"Bad request", "Forbidden", "Unsupported protocol version",
};

struct out_pkt {
	struct out_pkt *next;
	struct eio_packet pkt;		/* data points at bytes[] */
	char bytes[];
};

struct eio_session {
	struct eio_server *srv;		/* borrowed */
	char sid[EIO_SID_LEN + 1];
	int closed;
	int probed;			/* "2probe" seen on the probe */
	struct http_conn *get;		/* the held poll; we are its holder */
	struct http_conn *post;		/* a POST whose body is coming; we watch it */
	struct ws_conn *ws;		/* the transport, once it is a WebSocket */
	struct ws_conn *probe;		/* a WebSocket asking to take over */
	struct out_pkt *q_head, **q_tail;	/* polling: unsent packets, owned */
	size_t q_bytes;
	int flush_pending;
	struct loop_timer ping, pong, upgrade;
	void *data;			/* the layer above's */
	char *hs_query;			/* owned: the handshake's query string */
	char *hs_authorization;		/* owned: its Authorization header, "" if none */
	struct eio_session *hnext;	/* hash chain */
};

struct eio_server {
	struct loop *loop;		/* borrowed */
	struct eio_config cfg;
	const struct eio_handlers *h;	/* borrowed */
	void *arg;
	struct ws_set ws;
	struct eio_session **table;	/* owned array of chains */
	size_t nbuckets, count;
	struct ciis_buf scratch;	/* base64-decoded binary packets */
};

static void session_close(struct eio_session *s, const char *reason, int by_client);

void
eio_random_id(char out[EIO_SID_LEN + 1])
{
	static const char url64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[EIO_SID_LEN];

	if (RAND_bytes(r, sizeof r) != 1)
		abort();	/* no entropy: nothing safe to hand out */
	for (size_t i = 0; i < EIO_SID_LEN; i++)
		out[i] = url64[r[i] & 63];
	out[EIO_SID_LEN] = '\0';
}

/* ---- the session table ---------------------------------------------------- */

static size_t
bucket(const struct eio_server *srv, const char *sid, size_t n)
{
	size_t h = 5381;

	for (size_t i = 0; i < n; i++)
		h = h * 33 + (unsigned char)sid[i];
	return h & (srv->nbuckets - 1);
}

static void
table_grow(struct eio_server *srv)
{
	size_t old = srv->nbuckets;
	struct eio_session **t = srv->table;

	srv->nbuckets = old ? old * 2 : 256;
	srv->table = ciis_xcalloc(srv->nbuckets, sizeof *srv->table);
	for (size_t i = 0; i < old; i++)
		while (t[i] != NULL) {
			struct eio_session *s = t[i];
			size_t b = bucket(srv, s->sid, EIO_SID_LEN);

			t[i] = s->hnext;
			s->hnext = srv->table[b];
			srv->table[b] = s;
		}
	free(t);
}

static void
table_add(struct eio_server *srv, struct eio_session *s)
{
	size_t b;

	if (srv->count >= srv->nbuckets)
		table_grow(srv);
	b = bucket(srv, s->sid, EIO_SID_LEN);
	s->hnext = srv->table[b];
	srv->table[b] = s;
	srv->count++;
}

static struct eio_session *
table_find(struct eio_server *srv, struct http_str sid)
{
	struct eio_session *s;

	if (sid.n != EIO_SID_LEN)
		return NULL;
	for (s = srv->table[bucket(srv, sid.p, sid.n)]; s != NULL; s = s->hnext)
		if (memcmp(s->sid, sid.p, EIO_SID_LEN) == 0)
			return s;
	return NULL;
}

static void
table_del(struct eio_server *srv, struct eio_session *s)
{
	struct eio_session **p = &srv->table[bucket(srv, s->sid, EIO_SID_LEN)];

	while (*p != s)
		p = &(*p)->hnext;
	*p = s->hnext;
	srv->count--;
}

/* ---- sending ---------------------------------------------------------------- */

static void
respond_text(struct http_conn *c, const char *ctype, const char *body, size_t len)
{
	http_respond(c, 200, NULL, ctype, body, len);
}

static void
respond_payload(struct http_conn *c, const char *body, size_t len)
{
	respond_text(c, "text/plain; charset=UTF-8", body, len);
}

/* Answer the held (or a new) GET with every queued packet. */
static void
respond_queue(struct eio_session *s, struct http_conn *c)
{
	struct ciis_buf payload;

	ciis_buf_init(&payload);
	while (s->q_head != NULL) {
		struct out_pkt *o = s->q_head;

		s->q_head = o->next;
		eio_payload_add(&payload, &o->pkt);
		free(o);
	}
	s->q_tail = &s->q_head;
	s->q_bytes = 0;
	respond_payload(c, payload.data, payload.len);
	ciis_buf_cleanup(&payload);
}

static void
release_get(struct eio_session *s, const char *packet)
{
	struct http_conn *c = s->get;

	if (c == NULL)
		return;
	s->get = NULL;
	if (packet == NULL)
		respond_queue(s, c);
	else
		respond_payload(c, packet, strlen(packet));
}

/* Batch what one loop round queues into one poll response. */
static void
flush_later(void *arg)
{
	struct eio_session *s = arg;

	s->flush_pending = 0;
	if (!s->closed && s->q_head != NULL)
		release_get(s, NULL);
}

static int
ws_packet(struct ws_conn *ws, const struct eio_packet *p)
{
	struct ciis_buf b;
	char type = (char)('0' + p->type);
	int rc;

	if (p->binary)
		return ws_send(ws, 1, p->data, p->len);
	ciis_buf_init(&b);
	ciis_buf_append(&b, &type, 1);
	ciis_buf_append(&b, p->data, p->len);
	rc = ws_send(ws, 0, b.data, b.len);
	ciis_buf_cleanup(&b);
	return rc;
}

static int
send_packet(struct eio_session *s, enum eio_type type, int binary, const void *data, size_t len)
{
	struct out_pkt *o;

	if (s->closed)
		return -1;
	if (s->ws != NULL)
		return ws_packet(s->ws, &(struct eio_packet){ type, binary, data, len });
	if (s->q_bytes + len > s->srv->cfg.max_buffered) {
		ciis_log(CIIS_LOG_INFO, "eio: slow_consumer: %zu bytes unpolled, closing", s->q_bytes);
		session_close(s, "slow_consumer", 0);
		return -1;
	}
	o = ciis_xmalloc(sizeof *o + len + 1);
	memcpy(o->bytes, data, len);
	o->pkt = (struct eio_packet){ type, binary, o->bytes, len };
	o->next = NULL;
	*s->q_tail = o;
	s->q_tail = &o->next;
	s->q_bytes += len;
	if (s->get != NULL && !s->flush_pending) {
		s->flush_pending = 1;
		loop_defer(s->srv->loop, flush_later, s);
	}
	return 0;
}

int
eio_send(struct eio_session *s, int binary, const void *data, size_t len)
{
	return send_packet(s, EIO_MESSAGE, binary, data, len);
}

/* ---- heartbeat -------------------------------------------------------------- */

static void
on_ping_due(struct loop_timer *t)
{
	struct eio_session *s = LOOP_OWNER(t, struct eio_session, ping);

	if (send_packet(s, EIO_PING, 0, "", 0) == 0)
		loop_timer_arm(s->srv->loop, &s->pong, s->srv->cfg.ping_timeout_ms);
}

static void
on_pong_late(struct loop_timer *t)
{
	session_close(LOOP_OWNER(t, struct eio_session, pong), "ping timeout", 0);
}

/* ---- receiving -------------------------------------------------------------- */

/* A packet from the client on the session's own transport. */
static void
on_packet(struct eio_session *s, const struct eio_packet *p)
{
	struct eio_server *srv = s->srv;

	switch (p->type) {
	case EIO_PONG:
		loop_timer_cancel(srv->loop, &s->pong);
		loop_timer_arm(srv->loop, &s->ping, srv->cfg.ping_interval_ms);
		break;
	case EIO_MESSAGE:
		srv->h->on_message(s, p->binary, p->data, p->len, srv->arg);
		break;
	case EIO_CLOSE:
		session_close(s, "transport close", 1);
		break;
	case EIO_PING:		/* v4: only the server pings */
		session_close(s, "invalid heartbeat direction", 0);
		break;
	default:		/* open, upgrade, noop: nothing to do */
		break;
	}
}

static void
ws_on_message(struct ws_conn *ws, int binary, const char *data, size_t len, void *arg)
{
	struct eio_session *s = arg;
	struct eio_packet p = { EIO_MESSAGE, 1, data, len };

	if (!binary && eio_decode_text(data, len, &p) != 0) {
		session_close(s, "parse error", 0);
		return;
	}
	on_packet(s, &p);
}

static void
ws_on_close(struct ws_conn *ws, void *arg)
{
	struct eio_session *s = arg;

	s->ws = NULL;
	session_close(s, "transport close", 0);
}

static const struct ws_handlers session_ws = { ws_on_message, ws_on_close };

static void
orphan_message(struct ws_conn *ws, int binary, const char *data, size_t len, void *arg)
{
}

static void
orphan_close(struct ws_conn *ws, void *arg)
{
}

/* For WebSockets no session listens to any more (closing, refused). */
static const struct ws_handlers orphan_ws = { orphan_message, orphan_close };

/* ---- upgrade ---------------------------------------------------------------- */

static void
probe_end(struct eio_session *s)
{
	struct ws_conn *ws = s->probe;

	s->probe = NULL;
	s->probed = 0;
	loop_timer_cancel(s->srv->loop, &s->upgrade);
	if (ws != NULL) {
		ws_set_handlers(ws, &orphan_ws, NULL);
		ws_close(ws, 1000);
	}
}

/* "5": the probe becomes the transport; the queue moves over to it. */
static void
upgrade(struct eio_session *s)
{
	s->ws = s->probe;
	s->probe = NULL;
	s->probed = 0;
	loop_timer_cancel(s->srv->loop, &s->upgrade);
	ws_set_handlers(s->ws, &session_ws, s);
	release_get(s, "6");
	while (s->q_head != NULL && !s->closed) {
		struct out_pkt *o = s->q_head;

		s->q_head = o->next;
		ws_packet(s->ws, &o->pkt);
		free(o);
	}
	s->q_tail = &s->q_head;
	s->q_bytes = 0;
}

static void
probe_on_message(struct ws_conn *ws, int binary, const char *data, size_t len, void *arg)
{
	struct eio_session *s = arg;

	if (!binary && len == 6 && memcmp(data, "2probe", 6) == 0) {
		ws_send(ws, 0, "3probe", 6);
		s->probed = 1;
		if (s->get != NULL)	/* release the poll so the client can pause */
			release_get(s, s->q_head != NULL ? NULL : "6");
	} else if (!binary && len == 1 && data[0] == '5') {
		upgrade(s);
	} else {
		probe_end(s);
	}
}

static void
probe_on_close(struct ws_conn *ws, void *arg)
{
	struct eio_session *s = arg;

	s->probe = NULL;
	probe_end(s);
}

static const struct ws_handlers probe_ws = { probe_on_message, probe_on_close };

static void
on_upgrade_late(struct loop_timer *t)
{
	probe_end(LOOP_OWNER(t, struct eio_session, upgrade));
}

/* ---- session life ----------------------------------------------------------- */

static void
session_free(void *arg)
{
	struct eio_session *s = arg;

	free(s->hs_query);
	free(s->hs_authorization);
	free(s);
}

/* by_client: the client sent "1"; a held poll is released with a noop
 * (reference polling.ts onClose) rather than a close packet. */
static void
session_close(struct eio_session *s, const char *reason, int by_client)
{
	struct eio_server *srv = s->srv;

	if (s->closed)
		return;
	s->closed = 1;
	table_del(srv, s);
	loop_timer_cancel(srv->loop, &s->ping);
	loop_timer_cancel(srv->loop, &s->pong);
	release_get(s, by_client ? "6" : "1");
	if (s->post != NULL)
		http_watch(s->post, NULL, NULL);
	s->post = NULL;
	probe_end(s);
	if (s->ws != NULL) {
		ws_set_handlers(s->ws, &orphan_ws, NULL);
		ws_close(s->ws, 1000);
		s->ws = NULL;
	}
	while (s->q_head != NULL) {
		struct out_pkt *o = s->q_head;

		s->q_head = o->next;
		free(o);
	}
	srv->h->on_close(s, reason, srv->arg);
	loop_defer(srv->loop, session_free, s);
}

void
eio_close(struct eio_session *s)
{
	session_close(s, "server close", 0);
}

static struct eio_session *
session_new(struct eio_server *srv)
{
	struct eio_session *s = ciis_xcalloc(1, sizeof *s);

	s->srv = srv;
	do
		eio_random_id(s->sid);
	while (table_find(srv, (struct http_str){ s->sid, EIO_SID_LEN }) != NULL);
	s->q_tail = &s->q_head;
	s->ping.cb = on_ping_due;
	s->pong.cb = on_pong_late;
	s->upgrade.cb = on_upgrade_late;
	table_add(srv, s);
	loop_timer_arm(srv->loop, &s->ping, srv->cfg.ping_interval_ms);
	return s;
}

/* ---- requests --------------------------------------------------------------- */

static void
fail(struct http_conn *c, enum eio_err code)
{
	char body[96];
	int n = snprintf(body, sizeof body, "{\"code\":%d,\"message\":\"%s\"}", (int)code,
	    err_text[code]);

	http_respond(c, code == E_FORBIDDEN ? 403 : 400, NULL, "application/json", body, (size_t)n);
}

static void
get_gone(void *arg)
{
	struct eio_session *s = arg;

	s->get = NULL;
	session_close(s, "transport close", 0);	/* poll connection closed prematurely */
}

static void
poll_get(struct eio_session *s, struct http_conn *c)
{
	if (s->get != NULL) {
		fail(c, E_BAD_REQUEST);
		session_close(s, "transport error", 0);	/* overlap: the held one gets "1" */
	} else if (s->q_head != NULL) {
		respond_queue(s, c);
	} else if (s->probed) {
		respond_payload(c, "6", 1);
	} else {
		s->get = c;
		http_hold(c, get_gone, s);
	}
}

/* Deliver a POSTed payload; the response is sent by the caller. */
static int
poll_post(struct eio_session *s, const struct http_req *req)
{
	struct eio_server *srv = s->srv;
	struct eio_payload_iter it;
	struct eio_packet p;

	if (req->content_length == 0 || ciis_utf8_len(req->body, req->content_length) < 0 ||
	    eio_payload_check(req->body, req->content_length, &srv->scratch) != 0)
		return -1;
	eio_payload_begin(&it, req->body, req->content_length);
	while (!s->closed && eio_payload_next(&it, &p, &srv->scratch) == 1)
		on_packet(s, &p);
	return 0;
}

static void
post_gone(void *arg)
{
	struct eio_session *s = arg;

	s->post = NULL;
	session_close(s, "transport close", 0);	/* data request closed prematurely */
}

/* One POST at a time: a second while the first is still arriving closes
 * the session (reference polling.ts: "data request overlap from client"). */
static int
post_overlaps(struct eio_session *s, struct http_conn *c)
{
	if (s->post == c)
		s->post = NULL;
	if (s->post == NULL)
		return 0;
	fail(c, E_BAD_REQUEST);
	session_close(s, "transport error", 0);
	return 1;
}

/* The head of a POST whose body is still coming. */
static void
post_begins(struct eio_session *s, struct http_conn *c, const struct http_req *req)
{
	if (!http_str_eq(req->method, "POST") || req->too_large || post_overlaps(s, c))
		return;
	s->post = c;
	http_watch(c, post_gone, s);
}

static void
poll_request(struct eio_session *s, struct http_conn *c, const struct http_req *req)
{
	if (req->partial) {
		post_begins(s, c, req);
	} else if (http_str_eq(req->method, "GET")) {
		poll_get(s, c);
	} else if (!http_str_eq(req->method, "POST")) {
		fail(c, E_BAD_REQUEST);
	} else if (post_overlaps(s, c)) {
		/* refused */
	} else if (req->too_large) {
		http_respond(c, 413, NULL, "text/plain", "", 0);
		session_close(s, "transport error", 0);	/* payload too large */
	} else if (poll_post(s, req) != 0) {
		fail(c, E_BAD_REQUEST);
		session_close(s, "parse error", 0);
	} else {
		respond_text(c, "text/html", "ok", 2);
	}
}

static void
ws_request(struct eio_session *s, struct http_conn *c, const struct http_req *req)
{
	struct eio_server *srv = s->srv;

	if (s->ws != NULL || s->probe != NULL) {
		/* already upgraded or upgrading: accept, then close (reference) */
		ws_close(ws_accept(&srv->ws, c, req, &orphan_ws, NULL), 1000);
		return;
	}
	s->probe = ws_accept(&srv->ws, c, req, &probe_ws, s);
	loop_timer_arm(srv->loop, &s->upgrade, srv->cfg.upgrade_timeout_ms);
}

static void
handshake(struct eio_server *srv, struct http_conn *c, const struct http_req *req, int websocket)
{
	struct eio_session *s = session_new(srv);
	struct ciis_buf open;

	s->hs_query = ciis_xstrndup(req->query.p ? req->query.p : "", req->query.n);
	s->hs_authorization = ciis_xstrndup(req->authorization.p ? req->authorization.p : "",
	    req->authorization.n);

	ciis_buf_init(&open);
	eio_open_packet(&open, s->sid, !websocket, srv->cfg.ping_interval_ms,
	    srv->cfg.ping_timeout_ms, srv->cfg.max_payload);
	if (websocket) {
		s->ws = ws_accept(&srv->ws, c, req, &session_ws, s);
		ws_send(s->ws, 0, open.data, open.len);
	} else {
		respond_payload(c, open.data, open.len);
	}
	ciis_buf_cleanup(&open);
	srv->h->on_open(s, srv->arg);
}

/* Check order follows the reference server's verify(): transport, then the
 * session, then the handshake's method and version. */
void
eio_handle(struct eio_server *srv, struct http_conn *c, const struct http_req *req)
{
	struct http_str transport, sid, version;
	int websocket, bad;
	struct eio_session *s;

	if (!http_query_param(req->query, "transport", &transport) ||
	    !(http_str_eq(transport, "polling") || http_str_eq(transport, "websocket"))) {
		fail(c, E_TRANSPORT);
		return;
	}
	websocket = http_str_eq(transport, "websocket");
	bad = websocket ? ws_check(req) : 0;
	if (http_query_param(req->query, "sid", &sid)) {
		if ((s = table_find(srv, sid)) == NULL)
			fail(c, E_SID);
		else if (bad || (!websocket && s->ws != NULL))
			fail(c, E_BAD_REQUEST);
		else if (websocket)
			ws_request(s, c, req);
		else
			poll_request(s, c, req);
	} else if (!http_str_eq(req->method, "GET")) {
		fail(c, E_METHOD);
	} else if (bad) {
		fail(c, E_BAD_REQUEST);
	} else if (!http_query_param(req->query, "EIO", &version) || !http_str_eq(version, "4")) {
		fail(c, E_VERSION);
	} else {
		handshake(srv, c, req, websocket);
	}
}

/* ---- the server ------------------------------------------------------------- */

struct eio_server *
eio_server_new(struct loop *l, const struct eio_config *cfg, const struct eio_handlers *h,
    void *arg)
{
	struct eio_server *srv = ciis_xcalloc(1, sizeof *srv);

	srv->loop = l;
	srv->cfg = *cfg;
	srv->h = h;
	srv->arg = arg;
	srv->ws.cfg = (struct ws_config){ cfg->max_payload, cfg->max_buffered, cfg->close_wait_ms };
	ciis_buf_init(&srv->scratch);
	table_grow(srv);
	return srv;
}

void
eio_server_free(struct eio_server *srv)
{
	if (srv == NULL)
		return;
	for (size_t i = 0; i < srv->nbuckets; i++)
		while (srv->table[i] != NULL)
			session_close(srv->table[i], "server shutting down", 0);
	ws_set_abort_all(&srv->ws);
	free(srv->table);
	ciis_buf_cleanup(&srv->scratch);
	free(srv);
}

size_t
eio_server_count(const struct eio_server *srv)
{
	return srv->count;
}

const char *
eio_session_id(const struct eio_session *s)
{
	return s->sid;
}

void
eio_session_set_data(struct eio_session *s, void *data)
{
	s->data = data;
}

void *
eio_session_data(const struct eio_session *s)
{
	return s->data;
}

const char *
eio_session_query(const struct eio_session *s)
{
	return s->hs_query;
}

const char *
eio_session_authorization(const struct eio_session *s)
{
	return s->hs_authorization;
}

struct loop *
eio_session_loop(const struct eio_session *s)
{
	return s->srv->loop;
}
