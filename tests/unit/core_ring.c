/* The fan-out ring (ring.h): entries addressed by contiguous event id,
 * refcounted so a reader may keep one while the ring moves on; reset, a
 * push that restarts the log, and waiting with a monotonic deadline. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/clock.h"
#include "core/event.h"
#include "core/ring.h"
#include "suites.h"

/* An issue:created entry of id (so it owns a rendered message). */
static struct ciis_entry *
mk(int64_t id)
{
	struct ciis_event ev;
	struct ciis_entry *e;
	char payload[256];

	memset(&ev, 0, sizeof ev);
	ev.id = id;
	snprintf(ev.type, sizeof ev.type, "issue:created");
	snprintf(ev.org_id, sizeof ev.org_id, "org1");
	ev.campus_id = 3;
	ev.building_id = 7;
	ev.issue_id = id * 10;
	ev.created_at = 1000 + id;
	snprintf(payload, sizeof payload,
	    "{\"issue\":{\"id\":\"%lld\",\"priority\":\"low\",\"status\":\"open\"},\"eventId\":%lld,"
	    "\"timestamp\":\"2026-12-01T10:00:00.000Z\"}", (long long)id * 10, (long long)id);
	ev.payload = json_tokener_parse(payload);
	ck_assert_ptr_nonnull(ev.payload);
	e = ciis_entry_new(&ev);
	json_object_put(ev.payload);
	ck_assert_ptr_nonnull(e->sse);
	return e;
}

/* The message mk(id) renders. */
static void
expected_sse(int64_t id, char *out, size_t n)
{
	snprintf(out, n,
	    "id: %lld\ndata: {\"type\":\"created\",\"data\":{\"id\":\"%lld\",\"priority\":\"low\","
	    "\"status\":\"open\"},\"eventId\":%lld,\"timestamp\":\"2026-12-01T10:00:00.000Z\"}\n\n",
	    (long long)id, (long long)id * 10, (long long)id);
}

static void
assert_found(struct ciis_ring *r, int64_t id)
{
	struct ciis_entry *e = NULL;
	char want[256];

	ck_assert_msg(ciis_ring_get(r, id, &e) == CIIS_RING_FOUND, "id %lld not found", (long long)id);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->id, id);
	ck_assert_int_eq(e->issue_id, id * 10);
	expected_sse(id, want, sizeof want);
	ck_assert_str_eq(e->sse, want);
	ciis_entry_unref(e);
}

static void
assert_get(struct ciis_ring *r, int64_t id, enum ciis_ring_get want)
{
	struct ciis_entry *e = NULL;
	enum ciis_ring_get got;

	if (want == CIIS_RING_FOUND) {
		assert_found(r, id);
		return;
	}
	got = ciis_ring_get(r, id, &e);
	ck_assert_msg(got == want, "get(%lld) = %d, expected %d", (long long)id, (int)got, (int)want);
	ck_assert_ptr_null(e);	/* no reference handed out */
}

START_TEST(test_entry)
{
	struct ciis_entry *e = mk(5), *same;

	ck_assert_int_eq(e->id, 5);
	ck_assert_str_eq(e->type, "issue:created");
	ck_assert_str_eq(e->org_id, "org1");
	ck_assert_int_eq(e->campus_id, 3);
	ck_assert_int_eq(e->building_id, 7);
	ck_assert_int_eq(e->issue_id, 50);
	ck_assert_int_eq(e->created_at, 1005);
	ck_assert_int_eq(e->refs, 1);
	same = ciis_entry_ref(e);
	ck_assert_ptr_eq(same, e);
	ck_assert_int_eq(e->refs, 2);
	ciis_entry_unref(e);
	ck_assert_int_eq(e->refs, 1);
	ciis_entry_unref(e);
	ciis_entry_unref(NULL);
	ciis_ring_free(NULL);
}
END_TEST

