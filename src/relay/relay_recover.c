/* Socket.IO connection state recovery from the database (SPEC §8,
 * SOCKETIO-NOTES §7).  Every session gets a pid, kept in relay_sessions
 * with its rooms (relay_sessions.c).  A client that comes back with
 * {pid, offset} — on this process or another, also after a restart — is
 * answered once the session was looked up: the same sid and pid, its rooms
 * joined again, and every event of them after the offset (or, without
 * one, after the point its session began), in order, then the live ones.
 * Otherwise it gets a fresh session and recovered stays false.  Until the
 * CONNECT reply is out, the connection's live events wait (c->holding). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/relay_int.h"

struct recover_job {
	struct relay_job job;		/* first */
	struct relay_conn *c;		/* a reference */
	char pid[EIO_SID_LEN + 1];
	int64_t offset;			/* -1: none sent */
	long max_age_s;
	int recoverable;
	int64_t from;			/* replay after this id */
	struct relay_saved saved;
};

static void
job_free(struct recover_job *j)
{
	free(j->saved.rooms);
	relay_conn_unref(j->c);
	free(j);
}

static void
job_discard(struct relay_job *rj)
{
	job_free((struct recover_job *)(void *)rj);
}

/* Is `from` a point of the retained log to resume after? */
static int
resumable(struct ciis_db *db, int64_t from)
{
	struct ciis_err err;
	int64_t last, oldest;

	if (ciis_event_last_id(db, &last, &err) != 0 || from > last)
		return 0;
	if (from == last)
		return 1;
	return ciis_event_oldest_id(db, &oldest, &err) == 0 && oldest > 0 && from + 1 >= oldest;
}

static void
lookup_work(struct relay_job *rj, struct ciis_db *db)
{
	struct recover_job *j = (struct recover_job *)(void *)rj;
	struct ciis_err err;

	if (db == NULL ||
	    relay_session_lookup(db, j->pid, j->max_age_s, &j->saved, &err) != 1 ||
	    strcmp(j->saved.org, j->c->who.org_id) != 0 ||
	    strcmp(j->saved.user, j->c->who.user_id) != 0)
		return;
	/* events before the session began were never due to it */
	j->from = j->offset > j->saved.start_id ? j->offset : j->saved.start_id;
	j->recoverable = resumable(db, j->from);
}

/* ---- answering ---------------------------------------------------------------- */

static void
fresh_session(struct relay_conn *c)
{
	eio_random_id(c->pid);
	sio_socket_set_session(c->sk, NULL, c->pid);
	memcpy(c->sid, sio_socket_id(c->sk), sizeof c->sid);
	relay_session_open(c);
}

/* A live connection of this process with c's pid (its client came back
 * before we saw it go): it hands the session over and closes. */
static void
supersede(struct relay_conn *c)
{
	for (struct relay_conn *o = c->hub->conns; o != NULL; o = o->next)
		if (o != c && !o->dead && strcmp(o->pid, c->pid) == 0) {
			o->superseded = 1;
			relay_close(o, 1000);
		}
}

/* Not recoverable: a new session with the rooms it has (user:{id}). */
static void
answer_fresh(struct relay_conn *c)
{
	fresh_session(c);
	c->recovering = 0;
	if (c->sk != NULL)
		sio_connect_finish(c->sk, NULL);
	relay_conn_catch_up(c, c->catch_up);	/* ahead of the live events held */
	relay_conn_release(c);
}

/* As the reference server does: the missed events, then the CONNECT reply
 * (the client keeps events that come before it and emits them after). */
static void
answer_recovered(struct relay_conn *c, struct relay_replay *r)
{
	c->recovering = 0;
	relay_replay_send(r);
	sio_socket_set_session(c->sk, c->sid, c->pid);
	sio_connect_finish(c->sk, NULL);
	relay_session_open(c);		/* held here now, with its rooms */
	relay_conn_release(c);
}

static void
recovered(struct relay_replay *r)
{
	struct relay_conn *c = r->c;

	if (r->failed || r->truncated) {
		/* it cannot have every missed event: the client must resync */
		ciis_log(CIIS_LOG_INFO, "relay: session of user %s not recovered (%s)",
		    c->who.user_id, r->failed ? "database unavailable" : "too many missed events");
		for (size_t i = c->nrooms; i-- > 0;)
			if (strncmp(relay_room_name(c->rooms[i].room), "user:", 5) != 0)
				relay_leave(c, relay_room_name(c->rooms[i].room));
		c->pid[0] = '\0';
		answer_fresh(c);
		return;
	}
	answer_recovered(c, r);
}

