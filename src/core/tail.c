/* The tailer thread.  It owns one database connection; a failed read only
 * delays publishing, since the next read starts from the last id published. */
#include "core/tail.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/event.h"
#include "core/log.h"
#include "core/xalloc.h"

#define RING_SLOTS 8192
#define BATCH 500

struct ciis_tail {
	const struct ciis_conf *conf;	/* borrowed */
	struct ciis_ring *ring;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int kicked, stopping;
	ciis_tail_chore *chore;
	void *chore_arg;
	int chore_seconds;
	ciis_tail_publish_fn *on_publish;	/* under lock */
	void *on_publish_arg;
	struct ciis_tail_stats stats;	/* under lock */
	int64_t hole_since;		/* tailer thread only: when a hole first stopped it */
	long poll_ms;			/* atomic: conf's tail.poll_ms, or the owner's */
};

/* Sleep up to ms unless kicked or stopping. */
static void
nap(struct ciis_tail *t, long ms)
{
	int64_t until = ciis_monotonic_ms() + ms;
	struct timespec ts = { .tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000 };

	pthread_mutex_lock(&t->lock);
	while (!t->kicked && !t->stopping && ciis_monotonic_ms() < until)
		if (pthread_cond_timedwait(&t->cond, &t->lock, &ts) != 0)
			break;
	t->kicked = 0;
	pthread_mutex_unlock(&t->lock);
}

static int
stopping(struct ciis_tail *t)
{
	int s;

	pthread_mutex_lock(&t->lock);
	s = t->stopping;
	pthread_mutex_unlock(&t->lock);
	return s;
}

static void
set_db_ok(struct ciis_tail *t, int ok)
{
	pthread_mutex_lock(&t->lock);
	if (t->stats.db_ok != ok)
		ciis_log(ok ? CIIS_LOG_INFO : CIIS_LOG_WARN, "tail: database %s", ok ? "back" : "unreachable");
	t->stats.db_ok = ok;
	pthread_mutex_unlock(&t->lock);
}

/* Publish evs[0..n) into the ring. */
static void
publish(struct ciis_tail *t, const struct ciis_event *evs, size_t n)
{
	ciis_tail_publish_fn *fn;
	void *fn_arg;

	for (size_t i = 0; i < n; i++)
		ciis_ring_push(t->ring, ciis_entry_new(&evs[i]));
	ciis_ring_broadcast(t->ring);
	pthread_mutex_lock(&t->lock);
	t->stats.last_id = evs[n - 1].id;
	t->stats.tailed += (int64_t)n;
	t->stats.lag_ms = ciis_now_ms() - evs[n - 1].created_at;
	fn = t->on_publish;
	fn_arg = t->on_publish_arg;
	pthread_mutex_unlock(&t->lock);
	if (fn != NULL)
		fn(fn_arg, evs[0].id, evs[n - 1].id);
}

#define HOLE_PATIENCE_MS 10000	/* a commit becomes visible within ms; rows deleted by hand never */

/* A hole in the ids that outlasts any commit is a row someone deleted:
 * step over it rather than stop publishing for good. */
static void
step_over_hole(struct ciis_tail *t, size_t n, int64_t hole, int64_t *last)
{
	if (n > 0 || hole == 0) {
		t->hole_since = 0;
		return;
	}
	if (t->hole_since == 0) {
		t->hole_since = ciis_monotonic_ms();
	} else if (ciis_monotonic_ms() - t->hole_since > HOLE_PATIENCE_MS) {
		ciis_log(CIIS_LOG_WARN, "tail: events %lld..%lld are missing from the table; going on",
		    (long long)(*last + 1), (long long)(hole - 1));
		*last = hole - 1;
		t->hole_since = 0;
	}
}

