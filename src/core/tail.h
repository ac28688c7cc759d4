/* The tailer: one thread per process reads new events from the table every
 * tail.poll_ms (at once when kicked: this process just committed), renders
 * each once and publishes it into the ring the streams read.  The database
 * sees the same queries however many streams are open. */
#ifndef CIIS_CORE_TAIL_H
#define CIIS_CORE_TAIL_H

#include <stdint.h>

#include "core/config.h"
#include "core/db.h"
#include "core/ring.h"

struct ciis_tail;

/* Called from the tailer thread about every `seconds` (0: after every read)
 * with its connection, for the process's periodic database chores, and once
 * more when it stops. */
typedef void ciis_tail_chore(struct ciis_db *db, void *arg);

struct ciis_tail_stats {
	int64_t last_id;	/* last event published; -1 before the first read */
	int64_t tailed;		/* events published since start */
	int64_t lag_ms;		/* commit → publish of the last event */
	int db_ok;
};

/* Called from the tailer thread after each batch it published, ids
 * first_id..last_id; it must not block (a process with a loop posts to it). */
typedef void ciis_tail_publish_fn(void *arg, int64_t first_id, int64_t last_id);

/* Start the thread (conf is borrowed).  NULL only if the thread cannot start. */
struct ciis_tail *ciis_tail_start(const struct ciis_conf *conf, ciis_tail_chore *chore,
    void *arg, int seconds);
/* Stop and join the thread, free everything; t may be NULL. */
void ciis_tail_stop(struct ciis_tail *t);
/* Set (or with fn NULL clear) the publish hook; any thread, any time. */
void ciis_tail_on_publish(struct ciis_tail *t, ciis_tail_publish_fn *fn, void *arg);
/* Poll every ms from the next nap on, instead of tail.poll_ms; any thread. */
void ciis_tail_set_poll_ms(struct ciis_tail *t, long ms);
/* Read now instead of at the next poll; never blocks. */
void ciis_tail_kick(void *t);
struct ciis_ring *ciis_tail_ring(struct ciis_tail *t);
void ciis_tail_stats(struct ciis_tail *t, struct ciis_tail_stats *out);

#endif
