/* What ciis-relay keeps in MySQL about its sockets: a presence row per
 * socket (who is online, summed by /api/realtime/stats over every process)
 * and, for Socket.IO, the session's rooms for connection state recovery
 * (relay_sessions, sql/003).  The loop thread never writes: it queues each
 * change, and one job at a time writes the queue on the worker thread in one
 * transaction, so a burst of connections costs one commit per batch.  The
 * worker runs jobs in the order queued, so a recovery lookup queued after a
 * flush sees every change before it.  The same transaction appends the
 * presence events the changes make (relay_presence.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/event.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/relay_int.h"

#define FLUSH_MS 100		/* changes wait at most this long to be written */
#define RETRY_MS 1000		/* after a failed write */
#define REFRESH_MS 20000	/* seen_at of held sockets; rows expire unrefreshed */
#define PRESENCE_FRESH_S 60	/* core/streams.c counts presence rows this fresh */
#define BATCH_MAX 500		/* changes per transaction */
#define PENDING_MAX 200000	/* changes kept while the database is away */

enum srec_op { SREC_OPEN, SREC_ROOMS, SREC_STATUS, SREC_TYPING, SREC_CURSOR, SREC_CLOSE };

struct relay_srec {
	enum srec_op op;
	int session;			/* a Socket.IO session: relay_sessions too */
	char key[EIO_SID_LEN + 1];	/* presence.socket_id */
	char pid[EIO_SID_LEN + 1], sid[EIO_SID_LEN + 1];
	char org[CIIS_ID_MAX + 1], user[CIIS_ID_MAX + 1], name[129];	/* as ciis_principal */
	char status[8];
	char room[RELAY_ROOM_MAX];	/* TYPING */
	int typing;
	int64_t document_id, line, col;	/* CURSOR */
	int64_t start_id;
	char *rooms;			/* owned: OPEN, ROOMS */
};

struct flush_job {
	struct relay_job job;		/* first */
	struct relay_srec *recs;	/* owned */
	size_t n;
	int failed;
	char process_id[RELAY_PROCESS_ID_MAX];
	long recovery_seconds;
	int refresh;			/* also refresh seen_at and drop dead rows */
	int final;			/* shutdown: the process's row goes */
	int64_t rooms;			/* the hub's, when queued */
};

/* The user's row of presence_users, locked to COMMIT (inserted the first
 * time): of two relays writing the user's first (or last) socket at once,
 * one waits for the other, and its count sees the other's change. */
static const char SQL_PRESENCE_LOCK[] =
    "INSERT INTO presence_users (org_id, user_id) VALUES (?, ?)"
    " ON DUPLICATE KEY UPDATE user_id = VALUES(user_id)";
static const char SQL_PRESENCE_COUNT[] =
    "SELECT COUNT(*) FROM presence WHERE org_id = ? AND user_id = ?"
    " AND seen_at > UTC_TIMESTAMP(3) - INTERVAL 60 SECOND";
static const char SQL_PRESENCE_STALE[] =
    "SELECT org_id, user_id, MIN(name) FROM presence"
    " WHERE seen_at < UTC_TIMESTAMP(3) - INTERVAL 60 SECOND GROUP BY org_id, user_id";
static const char SQL_PRESENCE_OPEN[] =
    "INSERT INTO presence (socket_id, org_id, user_id, name, status, process_id, seen_at)"
    " VALUES (?, ?, ?, ?, 'online', ?, UTC_TIMESTAMP(3))";
static const char SQL_SESSION_OPEN[] =
    "INSERT INTO relay_sessions (pid, sid, org_id, user_id, process_id, start_event_id, rooms,"
    " seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))"
    " ON DUPLICATE KEY UPDATE sid = VALUES(sid), process_id = VALUES(process_id),"
    " rooms = VALUES(rooms), seen_at = VALUES(seen_at)";
static const char SQL_SESSION_ROOMS[] =
    "UPDATE relay_sessions SET rooms = ?, seen_at = UTC_TIMESTAMP(3)"
    " WHERE pid = ? AND process_id = ?";