/* May a stored room name be joined by c?  Only rooms of c's organization
 * that a subscription can make, and c's own user room. */
static int
room_ok(const struct relay_conn *c, const char *name, size_t n)
{
	static const char *const by_id[] = { "campus:", "building:", "issue:", "document:" };
	char own[RELAY_ROOM_MAX];

	if (n == 0 || n >= RELAY_ROOM_MAX)
		return 0;
	for (size_t i = 0; i < sizeof by_id / sizeof by_id[0]; i++)
		if (strncmp(name, by_id[i], strlen(by_id[i])) == 0)
			return 1;
	snprintf(own, sizeof own, "org:%s", c->who.org_id);
	if (n == strlen(own) && strncmp(name, own, n) == 0)
		return 1;
	snprintf(own, sizeof own, "heatmap:%s", c->who.org_id);
	return n == strlen(own) && strncmp(name, own, n) == 0;
}

/* Join the stored rooms again; the replay covers all of c's rooms. */
static struct relay_replay *
rejoin(struct recover_job *j)
{
	struct relay_conn *c = j->c;
	int64_t upto = relay_fanned(c->hub);
	struct relay_replay *r;
	const char *p = j->saved.rooms;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");
		char name[RELAY_ROOM_MAX];

		if (room_ok(c, p, n)) {
			memcpy(name, p, n);
			name[n] = '\0';
			relay_join(c, name);
		}
		p += n + (p[n] == ' ');
	}
	r = relay_replay_new(c, c->nrooms, j->from, upto);
	for (size_t i = 0; i < c->nrooms; i++)
		snprintf(r->rooms[i], RELAY_ROOM_MAX, "%s", relay_room_name(c->rooms[i].room));
	r->ready = recovered;
	return r;
}

static void
lookup_done(struct relay_job *rj)
{
	struct recover_job *j = (struct recover_job *)(void *)rj;
	struct relay_conn *c = j->c;
	struct relay_replay *r;

	if (c->dead) {
		job_free(j);
		return;
	}
	if (!j->recoverable) {
		answer_fresh(c);
		job_free(j);
		return;
	}
	memcpy(c->pid, j->pid, sizeof c->pid);
	memcpy(c->sid, j->saved.sid, sizeof c->sid);
	supersede(c);
	r = rejoin(j);
	job_free(j);
	relay_replay_start(r);
}

/* ---- the CONNECT ----------------------------------------------------------------- */

/* The offset a client sends is the event id we stamped, as a string. */
static int64_t
offset_of(struct json_object *auth)
{
	struct json_object *v;
	const char *s;
	char *end;
	long long n;

	if (!json_object_object_get_ex(auth, "offset", &v) || !json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (*s < '0' || *s > '9' || strlen(s) > 18)
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	return *end == '\0' && errno == 0 ? (int64_t)n : -1;
}

static int
pid_of(struct json_object *auth, char out[EIO_SID_LEN + 1])
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(auth, "pid", &v) || !json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	if (strlen(s) != EIO_SID_LEN || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") != EIO_SID_LEN)
		return 0;
	memcpy(out, s, EIO_SID_LEN + 1);
	return 1;
}

const char *
relay_sio_session(struct relay_conn *c, struct json_object *auth)
{
	struct recover_job *j;

	c->start_id = c->hub->fanned;
	if (!json_object_is_type(auth, json_type_object)) {
		fresh_session(c);
		return NULL;
	}
	j = ciis_xcalloc(1, sizeof *j);
	if (!pid_of(auth, j->pid)) {
		free(j);
		fresh_session(c);
		return NULL;
	}
	j->c = c;
	c->refs++;
	j->offset = offset_of(auth);
	j->max_age_s = c->hub->live->relay_recovery_seconds;
	j->job.work = lookup_work;
	j->job.done = lookup_done;
	j->job.discard = job_discard;
	c->recovering = 1;
	c->holding++;			/* nothing before the CONNECT reply */
	relay_sessions_flush_now(c->hub);	/* the lookup sees every change before it */
	relay_worker_queue(c->hub, &j->job);
	return SIO_PENDING;
}
