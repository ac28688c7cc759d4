/* The writer thread (writer.h).  Each turn of its loop takes what epoll
 * reports (a connection readable, writable or closed; its eventfd: the
 * tailer published, a stream was handed over, a worker finished, shutdown),
 * delivers the ring's new events to the streams, runs the timers that are
 * due and sleeps until the next one.  A stream whose connection closed while
 * its job was with a worker is a zombie until the job comes back.
 * The streams, their buffers and the table are this thread's alone; other
 * threads reach them only through the lock-guarded lists. */
#include "api/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/tail.h"
#include "core/xalloc.h"

#define NWORKERS 4		/* database errands at once; the pool has 64 connections */
#define MAX_EVENTS 256
#define KEEPALIVE_MS 5000
#define END_GRACE_MS 2000	/* for a stream's last records to be taken */
#define PENDING_MAX (1024 * 1024)	/* bytes a web server may leave unread */
#define MAX_SLEEP_MS 60000
#define READS_PER_TURN 16	/* of 4 KB, from one connection */
#define NO_SLOT ((size_t)-1)

struct api_writer {
	struct api_ctx *ctx;		/* borrowed */
	struct ciis_ring *ring;		/* borrowed from the tailer */
	struct api_workers *workers;	/* owned */
	int ep, evfd;			/* owned */
	pthread_t thread;
	int started;

	pthread_mutex_t lock;		/* guards the next four */
	struct api_stream *handed;	/* adopted, not taken yet; linked by next */
	struct api_job *done;		/* jobs back from the workers; linked by next */
	int shutdown;			/* api_writer_shutdown() was called */
	int exited;			/* the thread has left its loop */

	/* the writer thread's (or api_writer_stop's once it has joined it) */
	struct api_stream **all;	/* owned: the streams held, all[i]->slot == i */
	size_t n, cap;
	size_t zombies;
	int64_t ring_seen;		/* the ring's last id at the last delivery */
	int stopping;
	int more;			/* some stream has more events due than it took */
};

static void
wake(struct api_writer *w)
{
	uint64_t one = 1;

	/* fails only when the counter is full, which wakes the thread too */
	if (write(w->evfd, &one, sizeof one) < 0)
		return;
}

static int
pending(const struct api_stream *s)
{
	return s->wbuf.len > s->woff;
}

static void
want_out(struct api_writer *w, struct api_stream *s, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0), .data.ptr = s };

	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, s->fd, &ev) == 0)
		s->wwait = on;
}

/* Drop the connection; the stream is freed by reap() (or, with a job out,
 * when the job comes back). */