static const char SQL_PRESENCE_STATUS[] = "UPDATE presence SET status = ? WHERE socket_id = ?";
static const char SQL_PRESENCE_CLOSE[] = "DELETE FROM presence WHERE socket_id = ?";
/* only while it is ours: a client that came back elsewhere took it over */
static const char SQL_SESSION_CLOSE[] =
    "UPDATE relay_sessions SET process_id = NULL, seen_at = UTC_TIMESTAMP(3)"
    " WHERE pid = ? AND process_id = ?";
static const char SQL_PRESENCE_REFRESH[] =
    "UPDATE presence SET seen_at = UTC_TIMESTAMP(3) WHERE process_id = ?";
static const char SQL_SESSION_REFRESH[] =
    "UPDATE relay_sessions SET seen_at = UTC_TIMESTAMP(3) WHERE process_id = ?";
static const char SQL_PRESENCE_DEAD[] =
    "DELETE FROM presence WHERE org_id = ? AND user_id = ?"
    " AND seen_at < UTC_TIMESTAMP(3) - INTERVAL 60 SECOND";
static const char SQL_SESSION_DEAD[] =
    "DELETE FROM relay_sessions WHERE seen_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND";
static const char SQL_PROCESS_PUT[] =
    "INSERT INTO relay_processes (process_id, rooms, seen_at) VALUES (?, ?, UTC_TIMESTAMP(3))"
    " ON DUPLICATE KEY UPDATE rooms = VALUES(rooms), seen_at = VALUES(seen_at)";
static const char SQL_PROCESS_DEAD[] =
    "DELETE FROM relay_processes WHERE seen_at < UTC_TIMESTAMP(3) - INTERVAL 60 SECOND";
static const char SQL_PROCESS_GONE[] = "DELETE FROM relay_processes WHERE process_id = ?";
static const char SQL_SESSION_GET[] =
    "SELECT sid, org_id, user_id, start_event_id, rooms FROM relay_sessions"
    " WHERE pid = ? AND seen_at > UTC_TIMESTAMP(3) - INTERVAL ? SECOND";

/* ---- writing, on the worker ------------------------------------------------------ */

/* A user whose presence_users row a flush locks. */
struct user_key {
	const char *org, *user;
};

static int
user_key_cmp(const void *a, const void *b)
{
	const struct user_key *x = a, *y = b;
	int c = strcmp(x->org, y->org);

	return c != 0 ? c : strcmp(x->user, y->user);
}

/* Lock the presence_users rows of every user whose first or last socket
 * the flush may write (its opens and closes, and the users of the stale
 * rows it drops), sorted, before any presence row is touched: two flushes
 * then never wait on each other in a cycle. */
static int
lock_users(struct ciis_db *db, const struct flush_job *j, const struct ciis_rows *stale,
    struct ciis_err *err)
{
	size_t n = 0, cap = j->n + stale->nrows;
	struct user_key *keys = ciis_xcalloc(cap ? cap : 1, sizeof *keys);
	int rc = 0;

	for (size_t i = 0; i < j->n; i++)
		if (j->recs[i].op == SREC_OPEN || j->recs[i].op == SREC_CLOSE)
			keys[n++] = (struct user_key){ j->recs[i].org, j->recs[i].user };
	for (size_t i = 0; i < stale->nrows; i++)
		keys[n++] = (struct user_key){ ciis_rows_get(stale, i, 0), ciis_rows_get(stale, i, 1) };
	qsort(keys, n, sizeof *keys, user_key_cmp);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (i == 0 || user_key_cmp(&keys[i - 1], &keys[i]) != 0) {
			struct ciis_param p[] = { CIIS_PSTR(keys[i].org), CIIS_PSTR(keys[i].user) };

			rc = ciis_db_exec(db, SQL_PRESENCE_LOCK, p, 2, NULL, NULL, err);
		}
	free(keys);
	return rc;
}

/* How many fresh presence rows the user has, under lock_users: -1 on error. */
static long
user_rows(struct ciis_db *db, const char *org, const char *user, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PSTR(org), CIIS_PSTR(user) };
	struct ciis_rows rows;
	long n;

	if (ciis_db_query(db, SQL_PRESENCE_COUNT, p, 2, &rows, err) != 0)
		return -1;
	n = rows.nrows == 1 ? (long)ciis_rows_i64(&rows, 0, 0) : 0;
	ciis_rows_free(&rows);
	return n;
}

