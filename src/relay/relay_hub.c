/* Connections and what clients ask of them: admission (the token, the
 * per-user cap), the events-per-minute limit, token expiry and renewal, and
 * subscriptions — authorized on the worker thread, then joined, with the
 * room's missed events replayed first: from the ring when it still holds
 * them, else from the table, holding the connection's live events until the
 * replay is out (doc/relay.md "ciis-relay"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/document.h"
#include "core/event.h"
#include "core/issue_store.h"
#include "core/json.h"
#include "core/log.h"
#include "core/place.h"
#include "core/xalloc.h"
#include "relay/relay_int.h"

#define RELAY_BUCKETS 4096
#define EXPIRED_CLOSE_MS 200	/* token:expired, then the session ends */

/* ---- connections ---------------------------------------------------------- */

static void
conn_free(void *arg)
{
	struct relay_conn *c = arg;

	for (size_t i = 0; i < c->nheld; i++)
		ciis_entry_unref(c->held[i]);
	free(c->held);
	free(c->rooms);
	free(c);
}

void
relay_conn_unref(struct relay_conn *c)
{
	if (--c->refs == 0)
		loop_defer(c->hub->loop, conn_free, c);
}

static void
on_closing(struct loop_timer *t)
{
	struct relay_conn *c = LOOP_OWNER(t, struct relay_conn, closing);

	relay_close(c, 4401);
}

/* The token's exp, or (/ws) the auth deadline, passed. */
static void
on_expiry(struct loop_timer *t)
{
	struct relay_conn *c = LOOP_OWNER(t, struct relay_conn, expiry);
	char body[64];
	int n;

	if (!c->authed) {
		relay_send_event(c, "error", "{\"code\":\"unauthorized\"}", 23, -1);
		relay_close(c, 4401);
		return;
	}
	n = snprintf(body, sizeof body, "{\"exp\":%" PRId64 "}", c->who.exp);
	relay_send_event(c, "token:expired", body, (size_t)n, -1);
	loop_timer_arm(c->hub->loop, &c->closing, EXPIRED_CLOSE_MS);
}

static void
arm_expiry(struct relay_conn *c)
{
	int64_t ms = c->who.exp * 1000 - ciis_now_ms();

	loop_timer_arm(c->hub->loop, &c->expiry, ms > 0 ? ms : 0);
}

struct relay_conn *
relay_conn_new(struct relay_hub *h, enum relay_kind k)
{
	struct relay_conn *c = ciis_xcalloc(1, sizeof *c);

	c->hub = h;
	c->kind = k;
	c->refs = 1;
	c->mark = -1;
	c->catch_up = -1;
	c->expiry.cb = on_expiry;
	c->closing.cb = on_closing;
	c->window_start = loop_now(h->loop);
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	return c;
}

int
relay_verify(struct relay_hub *h, const char *token, struct ciis_principal *who)
{
	struct ciis_err err;

	return token != NULL && ciis_jwt_verify(h->keys, token, ciis_now_ms() / 1000, who, &err) == 0 ?
	    0 : -1;
}

/* Connections of who's user in this process. */
static long
user_count(struct relay_hub *h, const struct ciis_principal *who)
{
	char name[RELAY_ROOM_MAX];
	struct relay_room *r;
	long n = 0;

	snprintf(name, sizeof name, "user:%s", who->user_id);
	if ((r = relay_room_find(h, name)) == NULL)
		return 0;
	for (size_t i = 0; i < relay_room_size(r); i++)
		n += strcmp(relay_room_member(r, i)->who.org_id, who->org_id) == 0;
	return n;
}

const char *
relay_conn_admit(struct relay_conn *c, const struct ciis_principal *who)
{
	struct relay_hub *h = c->hub;
	char name[RELAY_ROOM_MAX];
	long others = user_count(h, who);

	if (others >= h->live->relay_max_connections_per_user)
		return "too_many_connections";
	c->who = *who;
	c->authed = 1;
	h->nconns++;
	relay_fanned(h);
	snprintf(name, sizeof name, "user:%s", who->user_id);
	relay_join(c, name);
	arm_expiry(c);
	if (c->kind == RELAY_WS)
		relay_session_open(c);	/* Socket.IO: relay_sio_session() */
	return NULL;	/* user:online, if it is the user's first: relay_sessions.c */
}

