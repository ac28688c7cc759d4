/* The relay's event loop: epoll for sockets, a binary heap of one-shot
 * timers, deferred calls run after each dispatch round (so an object closed
 * by one callback stays valid for the rest of the round), and an eventfd
 * through which other threads hand work to the loop's thread.  One thread
 * runs the loop and owns every object registered with it. */
#ifndef CIIS_RELAY_LOOP_H
#define CIIS_RELAY_LOOP_H

#include <stddef.h>
#include <stdint.h>

/* The struct embedding member `m` that `p` points at. */
#define LOOP_OWNER(p, type, m) ((type *)(void *)((char *)(p) - offsetof(type, m)))

struct loop;

/* A file descriptor watched by the loop; embedded by its owner. */
struct loop_io {
	int fd;			/* -1 once removed: late events are dropped */
	uint32_t events;	/* EPOLL* mask registered */
	void (*cb)(struct loop_io *io, uint32_t events);
};

/* A one-shot timer; embedded by its owner, zeroed (disarmed) before use. */
struct loop_timer {
	int64_t due;		/* monotonic ms */
	size_t slot;		/* heap index + 1; 0 while disarmed */
	void (*cb)(struct loop_timer *t);
};

/* A new loop (NULL when epoll or eventfd cannot be created). */
struct loop *loop_new(void);
/* Frees l; every io must have been removed.  l may be NULL. */
void loop_free(struct loop *l);
/* Dispatch until loop_stop(); 0, or -1 when epoll_wait fails. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
/* Milliseconds of the monotonic clock, sampled once per round. */
int64_t loop_now(const struct loop *l);

/* Watch io->fd for `events` (EPOLLIN | EPOLLOUT | EPOLLRDHUP ...); 0 or -1. */
int loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events);
/* Change the mask (no system call when it is unchanged). */
void loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events);
/* Stop watching and close the fd (io->fd becomes -1); no-op when already. */
void loop_io_close(struct loop *l, struct loop_io *io);
/* Stop watching without closing: the fd, handed to a new owner (or -1). */
int loop_io_release(struct loop *l, struct loop_io *io);

/* (Re)arm t to fire once after `ms`; cancelling a disarmed timer is a no-op. */
void loop_timer_arm(struct loop *l, struct loop_timer *t, int64_t ms);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Run fn(arg) on the loop thread after the current dispatch round, in the
 * order deferred: the way objects are freed once nothing on the stack can
 * point at them any more. */
void loop_defer(struct loop *l, void (*fn)(void *), void *arg);
/* From any thread: run fn(arg) on the loop thread soon (queue + eventfd). */
void loop_post(struct loop *l, void (*fn)(void *), void *arg);
/* Block the signals signos[0..n) and deliver them to io (a signalfd whose
 * cb reads struct signalfd_siginfo); 0 or -1. */
int loop_signals(struct loop *l, struct loop_io *io, const int *signos, size_t n,
    void (*cb)(struct loop_io *io, uint32_t events));

#endif