START_TEST(test_get_before_after_push)
{
	struct ciis_ring *r = ciis_ring_new(8, 1);
	struct ciis_entry *e = mk(1), *got = NULL;

	ck_assert_int_eq(ciis_ring_last(r), 0);
	assert_get(r, 1, CIIS_RING_NOT_YET);
	assert_get(r, 2, CIIS_RING_NOT_YET);
	assert_get(r, 0, CIIS_RING_GONE);
	ciis_ring_push(r, e);
	ck_assert_int_eq(ciis_ring_last(r), 1);
	ck_assert_int_eq(ciis_ring_get(r, 1, &got), CIIS_RING_FOUND);
	ck_assert_ptr_eq(got, e);
	ck_assert_int_eq(e->refs, 2);	/* the ring's and ours */
	ciis_entry_unref(got);
	ck_assert_int_eq(e->refs, 1);
	assert_get(r, 2, CIIS_RING_NOT_YET);
	assert_get(r, 0, CIIS_RING_GONE);
	ciis_ring_push(r, mk(2));
	ck_assert_int_eq(ciis_ring_last(r), 2);
	assert_found(r, 1);
	assert_found(r, 2);
	assert_get(r, 3, CIIS_RING_NOT_YET);
	ciis_ring_free(r);
}
END_TEST

/* A ring that starts anywhere in the log. */
START_TEST(test_first_id)
{
	struct ciis_ring *r = ciis_ring_new(4, 1000);

	ck_assert_int_eq(ciis_ring_last(r), 999);
	assert_get(r, 999, CIIS_RING_GONE);
	assert_get(r, 1, CIIS_RING_GONE);
	assert_get(r, 1000, CIIS_RING_NOT_YET);
	ciis_ring_push(r, mk(1000));
	ciis_ring_push(r, mk(1001));
	ck_assert_int_eq(ciis_ring_last(r), 1001);
	assert_get(r, 999, CIIS_RING_GONE);
	assert_found(r, 1000);
	assert_found(r, 1001);
	assert_get(r, 1002, CIIS_RING_NOT_YET);
	ciis_ring_free(r);
}
END_TEST

/* Pushing more than the ring holds: the oldest go, the last `slots` stay. */
static const struct {
	size_t slots;
	int64_t first;
	int pushes;
} wraps[] = {
	{ 1, 1, 1 }, { 1, 1, 5 }, { 2, 1, 3 }, { 4, 1, 3 }, { 4, 1, 4 }, { 4, 1, 5 },
	{ 4, 1, 17 }, { 3, 1, 10 }, { 3, 0, 7 }, { 5, 98, 13 }, { 16, 1, 100 }, { 7, 1000000, 50 },
};

START_TEST(test_wrap)
{
	size_t slots = wraps[_i].slots;
	int64_t first = wraps[_i].first, next = first + wraps[_i].pushes, oldest;
	struct ciis_ring *r = ciis_ring_new(slots, first);
	struct ciis_entry **mine = calloc((size_t)wraps[_i].pushes, sizeof *mine);

	ck_assert_ptr_nonnull(mine);
	for (int k = 0; k < wraps[_i].pushes; k++) {
		mine[k] = mk(first + k);
		ciis_ring_push(r, ciis_entry_ref(mine[k]));
		ck_assert_int_eq(ciis_ring_last(r), first + k);
	}
	oldest = next - (int64_t)slots > first ? next - (int64_t)slots : first;
	for (int64_t id = first - 3; id < next + 3; id++) {
		if (id < oldest)
			assert_get(r, id, CIIS_RING_GONE);
		else if (id < next)
			assert_get(r, id, CIIS_RING_FOUND);
		else
			assert_get(r, id, CIIS_RING_NOT_YET);
	}
	/* the ring let go of what it overwrote, and holds the rest */
	for (int k = 0; k < wraps[_i].pushes; k++)
		ck_assert_msg(mine[k]->refs == (first + k >= oldest ? 2 : 1), "entry %lld has %d refs",
		    (long long)(first + k), mine[k]->refs);
	ciis_ring_free(r);
	for (int k = 0; k < wraps[_i].pushes; k++) {
		ck_assert_int_eq(mine[k]->refs, 1);
		ciis_entry_unref(mine[k]);
	}
	free(mine);
}
END_TEST

