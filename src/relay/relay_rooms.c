/* The room index and fan-out.  A room maps its name ("campus:7") to its
 * members; an entry from the tailer names its rooms (SPEC §6), so one entry
 * costs a lookup per room and a visit per member, never a scan of every
 * connection.  A connection in several of an entry's rooms gets it once:
 * conn->mark holds the last entry id delivered to it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "relay/relay.h"
#include "relay/relay_int.h"

struct relay_room {
	char *name;			/* owned */
	struct relay_conn **members;	/* owned array of borrowed conns */
	size_t n, cap;
	int doomed;			/* empty, to be freed after this round */
	struct relay_room *hnext;
};

static size_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)h;
}

struct relay_room *
relay_room_find(struct relay_hub *h, const char *name)
{
	struct relay_room *r = h->buckets[hash(name) % h->nbuckets];

	while (r != NULL && strcmp(r->name, name) != 0)
		r = r->hnext;
	return r;
}

const char *
relay_room_name(const struct relay_room *r)
{
	return r->name;
}

size_t
relay_room_size(const struct relay_room *r)
{
	return r->n;
}

struct relay_conn *
relay_room_member(const struct relay_room *r, size_t i)
{
	return r->members[i];
}

static void
room_free(struct relay_room *r)
{
	free(r->members);
	free(r->name);
	free(r);
}

static struct relay_room *
room_get(struct relay_hub *h, const char *name)
{
	struct relay_room *r = relay_room_find(h, name);
	size_t b;

	if (r != NULL)
		return r;
	b = hash(name) % h->nbuckets;
	r = ciis_xcalloc(1, sizeof *r);
	r->name = ciis_xstrdup(name);
	r->hnext = h->buckets[b];
	h->buckets[b] = r;
	h->nrooms++;
	return r;
}

/* Free every empty room (end of a round, or shutdown). */
void
relay_rooms_sweep(struct relay_hub *h)
{
	for (size_t b = 0; b < h->nbuckets; b++) {
		struct relay_room **p = &h->buckets[b];

		while (*p != NULL) {
			struct relay_room *r = *p;

			if (r->n == 0) {
				*p = r->hnext;
				room_free(r);
				h->nrooms--;
			} else {
				p = &r->hnext;
			}
		}
	}
}

static void
sweep_deferred(void *arg)
{
	struct relay_hub *h = arg;

	h->sweep_pending = 0;
	relay_rooms_sweep(h);
}

static struct relay_member *
membership(struct relay_conn *c, const char *name)
{
	for (size_t i = 0; i < c->nrooms; i++)
		if (strcmp(c->rooms[i].room->name, name) == 0)
			return &c->rooms[i];
	return NULL;
}

int
relay_conn_in(struct relay_conn *c, const char *name)
{
	return membership(c, name) != NULL;
}

void
relay_join(struct relay_conn *c, const char *name)
{
	struct relay_hub *h = c->hub;
	struct relay_room *r;

	if (membership(c, name) != NULL)
		return;
	r = room_get(h, name);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4;
		r->members = ciis_xrealloc(r->members, r->cap * sizeof *r->members);
	}
	r->members[r->n++] = c;
	if (c->nrooms == c->cap_rooms) {
		c->cap_rooms = c->cap_rooms ? c->cap_rooms * 2 : 4;
		c->rooms = ciis_xrealloc(c->rooms, c->cap_rooms * sizeof *c->rooms);
	}
	c->rooms[c->nrooms++] = (struct relay_member){ r, h->fanned };
}

static void
room_remove(struct relay_hub *h, struct relay_room *r, struct relay_conn *c)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->members[i] == c) {
			r->members[i] = r->members[--r->n];
			break;
		}
	if (r->n == 0 && !h->sweep_pending) {
		/* freed after the round: a fan-out may be walking it */
		h->sweep_pending = 1;
		loop_defer(h->loop, sweep_deferred, h);
	}
}

void
relay_leave(struct relay_conn *c, const char *name)
{
	struct relay_member *m = membership(c, name);

	if (m == NULL)
		return;
	room_remove(c->hub, m->room, c);
	*m = c->rooms[--c->nrooms];
}

void
relay_leave_all(struct relay_conn *c)
{
	for (size_t i = 0; i < c->nrooms; i++)
		room_remove(c->hub, c->rooms[i].room, c);
	c->nrooms = 0;
}

