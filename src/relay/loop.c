/* epoll loop with a timer heap, deferred calls and a cross-thread queue. */
#include "relay/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"

struct call {
	struct call *next;
	void (*fn)(void *);
	void *arg;
};

struct loop {
	int epfd;
	int stop;
	int64_t now;
	struct loop_timer **heap;	/* min-heap on due; owned array, borrowed timers */
	size_t nheap, capheap;
	struct call *defer_head, **defer_tail;
	struct loop_io wake;		/* eventfd: loop_post() rings it */
	pthread_mutex_t lock;		/* guards posted */
	struct call *posted;
};

static void
heap_set(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void
heap_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	while (i > 0 && l->heap[(i - 1) / 2]->due > t->due) {
		heap_set(l, i, l->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(l, i, t);
}

static void
heap_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->due < l->heap[c]->due)
			c++;
		if (l->heap[c]->due >= t->due)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void
loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	struct loop_timer *m;
	size_t i;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (--l->nheap == i)
		return;
	m = l->heap[l->nheap];
	heap_set(l, i, m);
	heap_down(l, i);
	heap_up(l, m->slot - 1);
}

void
loop_timer_arm(struct loop *l, struct loop_timer *t, int64_t ms)
{
	loop_timer_cancel(l, t);
	if (l->nheap == l->capheap) {
		l->capheap = l->capheap ? 2 * l->capheap : 64;
		l->heap = ciis_xrealloc(l->heap, l->capheap * sizeof *l->heap);
	}
	t->due = l->now + ms;
	l->heap[l->nheap] = t;
	heap_up(l, l->nheap++);
}

/* Fire every due timer; a callback may arm or cancel others. */
static void
run_timers(struct loop *l)
{
	while (l->nheap > 0 && l->heap[0]->due <= l->now) {
		struct loop_timer *t = l->heap[0];

		loop_timer_cancel(l, t);
		t->cb(t);
	}
}

static int
next_timeout(const struct loop *l)
{
	int64_t d;

	if (l->nheap == 0)
		return -1;
	d = l->heap[0]->due - ciis_monotonic_ms();
	return d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
}

void
loop_defer(struct loop *l, void (*fn)(void *), void *arg)
{
	struct call *c = ciis_xmalloc(sizeof *c);

	c->fn = fn;
	c->arg = arg;
	c->next = NULL;
	*l->defer_tail = c;
	l->defer_tail = &c->next;
}

/* Deferred calls may defer more; those run in the same pass. */
static void
run_deferred(struct loop *l)
{
	while (l->defer_head != NULL) {
		struct call *c = l->defer_head;

		l->defer_head = c->next;
		if (l->defer_head == NULL)
			l->defer_tail = &l->defer_head;
		c->fn(c->arg);
		free(c);
	}
}

void
loop_post(struct loop *l, void (*fn)(void *), void *arg)
{
	struct call *c = ciis_xmalloc(sizeof *c);
	uint64_t one = 1;

	c->fn = fn;
	c->arg = arg;
	pthread_mutex_lock(&l->lock);
	c->next = l->posted;
	l->posted = c;
	pthread_mutex_unlock(&l->lock);
	if (write(l->wake.fd, &one, sizeof one) < 0 && errno != EAGAIN)
		ciis_log(CIIS_LOG_ERROR, "loop: eventfd write: %s", strerror(errno));
}

/* Posted calls were pushed LIFO; reverse them so they run in post order. */
static void
on_wake(struct loop_io *io, uint32_t events)
{
	struct loop *l = LOOP_OWNER(io, struct loop, wake);
	struct call *c, *rev = NULL;
	uint64_t n;

	if (read(io->fd, &n, sizeof n) < 0 && errno != EAGAIN)
		ciis_log(CIIS_LOG_ERROR, "loop: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&l->lock);
	c = l->posted;
	l->posted = NULL;
	pthread_mutex_unlock(&l->lock);
	while (c != NULL) {
		struct call *next = c->next;

		c->next = rev;
		rev = c;
		c = next;
	}
	while (rev != NULL) {
		c = rev;
		rev = rev->next;
		c->fn(c->arg);
		free(c);
	}
}

struct loop *
loop_new(void)
{
	struct loop *l = ciis_xcalloc(1, sizeof *l);
	int efd;

	l->defer_tail = &l->defer_head;
	l->wake.fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	l->now = ciis_monotonic_ms();
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		goto fail;
	if ((efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		goto fail;
	l->wake.cb = on_wake;
	if (loop_io_add(l, &l->wake, efd, EPOLLIN) != 0) {
		close(efd);
		goto fail;
	}
	return l;
fail:
	ciis_log(CIIS_LOG_ERROR, "loop: %s", strerror(errno));
	loop_free(l);
	return NULL;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	run_deferred(l);
	loop_io_close(l, &l->wake);
	while (l->posted != NULL) {
		struct call *c = l->posted;

		l->posted = c->next;
		free(c);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	pthread_mutex_destroy(&l->lock);
	free(l->heap);
	free(l);
}

int
loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	io->fd = fd;
	io->events = events;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		io->fd = -1;
		return -1;
	}
	return 0;
}

void
loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (io->fd < 0 || io->events == events)
		return;
	io->events = events;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) != 0)
		ciis_log(CIIS_LOG_ERROR, "loop: epoll_ctl: %s", strerror(errno));
}

void
loop_io_close(struct loop *l, struct loop_io *io)
{
	if (io->fd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	close(io->fd);
	io->fd = -1;
}

int
loop_io_release(struct loop *l, struct loop_io *io)
{
	int fd = io->fd;

	if (fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	io->fd = -1;
	return fd;
}

int64_t
loop_now(const struct loop *l)
{
	return l->now;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

int
loop_run(struct loop *l)
{
	struct epoll_event evs[64];

	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 64, next_timeout(l));

		if (n < 0 && errno != EINTR)
			return -1;
		l->now = ciis_monotonic_ms();
		run_timers(l);		/* first, as libuv does: a due timeout wins */
		for (int i = 0; i < n; i++) {
			struct loop_io *io = evs[i].data.ptr;

			if (io->fd >= 0)	/* closed earlier in this round */
				io->cb(io, evs[i].events);
		}
		run_deferred(l);
	}
	return 0;
}

int
loop_signals(struct loop *l, struct loop_io *io, const int *signos, size_t n,
    void (*cb)(struct loop_io *io, uint32_t events))
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, signos[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return -1;
	io->cb = cb;
	if (loop_io_add(l, io, fd, EPOLLIN) != 0) {
		close(fd);
		return -1;
	}
	return 0;
}