/* A reader's entry outlives its slot (valgrind / ASan see a use after free
 * or a leak here if the refcounts are wrong). */
START_TEST(test_reader_keeps_entry)
{
	struct ciis_ring *r = ciis_ring_new(2, 1);
	struct ciis_entry *kept = NULL;
	char want[256];

	ciis_ring_push(r, mk(1));
	ck_assert_int_eq(ciis_ring_get(r, 1, &kept), CIIS_RING_FOUND);
	ck_assert_int_eq(kept->refs, 2);
	ciis_ring_push(r, mk(2));
	ciis_ring_push(r, mk(3));	/* overwrites 1's slot */
	ck_assert_int_eq(kept->refs, 1);
	assert_get(r, 1, CIIS_RING_GONE);
	assert_found(r, 2);
	assert_found(r, 3);
	ciis_ring_push(r, mk(4));
	ciis_ring_push(r, mk(5));
	expected_sse(1, want, sizeof want);
	ck_assert_int_eq(kept->id, 1);
	ck_assert_str_eq(kept->sse, want);
	ck_assert_uint_eq(kept->sse_len, strlen(want));
	ciis_ring_free(r);
	/* and the ring's end too */
	ck_assert_str_eq(kept->sse, want);
	ciis_entry_unref(kept);
}
END_TEST

START_TEST(test_reset)
{
	struct ciis_ring *r = ciis_ring_new(4, 1);
	struct ciis_entry *held[3];

	for (int k = 0; k < 3; k++) {
		held[k] = mk(k + 1);
		ciis_ring_push(r, ciis_entry_ref(held[k]));
	}
	ciis_ring_reset(r, 10);
	ck_assert_int_eq(ciis_ring_last(r), 9);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(held[k]->refs, 1);	/* the ring let go */
		ciis_entry_unref(held[k]);
	}
	for (int64_t id = 0; id < 10; id++)
		assert_get(r, id, CIIS_RING_GONE);
	assert_get(r, 10, CIIS_RING_NOT_YET);
	ciis_ring_push(r, mk(10));
	ciis_ring_push(r, mk(11));
	ck_assert_int_eq(ciis_ring_last(r), 11);
	assert_get(r, 9, CIIS_RING_GONE);
	assert_found(r, 10);
	assert_found(r, 11);
	/* back to an earlier point: what was held is forgotten too */
	ciis_ring_reset(r, 2);
	ck_assert_int_eq(ciis_ring_last(r), 1);
	assert_get(r, 1, CIIS_RING_GONE);
	assert_get(r, 2, CIIS_RING_NOT_YET);
	assert_get(r, 10, CIIS_RING_NOT_YET);
	assert_get(r, 11, CIIS_RING_NOT_YET);
	ciis_ring_push(r, mk(2));
	assert_found(r, 2);
	/* reset to where it stands */
	ciis_ring_reset(r, 3);
	ck_assert_int_eq(ciis_ring_last(r), 2);
	assert_get(r, 2, CIIS_RING_GONE);
	assert_get(r, 3, CIIS_RING_NOT_YET);
	ciis_ring_free(r);
}
END_TEST

/* A push whose id is not the next one means the log restarted: the ring
 * starts over from it. */
static const struct {
	int64_t jump;		/* pushed after 1..3 */
} jumps[] = { { 7 }, { 5 }, { 2 }, { 1 }, { 100000 } };