static int
write_open(struct ciis_db *db, const struct relay_srec *r, const char *process_id,
    struct relay_presence_out *out, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PSTR(r->key), CIIS_PSTR(r->org), CIIS_PSTR(r->user),
		CIIS_PSTR(r->name), CIIS_PSTR(process_id) };
	struct ciis_param q[] = { CIIS_PSTR(r->pid), CIIS_PSTR(r->sid), CIIS_PSTR(r->org),
		CIIS_PSTR(r->user), CIIS_PSTR(process_id), CIIS_PI64(r->start_id),
		CIIS_PSTR(r->rooms) };
	long before;

	if ((before = user_rows(db, r->org, r->user, err)) < 0 ||
	    ciis_db_exec(db, SQL_PRESENCE_OPEN, p, 5, NULL, NULL, err) != 0)
		return -1;
	if (before == 0)
		relay_presence_status(out, "user:online", r->org, r->user, r->name, "online");
	return r->session ? ciis_db_exec(db, SQL_SESSION_OPEN, q, 7, NULL, NULL, err) : 0;
}

static int
write_close(struct ciis_db *db, const struct relay_srec *r, const char *process_id,
    struct relay_presence_out *out, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PSTR(r->key) };
	struct ciis_param q[] = { CIIS_PSTR(r->pid), CIIS_PSTR(process_id) };
	uint64_t gone = 0;
	long left;

	if (ciis_db_exec(db, SQL_PRESENCE_CLOSE, p, 1, &gone, NULL, err) != 0 ||
	    (left = user_rows(db, r->org, r->user, err)) < 0)
		return -1;
	/* gone == 0: the row had already been dropped, with its user:offline */
	if (gone > 0 && left == 0)
		relay_presence_status(out, "user:offline", r->org, r->user, r->name, "offline");
	return r->session ? ciis_db_exec(db, SQL_SESSION_CLOSE, q, 2, NULL, NULL, err) : 0;
}

static int
write_rec(struct ciis_db *db, const struct relay_srec *r, const char *process_id,
    struct relay_presence_out *out, struct ciis_err *err)
{
	switch (r->op) {
	case SREC_OPEN:
		return write_open(db, r, process_id, out, err);
	case SREC_ROOMS: {
		struct ciis_param p[] = { CIIS_PSTR(r->rooms), CIIS_PSTR(r->pid), CIIS_PSTR(process_id) };

		return ciis_db_exec(db, SQL_SESSION_ROOMS, p, 3, NULL, NULL, err);
	}
	case SREC_STATUS: {
		struct ciis_param p[] = { CIIS_PSTR(r->status), CIIS_PSTR(r->key) };

		if (ciis_db_exec(db, SQL_PRESENCE_STATUS, p, 2, NULL, NULL, err) != 0)
			return -1;
		relay_presence_status(out, "presence:updated", r->org, r->user, r->name, r->status);
		return 0;
	}
	case SREC_TYPING:
		relay_presence_typing(out, r->org, r->user, r->name, r->room, r->typing);
		return 0;
	case SREC_CURSOR:
		relay_presence_cursor(out, r->org, r->user, r->name, r->document_id, r->line, r->col);
		return 0;
	case SREC_CLOSE:
		return write_close(db, r, process_id, out, err);
	}
	return 0;
}

/* Rows of relays that stopped refreshing them go; a user left without a
 * fresh row goes offline. */
static int
drop_dead(struct ciis_db *db, const struct ciis_rows *stale, struct relay_presence_out *out,
    struct ciis_err *err)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < stale->nrows; i++) {
		const char *org = ciis_rows_get(stale, i, 0), *user = ciis_rows_get(stale, i, 1);
		struct ciis_param p[] = { CIIS_PSTR(org), CIIS_PSTR(user) };
		uint64_t gone = 0;
		long left;

		if (ciis_db_exec(db, SQL_PRESENCE_DEAD, p, 2, &gone, NULL, err) != 0 ||
		    (left = user_rows(db, org, user, err)) < 0)
			rc = -1;
		else if (gone > 0 && left == 0)
			relay_presence_status(out, "user:offline", org, user, ciis_rows_get(stale, i, 2),
			    "offline");
	}
	return rc;
}