/* One read; the number of events published, or -1 when the database failed. */
static long
read_once(struct ciis_tail *t, struct ciis_db *db, int64_t *last)
{
	struct ciis_event *evs;
	struct ciis_err err;
	int64_t hole;
	size_t n;

	if (*last < 0) {
		/* where the log stands at start: streams begin at their snapshot */
		if (ciis_event_last_id(db, last, &err) != 0)
			return -1;
		ciis_ring_reset(t->ring, *last + 1);
		pthread_mutex_lock(&t->lock);
		t->stats.last_id = *last;
		pthread_mutex_unlock(&t->lock);
	}
	if (ciis_event_read(db, *last, BATCH, &evs, &n, &hole, &err) != 0)
		return -1;
	step_over_hole(t, n, hole, last);
	if (n > 0) {
		publish(t, evs, n);
		*last = evs[n - 1].id;
	}
	ciis_event_free_array(evs, n);
	return (long)n;
}

static void
run_chore(struct ciis_tail *t, struct ciis_db *db, int64_t *next_chore)
{
	if (t->chore == NULL || ciis_monotonic_ms() < *next_chore)
		return;
	*next_chore = ciis_monotonic_ms() + t->chore_seconds * 1000;
	t->chore(db, t->chore_arg);
}

static void *
tail_thread(void *arg)
{
	struct ciis_tail *t = arg;
	struct ciis_db_pool *pool = ciis_db_pool_new(t->conf);
	int64_t last = -1, next_chore = 0;
	struct ciis_err err;
	struct ciis_db *db;

	while (!stopping(t)) {
		long n;

		db = ciis_db_pool_get(pool, &err);
		n = db ? read_once(t, db, &last) : -1;

		set_db_ok(t, n >= 0);
		if (db != NULL)
			run_chore(t, db, &next_chore);
		ciis_db_pool_put(pool, db);
		if (n < BATCH) {
			long ms = __atomic_load_n(&t->poll_ms, __ATOMIC_RELAXED);

			nap(t, n < 0 ? ms * 5 : ms);
		}
	}
	/* one last chore: the process's final bookkeeping */
	if (t->chore != NULL && (db = ciis_db_pool_get(pool, &err)) != NULL) {
		t->chore(db, t->chore_arg);
		ciis_db_pool_put(pool, db);
	}
	ciis_db_pool_free(pool);
	ciis_db_thread_end();
	return NULL;
}

struct ciis_tail *
ciis_tail_start(const struct ciis_conf *conf, ciis_tail_chore *chore, void *arg, int seconds)
{
	struct ciis_tail *t = ciis_xcalloc(1, sizeof *t);
	pthread_condattr_t ca;

	t->conf = conf;
	t->poll_ms = conf->tail_poll_ms;
	t->ring = ciis_ring_new(RING_SLOTS, 0);
	t->chore = chore;
	t->chore_arg = arg;
	t->chore_seconds = seconds;
	t->stats.last_id = -1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t->thread, NULL, tail_thread, t) != 0) {
		ciis_ring_free(t->ring);
		free(t);
		return NULL;
	}
	return t;
}

void
ciis_tail_stop(struct ciis_tail *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	ciis_ring_free(t->ring);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void
ciis_tail_on_publish(struct ciis_tail *t, ciis_tail_publish_fn *fn, void *arg)
{
	pthread_mutex_lock(&t->lock);
	t->on_publish = fn;
	t->on_publish_arg = arg;
	pthread_mutex_unlock(&t->lock);
}

void
ciis_tail_set_poll_ms(struct ciis_tail *t, long ms)
{
	__atomic_store_n(&t->poll_ms, ms, __ATOMIC_RELAXED);
}

void
ciis_tail_kick(void *arg)
{
	struct ciis_tail *t = arg;

	pthread_mutex_lock(&t->lock);
	t->kicked = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

struct ciis_ring *
ciis_tail_ring(struct ciis_tail *t)
{
	return t->ring;
}

void
ciis_tail_stats(struct ciis_tail *t, struct ciis_tail_stats *out)
{
	pthread_mutex_lock(&t->lock);
	*out = t->stats;
	pthread_mutex_unlock(&t->lock);
}