static void
close_now(struct api_writer *w, struct api_stream *s)
{
	if (s->fd < 0)
		return;
	epoll_ctl(w->ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
}

/* The end records are written: half-close, and close when the web server
 * has read them and closed too (EOF), or at end_by.  Closing at once while
 * something it sent is unread would reset the connection, and the end
 * records could be lost with it (libfcgi lingers the same way). */
static void
linger(struct api_writer *w, struct api_stream *s)
{
	if (s->lingering)
		return;
	s->lingering = 1;
	if (shutdown(s->fd, SHUT_WR) != 0)
		close_now(w, s);
}

/* The messages in s->msg as FCGI_STDOUT records after what is pending. */
static void
frame(struct api_stream *s, int64_t heartbeat_ms)
{
	if (s->msg.len == 0)
		return;
	if (s->woff > 0) {
		memmove(s->wbuf.data, s->wbuf.data + s->woff, s->wbuf.len - s->woff);
		s->wbuf.len -= s->woff;
		s->woff = 0;
	}
	api_fcgi_stdout(&s->wbuf, s->request_id, s->msg.data, s->msg.len);
	/* a held stream keeps no buffer between messages: that is its cost */
	ciis_buf_cleanup(&s->msg);
	s->last_write = ciis_monotonic_ms();
	s->next_beat = s->last_write + heartbeat_ms;
}

/* Write what the socket takes; -1 when the web server is gone. */
static int
send_some(struct api_stream *s)
{
	while (pending(s)) {
		ssize_t k = send(s->fd, s->wbuf.data + s->woff, s->wbuf.len - s->woff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k > 0)
			s->woff += (size_t)k;
		else if (k < 0 && errno == EINTR)
			continue;
		else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		else
			return -1;
	}
	return 0;
}

static void
flush(struct api_writer *w, struct api_stream *s)
{
	if (s->fd < 0)
		return;
	frame(s, w->ctx->conf->sse_heartbeat_seconds * 1000L);
	if (send_some(s) != 0) {
		close_now(w, s);
	} else if (!pending(s)) {
		ciis_buf_cleanup(&s->wbuf);
		s->woff = 0;
		if (s->wwait)
			want_out(w, s, 0);
		if (s->ending)
			linger(w, s);
	} else if (s->wbuf.len - s->woff > PENDING_MAX) {
		ciis_log(CIIS_LOG_WARN, "api: stream %s: the web server leaves %zu bytes unread; ending it",
		    s->id, s->wbuf.len - s->woff);
		close_now(w, s);
	} else if (!s->wwait) {
		want_out(w, s, 1);
	}
}

/* Queue the end of the response (after s->msg) and close once written. */
static void
end_stream(struct api_writer *w, struct api_stream *s)
{
	if (s->fd < 0 || s->ending)
		return;
	frame(s, 0);
	api_fcgi_end(&s->wbuf, s->request_id, 0);
	s->ending = 1;
	s->end_by = ciis_monotonic_ms() + END_GRACE_MS;
	flush(w, s);
}

/* ---- database errands ---- */

static void
job_run(struct api_job *j)
{
	struct api_stream_job *sj = (struct api_stream_job *)j;
	struct ciis_err err;
	struct ciis_db *db;

	if (sj->kind == API_JOB_REPLAY) {
		sj->ok = api_stream_replay(sj->s, &sj->pos, &sj->out, &sj->touched) == 0;
		return;
	}
	db = ciis_db_pool_get(sj->s->ctx->pool, &err);
	sj->ok = db != NULL && api_stream_snapshot(sj->s, db, "update", &sj->out, &sj->pos, &err) == 0;
	ciis_db_pool_put(sj->s->ctx->pool, db);
}

/* On the worker (or in api_workers_stop): back to the writer's list. */
static void
job_done(struct api_job *j, int ran)
{
	struct api_stream_job *sj = (struct api_stream_job *)j;
	struct api_writer *w = sj->s->writer;

	if (!ran)
		sj->ok = 0;
	pthread_mutex_lock(&w->lock);
	j->next = w->done;
	w->done = j;
	pthread_mutex_unlock(&w->lock);
	wake(w);
}

static void
submit(struct api_writer *w, struct api_stream *s, enum api_job_kind kind)
{
	struct api_stream_job *sj = &s->job;

	s->busy = 1;
	sj->s = s;
	sj->kind = kind;
	sj->pos = s->pos;
	sj->ok = sj->touched = 0;
	ciis_buf_init(&sj->out);
	sj->job.run = job_run;
	sj->job.done = job_done;
	api_workers_submit(w->workers, &sj->job);
}

/* What a job brought back, into the stream. */
static void
apply(struct api_stream *s, struct api_stream_job *sj, int64_t now)
{
	if (sj->ok && sj->out.len > 0)
		ciis_buf_append(&s->msg, sj->out.data, sj->out.len);
	if (sj->kind == API_JOB_REPLAY) {
		if (!sj->ok) {
			s->retry_at = now + API_STREAM_RETRY_MS;	/* heartbeats go on meanwhile */
			return;
		}
		s->pos = sj->pos;
		if (sj->touched)
			api_stream_touched(s, now);
	} else if (sj->ok) {
		if (s->pos < sj->pos)
			s->pos = sj->pos;
		s->last_update = now;
		s->next_periodic = now + s->interval;
		s->next_coalesced = 0;
	} else {
		/* the snapshot failed: not again before a second has passed */
		s->next_periodic = now + API_STREAM_COALESCE_MS;
		if (s->next_coalesced)
			s->next_coalesced = now + API_STREAM_COALESCE_MS;
	}
}

/* ---- delivery ---- */

/* The ring's events after s->pos up to last, at most a budget of messages
 * a turn; events the ring no longer holds go to a worker. */
static void
deliver(struct api_writer *w, struct api_stream *s, int64_t last)
{
	struct ciis_entry *e;

	s->more = 0;
	if (s->fd < 0 || s->ending || s->busy || s->retry_at)
		return;
	while (s->pos < last) {
		enum ciis_ring_get r;

		if (s->msg.len >= API_STREAM_BUDGET) {
			s->more = w->more = 1;
			return;
		}
		if ((r = ciis_ring_get(w->ring, s->pos + 1, &e)) == CIIS_RING_NOT_YET)
			return;
		if (r == CIIS_RING_GONE) {
			submit(w, s, API_JOB_REPLAY);
			return;
		}
		if (api_stream_match(s, e, &s->msg))
			api_stream_touched(s, ciis_monotonic_ms());
		s->pos = e->id;
		ciis_entry_unref(e);
	}
}

static void
deliver_all(struct api_writer *w)
{
	int64_t last = ciis_ring_last(w->ring);

	if (last == w->ring_seen && !w->more)
		return;
	w->ring_seen = last;
	w->more = 0;
	for (size_t i = 0; i < w->n; i++) {
		deliver(w, w->all[i], last);
		flush(w, w->all[i]);
	}
}

static void
take_done(struct api_writer *w)
{
	struct api_job *j, *list;
	int64_t now = ciis_monotonic_ms();

	pthread_mutex_lock(&w->lock);
	list = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->lock);
	while ((j = list) != NULL) {
		struct api_stream_job *sj = (struct api_stream_job *)j;
		struct api_stream *s = sj->s;

		list = j->next;
		s->busy = 0;
		if (s->fd >= 0 && !s->ending)
			apply(s, sj, now);
		/* before deliver(), which may hand the job out again */
		ciis_buf_cleanup(&sj->out);
		if (s->slot == NO_SLOT) {
			w->zombies--;
			api_stream_free(s);
			continue;
		}
		deliver(w, s, ciis_ring_last(w->ring));
		flush(w, s);
	}
}