static int
refresh(struct ciis_db *db, const char *process_id, long recovery_seconds,
    const struct ciis_rows *stale, struct relay_presence_out *out, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PSTR(process_id) };
	struct ciis_param q[] = { CIIS_PI64(recovery_seconds) };

	return ciis_db_exec(db, SQL_PRESENCE_REFRESH, p, 1, NULL, NULL, err) == 0 &&
	    ciis_db_exec(db, SQL_SESSION_REFRESH, p, 1, NULL, NULL, err) == 0 &&
	    drop_dead(db, stale, out, err) == 0 &&
	    ciis_db_exec(db, SQL_PROCESS_DEAD, NULL, 0, NULL, NULL, err) == 0 &&
	    ciis_db_exec(db, SQL_SESSION_DEAD, q, 1, NULL, NULL, err) == 0 ? 0 : -1;
}

/* The process's row for /api/realtime/stats: its room count, or gone. */
static int
put_process(struct ciis_db *db, const struct flush_job *j, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PSTR(j->process_id), CIIS_PI64(j->rooms) };

	if (j->final)
		return ciis_db_exec(db, SQL_PROCESS_GONE, p, 1, NULL, NULL, err);
	return ciis_db_exec(db, SQL_PROCESS_PUT, p, 2, NULL, NULL, err);
}

static int
write_all(struct ciis_db *db, struct flush_job *j)
{
	struct relay_presence_out out = { 0 };
	struct ciis_rows stale = { 0 };
	struct ciis_err err;

	if (db == NULL || ciis_db_begin(db, &err) != 0)
		return -1;
	if (j->refresh && ciis_db_query(db, SQL_PRESENCE_STALE, NULL, 0, &stale, &err) != 0)
		goto fail;
	if (lock_users(db, j, &stale, &err) != 0)
		goto fail;
	for (size_t i = 0; i < j->n; i++)
		if (write_rec(db, &j->recs[i], j->process_id, &out, &err) != 0)
			goto fail;
	if (j->refresh && refresh(db, j->process_id, j->recovery_seconds, &stale, &out, &err) != 0)
		goto fail;
	if (put_process(db, j, &err) != 0)
		goto fail;
	if (ciis_event_append(db, out.evs, out.n, &err) != 0 || ciis_db_commit(db, &err) != 0)
		goto fail;
	if (out.n > 0)
		ciis_event_committed();
	relay_presence_out_free(&out);
	ciis_rows_free(&stale);
	return 0;
fail:
	ciis_log(CIIS_LOG_WARN, "relay: writing %zu socket changes failed: %s", j->n, err.message);
	ciis_db_rollback(db);
	relay_presence_out_free(&out);
	ciis_rows_free(&stale);
	return -1;
}

static void
flush_work(struct relay_job *rj, struct ciis_db *db)
{
	struct flush_job *j = (struct flush_job *)(void *)rj;

	j->failed = write_all(db, j) != 0;
}

/* ---- the queue, on the loop ------------------------------------------------------ */

static void
recs_free(struct relay_srec *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(recs[i].rooms);
	free(recs);
}

static void requeue(struct relay_hub *h, struct flush_job *j);

/* Shutdown: its changes go back to the queue that relay_sessions_final()
 * writes. */
static void
flush_discard(struct relay_job *rj)
{
	struct flush_job *j = (struct flush_job *)(void *)rj;

	requeue(j->job.hub, j);
	free(j);
}

static void start_flush(struct relay_hub *h, int refresh);

