/* The fan-out ring.  One mutex and one condition variable: pushes happen in
 * batches from one thread, reads are O(1) by id. */
#include "core/ring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/sse.h"
#include "core/xalloc.h"

struct ciis_ring {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* signalled on broadcast */
	struct ciis_entry **slot;	/* slot[id % size] */
	size_t size;
	int64_t first, next;		/* ids held: [first, next) */
};

struct ciis_entry *
ciis_entry_new(const struct ciis_event *ev)
{
	struct ciis_entry *e = ciis_xcalloc(1, sizeof *e);

	e->id = ev->id;
	snprintf(e->type, sizeof e->type, "%s", ev->type);
	snprintf(e->org_id, sizeof e->org_id, "%s", ev->org_id);
	e->campus_id = ev->campus_id;
	e->building_id = ev->building_id;
	e->issue_id = ev->issue_id;
	e->document_id = ev->document_id;
	e->created_at = ev->created_at;
	snprintf(e->user_id, sizeof e->user_id, "%s", ev->user_id);
	e->payload = ciis_xstrdup(ev->payload ? ciis_json_text(ev->payload) : "{}");
	e->payload_len = strlen(e->payload);
	e->refs = 1;
	ciis_sse_render_issue_event(ev, e);
	return e;
}

struct ciis_entry *
ciis_entry_ref(struct ciis_entry *e)
{
	__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
	return e;
}

void
ciis_entry_unref(struct ciis_entry *e)
{
	if (e == NULL || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(e->sse);
	free(e->payload);
	free(e);
}

struct ciis_ring *
ciis_ring_new(size_t slots, int64_t first_id)
{
	struct ciis_ring *r = ciis_xcalloc(1, sizeof *r);
	pthread_condattr_t ca;

	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	r->slot = ciis_xcalloc(slots, sizeof *r->slot);
	r->size = slots;
	r->first = r->next = first_id;
	return r;
}

void
ciis_ring_free(struct ciis_ring *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->size; i++)
		ciis_entry_unref(r->slot[i]);
	free(r->slot);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void
reset_locked(struct ciis_ring *r, int64_t next_id)
{
	for (size_t j = 0; j < r->size; j++) {
		ciis_entry_unref(r->slot[j]);
		r->slot[j] = NULL;
	}
	r->first = r->next = next_id;
}

void
ciis_ring_reset(struct ciis_ring *r, int64_t next_id)
{
	pthread_mutex_lock(&r->lock);
	reset_locked(r, next_id);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

void
ciis_ring_push(struct ciis_ring *r, struct ciis_entry *e)
{
	struct ciis_entry *old;
	size_t i;

	pthread_mutex_lock(&r->lock);
	if (e->id != r->next)
		reset_locked(r, e->id);	/* the log restarted: start over from here */
	i = (size_t)(e->id % (int64_t)r->size);
	old = r->slot[i];
	r->slot[i] = e;
	r->next = e->id + 1;
	if (r->next - r->first > (int64_t)r->size)
		r->first = r->next - (int64_t)r->size;
	pthread_mutex_unlock(&r->lock);
	ciis_entry_unref(old);
}

void
ciis_ring_broadcast(struct ciis_ring *r)
{
	pthread_mutex_lock(&r->lock);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

enum ciis_ring_get
ciis_ring_get(struct ciis_ring *r, int64_t id, struct ciis_entry **out)
{
	enum ciis_ring_get rc;

	pthread_mutex_lock(&r->lock);
	if (id >= r->next) {
		rc = CIIS_RING_NOT_YET;
	} else if (id < r->first) {
		rc = CIIS_RING_GONE;
	} else {
		*out = ciis_entry_ref(r->slot[id % (int64_t)r->size]);
		rc = CIIS_RING_FOUND;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void
ciis_ring_wait(struct ciis_ring *r, int64_t id, int64_t deadline_ms)
{
	struct timespec ts = { .tv_sec = deadline_ms / 1000, .tv_nsec = (deadline_ms % 1000) * 1000000 };

	pthread_mutex_lock(&r->lock);
	if (id >= r->next && ciis_monotonic_ms() < deadline_ms)
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	pthread_mutex_unlock(&r->lock);
}

int64_t
ciis_ring_last(struct ciis_ring *r)
{
	int64_t last;

	pthread_mutex_lock(&r->lock);
	last = r->next - 1;
	pthread_mutex_unlock(&r->lock);
	return last;
}
