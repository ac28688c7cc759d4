/* ciis-relay's own half (doc/relay.md "ciis-relay"): connections of either
 * front end (Socket.IO on "/", plain JSON on /ws), the room index, fan-out of
 * the tailer's entries, subscriptions with replay, limits, and the worker
 * thread that does every blocking database call.  Everything here but the
 * worker's job bodies runs on the loop thread. */
#ifndef CIIS_RELAY_RELAY_H
#define CIIS_RELAY_RELAY_H

#include <json-c/json.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/config.h"
#include "core/db.h"
#include "core/ring.h"
#include "core/tail.h"
#include "relay/http.h"
#include "relay/loop.h"
#include "relay/sio.h"
#include "relay/ws.h"

struct relay_room;
struct relay_job;

enum relay_kind { RELAY_SIO, RELAY_WS };

/* A room the connection is in, and the last id fanned out when it joined:
 * an entry after `since` that the room matches has reached the connection. */
struct relay_member {
	struct relay_room *room;
	int64_t since;
};

/* One client: a Socket.IO socket on "/" or an authenticated /ws connection. */
struct relay_conn {
	struct relay_hub *hub;			/* borrowed */
	enum relay_kind kind;
	struct sio_socket *sk;			/* RELAY_SIO; NULL once gone */
	struct ws_conn *ws;			/* RELAY_WS; NULL once gone */
	int authed;				/* /ws: the token was accepted */
	int dead;
	int refs;				/* the owner + jobs in flight */
	struct ciis_principal who;
	struct relay_member *rooms;		/* owned array */
	size_t nrooms, cap_rooms;
	int64_t mark;				/* the last entry id delivered (once per event) */
	int64_t window_start;			/* rate limit: ms, and events in the window */
	long window_events;
	int holding;				/* a database replay is on its way */
	struct ciis_entry **held;		/* owned refs: live entries waiting for it */
	size_t nheld, cap_held;
	struct loop_timer expiry;		/* token exp; /ws: the 5 s auth deadline too */
	struct loop_timer closing;		/* token:expired sent: close shortly after */
	struct relay_conn *prev, *next;		/* the hub's list */
	/* what relay_sessions.c keeps in MySQL */
	char key[EIO_SID_LEN + 1];		/* its presence row */
	char pid[EIO_SID_LEN + 1];		/* RELAY_SIO: its recoverable session ("" before) */
	char sid[EIO_SID_LEN + 1];		/* RELAY_SIO: the socket id */
	int64_t start_id;			/* the last id fanned out when the session began */
	int superseded;				/* a reconnected socket took its pid over */
	int recovering;				/* Socket.IO CONNECT waits for the lookup */
	int64_t catch_up;			/* auth.lastEventId, for after the lookup (-1: none) */
};

struct relay_srec;

/* Socket changes not yet written (relay_sessions.c). */
struct relay_sessions {
	struct relay_srec *recs;		/* owned, in order */
	size_t n, cap;
	int flushing;				/* a write is on the worker */
	int refresh_due;
	struct loop_timer flush, refresh;
};

#define RELAY_PROCESS_ID_MAX 64

struct relay_hub {
	struct loop *loop;			/* borrowed */
	struct ciis_conf *conf;			/* borrowed: the boot configuration */
	const struct ciis_conf *live;		/* borrowed: the latest (SIGHUP) */
	struct ciis_keys *keys;			/* borrowed, replaced on SIGHUP */
	struct ciis_tail *tail;			/* borrowed */
	struct ciis_ring *ring;			/* the tailer's */
	int64_t fanned;				/* the last entry id fanned out; -1 before */
	struct relay_room **buckets;		/* owned: room name → room */
	size_t nbuckets, nrooms;
	int sweep_pending;			/* empty rooms to free after the round */
	struct relay_conn *conns;		/* owned list */
	size_t nconns;
	struct ws_set ws;			/* /ws connections */
	/* the worker thread */
	struct ciis_db_pool *pool;		/* owned */
	pthread_t worker;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct relay_job *queue, **queue_tail;	/* under lock */
	struct relay_job *jobs;			/* every job not yet finished (loop) */
	int stopping, worker_started;
	char process_id[RELAY_PROCESS_ID_MAX];	/* host:pid:start, in the tables */
	struct relay_sessions sessions;
};

/* ---- relay_hub.c ---- */

/* Set up h (loop, conf, keys, tailer borrowed); starts the worker.  0 or -1. */
int relay_hub_init(struct relay_hub *h, struct loop *l, struct ciis_conf *conf,
    struct ciis_keys *keys, struct ciis_tail *tail);
/* Close every connection, stop the worker, free what h owns. */
void relay_hub_cleanup(struct relay_hub *h);
/* The tailer's publish hook (any thread). */
void relay_hub_published(void *arg, int64_t first_id, int64_t last_id);

/* A new connection of kind k, listed by h, not yet admitted. */
struct relay_conn *relay_conn_new(struct relay_hub *h, enum relay_kind k);
/* Accept who on c: joins user:{id}, arms the expiry.  NULL, or the refusal
 * ("too_many_connections"). */
const char *relay_conn_admit(struct relay_conn *c, const struct ciis_principal *who);
/* The owner is gone: leave every room, drop c when no job holds it. */
void relay_conn_gone(struct relay_conn *c);
/* A client event: name, its data (lent, may be NULL) and whether it wants an
 * answer; the answer comes back through relay_conn_ack(). */
void relay_conn_event(struct relay_conn *c, const char *name, struct json_object *data,
    int64_t ack_id);
/* Verify token for c's front end; 0 and *who filled, or -1. */
int relay_verify(struct relay_hub *h, const char *token, struct ciis_principal *who);
/* Close every connection politely (shutdown). */
void relay_hub_close_all(struct relay_hub *h);

/* ---- relay_front.c: what the hub calls to reach a client ---- */

/* Send event `name` with payload text (JSON) and, for recoverable events,
 * offset (the event id; < 0: none). */
void relay_send_event(struct relay_conn *c, const char *name, const char *json, size_t len,
    int64_t offset);
/* Answer ack_id with o (lent). */
void relay_send_ack(struct relay_conn *c, int64_t ack_id, struct json_object *o);
/* End the client's session (Engine.IO close, or a WebSocket close code). */
void relay_close(struct relay_conn *c, int ws_code);
/* The Socket.IO namespace table and the /ws request handler. */
extern const struct sio_handlers relay_sio_handlers;
void relay_ws_handle(struct relay_hub *h, struct http_conn *hc, const struct http_req *req);
/* Shutdown: drop every /ws connection now (after relay_hub_close_all). */
void relay_ws_abort_all(struct relay_hub *h);

#endif
