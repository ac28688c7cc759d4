/* The loop: timers fire in due order and cancelled ones never do (the heap's
 * removal from the middle is the easy thing to get wrong), deferred calls
 * run in order after the round, and a call posted from another thread
 * reaches the loop thread. */
#include <pthread.h>
#include <stdlib.h>

#include "relay/loop.h"
#include "relay_suites.h"

#define NTIMERS 200

struct probe {
	struct loop_timer t;
	struct loop *l;
	int delay;
	int fired;
	int *order;		/* shared counter */
	int *last_delay;
	int *out_of_order;
	int *left;
};

static void
on_fire(struct loop_timer *t)
{
	struct probe *p = LOOP_OWNER(t, struct probe, t);

	p->fired++;
	if (p->delay < *p->last_delay)
		(*p->out_of_order)++;
	*p->last_delay = p->delay;
	if (--*p->left == 0)
		loop_stop(p->l);
}

START_TEST(test_timers)
{
	struct loop *l = loop_new();
	struct probe *p = calloc(NTIMERS, sizeof *p);
	int last = -1, bad = 0, left = 0;

	ck_assert_ptr_nonnull(l);
	for (int i = 0; i < NTIMERS; i++) {
		p[i] = (struct probe){ .t.cb = on_fire, .l = l, .delay = (i * 37) % 41,
				       .last_delay = &last, .out_of_order = &bad, .left = &left };
		loop_timer_arm(l, &p[i].t, p[i].delay);
	}
	for (int i = 0; i < NTIMERS; i += 3)
		loop_timer_cancel(l, &p[i].t);	/* from anywhere in the heap */
	for (int i = 0; i < NTIMERS; i += 6)
		loop_timer_cancel(l, &p[i].t);	/* twice: a no-op */
	for (int i = 1; i < NTIMERS; i += 5)
		if (i % 3 != 0)
			loop_timer_arm(l, &p[i].t, p[i].delay);	/* re-arming moves it */
	for (int i = 0; i < NTIMERS; i++)
		left += i % 3 != 0;
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(bad, 0);
	for (int i = 0; i < NTIMERS; i++)
		ck_assert_int_eq(p[i].fired, i % 3 != 0);
	free(p);
	loop_free(l);
}
END_TEST

struct seq {
	struct loop *l;
	int got[3];
	int n;
};

/* Deferred: records its turn; the third stops the loop. */
static void
step(void *arg)
{
	struct seq *s = arg;

	s->got[s->n] = s->n;
	if (++s->n == 3)
		loop_stop(s->l);
}

/* Posted from the other thread; runs on the loop's. */
static void
posted(void *arg)
{
	struct seq *s = arg;

	for (int i = 0; i < 3; i++)
		loop_defer(s->l, step, s);
}

static void *
poster(void *arg)
{
	struct seq *s = arg;

	loop_post(s->l, posted, s);
	return NULL;
}

static void
give_up(struct loop_timer *t)
{
	ck_abort_msg("the posted call never ran");
}

START_TEST(test_post_and_defer)
{
	struct seq s = { .n = 0 };
	struct loop_timer guard = { .cb = give_up };
	pthread_t th;

	s.l = loop_new();
	loop_timer_arm(s.l, &guard, 5000);
	ck_assert_int_eq(pthread_create(&th, NULL, poster, &s), 0);
	ck_assert_int_eq(loop_run(s.l), 0);
	pthread_join(th, NULL);
	ck_assert_int_eq(s.n, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(s.got[i], i);
	loop_timer_cancel(s.l, &guard);
	loop_free(s.l);
}
END_TEST

Suite *
relay_loop_suite(void)
{
	Suite *s = suite_create("relay_loop");
	TCase *tc = tcase_create("loop");

	tcase_add_test(tc, test_timers);
	tcase_add_test(tc, test_post_and_defer);
	suite_add_tcase(s, tc);
	return s;
}
