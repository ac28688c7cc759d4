/* Pagination cursors: every id we encode decodes back, anything we did not
 * make is refused, and the text is safe in a URL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "suites.h"

static const int64_t round_ids[] = {
	1, 2, 9, 10, 11, 99, 100, 255, 256, 999, 1000, 1042, 65535, 65536,
	INT64_C(2147483647), INT64_C(2147483648), INT64_C(4294967296),
	INT64_C(9007199254740993), INT64_C(999999999999999999), INT64_C(1000000000000000000),
	INT64_MAX - 1, INT64_MAX,
};

static const char url_safe[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

START_TEST(test_round_trip)
{
	char c[CIIS_CURSOR_LEN];
	int64_t id = 0;
	size_t n;

	memset(c, 'X', sizeof c);
	ciis_cursor_encode(round_ids[_i], c);
	n = strnlen(c, sizeof c);
	ck_assert_msg(n > 0 && n < CIIS_CURSOR_LEN, "cursor of %lld not terminated in %d bytes",
	    (long long)round_ids[_i], CIIS_CURSOR_LEN);
	ck_assert_msg(strspn(c, url_safe) == n, "cursor \"%s\" is not URL-safe", c);
	ck_assert_int_eq(ciis_cursor_decode(c, &id), 0);
	ck_assert_int_eq(id, round_ids[_i]);
}
END_TEST

/* Every digit count and every base64 tail length (0, 2 and 3 characters). */
START_TEST(test_round_trip_spread)
{
	int64_t v = 1;

	for (int digits = 1; digits <= 19; digits++) {
		for (int64_t id = v; id <= v + 3; id++) {
			char c[CIIS_CURSOR_LEN];
			int64_t got = 0;

			ciis_cursor_encode(id, c);
			ck_assert_msg(strspn(c, url_safe) == strlen(c), "\"%s\" not URL-safe", c);
			ck_assert_msg(ciis_cursor_decode(c, &got) == 0, "\"%s\" (%lld) refused", c,
			    (long long)id);
			ck_assert_int_eq(got, id);
		}
		if (digits < 19)
			v *= 10;
	}
	for (int bit = 0; bit < 63; bit++) {
		int64_t id = (INT64_C(1) << bit) | ((INT64_C(1) << bit) - 1);	/* 2^(bit+1) - 1 */
		char c[CIIS_CURSOR_LEN];
		int64_t got = 0;

		ciis_cursor_encode(id, c);
		ck_assert_int_eq(ciis_cursor_decode(c, &got), 0);
		ck_assert_int_eq(got, id);
	}
}
END_TEST

/* The form is documented (cursor.h): base64url of "c1:<id>", unpadded. */
START_TEST(test_known_form)
{
	char c[CIIS_CURSOR_LEN];

	ciis_cursor_encode(1, c);
	ck_assert_str_eq(c, "YzE6MQ");
	ciis_cursor_encode(INT64_MAX, c);
	ck_assert_str_eq(c, "YzE6OTIyMzM3MjAzNjg1NDc3NTgwNw");
	ck_assert(strcmp(c, "9223372036854775807") != 0);
}
END_TEST

/* Distinct ids, distinct cursors. */
START_TEST(test_distinct)
{
	char a[CIIS_CURSOR_LEN], b[CIIS_CURSOR_LEN];

	for (int64_t id = 1; id < 2000; id++) {
		ciis_cursor_encode(id, a);
		ciis_cursor_encode(id + 1, b);
		ck_assert_str_ne(a, b);
	}
}
END_TEST

static const char *const bad[] = {
	"",
	"!",
	"????",
	"YzE6MQ==",			/* padded */
	"YzE6MQ=",
	"YzE6MQ%3D%3D",
	"YzE6MA",			/* c1:0 */
	"YzE6",				/* c1: */
	"YzE6LTE",			/* c1:-1 */
	"YzE6MDE",			/* c1:01 */
	"YzE6IDE",			/* "c1: 1" */
	"YzE6MXg",			/* c1:1x */
	"YzE6YWJj",			/* c1:abc */
	"YzE6OTIyMzM3MjAzNjg1NDc3NTgwOA",	/* c1:9223372036854775808 */
	"YzE6OTk5OTk5OTk5OTk5OTk5OTk5OTk",	/* c1: and 20 nines */
	"YzE6MQA",			/* "c1:1" and a NUL byte */
	"YzI6MQ",			/* c2:1 */
	"eDE6NQ",			/* x1:5 */
	"YzE7MQ",			/* c1;1 */
	"MQ",				/* 1 */
	"c1:1",				/* the plain text */
	"1",
	"42",
	"YzE6M",			/* length 1 mod 4 */
	"Y",
	"YzE6MQ ",
	" YzE6MQ",
	"YzE6\nMQ",
	"YzE+MQ",			/* standard alphabet */
	"YzE/MQ",
	"YzE6MQ.",
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",	/* 40: too long */
	"YzE6MTExMTExMTExMTExMTExMTExMTExMTExMTExMTEx",	/* c1: and 30 ones */
};

START_TEST(test_reject)
{
	int64_t id = -5;

	ck_assert_msg(ciis_cursor_decode(bad[_i], &id) == -1, "\"%s\" accepted as %lld", bad[_i],
	    (long long)id);
}
END_TEST

/* A long garbage cursor must not overrun the decoder's buffer (valgrind). */
START_TEST(test_reject_huge)
{
	size_t n = 4096;
	char *s = malloc(n + 1);
	int64_t id = 0;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		s[i] = "YzE6MQ"[i % 6];
	s[n] = '\0';
	ck_assert_int_eq(ciis_cursor_decode(s, &id), -1);
	s[CIIS_CURSOR_LEN - 1] = '\0';	/* 39 characters: fits, but is not ours */
	ck_assert_int_eq(ciis_cursor_decode(s, &id), -1);
	free(s);
}
END_TEST

Suite *
cursor_suite(void)
{
	Suite *s = suite_create("cursor");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_round_trip, 0, sizeof round_ids / sizeof round_ids[0]);
	tcase_add_test(tc, test_round_trip_spread);
	tcase_add_test(tc, test_known_form);
	tcase_add_test(tc, test_distinct);
	tcase_add_loop_test(tc, test_reject, 0, sizeof bad / sizeof bad[0]);
	tcase_add_test(tc, test_reject_huge);
	suite_add_tcase(s, tc);
	return s;
}