/* ---- timers ---- */

static int
heatmap_due(const struct api_stream *s, int64_t now)
{
	return s->kind == API_STREAM_HEATMAP &&
	    ((s->next_coalesced && now >= s->next_coalesced) || now >= s->next_periodic);
}

/* When s next needs the thread without an event (monotonic ms). */
static int64_t
due(const struct api_stream *s)
{
	int64_t d;

	if (s->fd < 0)
		return INT64_MAX;
	if (s->ending)
		return s->end_by;
	d = s->exp_mono;
	/* heartbeat and keep-alive wait while the web server does not read */
	if (!pending(s)) {
		d = s->next_beat < d ? s->next_beat : d;
		d = s->last_write + KEEPALIVE_MS < d ? s->last_write + KEEPALIVE_MS : d;
	}
	if (s->busy)
		return d;
	if (s->retry_at && s->retry_at < d)
		d = s->retry_at;
	if (s->kind == API_STREAM_HEATMAP) {
		d = s->next_periodic < d ? s->next_periodic : d;
		if (s->next_coalesced && s->next_coalesced < d)
			d = s->next_coalesced;
	}
	return d;
}

static void
tick(struct api_writer *w, struct api_stream *s, int64_t now)
{
	if (s->ending) {
		if (now >= s->end_by)
			close_now(w, s);	/* the web server would not take the end */
		return;
	}
	if (now >= s->exp_mono) {
		ciis_sse_bare(&s->msg, "expired");
		end_stream(w, s);
		return;
	}
	if (s->retry_at && now >= s->retry_at && !s->busy) {
		s->retry_at = 0;
		deliver(w, s, ciis_ring_last(w->ring));
	}
	if (!s->busy && heatmap_due(s, now))
		submit(w, s, API_JOB_SNAPSHOT);
	if (!pending(s) && s->msg.len == 0 && now >= s->next_beat)
		ciis_sse_bare(&s->msg, "heartbeat");
	/* web servers notice a client that left only when they write to it; an
	 * SSE comment (ignored by EventSource) makes them write.  It is no
	 * message: the heartbeat stays due when it was (frame() moves it). */
	if (!pending(s) && s->msg.len == 0 && now >= s->last_write + KEEPALIVE_MS) {
		int64_t beat = s->next_beat;

		ciis_buf_puts(&s->msg, ":\n\n");
		flush(w, s);
		s->next_beat = beat;
		return;
	}
	flush(w, s);
}