/* A failed batch goes back in front of what came since, in order. */
static void
requeue(struct relay_hub *h, struct flush_job *j)
{
	struct relay_sessions *s = &h->sessions;

	if (s->n + j->n > PENDING_MAX) {
		ciis_log(CIIS_LOG_WARN, "relay: database away, %zu socket changes dropped", j->n);
		recs_free(j->recs, j->n);
		return;
	}
	j->recs = ciis_xrealloc(j->recs, (j->n + s->n) * sizeof *j->recs);
	memcpy(j->recs + j->n, s->recs, s->n * sizeof *s->recs);
	free(s->recs);
	s->recs = j->recs;
	s->n += j->n;
	s->cap = s->n;
}

static void
flush_done(struct relay_job *rj)
{
	struct flush_job *j = (struct flush_job *)(void *)rj;
	struct relay_hub *h = j->job.hub;

	h->sessions.flushing = 0;
	if (j->failed) {
		requeue(h, j);
		if (j->refresh)
			h->sessions.refresh_due = 1;
		loop_timer_arm(h->loop, &h->sessions.flush, RETRY_MS);
	} else {
		recs_free(j->recs, j->n);
		if (h->sessions.n > 0)
			start_flush(h, 0);
	}
	free(j);
}

static void
start_flush(struct relay_hub *h, int refresh_too)
{
	struct relay_sessions *s = &h->sessions;
	struct flush_job *j;
	size_t n = s->n < BATCH_MAX ? s->n : BATCH_MAX;

	if (s->flushing || (n == 0 && !refresh_too))
		return;
	j = ciis_xcalloc(1, sizeof *j);
	j->recs = ciis_xmalloc((n ? n : 1) * sizeof *j->recs);
	memcpy(j->recs, s->recs, n * sizeof *s->recs);
	memmove(s->recs, s->recs + n, (s->n - n) * sizeof *s->recs);
	s->n -= n;
	j->n = n;
	j->refresh = refresh_too;
	j->rooms = (int64_t)h->nrooms;
	j->recovery_seconds = h->live->relay_recovery_seconds;
	memcpy(j->process_id, h->process_id, sizeof j->process_id);
	j->job.work = flush_work;
	j->job.done = flush_done;
	j->job.discard = flush_discard;
	s->flushing = 1;
	s->refresh_due = 0;
	relay_worker_queue(h, &j->job);
}

static void
on_flush(struct loop_timer *t)
{
	struct relay_hub *h = LOOP_OWNER(t, struct relay_hub, sessions.flush);

	start_flush(h, h->sessions.refresh_due);
}

static void
on_refresh(struct loop_timer *t)
{
	struct relay_hub *h = LOOP_OWNER(t, struct relay_hub, sessions.refresh);

	h->sessions.refresh_due = 1;
	start_flush(h, 1);
	loop_timer_arm(h->loop, &h->sessions.refresh, REFRESH_MS);
}

void
relay_sessions_flush_now(struct relay_hub *h)
{
	loop_timer_cancel(h->loop, &h->sessions.flush);
	start_flush(h, 0);
}

static struct relay_srec *
add(struct relay_conn *c, enum srec_op op)
{
	struct relay_sessions *s = &c->hub->sessions;
	struct relay_srec *r;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->recs = ciis_xrealloc(s->recs, s->cap * sizeof *s->recs);
	}
	r = &s->recs[s->n++];
	memset(r, 0, sizeof *r);
	r->op = op;
	r->session = c->pid[0] != '\0';
	memcpy(r->key, c->key, sizeof r->key);
	memcpy(r->pid, c->pid, sizeof r->pid);
	snprintf(r->org, sizeof r->org, "%s", c->who.org_id);
	snprintf(r->user, sizeof r->user, "%s", c->who.user_id);
	snprintf(r->name, sizeof r->name, "%s", c->who.name);
	if (!s->flushing && s->flush.slot == 0)	/* slot: armed */
		loop_timer_arm(c->hub->loop, &s->flush, FLUSH_MS);
	return r;
}

/* "org:o1 campus:7 user:u1": c's rooms, owned. */
static char *
room_list(const struct relay_conn *c)
{
	struct ciis_buf b;

	ciis_buf_init(&b);
	for (size_t i = 0; i < c->nrooms; i++) {
		if (i > 0)
			ciis_buf_puts(&b, " ");
		ciis_buf_puts(&b, relay_room_name(c->rooms[i].room));
	}
	return ciis_buf_take(&b);
}

