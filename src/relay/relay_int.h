/* Between ciis-relay's own files: the room index (relay_rooms.c) and the
 * worker thread (relay_worker.c), used by the connections (relay_hub.c). */
#ifndef CIIS_RELAY_RELAY_INT_H
#define CIIS_RELAY_RELAY_INT_H

#include "relay/relay.h"

#define RELAY_ROOM_MAX 96	/* "building:" + an id, "org:" + a 64-byte id */

/* ---- relay_worker.c ---- */

/* A unit of blocking work: work(j, db) on the worker thread (db NULL when
 * the database cannot be reached), then done(j) on the loop thread, which
 * frees j.  Embedded at the start of a bigger struct. */
struct relay_job {
	struct relay_hub *hub;			/* borrowed */
	struct relay_job *next;			/* the queue */
	struct relay_job *jprev, *jnext;	/* the hub's unfinished jobs */
	void (*work)(struct relay_job *j, struct ciis_db *db);
	void (*done)(struct relay_job *j);
	void (*discard)(struct relay_job *j);	/* shutdown: free without done */
};

int relay_worker_start(struct relay_hub *h);
/* Stop and join the worker, discard every unfinished job. */
void relay_worker_stop(struct relay_hub *h);
void relay_worker_queue(struct relay_hub *h, struct relay_job *j);

/* ---- relay_rooms.c ---- */

struct relay_room *relay_room_find(struct relay_hub *h, const char *name);
size_t relay_room_size(const struct relay_room *r);
struct relay_conn *relay_room_member(const struct relay_room *r, size_t i);
/* Join (a no-op when in it) since the last id fanned out; leave; leave all. */
void relay_join(struct relay_conn *c, const char *name);
void relay_leave(struct relay_conn *c, const char *name);
void relay_leave_all(struct relay_conn *c);
int relay_conn_in(struct relay_conn *c, const char *name);
/* Free every empty room. */
void relay_rooms_sweep(struct relay_hub *h);
/* e's rooms (SPEC §6) into out; their number (0..4).  Pure: any thread. */
size_t relay_entry_rooms(const struct ciis_entry *e, char out[][RELAY_ROOM_MAX]);
int relay_entry_in_room(const struct ciis_entry *e, const char *room);
/* Did e reach c live (c in one of its rooms since before e)? */
int relay_conn_reached(struct relay_conn *c, const struct ciis_entry *e);
void relay_send_entry(struct relay_conn *c, const struct ciis_entry *e);
/* Fan out what the ring holds, then the last id fanned out (-1: none yet). */
int64_t relay_fanned(struct relay_hub *h);

const char *relay_room_name(const struct relay_room *r);	/* lent */


/* End one hold of c's live events (c->holding); the last sends them. */
void relay_conn_release(struct relay_conn *c);

/* ---- relay_hub.c ---- */

/* Drop a reference to c (freed after the round when it was the last). */
void relay_conn_unref(struct relay_conn *c);

/* ---- relay_replay.c ---- */

/* The events of rooms[0..nrooms) in (after, upto] for c, which joined them
 * at upto (the last id fanned out).  relay_replay_start() gets them from
 * the ring, or from the table on the worker while c's live events wait;
 * then ready(r) runs on the loop (not when c is gone): it sends them
 * (relay_replay_send) or not, and r is freed after it.  failed: the table
 * could not be read; truncated: more than a replay may hold. */
struct relay_replay {
	struct relay_job job;			/* first */
	struct relay_conn *c;			/* a reference */
	char (*rooms)[RELAY_ROOM_MAX];		/* owned; the caller fills them */
	size_t nrooms;
	char org[CIIS_ID_MAX + 1];
	int64_t after, upto;
	int failed, truncated;
	struct ciis_entry **evs;		/* owned refs, in id order */
	size_t nevs;
	void (*ready)(struct relay_replay *r);
	int64_t ack_id;				/* the owner's */
};

struct relay_replay *relay_replay_new(struct relay_conn *c, size_t nrooms, int64_t after,
    int64_t upto);
void relay_replay_start(struct relay_replay *r);
/* Send the events c has not had live; how many. */
long relay_replay_send(struct relay_replay *r);
void relay_replay_free(struct relay_replay *r);

/* ---- relay_recover.c ---- */