/* Run what is due; the next deadline. */
static int64_t
run_timers(struct api_writer *w, int64_t now)
{
	int64_t next = now + MAX_SLEEP_MS;

	for (size_t i = 0; i < w->n; i++) {
		struct api_stream *s = w->all[i];
		int64_t d = due(s);

		if (d <= now) {
			tick(w, s, now);
			d = due(s);
		}
		if (d < next)
			next = d;
	}
	return next;
}

/* ---- connections ---- */

enum input { INPUT_OK, INPUT_GONE, INPUT_ABORTED };

/* What the web server sent after the request: only its end matters. */
static enum input
read_in(struct api_stream *s)
{
	unsigned char buf[4096];

	for (int i = 0; i < READS_PER_TURN; i++) {
		ssize_t k = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
		enum api_fcgi_feed f;

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return INPUT_OK;
		if (k <= 0)
			return INPUT_GONE;
		f = api_fcgi_feed(&s->rd, s->request_id, buf, (size_t)k);
		if (f == API_FCGI_ABORTED)
			return INPUT_ABORTED;
		if (f == API_FCGI_GARBLED)
			return INPUT_GONE;
	}
	return INPUT_OK;	/* level-triggered: the rest next turn */
}

static void
on_fd(struct api_writer *w, struct api_stream *s, uint32_t events)
{
	if (s->fd < 0)
		return;
	if (events & EPOLLIN) {
		enum input in = read_in(s);

		if (in == INPUT_GONE) {
			close_now(w, s);
			return;
		}
		if (in == INPUT_ABORTED && !s->ending) {
			end_stream(w, s);	/* an abort is answered with FCGI_END_REQUEST */
			return;
		}
	}
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		close_now(w, s);	/* the web server closed: its client left */
	else if (events & EPOLLOUT)
		flush(w, s);
}

/* Hand-over done on the adopting thread when the writer is not there: the
 * response still ends properly, as far as the socket takes it at once. */
static void
end_here(struct api_stream *s)
{
	frame(s, 0);
	api_fcgi_end(&s->wbuf, s->request_id, 0);
	send_some(s);
	close(s->fd);
	s->fd = -1;
	api_stream_free(s);
}

static void
hold(struct api_writer *w, struct api_stream *s)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = s };
	int fl = fcntl(s->fd, F_GETFL);

	if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
		ciis_log(CIIS_LOG_WARN, "api: stream %s: cannot hold it: %s", s->id, strerror(errno));
		end_here(s);
		return;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		w->all = ciis_xrealloc(w->all, w->cap * sizeof *w->all);
	}
	s->slot = w->n;
	w->all[w->n++] = s;
	if (w->stopping) {
		end_stream(w, s);
		return;
	}
	deliver(w, s, ciis_ring_last(w->ring));
	flush(w, s);
}

static void
begin_stop(struct api_writer *w)
{
	w->stopping = 1;
	for (size_t i = 0; i < w->n; i++)
		end_stream(w, w->all[i]);
}

static void
take_handed(struct api_writer *w)
{
	struct api_stream *s, *list;
	int shutdown;

	pthread_mutex_lock(&w->lock);
	list = w->handed;
	w->handed = NULL;
	shutdown = w->shutdown;
	pthread_mutex_unlock(&w->lock);
	if (shutdown && !w->stopping)
		begin_stop(w);
	while ((s = list) != NULL) {
		list = s->next;
		s->next = NULL;
		hold(w, s);
	}
}

