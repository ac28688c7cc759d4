/* Between ciis-relay's own files: the room index (relay_rooms.c) and the
 * worker thread (relay_worker.c), used by the connections (relay_hub.c). */
#ifndef CIIS_RELAY_RELAY_INT_H
#define CIIS_RELAY_RELAY_INT_H

#include "relay/relay.h"

#define RELAY_ROOM_MAX 96	/* "building:" + an id, "org:" + a 64-byte id */

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

#endif