/* Socket.IO CONNECT of an admitted c: a fresh session (NULL: answer now),
 * or the recovery of auth's pid (SIO_PENDING: relay_recover answers). */
const char *relay_sio_session(struct relay_conn *c, struct json_object *auth);

/* ---- relay_presence.c ---- */

/* Presence events a flush appends (worker thread). */
struct relay_presence_out {
	struct ciis_event *evs;			/* owned */
	size_t n, cap;
};
/* user:online, user:offline or presence:updated {userId, name, status, lastSeen}. */
void relay_presence_status(struct relay_presence_out *out, const char *type, const char *org,
    const char *user, const char *name, const char *status);
void relay_presence_typing(struct relay_presence_out *out, const char *org, const char *user,
    const char *name, const char *room, int typing);
/* document:cursor {documentId, line, col, userId, name, lastSeen}. */
void relay_presence_cursor(struct relay_presence_out *out, const char *org, const char *user,
    const char *name, int64_t document_id, int64_t line, int64_t col);
void relay_presence_out_free(struct relay_presence_out *out);

/* Ephemeral entries (presence, document:cursor) carry no offset and are
 * never replayed. */
int relay_entry_ephemeral(const struct ciis_entry *e);
/* The room of a presence:typing entry. */
void relay_typing_room(const struct ciis_entry *e, char out[RELAY_ROOM_MAX]);
/* The user an entry is not echoed to ("" for most). */
void relay_entry_sender(const struct ciis_entry *e, char out[CIIS_ID_MAX + 1]);
/* The client events presence:update, presence:typing and document:cursor. */
void relay_presence_update(struct relay_conn *c, struct json_object *data, int64_t ack_id);
void relay_presence_typing_event(struct relay_conn *c, struct json_object *data, int64_t ack_id);
void relay_document_cursor_event(struct relay_conn *c, struct json_object *data, int64_t ack_id);

/* ---- relay_hub.c: answers ---- */

void relay_ack_ok(struct relay_conn *c, int64_t ack_id);
void relay_ack_error(struct relay_conn *c, int64_t ack_id, const char *error);
/* An "error" event {"code": code}. */
void relay_send_error(struct relay_conn *c, const char *code);
/* A decimal id as a JSON string or integer, > 0; -1 otherwise. */
int64_t relay_json_id(struct json_object *v);
/* data's lastEventId: absent → -1; a number or decimal string ≥ 0; bad → -2. */
int64_t relay_last_event_id(struct json_object *data);
/* auth.lastEventId: replay the events of c's own user room (its
 * notifications) after `after` (-1: nothing; -2: error bad_request). */
void relay_conn_catch_up(struct relay_conn *c, int64_t after);

/* ---- relay_sessions.c ---- */

/* The process id and the refresh timer. */
void relay_sessions_init(struct relay_hub *h);
/* Queue a change of c for writing: its socket opened (presence, and the
 * Socket.IO session with its rooms), its rooms changed, its presence status
 * changed, it closed. */
void relay_session_open(struct relay_conn *c);
void relay_session_rooms(struct relay_conn *c);
void relay_session_status(struct relay_conn *c, const char *status);
void relay_session_close(struct relay_conn *c);
/* c says it is (not) typing in room: presence:typing, through the table. */
void relay_session_typing(struct relay_conn *c, const char *room, int typing);
/* c's cursor in a document it has joined: document:cursor, through the table. */
void relay_session_cursor(struct relay_conn *c, int64_t document_id, int64_t line, int64_t col);
/* Write the queue now (a job), e.g. before a lookup that must see it. */
void relay_sessions_flush_now(struct relay_hub *h);

/* A stored session (worker thread). */
struct relay_saved {
	char sid[EIO_SID_LEN + 1];
	char org[CIIS_ID_MAX + 1], user[CIIS_ID_MAX + 1];
	int64_t start_id;
	char *rooms;				/* owned: space-separated */
};
/* pid's session when seen within max_age_s: 1 (out filled), 0 none, -1. */
int relay_session_lookup(struct ciis_db *db, const char *pid, long max_age_s,
    struct relay_saved *out, struct ciis_err *err);
/* Shutdown, the worker stopped: write what is queued with db (may be NULL). */
void relay_sessions_final(struct relay_hub *h, struct ciis_db *db);

#endif