/* Forget the streams whose connection is closed. */
static void
reap(struct api_writer *w)
{
	for (size_t i = 0; i < w->n;) {
		struct api_stream *s = w->all[i];

		if (s->fd >= 0) {
			i++;
			continue;
		}
		w->all[i] = w->all[--w->n];
		w->all[i]->slot = i;
		s->slot = NO_SLOT;
		if (s->busy)
			w->zombies++;
		else
			api_stream_free(s);
	}
}

/* Leave the loop unless a stream was handed over meanwhile. */
static int
leave(struct api_writer *w)
{
	int left;

	pthread_mutex_lock(&w->lock);
	left = w->handed == NULL;
	if (left)
		w->exited = 1;
	pthread_mutex_unlock(&w->lock);
	return left;
}

static void *
writer_main(void *arg)
{
	struct api_writer *w = arg;
	struct epoll_event ev[MAX_EVENTS];
	int timeout = 0;

	for (;;) {
		int k = epoll_wait(w->ep, ev, MAX_EVENTS, timeout);
		int64_t now, next;
		uint64_t v;

		for (int i = 0; i < k; i++) {
			if (ev[i].data.ptr == NULL) {
				if (read(w->evfd, &v, sizeof v) < 0)
					continue;	/* EAGAIN: another turn read it */
			} else {
				on_fd(w, ev[i].data.ptr, ev[i].events);
			}
		}
		take_handed(w);
		take_done(w);
		deliver_all(w);
		now = ciis_monotonic_ms();
		next = run_timers(w, now);
		reap(w);
		if (w->stopping && w->n == 0 && leave(w))
			break;
		timeout = w->more ? 0 : (int)(next > now ? next - now : 0);
	}
	return NULL;
}

/* ---- the interface ---- */

static void
writer_close(struct api_writer *w)
{
	if (w->ep >= 0)
		close(w->ep);
	if (w->evfd >= 0)
		close(w->evfd);
	w->ep = w->evfd = -1;
}

struct api_writer *
api_writer_start(struct api_ctx *ctx)
{
	struct api_writer *w = ciis_xcalloc(1, sizeof *w);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	w->ctx = ctx;
	w->ring = ciis_tail_ring(ctx->tail);
	w->ring_seen = ciis_ring_last(w->ring);
	pthread_mutex_init(&w->lock, NULL);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep < 0 || w->evfd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ev) != 0 ||
	    (w->workers = api_workers_start(NWORKERS)) == NULL ||
	    pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		ciis_log(CIIS_LOG_ERROR, "api: cannot start the stream writer: %s", strerror(errno));
		api_workers_stop(w->workers);
		writer_close(w);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	w->started = 1;
	return w;
}

void
api_writer_adopt(struct api_writer *w, struct api_stream *s, int fd, int request_id)
{
	int held = 0;

	s->writer = w;
	s->fd = fd;
	s->request_id = request_id;
	s->slot = NO_SLOT;
	pthread_mutex_lock(&w->lock);
	if (!w->exited) {
		s->next = w->handed;
		w->handed = s;
		held = 1;
	}
	pthread_mutex_unlock(&w->lock);
	if (held)
		wake(w);
	else
		end_here(s);
}

void
api_writer_published(void *w, int64_t first_id, int64_t last_id)
{
	wake(w);
}

void
api_writer_shutdown(struct api_writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->shutdown = 1;
	pthread_mutex_unlock(&w->lock);
	wake(w);
}

void
api_writer_stop(struct api_writer *w)
{
	if (w == NULL || !w->started)
		return;
	api_writer_shutdown(w);
	pthread_join(w->thread, NULL);
	w->started = 0;
	/* hands back every job still out; take_done frees their zombies */
	api_workers_stop(w->workers);
	w->workers = NULL;
	take_done(w);
	/* the eventfd stays open: a publish hook the tailer fetched before it
	 * was cleared may still wake us (api_writer_free closes it) */
}

void
api_writer_free(struct api_writer *w)
{
	if (w == NULL)
		return;
	api_writer_stop(w);
	writer_close(w);
	pthread_mutex_destroy(&w->lock);
	free(w->all);
	free(w);
}
