/* Replays: the events of some rooms in (after, upto] for one connection
 * that has just joined them at upto — a subscription with lastEventId, or a
 * recovered session.  From the ring when it still holds them all, else from
 * the table on the worker while the connection's live events wait
 * (c->holding), so that the replay and the live events after upto meet
 * with no gap and nothing twice. */
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/xalloc.h"
#include "relay/relay_int.h"

#define REPLAY_MAX 10000	/* events one replay may hold */
#define READ_BATCH 500

struct relay_replay *
relay_replay_new(struct relay_conn *c, size_t nrooms, int64_t after, int64_t upto)
{
	struct relay_replay *r = ciis_xcalloc(1, sizeof *r);

	r->c = c;
	c->refs++;
	r->rooms = ciis_xcalloc(nrooms ? nrooms : 1, sizeof *r->rooms);
	r->nrooms = nrooms;
	memcpy(r->org, c->who.org_id, sizeof r->org);
	r->after = after;
	r->upto = upto;
	return r;
}

void
relay_replay_free(struct relay_replay *r)
{
	for (size_t i = 0; i < r->nevs; i++)
		ciis_entry_unref(r->evs[i]);
	free(r->evs);
	free(r->rooms);
	relay_conn_unref(r->c);
	free(r);
}

/* Is e one of the events r replays?  Ephemeral ones never are. */
static int
wanted(const struct relay_replay *r, const struct ciis_entry *e)
{
	if (strcmp(e->org_id, r->org) != 0 || relay_entry_ephemeral(e))
		return 0;
	for (size_t i = 0; i < r->nrooms; i++)
		if (relay_entry_in_room(e, r->rooms[i]))
			return 1;
	return 0;
}

static void
keep(struct relay_replay *r, struct ciis_entry *e, size_t *cap)
{
	if (r->nevs == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		r->evs = ciis_xrealloc(r->evs, *cap * sizeof *r->evs);
	}
	r->evs[r->nevs++] = e;
}

static void
drop_all(struct relay_replay *r)
{
	for (size_t i = 0; i < r->nevs; i++)
		ciis_entry_unref(r->evs[i]);
	free(r->evs);
	r->evs = NULL;
	r->nevs = 0;
}

/* From the ring; -1 (and nothing kept) when it no longer holds them all. */
static int
from_ring(struct relay_replay *r)
{
	size_t cap = 0;

	for (int64_t id = r->after + 1; id <= r->upto; id++) {
		struct ciis_entry *e;

		if (ciis_ring_get(r->c->hub->ring, id, &e) != CIIS_RING_FOUND) {
			drop_all(r);
			return -1;
		}
		if (wanted(r, e))
			keep(r, e, &cap);
		else
			ciis_entry_unref(e);
	}
	return 0;
}

/* From the table (worker thread). */
static void
table_work(struct relay_job *rj, struct ciis_db *db)
{
	struct relay_replay *r = (struct relay_replay *)(void *)rj;
	int64_t after = r->after;
	size_t cap = 0;

	if (db == NULL) {
		r->failed = 1;
		return;
	}
	while (after < r->upto && !r->truncated) {
		struct ciis_event *evs;
		struct ciis_err err;
		int64_t hole = 0;
		size_t n;

		if (ciis_event_read(db, after, READ_BATCH, &evs, &n, &hole, &err) != 0) {
			r->failed = 1;
			return;
		}
		/* ids up to upto were fanned out, so every one of them is visible
		 * by now: a hole below it is a row gone for good (pruned, deleted) */
		if (n == 0 && hole > 0 && hole <= r->upto) {
			ciis_event_free_array(evs, n);
			after = hole - 1;
			continue;
		}
		for (size_t i = 0; i < n && evs[i].id <= r->upto; i++) {
			struct ciis_entry *e = ciis_entry_new(&evs[i]);

			if (!wanted(r, e))
				ciis_entry_unref(e);
			else if (r->nevs == REPLAY_MAX) {
				ciis_entry_unref(e);
				r->truncated = 1;
				break;
			} else
				keep(r, e, &cap);
		}
		after = n > 0 ? evs[n - 1].id : r->upto;
		ciis_event_free_array(evs, n);
	}
}

/* The replay is at hand: its owner sends it, then c's held events go. */
static void
ready(struct relay_replay *r, int held)
{
	struct relay_conn *c = r->c;

	if (!c->dead)
		r->ready(r);
	if (held)
		relay_conn_release(c);
	relay_replay_free(r);
}

static void
table_done(struct relay_job *rj)
{
	ready((struct relay_replay *)(void *)rj, 1);
}

static void
table_discard(struct relay_job *rj)
{
	relay_replay_free((struct relay_replay *)(void *)rj);
}

void
relay_replay_start(struct relay_replay *r)
{
	struct relay_conn *c = r->c;

	if (r->after < 0 || r->after >= r->upto) {
		ready(r, 0);
		return;
	}
	/* an earlier table replay still on its way: this one queues behind it,
	 * so the two go out in order */
	if (c->holding || from_ring(r) != 0) {
		c->holding++;
		r->job.work = table_work;
		r->job.done = table_done;
		r->job.discard = table_discard;
		relay_worker_queue(c->hub, &r->job);
		return;
	}
	ready(r, 0);
}

long
relay_replay_send(struct relay_replay *r)
{
	struct relay_conn *c = r->c;
	long sent = 0;

	for (size_t i = 0; i < r->nevs && !c->dead; i++)
		if (!relay_conn_reached(c, r->evs[i])) {
			relay_send_entry(c, r->evs[i]);
			sent++;
		}
	return sent;
}