void
relay_conn_gone(struct relay_conn *c)
{
	struct relay_hub *h = c->hub;

	if (c->dead)
		return;
	c->dead = 1;
	c->sk = NULL;
	c->ws = NULL;
	if (c->authed)
		h->nconns--;
	relay_session_close(c);
	relay_leave_all(c);
	loop_timer_cancel(h->loop, &c->expiry);
	loop_timer_cancel(h->loop, &c->closing);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	relay_conn_unref(c);
}

void
relay_hub_close_all(struct relay_hub *h)
{
	struct relay_conn *c = h->conns;

	while (c != NULL) {
		struct relay_conn *next = c->next;	/* c may leave the list now */

		relay_close(c, 1001);
		c = next;
	}
}

/* ---- answers ---------------------------------------------------------------- */

void
relay_ack_ok(struct relay_conn *c, int64_t ack_id)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	relay_send_ack(c, ack_id, o);
	json_object_put(o);
}

void
relay_ack_error(struct relay_conn *c, int64_t ack_id, const char *error)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(error));
	relay_send_ack(c, ack_id, o);
	json_object_put(o);
}

static void
ack_room(struct relay_conn *c, int64_t ack_id, const char *room, long replayed)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "room", json_object_new_string(room));
	if (replayed >= 0)
		json_object_object_add(o, "replayed", json_object_new_int64(replayed));
	relay_send_ack(c, ack_id, o);
	json_object_put(o);
}

void
relay_send_error(struct relay_conn *c, const char *code)
{
	char body[96];
	int n = snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);

	relay_send_event(c, "error", body, (size_t)n, -1);
}

/* ---- subscriptions ---------------------------------------------------------- */

enum sub_check { BY_ORG, BY_CAMPUS, BY_BUILDING, BY_ISSUE, BY_DOCUMENT };

static const struct sub_kind {
	const char *what;	/* subscribe:<what> */
	const char *field;	/* the id in the data */
	enum sub_check check;
} sub_kinds[] = {
	{ "organization", "organizationId", BY_ORG },
	{ "heatmap", "organizationId", BY_ORG },
	{ "campus", "campusId", BY_CAMPUS },
	{ "building", "buildingId", BY_BUILDING },
	{ "issue", "issueId", BY_ISSUE },
	{ "document", "documentId", BY_DOCUMENT },	/* SPEC §10 */
};

static const char *const room_prefix[] = {
	"org", "heatmap", "campus", "building", "issue", "document",
};

struct sub_job {
	struct relay_job job;		/* first: the authorization check */
	struct relay_conn *c;		/* a reference */
	enum sub_check check;
	int64_t id, ack_id, after;
	struct ciis_principal who;	/* c's, when it asked */
	char room[RELAY_ROOM_MAX];
	int allowed, failed;
};

static void
sub_free(struct sub_job *j)
{
	relay_conn_unref(j->c);
	free(j);
}

static void
sub_discard(struct relay_job *rj)
{
	sub_free((struct sub_job *)(void *)rj);
}

int64_t
relay_json_id(struct json_object *v)
{
	const char *s;
	char *end;
	long long n;

	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v) > 0 ? json_object_get_int64(v) : -1;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (*s < '0' || *s > '9' || strlen(s) > 18)
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	return *end == '\0' && errno == 0 && n > 0 ? (int64_t)n : -1;
}

static void
check_work(struct relay_job *rj, struct ciis_db *db)
{
	struct sub_job *j = (struct sub_job *)(void *)rj;
	struct ciis_place pl = { 0 };
	struct ciis_issue is;
	struct ciis_err err;

	if (db == NULL) {
		j->failed = 1;
		return;
	}
	memset(&is, 0, sizeof is);
	if (j->check == BY_CAMPUS)
		j->allowed = ciis_campus_get(db, j->who.org_id, j->id, &pl, &err) == 0;
	else if (j->check == BY_BUILDING)
		j->allowed = ciis_building_get(db, j->who.org_id, j->id, &pl, &err) == 0;
	else if (j->check == BY_ISSUE)
		j->allowed = ciis_issue_get(db, j->who.org_id, j->id, &is, &err) == 0;
	else if (j->check == BY_DOCUMENT)
		j->allowed = ciis_document_visible(db, &j->who, j->id, &err) == 0;
	if (j->allowed) {
		if (j->check == BY_ISSUE)
			ciis_issue_cleanup(&is);
		else
			ciis_place_cleanup(&pl);
	} else if (err.code == CIIS_E_UNAVAILABLE) {
		j->failed = 1;
	}
}

