/* A small fixed pool of threads for the held streams' database errands (a
 * replay from the table, a heatmap snapshot), so that the writer thread
 * never waits for MySQL.  Jobs are embedded by their owner; the pool only
 * links them into its queue. */
#ifndef CIIS_API_WORKERS_H
#define CIIS_API_WORKERS_H

struct api_job {
	struct api_job *next;		/* the pool's, while queued */
	/* On a worker thread. */
	void (*run)(struct api_job *j);
	/* After run (ran = 1), on the same worker; or from api_workers_stop()
	 * for a job that never ran (ran = 0).  The job is its owner's again. */
	void (*done)(struct api_job *j, int ran);
};

struct api_workers;

/* Start n threads.  NULL when none could start. */
struct api_workers *api_workers_start(int n);
/* Queue j (not queued already); a stopped pool hands it back at once with
 * done(j, 0). */
void api_workers_submit(struct api_workers *w, struct api_job *j);
/* Let each thread finish the job it runs, hand back the queued ones
 * (done(j, 0)), join and free; w may be NULL. */
void api_workers_stop(struct api_workers *w);

#endif
