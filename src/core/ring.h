/* The fan-out ring: the tailer publishes each event once, already rendered,
 * and every stream of the process reads it by position.  Event ids are
 * contiguous (event.h), so the entry of id n sits in slot n % size and a
 * reader holds only the id it has reached, never a pointer into the ring.
 * Entries are immutable once published and refcounted, so a reader may keep
 * one while the ring moves on. */
#ifndef CIIS_CORE_RING_H
#define CIIS_CORE_RING_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "core/issue.h"

/* What streams match on, taken from the event once. */
struct ciis_entry {
	int64_t id;
	char type[33];
	char org_id[65];
	int64_t campus_id, building_id, issue_id;
	int64_t document_id;
	int64_t created_at;	/* ms */
	int priority, status;	/* the issue's after the event; -1 when none */
	unsigned moved;		/* CIIS_F_STATUS / CIIS_F_PRIORITY: may have changed */
	char user_id[65];	/* target user, "" when none */
	char *sse;		/* owned: the issues-stream message, NULL if none */
	size_t sse_len;
	char *payload;		/* owned: the stored payload's JSON text (the relay's) */
	size_t payload_len;
	int refs;		/* atomic */
};

/* Build the entry of ev (ev is not kept); refs starts at 1. */
struct ciis_entry *ciis_entry_new(const struct ciis_event *ev);
struct ciis_entry *ciis_entry_ref(struct ciis_entry *e);
void ciis_entry_unref(struct ciis_entry *e);	/* e may be NULL */

struct ciis_ring;

enum ciis_ring_get {
	CIIS_RING_FOUND,	/* *out holds a reference */
	CIIS_RING_NOT_YET,	/* not published yet: wait */
	CIIS_RING_GONE,		/* older than the ring holds: read the database */
};

/* A ring of `slots` entries (> 0) whose next id will be first_id. */
struct ciis_ring *ciis_ring_new(size_t slots, int64_t first_id);
void ciis_ring_free(struct ciis_ring *r);	/* r may be NULL */
/* Forget every entry: the next id will be next_id (the tailer learnt where
 * the log stands). */
void ciis_ring_reset(struct ciis_ring *r, int64_t next_id);
/* Publish e (taking the reference); its id must be the ring's next id. */
void ciis_ring_push(struct ciis_ring *r, struct ciis_entry *e);
/* Wake every waiter (after a batch of pushes). */
void ciis_ring_broadcast(struct ciis_ring *r);
/* The entry of id, if the ring has it. */
enum ciis_ring_get ciis_ring_get(struct ciis_ring *r, int64_t id, struct ciis_entry **out);
/* Wait until id is published or deadline_ms (monotonic) passes; any
 * broadcast may end the wait sooner, so callers look again and loop. */
void ciis_ring_wait(struct ciis_ring *r, int64_t id, int64_t deadline_ms);
/* The last id published (first_id - 1 before any). */
int64_t ciis_ring_last(struct ciis_ring *r);

#endif
