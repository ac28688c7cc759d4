/* The database errand pool (workers.h): one mutex-guarded FIFO, threads
 * that wait on its condition variable. */
#include "api/workers.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/db.h"
#include "core/log.h"
#include "core/xalloc.h"

#define WORKER_STACK (256 * 1024)	/* as a request thread: MySQL calls run here */

struct api_workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct api_job *head, *tail;	/* queued, oldest first */
	int stopping;
	int nthreads;
	pthread_t *threads;		/* owned */
};

static struct api_job *
take(struct api_workers *w)
{
	struct api_job *j;

	pthread_mutex_lock(&w->lock);
	while (w->head == NULL && !w->stopping)
		pthread_cond_wait(&w->cond, &w->lock);
	j = w->stopping ? NULL : w->head;
	if (j != NULL) {
		w->head = j->next;
		if (w->head == NULL)
			w->tail = NULL;
		j->next = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	return j;
}

static void *
worker(void *arg)
{
	struct api_workers *w = arg;
	struct api_job *j;

	while ((j = take(w)) != NULL) {
		j->run(j);
		j->done(j, 1);
	}
	ciis_db_thread_end();
	return NULL;
}

struct api_workers *
api_workers_start(int n)
{
	struct api_workers *w = ciis_xcalloc(1, sizeof *w);
	pthread_attr_t attr;

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->threads = ciis_xcalloc((size_t)n, sizeof *w->threads);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	for (int i = 0; i < n; i++) {
		if (pthread_create(&w->threads[w->nthreads], &attr, worker, w) != 0)
			break;
		w->nthreads++;
	}
	pthread_attr_destroy(&attr);
	if (w->nthreads == 0) {
		api_workers_stop(w);
		return NULL;
	}
	if (w->nthreads < n)
		ciis_log(CIIS_LOG_WARN, "api: started %d of %d database workers", w->nthreads, n);
	return w;
}

void
api_workers_submit(struct api_workers *w, struct api_job *j)
{
	int stopped;

	j->next = NULL;
	pthread_mutex_lock(&w->lock);
	stopped = w->stopping;
	if (!stopped) {
		if (w->tail != NULL)
			w->tail->next = j;
		else
			w->head = j;
		w->tail = j;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	if (stopped)
		j->done(j, 0);
}

void
api_workers_stop(struct api_workers *w)
{
	struct api_job *j, *queued;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	queued = w->head;
	w->head = w->tail = NULL;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	while ((j = queued) != NULL) {
		queued = j->next;
		j->next = NULL;
		j->done(j, 0);
	}
	free(w->threads);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
