/* ciis-relay's two front ends over one set of connections: Socket.IO on "/"
 * (the token at CONNECT) and plain JSON WebSocket on /ws (one object per
 * text frame, the token in the URL, the header or a first "auth" frame).
 * Both turn client events into relay_conn_event() and carry the hub's
 * events, acks and closes back in their own framing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/xalloc.h"
#include "relay/relay_int.h"

#define WS_AUTH_MS 5000		/* /ws: the auth frame must come by then */

/* ---- sending ------------------------------------------------------------------ */

void
relay_send_event(struct relay_conn *c, const char *name, const char *json, size_t len,
    int64_t offset)
{
	struct ciis_buf b;

	ciis_buf_init(&b);
	if (c->kind == RELAY_SIO && c->sk != NULL) {
		ciis_buf_printf(&b, "2[\"%s\",", name);	/* event names are ours: no escaping */
		ciis_buf_append(&b, json, len);
		if (offset >= 0)
			ciis_buf_printf(&b, ",\"%" PRId64 "\"", offset);
		ciis_buf_puts(&b, "]");
		sio_send_raw(c->sk, b.data, b.len);
	} else if (c->kind == RELAY_WS && c->ws != NULL) {
		ciis_buf_printf(&b, "{\"event\":\"%s\",\"data\":", name);
		ciis_buf_append(&b, json, len);
		ciis_buf_puts(&b, "}");
		ws_send(c->ws, 0, b.data, b.len);
	}
	ciis_buf_cleanup(&b);
}

void
relay_send_ack(struct relay_conn *c, int64_t ack_id, struct json_object *o)
{
	if (ack_id < 0)
		return;
	if (c->kind == RELAY_SIO && c->sk != NULL) {
		struct json_object *args = json_object_new_array();

		json_object_array_add(args, json_object_get(o));
		sio_ack(c->sk, ack_id, args, NULL, 0);
		json_object_put(args);
	} else if (c->kind == RELAY_WS && c->ws != NULL) {
		char *text = ciis_xasprintf("{\"ackId\":%" PRId64 ",\"data\":%s}", ack_id,
		    ciis_json_text(o));

		ws_send(c->ws, 0, text, strlen(text));
		free(text);
	}
}

void
relay_close(struct relay_conn *c, int ws_code)
{
	if (c->kind == RELAY_SIO && c->sk != NULL)
		eio_close(sio_socket_session(c->sk));	/* never a "41": the client comes back */
	else if (c->kind == RELAY_WS && c->ws != NULL)
		ws_close(c->ws, (uint16_t)ws_code);
}

/* ---- credentials ----------------------------------------------------------------- */

/* The token of ?token= in query, else of "Bearer ..." in authorization; an
 * owned copy or NULL. */
static char *
url_token(const char *query, size_t qlen, const char *authorization)
{
	struct http_str q = { query, qlen }, v;
	const char *bearer;

	if (http_query_param(q, "token", &v) && v.n > 0)
		return ciis_xstrndup(v.p, v.n);
	if (authorization != NULL && (bearer = ciis_auth_bearer(authorization)) != NULL)
		return ciis_xstrdup(bearer);
	return NULL;
}

/* ?lastEventId= of a /ws URL, as relay_last_event_id() reads it. */
static int64_t
query_last_event_id(struct http_str query)
{
	struct http_str v;
	struct json_object *o;
	int64_t after;

	if (!http_query_param(query, "lastEventId", &v))
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, "lastEventId", json_object_new_string_len(v.p, (int)v.n));
	after = relay_last_event_id(o);
	json_object_put(o);
	return after;
}

/* ---- Socket.IO ---------------------------------------------------------------------- */

static const char *
sio_authorize(struct sio_socket *sk, struct json_object *auth, void *arg)
{
	struct relay_hub *h = arg;
	struct eio_session *s = sio_socket_session(sk);
	struct ciis_principal who;
	struct json_object *v;
	struct relay_conn *c;
	const char *refusal;
	char *token = NULL;
	int ok;

	if (json_object_object_get_ex(auth, "token", &v) && json_object_is_type(v, json_type_string))
		token = ciis_xstrdup(json_object_get_string(v));
	else
		token = url_token(eio_session_query(s), strlen(eio_session_query(s)),
		    eio_session_authorization(s));
	ok = relay_verify(h, token, &who) == 0;
	free(token);
	if (!ok)
		return "unauthorized";
	c = relay_conn_new(h, RELAY_SIO);
	if ((refusal = relay_conn_admit(c, &who)) != NULL) {
		relay_conn_gone(c);
		return refusal;
	}
	c->sk = sk;
	sio_socket_set_data(sk, c);
	refusal = relay_sio_session(c, auth);
	/* a recovered session gets its user room back with the rest; a fresh
	 * one (now, or once the lookup found none) catches up here */
	c->catch_up = relay_last_event_id(auth);
	if (refusal == NULL)
		relay_conn_catch_up(c, c->catch_up);
	return refusal;
}

static void
sio_event(struct sio_socket *sk, const struct sio_event *ev, void *arg)
{
	struct relay_conn *c = sio_socket_data(sk);
	struct json_object *data = json_object_array_length(ev->args) > 0 ?
	    json_object_array_get_idx(ev->args, 0) : NULL;

	relay_conn_event(c, ev->name, data, ev->ack_id);
}