START_TEST(test_push_gap_resets)
{
	struct ciis_ring *r = ciis_ring_new(8, 1);
	struct ciis_entry *held[3];
	int64_t j = jumps[_i].jump;

	for (int k = 0; k < 3; k++) {
		held[k] = mk(k + 1);
		ciis_ring_push(r, ciis_entry_ref(held[k]));
	}
	ciis_ring_push(r, mk(j));
	ck_assert_int_eq(ciis_ring_last(r), j);
	for (int k = 0; k < 3; k++) {
		ck_assert_msg(held[k]->refs == 1, "entry %d still held by the ring after a push of %lld",
		    k + 1, (long long)j);
		ciis_entry_unref(held[k]);
	}
	for (int64_t id = 0; id < j; id++)
		assert_get(r, id, CIIS_RING_GONE);
	assert_found(r, j);
	assert_get(r, j + 1, CIIS_RING_NOT_YET);
	ciis_ring_push(r, mk(j + 1));
	assert_found(r, j);
	assert_found(r, j + 1);
	ck_assert_int_eq(ciis_ring_last(r), j + 1);
	ciis_ring_free(r);
}
END_TEST

/* ---- waiting ---- */

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Nothing comes: back at (not before) the deadline, not long after. */
START_TEST(test_wait_deadline)
{
	struct ciis_ring *r = ciis_ring_new(4, 1);
	int64_t deadline = ciis_monotonic_ms() + 300, back;

	ciis_ring_wait(r, 1, deadline);
	back = ciis_monotonic_ms();
	ck_assert_msg(back >= deadline, "returned %lld ms before the deadline",
	    (long long)(deadline - back));
	ck_assert_msg(back < deadline + 3000, "returned %lld ms after the deadline",
	    (long long)(back - deadline));
	assert_get(r, 1, CIIS_RING_NOT_YET);
	ciis_ring_free(r);
}
END_TEST

/* No waiting for what is there already, nor past a deadline. */
START_TEST(test_wait_no_wait)
{
	struct ciis_ring *r = ciis_ring_new(4, 1);
	int64_t t0;

	ciis_ring_push(r, mk(1));
	ciis_ring_push(r, mk(2));
	t0 = ciis_monotonic_ms();
	ciis_ring_wait(r, 1, t0 + 20000);
	ciis_ring_wait(r, 2, t0 + 20000);
	ck_assert_msg(ciis_monotonic_ms() - t0 < 2000, "waited for a published id");
	t0 = ciis_monotonic_ms();
	ciis_ring_wait(r, 3, t0 - 1);
	ciis_ring_wait(r, 3, t0 - 100000);
	ck_assert_msg(ciis_monotonic_ms() - t0 < 2000, "waited past the deadline");
	ciis_ring_free(r);
}
END_TEST

struct pusher {
	struct ciis_ring *r;
	int64_t id;
	int reset;	/* reset to id instead of pushing it */
	long delay_ms;
};

static void *
pusher_main(void *arg)
{
	struct pusher *p = arg;

	sleep_ms(p->delay_ms);
	if (p->reset) {
		ciis_ring_reset(p->r, p->id);
	} else {
		ciis_ring_push(p->r, mk(p->id));
		ciis_ring_broadcast(p->r);
	}
	return NULL;
}

/* Another thread pushes and broadcasts: the waiter is back long before its
 * deadline (20 s; the test case's timeout is 60 s). */
START_TEST(test_wait_wakes)
{
	struct ciis_ring *r = ciis_ring_new(4, 1);
	struct pusher p = { r, 1, 0, 150 };
	struct ciis_entry *e = NULL;
	pthread_t t;
	int64_t t0 = ciis_monotonic_ms(), deadline = t0 + 20000, took;

	ck_assert_int_eq(pthread_create(&t, NULL, pusher_main, &p), 0);
	/* as a stream does: wait, look, wait again until it is there */
	while (ciis_ring_get(r, 1, &e) == CIIS_RING_NOT_YET && ciis_monotonic_ms() < deadline)
		ciis_ring_wait(r, 1, deadline);
	took = ciis_monotonic_ms() - t0;
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->id, 1);
	ciis_entry_unref(e);
	ck_assert_msg(took < 8000, "woke after %lld ms", (long long)took);
	ciis_ring_free(r);
}
END_TEST