void
relay_session_open(struct relay_conn *c)
{
	struct relay_srec *r;

	if (c->key[0] == '\0')
		eio_random_id(c->key);
	r = add(c, SREC_OPEN);

	memcpy(r->sid, c->sid, sizeof r->sid);
	r->start_id = c->start_id;
	r->rooms = room_list(c);
}

void
relay_session_rooms(struct relay_conn *c)
{
	if (c->pid[0] != '\0')
		add(c, SREC_ROOMS)->rooms = room_list(c);
}

void
relay_session_status(struct relay_conn *c, const char *status)
{
	if (c->key[0] == '\0')
		return;
	snprintf(add(c, SREC_STATUS)->status, sizeof ((struct relay_srec *)0)->status, "%s", status);
}

void
relay_session_typing(struct relay_conn *c, const char *room, int typing)
{
	struct relay_srec *r;

	if (c->key[0] == '\0')
		return;
	r = add(c, SREC_TYPING);
	snprintf(r->room, sizeof r->room, "%s", room);
	r->typing = typing;
}

void
relay_session_cursor(struct relay_conn *c, int64_t document_id, int64_t line, int64_t col)
{
	struct relay_srec *r;

	if (c->key[0] == '\0')
		return;
	r = add(c, SREC_CURSOR);
	r->document_id = document_id;
	r->line = line;
	r->col = col;
}

void
relay_session_close(struct relay_conn *c)
{
	struct relay_srec *r;

	if (c->key[0] == '\0')
		return;		/* never opened (refused, or gone while recovering) */
	r = add(c, SREC_CLOSE);

	/* its pid lives on in the connection that recovered it */
	if (c->superseded)
		r->session = 0;
}

/* ---- set up, recovery lookup, shutdown ------------------------------------------- */

void
relay_sessions_init(struct relay_hub *h)
{
	char host[64] = "relay";

	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	snprintf(h->process_id, sizeof h->process_id, "%.32s:%ld:%lld", host, (long)getpid(),
	    (long long)time(NULL));
	h->sessions.flush.cb = on_flush;
	h->sessions.refresh.cb = on_refresh;
	loop_timer_arm(h->loop, &h->sessions.refresh, REFRESH_MS);
}

int
relay_session_lookup(struct ciis_db *db, const char *pid, long max_age_s,
    struct relay_saved *out, struct ciis_err *err)
{
	struct ciis_param p[] = { CIIS_PSTR(pid), CIIS_PI64(max_age_s) };
	struct ciis_rows rows;
	int found;

	memset(out, 0, sizeof *out);
	if (ciis_db_query(db, SQL_SESSION_GET, p, 2, &rows, err) != 0)
		return -1;
	if ((found = rows.nrows == 1)) {
		snprintf(out->sid, sizeof out->sid, "%s", ciis_rows_get(&rows, 0, 0));
		snprintf(out->org, sizeof out->org, "%s", ciis_rows_get(&rows, 0, 1));
		snprintf(out->user, sizeof out->user, "%s", ciis_rows_get(&rows, 0, 2));
		out->start_id = ciis_rows_i64(&rows, 0, 3);
		out->rooms = ciis_xstrdup(ciis_rows_get(&rows, 0, 4));
	}
	ciis_rows_free(&rows);
	return found;
}

/* Shutdown, after the worker stopped: write what is still queued. */
void
relay_sessions_final(struct relay_hub *h, struct ciis_db *db)
{
	struct relay_sessions *s = &h->sessions;
	struct flush_job j = { .recs = s->recs, .n = s->n, .final = 1 };

	memcpy(j.process_id, h->process_id, sizeof j.process_id);
	loop_timer_cancel(h->loop, &s->flush);
	loop_timer_cancel(h->loop, &s->refresh);
	/* also with nothing queued: the process's row goes */
	if ((db != NULL || s->n > 0) && write_all(db, &j) != 0)
		ciis_log(CIIS_LOG_WARN, "relay: %zu socket changes not written at exit", s->n);
	recs_free(s->recs, s->n);
	s->recs = NULL;
	s->n = s->cap = 0;
}