static void
sub_replayed(struct relay_replay *r)
{
	if (r->failed)
		relay_ack_error(r->c, r->ack_id, "unavailable");
	else
		ack_room(r->c, r->ack_id, r->rooms[0], relay_replay_send(r));
}

/* Join, then replay what the room had after lastEventId: the replay runs up
 * to the join point, and live events after it come by fan-out. */
static void
sub_join(struct sub_job *j)
{
	struct relay_conn *c = j->c;
	int64_t upto = relay_fanned(c->hub);
	struct relay_replay *r;

	relay_join(c, j->room);
	relay_session_rooms(c);
	r = relay_replay_new(c, 1, j->after, upto);
	memcpy(r->rooms[0], j->room, sizeof j->room);
	r->ack_id = j->ack_id;
	r->ready = sub_replayed;
	sub_free(j);
	relay_replay_start(r);
}

static void
check_done(struct relay_job *rj)
{
	struct sub_job *j = (struct sub_job *)(void *)rj;

	if (j->c->dead)
		sub_free(j);
	else if (j->failed || !j->allowed) {
		relay_ack_error(j->c, j->ack_id, j->failed ? "unavailable" : "forbidden");
		sub_free(j);
	} else {
		sub_join(j);
	}
}

int64_t
relay_last_event_id(struct json_object *data)
{
	struct json_object *v;

	if (!json_object_object_get_ex(data, "lastEventId", &v) || json_object_is_type(v, json_type_null))
		return -1;
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0)
		return 0;
	if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), "0") == 0)
		return 0;
	return relay_json_id(v) > 0 ? relay_json_id(v) : -2;
}

/* ---- auth.lastEventId ---------------------------------------------------------- */

static void
caught_up(struct relay_replay *r)
{
	if (r->failed)
		relay_send_error(r->c, "unavailable");
	else
		relay_replay_send(r);
}

/* c joined user:{id} when it was admitted; its events up to now that c has
 * not had live go out, and live ones that wait (c->holding) follow them. */
void
relay_conn_catch_up(struct relay_conn *c, int64_t after)
{
	struct relay_replay *r;

	if (after == -2)
		relay_send_error(c, "bad_request");
	if (after < 0 || c->dead)
		return;
	r = relay_replay_new(c, 1, after, relay_fanned(c->hub));
	snprintf(r->rooms[0], RELAY_ROOM_MAX, "user:%s", c->who.user_id);
	r->ready = caught_up;
	relay_replay_start(r);
}

static void
subscribe(struct relay_conn *c, size_t k, int join, struct json_object *data, int64_t ack_id)
{
	const struct sub_kind *sk = &sub_kinds[k];
	struct json_object *v = NULL;
	struct sub_job *j;
	int64_t id = 0;

	if (!json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, sk->field, &v)) {
		relay_ack_error(c, ack_id, "forbidden");
		return;
	}
	if (sk->check == BY_ORG ? !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), c->who.org_id) != 0 : (id = relay_json_id(v)) < 0) {
		relay_ack_error(c, ack_id, "forbidden");
		return;
	}
	j = ciis_xcalloc(1, sizeof *j);
	j->c = c;
	c->refs++;
	j->check = sk->check;
	j->id = id;
	j->ack_id = ack_id;
	j->after = relay_last_event_id(data);
	j->who = c->who;
	if (sk->check == BY_ORG)
		snprintf(j->room, sizeof j->room, "%s:%s", room_prefix[k], c->who.org_id);
	else
		snprintf(j->room, sizeof j->room, "%s:%" PRId64, room_prefix[k], id);
	j->job.discard = sub_discard;
	if (!join) {
		relay_leave(c, j->room);
		relay_session_rooms(c);
		ack_room(c, ack_id, j->room, -1);
		sub_free(j);
	} else if (j->after == -2) {
		relay_ack_error(c, ack_id, "bad_request");
		sub_free(j);
	} else if (sk->check == BY_ORG) {
		sub_join(j);
	} else {
		j->job.work = check_work;
		j->job.done = check_done;
		relay_worker_queue(c->hub, &j->job);
	}
}