/* A reset wakes waiters too (the stream must learn the log moved). */
START_TEST(test_wait_wakes_on_reset)
{
	struct ciis_ring *r = ciis_ring_new(4, 1);
	struct pusher p = { r, 50, 1, 150 };
	pthread_t t;
	int64_t t0 = ciis_monotonic_ms(), took;

	ck_assert_int_eq(pthread_create(&t, NULL, pusher_main, &p), 0);
	while (ciis_ring_last(r) != 49 && ciis_monotonic_ms() < t0 + 20000)
		ciis_ring_wait(r, 1, t0 + 20000);
	took = ciis_monotonic_ms() - t0;
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(ciis_ring_last(r), 49);
	ck_assert_msg(took < 8000, "woke after %lld ms", (long long)took);
	ciis_ring_free(r);
}
END_TEST

/* Readers in several threads while one thread pushes in batches: every
 * reader sees every id in order, or GONE for what it fell behind on. */
#define STRESS_PUSHES 2000

struct reader {
	struct ciis_ring *r;
	int64_t seen, gone, bad;
};

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	int64_t id = 1, deadline = ciis_monotonic_ms() + 30000;
	struct ciis_entry *e;

	while (id <= STRESS_PUSHES && ciis_monotonic_ms() < deadline) {
		e = NULL;
		switch (ciis_ring_get(rd->r, id, &e)) {
		case CIIS_RING_FOUND:
			if (e->id != id || e->sse == NULL)
				rd->bad++;
			ciis_entry_unref(e);
			rd->seen++;
			id++;
			break;
		case CIIS_RING_GONE:
			rd->gone++;
			id = ciis_ring_last(rd->r);	/* skip ahead, as a reader reading the table would */
			if (id < 1)
				id = 1;
			break;
		case CIIS_RING_NOT_YET:
			ciis_ring_wait(rd->r, id, ciis_monotonic_ms() + 1000);
			break;
		}
	}
	return NULL;
}

START_TEST(test_concurrent_readers)
{
	struct ciis_ring *r = ciis_ring_new(64, 1);
	struct reader rd[3];
	pthread_t t[3];

	for (int k = 0; k < 3; k++) {
		rd[k] = (struct reader){ r, 0, 0, 0 };
		ck_assert_int_eq(pthread_create(&t[k], NULL, reader_main, &rd[k]), 0);
	}
	for (int64_t id = 1; id <= STRESS_PUSHES; id++) {
		ciis_ring_push(r, mk(id));
		if (id % 16 == 0)
			ciis_ring_broadcast(r);
	}
	ciis_ring_broadcast(r);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(pthread_join(t[k], NULL), 0);
		ck_assert_int_eq(rd[k].bad, 0);
		ck_assert_msg(rd[k].seen > 0, "reader %d saw nothing", k);
	}
	ck_assert_int_eq(ciis_ring_last(r), STRESS_PUSHES);
	ciis_ring_free(r);
}
END_TEST

Suite *
ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("slots");

	tcase_add_test(tc, test_entry);
	tcase_add_test(tc, test_get_before_after_push);
	tcase_add_test(tc, test_first_id);
	tcase_add_loop_test(tc, test_wrap, 0, sizeof wraps / sizeof wraps[0]);
	tcase_add_test(tc, test_reader_keeps_entry);
	tcase_add_test(tc, test_reset);
	tcase_add_loop_test(tc, test_push_gap_resets, 0, sizeof jumps / sizeof jumps[0]);
	suite_add_tcase(s, tc);
	tc = tcase_create("wait");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_wait_deadline);
	tcase_add_test(tc, test_wait_no_wait);
	tcase_add_test(tc, test_wait_wakes);
	tcase_add_test(tc, test_wait_wakes_on_reset);
	tcase_add_test(tc, test_concurrent_readers);
	suite_add_tcase(s, tc);
	return s;
}
