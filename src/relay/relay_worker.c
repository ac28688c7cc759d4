/* The worker thread: every blocking database call of ciis-relay (checking a
 * subscription, reading a replay from the table) runs here, one job at a
 * time in the order queued, and its result goes back to the loop thread by
 * loop_post().  The loop never waits for MySQL. */
#include <stdlib.h>

#include "core/log.h"
#include "relay/relay_int.h"

static void
job_done(void *arg)
{
	struct relay_job *j = arg;
	struct relay_hub *h = j->hub;

	if (j->jprev != NULL)
		j->jprev->jnext = j->jnext;
	else
		h->jobs = j->jnext;
	if (j->jnext != NULL)
		j->jnext->jprev = j->jprev;
	j->done(j);
}

static void *
worker_main(void *arg)
{
	struct relay_hub *h = arg;
	struct ciis_err err;

	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		struct relay_job *j = h->queue;
		struct ciis_db *db;

		if (j == NULL) {
			pthread_cond_wait(&h->cond, &h->lock);
			continue;
		}
		if ((h->queue = j->next) == NULL)
			h->queue_tail = &h->queue;
		pthread_mutex_unlock(&h->lock);
		db = ciis_db_pool_get(h->pool, &err);
		j->work(j, db);
		ciis_db_pool_put(h->pool, db);
		loop_post(h->loop, job_done, j);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	ciis_db_thread_end();
	return NULL;
}

int
relay_worker_start(struct relay_hub *h)
{
	h->pool = ciis_db_pool_new(h->conf);
	h->queue = NULL;
	h->queue_tail = &h->queue;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	if (pthread_create(&h->worker, NULL, worker_main, h) != 0)
		return -1;
	h->worker_started = 1;
	return 0;
}

void
relay_worker_stop(struct relay_hub *h)
{
	if (h->worker_started) {
		pthread_mutex_lock(&h->lock);
		h->stopping = 1;
		pthread_cond_signal(&h->cond);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->worker, NULL);
		h->worker_started = 0;
	}
	/* queued, or done but its loop_post never ran: loop_free drops those */
	while (h->jobs != NULL) {
		struct relay_job *j = h->jobs;

		h->jobs = j->jnext;
		j->discard(j);
	}
	if (h->pool != NULL) {
		struct ciis_err err;
		struct ciis_db *db = ciis_db_pool_get(h->pool, &err);

		relay_sessions_final(h, db);
		ciis_db_pool_put(h->pool, db);
		ciis_db_pool_free(h->pool);
		h->pool = NULL;
		pthread_cond_destroy(&h->cond);
		pthread_mutex_destroy(&h->lock);
	}
}

void
relay_worker_queue(struct relay_hub *h, struct relay_job *j)
{
	j->hub = h;
	j->next = NULL;
	j->jprev = NULL;
	j->jnext = h->jobs;
	if (h->jobs != NULL)
		h->jobs->jprev = j;
	h->jobs = j;
	pthread_mutex_lock(&h->lock);
	*h->queue_tail = j;
	h->queue_tail = &j->next;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}