/* The rooms of e (SPEC §6): up to 4 names into out; the count. */
size_t
relay_entry_rooms(const struct ciis_entry *e, char out[][RELAY_ROOM_MAX])
{
	size_t n = 0;

	if (strncmp(e->type, "issue:", 6) == 0) {
		snprintf(out[n++], RELAY_ROOM_MAX, "org:%s", e->org_id);
		if (e->campus_id > 0)
			snprintf(out[n++], RELAY_ROOM_MAX, "campus:%" PRId64, e->campus_id);
		if (e->building_id > 0)
			snprintf(out[n++], RELAY_ROOM_MAX, "building:%" PRId64, e->building_id);
		if (e->issue_id > 0)
			snprintf(out[n++], RELAY_ROOM_MAX, "issue:%" PRId64, e->issue_id);
	} else if (strcmp(e->type, "heatmap:updated") == 0) {
		snprintf(out[n++], RELAY_ROOM_MAX, "heatmap:%s", e->org_id);
	} else if (strcmp(e->type, "notification:new") == 0 && e->user_id[0] != '\0') {
		snprintf(out[n++], RELAY_ROOM_MAX, "user:%s", e->user_id);
	} else if (strcmp(e->type, "presence:typing") == 0) {
		relay_typing_room(e, out[n++]);
	} else if (strncmp(e->type, "document:", 9) == 0 && e->document_id > 0) {
		snprintf(out[n++], RELAY_ROOM_MAX, "document:%" PRId64, e->document_id);
	} else if (strncmp(e->type, "user:", 5) == 0 || strcmp(e->type, "presence:updated") == 0) {
		snprintf(out[n++], RELAY_ROOM_MAX, "org:%s", e->org_id);
	}
	return n;
}

int
relay_entry_in_room(const struct ciis_entry *e, const char *room)
{
	char names[4][RELAY_ROOM_MAX];
	size_t n = relay_entry_rooms(e, names);

	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], room) == 0)
			return 1;
	return 0;
}

void
relay_conn_release(struct relay_conn *c)
{
	if (--c->holding > 0 || c->dead)
		return;
	for (size_t i = 0; i < c->nheld; i++) {
		relay_send_entry(c, c->held[i]);
		ciis_entry_unref(c->held[i]);
	}
	c->nheld = 0;
}

/* Has e reached c live: is c in one of e's rooms since before e? */
int
relay_conn_reached(struct relay_conn *c, const struct ciis_entry *e)
{
	for (size_t i = 0; i < c->nrooms; i++)
		if (c->rooms[i].since < e->id && relay_entry_in_room(e, c->rooms[i].room->name))
			return 1;
	return 0;
}

void
relay_send_entry(struct relay_conn *c, const struct ciis_entry *e)
{
	if (!c->dead)
		relay_send_event(c, e->type, e->payload, e->payload_len,
		    relay_entry_ephemeral(e) ? -1 : e->id);
}

static void
deliver(struct relay_conn *c, struct ciis_entry *e)
{
	if (c->holding) {
		if (c->nheld == c->cap_held) {
			c->cap_held = c->cap_held ? c->cap_held * 2 : 16;
			c->held = ciis_xrealloc(c->held, c->cap_held * sizeof *c->held);
		}
		c->held[c->nheld++] = ciis_entry_ref(e);
	} else {
		relay_send_entry(c, e);
	}
}

/* Members are walked from the end: a member closed by its own delivery
 * (a full send queue) leaves by swapping in one already visited. */
static void
fan_entry(struct relay_hub *h, struct ciis_entry *e)
{
	char names[4][RELAY_ROOM_MAX], sender[CIIS_ID_MAX + 1];
	size_t n = relay_entry_rooms(e, names);

	relay_entry_sender(e, sender);
	for (size_t k = 0; k < n; k++) {
		struct relay_room *r = relay_room_find(h, names[k]);

		for (size_t i = r ? r->n : 0; i-- > 0;) {
			struct relay_conn *c;

			if (i >= r->n)
				continue;
			c = r->members[i];
			if (c->mark >= e->id || c->dead || strcmp(c->who.org_id, e->org_id) != 0 ||
			    strcmp(c->who.user_id, sender) == 0)
				continue;
			c->mark = e->id;
			deliver(c, e);
		}
	}
}

/* Where fan-out starts: the tailer resets the ring to the log's end, so
 * every entry it holds was published since this process started. */
static void
find_start(struct relay_hub *h)
{
	int64_t id = ciis_ring_last(h->ring);
	struct ciis_entry *e;

	while (id >= 0 && ciis_ring_get(h->ring, id, &e) == CIIS_RING_FOUND) {
		ciis_entry_unref(e);
		id--;
	}
	h->fanned = id;
}

/* On the loop thread: fan out everything the ring holds past h->fanned. */
static void
fan_out(void *arg)
{
	struct relay_hub *h = arg;
	int64_t last = ciis_ring_last(h->ring);

	if (h->fanned < 0 && last >= 0)
		find_start(h);
	while (h->fanned >= 0 && h->fanned < last) {
		struct ciis_entry *e = NULL;
		enum ciis_ring_get g = ciis_ring_get(h->ring, h->fanned + 1, &e);

		if (g == CIIS_RING_NOT_YET)
			break;
		if (g == CIIS_RING_FOUND) {
			fan_entry(h, e);
			ciis_entry_unref(e);
		} else {
			ciis_log(CIIS_LOG_WARN, "relay: event %" PRId64 " left the ring unsent",
			    h->fanned + 1);
		}
		h->fanned++;
	}
}

void
relay_hub_published(void *arg, int64_t first_id, int64_t last_id)
{
	struct relay_hub *h = arg;

	(void)first_id;
	(void)last_id;
	loop_post(h->loop, fan_out, h);
}

/* The last id fanned out (-1 while the tailer has not read the log yet),
 * after fanning out what the ring already holds: a replay up to it and the
 * live events after it then meet with no gap. */
int64_t
relay_fanned(struct relay_hub *h)
{
	fan_out(h);
	return h->fanned;
}