/* ---- other client events ------------------------------------------------------ */

static void
auth_refresh(struct relay_conn *c, struct json_object *data, int64_t ack_id)
{
	struct ciis_principal who;
	struct json_object *v, *o;

	if (!json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, "token", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    relay_verify(c->hub, json_object_get_string(v), &who) != 0 ||
	    strcmp(who.user_id, c->who.user_id) != 0 || strcmp(who.org_id, c->who.org_id) != 0) {
		relay_ack_error(c, ack_id, "forbidden");
		return;
	}
	c->who = who;
	loop_timer_cancel(c->hub->loop, &c->closing);
	arm_expiry(c);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "exp", json_object_new_int64(who.exp));
	relay_send_ack(c, ack_id, o);
	json_object_put(o);
}

/* Over the limit: an error per event; at twice it the session ends (and c
 * may be gone).  1 when the event must not be handled. */
static int
rate_limited(struct relay_conn *c)
{
	int64_t now = loop_now(c->hub->loop);
	long limit = c->hub->live->relay_events_per_minute;

	if (now - c->window_start >= 60000) {
		c->window_start = now;
		c->window_events = 0;
	}
	if (++c->window_events <= limit)
		return 0;
	if (c->window_events >= 2 * limit)
		relay_close(c, 4429);
	else
		relay_send_error(c, "rate_limited");
	return 1;
}

void
relay_conn_event(struct relay_conn *c, const char *name, struct json_object *data,
    int64_t ack_id)
{
	int join = strncmp(name, "subscribe:", 10) == 0;
	const char *what = join ? name + 10 : strncmp(name, "unsubscribe:", 12) == 0 ? name + 12 : NULL;

	if (c->dead || rate_limited(c))
		return;
	if (what != NULL)
		for (size_t k = 0; k < sizeof sub_kinds / sizeof sub_kinds[0]; k++)
			if (strcmp(what, sub_kinds[k].what) == 0) {
				subscribe(c, k, join, data, ack_id);
				return;
			}
	if (strcmp(name, "auth:refresh") == 0)
		auth_refresh(c, data, ack_id);
	else if (strcmp(name, "presence:update") == 0)
		relay_presence_update(c, data, ack_id);
	else if (strcmp(name, "presence:typing") == 0)
		relay_presence_typing_event(c, data, ack_id);
	else if (strcmp(name, "document:cursor") == 0)
		relay_document_cursor_event(c, data, ack_id);
	else if (ack_id != SIO_NO_ACK)
		relay_ack_error(c, ack_id, "unknown_event");
	else
		relay_send_error(c, "unknown_event");
}

/* ---- the hub ------------------------------------------------------------------ */

int
relay_hub_init(struct relay_hub *h, struct loop *l, struct ciis_conf *conf,
    struct ciis_keys *keys, struct ciis_tail *tail)
{
	h->loop = l;
	h->conf = conf;
	h->live = conf;
	h->keys = keys;
	h->tail = tail;
	h->ring = ciis_tail_ring(tail);
	h->fanned = -1;
	h->nbuckets = RELAY_BUCKETS;
	h->buckets = ciis_xcalloc(h->nbuckets, sizeof *h->buckets);
	/* /ws has no pings of its own: WebSocket ones keep proxies from
	 * cutting a client that only listens */
	h->ws.cfg = (struct ws_config){ (size_t)conf->relay_max_payload_bytes,
		(size_t)conf->relay_send_queue_bytes, 1000, (int)conf->relay_ping_interval_ms };
	if (relay_worker_start(h) != 0)
		return -1;
	relay_sessions_init(h);
	return 0;
}

void
relay_hub_cleanup(struct relay_hub *h)
{
	relay_worker_stop(h);
	relay_ws_abort_all(h);
	ws_set_abort_all(&h->ws);
	relay_rooms_sweep(h);
	free(h->buckets);
	h->buckets = NULL;
}