static void
sio_gone(struct sio_socket *sk, const char *reason, void *arg)
{
	struct relay_conn *c = sio_socket_data(sk);

	if (c != NULL)
		relay_conn_gone(c);
}

const struct sio_handlers relay_sio_handlers = {
	.authorize = sio_authorize,
	.on_event = sio_event,
	.on_disconnect = sio_gone,
};

/* ---- /ws ------------------------------------------------------------------------------ */

static void
ws_refuse(struct relay_conn *c, const char *code, int close_code)
{
	char body[64];
	int n = snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);

	relay_send_event(c, "error", body, (size_t)n, -1);
	relay_close(c, close_code);
}

/* The token was found (or the auth frame came): admit, or refuse and close. */
static int
ws_admit(struct relay_conn *c, const char *token)
{
	struct ciis_principal who;
	const char *refusal;

	loop_timer_cancel(c->hub->loop, &c->expiry);
	if (relay_verify(c->hub, token, &who) != 0) {
		ws_refuse(c, "unauthorized", 4401);
		return -1;
	}
	if ((refusal = relay_conn_admit(c, &who)) != NULL) {
		ws_refuse(c, refusal, 4429);
		return -1;
	}
	return 0;
}

static void
ws_auth_ok(struct relay_conn *c)
{
	char body[128];
	int n = snprintf(body, sizeof body, "{\"ok\":true,\"userId\":\"%s\"}", c->who.user_id);

	relay_send_event(c, "auth", body, (size_t)n, -1);
}

static void
ws_auth_frame(struct relay_conn *c, struct json_object *data)
{
	struct json_object *v;

	if (!json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, "token", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		ws_refuse(c, "unauthorized", 4401);
		return;
	}
	if (ws_admit(c, json_object_get_string(v)) == 0) {
		ws_auth_ok(c);
		relay_conn_catch_up(c, relay_last_event_id(data));
	}
}

/* {"event":"...","data":...,"ackId":N}; anything else is answered with
 * error bad_request and the connection goes on. */
static void
ws_message(struct ws_conn *ws, int binary, const char *data, size_t len, void *arg)
{
	struct relay_conn *c = arg;
	struct json_object *o = NULL, *ev, *d = NULL, *ack;
	struct ciis_err err;
	int64_t ack_id = -1;

	if (binary || (o = ciis_json_parse(data, len, &err)) == NULL ||
	    !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "event", &ev) || !json_object_is_type(ev, json_type_string)) {
		if (c->authed)
			relay_send_event(c, "error", "{\"code\":\"bad_request\"}", 22, -1);
		else
			ws_refuse(c, "unauthorized", 4401);
		json_object_put(o);
		return;
	}
	json_object_object_get_ex(o, "data", &d);
	if (json_object_object_get_ex(o, "ackId", &ack) && json_object_is_type(ack, json_type_int) &&
	    json_object_get_int64(ack) >= 0)
		ack_id = json_object_get_int64(ack);
	if (strcmp(json_object_get_string(ev), "auth") == 0 && !c->authed)
		ws_auth_frame(c, d);
	else if (strcmp(json_object_get_string(ev), "auth") == 0)
		ws_auth_ok(c);
	else if (!c->authed)
		ws_refuse(c, "unauthorized", 4401);
	else
		relay_conn_event(c, json_object_get_string(ev), d, ack_id);
	json_object_put(o);
}

static void
ws_gone(struct ws_conn *ws, void *arg)
{
	relay_conn_gone(arg);
}

static const struct ws_handlers relay_ws_handlers = { ws_message, ws_gone };

static void
orphan_message(struct ws_conn *ws, int binary, const char *data, size_t len, void *arg)
{
}

static void
orphan_gone(struct ws_conn *ws, void *arg)
{
}

static const struct ws_handlers relay_ws_orphan = { orphan_message, orphan_gone };

void
relay_ws_abort_all(struct relay_hub *h)
{
	struct relay_conn *c = h->conns;

	while (c != NULL) {
		struct relay_conn *next = c->next;

		if (c->kind == RELAY_WS && c->ws != NULL) {
			ws_set_handlers(c->ws, &relay_ws_orphan, NULL);
			ws_abort(c->ws);
			relay_conn_gone(c);
		}
		c = next;
	}
}

void
relay_ws_handle(struct relay_hub *h, struct http_conn *hc, const struct http_req *req)
{
	int status = ws_check(req);
	struct relay_conn *c;
	char *auth = NULL, *token;

	if (status != 0) {
		http_respond(hc, status, NULL, "text/plain", "Bad Request", 11);
		return;
	}
	if (req->authorization.n > 0)
		auth = ciis_xstrndup(req->authorization.p, req->authorization.n);
	token = url_token(req->query.p, req->query.n, auth);
	free(auth);
	c = relay_conn_new(h, RELAY_WS);
	c->ws = ws_accept(&h->ws, hc, req, &relay_ws_handlers, c);
	if (token != NULL) {
		if (ws_admit(c, token) == 0)
			relay_conn_catch_up(c, query_last_event_id(req->query));
	} else
		loop_timer_arm(h->loop, &c->expiry, WS_AUTH_MS);
	free(token);
}
