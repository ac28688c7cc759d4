/* FastCGI records without libfcgi (src/api/fcgi_rec.h): FCGI_STDOUT
 * framing with padding and splitting, the end of a response, and reading
 * the web server's records for an abort, however the bytes are cut. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/fcgi_rec.h"
#include "core/buf.h"
#include "api_suites.h"

/* The records in b: each one's type, request id, content and padding
 * length, checked as a reader would, and the content concatenated. */
struct rec {
	int type, id;
	size_t len, pad;
};

static size_t
parse(const struct ciis_buf *b, struct rec *out, size_t max, struct ciis_buf *content)
{
	const unsigned char *p = (const unsigned char *)b->data;
	size_t at = 0, n = 0;

	while (at < b->len) {
		ck_assert_uint_ge(b->len - at, 8);
		ck_assert_int_eq(p[at], 1);			/* FCGI_VERSION_1 */
		ck_assert_uint_lt(n, max);
		out[n].type = p[at + 1];
		out[n].id = p[at + 2] << 8 | p[at + 3];
		out[n].len = (size_t)(p[at + 4] << 8 | p[at + 5]);
		out[n].pad = p[at + 6];
		ck_assert_int_eq(p[at + 7], 0);
		ck_assert_uint_eq((out[n].len + out[n].pad) % 8, 0);
		ck_assert_uint_le(at + 8 + out[n].len + out[n].pad, b->len);
		if (content != NULL)
			ciis_buf_append(content, p + at + 8, out[n].len);
		for (size_t i = 0; i < out[n].pad; i++)
			ck_assert_int_eq(p[at + 8 + out[n].len + i], 0);
		at += 8 + out[n].len + out[n].pad;
		n++;
	}
	return n;
}

static const struct {
	size_t len, records, last_len, last_pad;
} stdout_cases[] = {
	{ 1, 1, 1, 7 },
	{ 7, 1, 7, 1 },
	{ 8, 1, 8, 0 },
	{ 13, 1, 13, 3 },
	{ 65528, 1, 65528, 0 },			/* API_FCGI_MAX_CONTENT */
	{ 65529, 2, 1, 7 },
	{ 65535, 2, 7, 1 },
	{ 200000, 4, 200000 - 3 * 65528, 8 - (200000 - 3 * 65528) % 8 },
};

START_TEST(test_stdout)
{
	size_t len = stdout_cases[_i].len;
	char *msg = malloc(len);
	struct ciis_buf b, content;
	struct rec r[8];
	size_t n;

	for (size_t i = 0; i < len; i++)
		msg[i] = (char)('a' + i % 26);
	ciis_buf_init(&b);
	ciis_buf_init(&content);
	api_fcgi_stdout(&b, 0x1234, msg, len);
	n = parse(&b, r, 8, &content);
	ck_assert_uint_eq(n, stdout_cases[_i].records);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(r[i].type, 6);		/* FCGI_STDOUT */
		ck_assert_int_eq(r[i].id, 0x1234);
		ck_assert_uint_gt(r[i].len, 0);		/* an empty one would end the stream */
		if (i + 1 < n)
			ck_assert_uint_eq(r[i].len, API_FCGI_MAX_CONTENT);
	}
	ck_assert_uint_eq(r[n - 1].len, stdout_cases[_i].last_len);
	ck_assert_uint_eq(r[n - 1].pad, stdout_cases[_i].last_pad % 8);
	ck_assert_uint_eq(content.len, len);
	ck_assert_mem_eq(content.data, msg, len);
	ciis_buf_cleanup(&b);
	ciis_buf_cleanup(&content);
	free(msg);
}
END_TEST

START_TEST(test_stdout_empty)
{
	struct ciis_buf b;

	ciis_buf_init(&b);
	api_fcgi_stdout(&b, 1, "", 0);
	ck_assert_uint_eq(b.len, 0);
	ciis_buf_cleanup(&b);
}
END_TEST

START_TEST(test_end)
{
	static const unsigned char want[] = {
		1, 6, 0, 3, 0, 0, 0, 0,			/* empty FCGI_STDOUT: end of stream */
		1, 3, 0, 3, 0, 8, 0, 0,			/* FCGI_END_REQUEST, 8 bytes */
		0, 0, 1, 2, 0, 0, 0, 0,			/* appStatus 258, FCGI_REQUEST_COMPLETE */
	};
	struct ciis_buf b;

	ciis_buf_init(&b);
	api_fcgi_stdout(&b, 3, "x", 1);
	ciis_buf_reset(&b);
	api_fcgi_end(&b, 3, 258);
	ck_assert_uint_eq(b.len, sizeof want);
	ck_assert_mem_eq(b.data, want, sizeof want);
	ciis_buf_cleanup(&b);
}
END_TEST

/* What a web server may still send after the request, then an abort. */
static const unsigned char after_request[] = {
	1, 5, 0, 1, 0, 0, 0, 0,				/* empty FCGI_STDIN */
	1, 5, 0, 1, 0, 3, 5, 0, 'a', 'b', 'c', 0, 0, 0, 0, 0,	/* stdin content, padded */
	1, 9, 0, 0, 0, 2, 6, 0, 'x', 'y', 0, 0, 0, 0, 0, 0,	/* a management record */
	1, 2, 0, 9, 0, 0, 0, 0,				/* abort of another request */
	1, 4, 0, 1, 0, 1, 7, 0, 2, 0, 0, 0, 0, 0, 0, 0,	/* FCGI_PARAMS with 2 = ABORT as content */
};
static const unsigned char abort_rec[] = { 1, 2, 0, 1, 0, 0, 0, 0 };

/* Feed all of p in pieces of `step` bytes; the first non-MORE answer. */
static enum api_fcgi_feed
feed_in_steps(struct api_fcgi_reader *r, int id, const unsigned char *p, size_t n, size_t step)
{
	for (size_t at = 0; at < n; at += step) {
		size_t k = n - at < step ? n - at : step;
		enum api_fcgi_feed f = api_fcgi_feed(r, id, p + at, k);

		if (f != API_FCGI_MORE)
			return f;
	}
	return API_FCGI_MORE;
}

START_TEST(test_feed_steps)
{
	size_t step = (size_t)_i + 1;
	unsigned char all[sizeof after_request + sizeof abort_rec];
	struct api_fcgi_reader r;

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(feed_in_steps(&r, 1, after_request, sizeof after_request, step), API_FCGI_MORE);
	ck_assert_int_eq(feed_in_steps(&r, 1, abort_rec, sizeof abort_rec, step), API_FCGI_ABORTED);
	memcpy(all, after_request, sizeof after_request);
	memcpy(all + sizeof after_request, abort_rec, sizeof abort_rec);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(feed_in_steps(&r, 1, all, sizeof all, step), API_FCGI_ABORTED);
}
END_TEST

START_TEST(test_feed_garbled)
{
	static const unsigned char http[] = "GET / HTTP/1.1\r\n";
	struct api_fcgi_reader r;

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(api_fcgi_feed(&r, 1, http, sizeof http - 1), API_FCGI_GARBLED);
}
END_TEST

START_TEST(test_feed_empty)
{
	struct api_fcgi_reader r;

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(api_fcgi_feed(&r, 1, NULL, 0), API_FCGI_MORE);
	ck_assert_uint_eq(r.nhead, 0);
	ck_assert_uint_eq(r.skip, 0);
}
END_TEST

Suite *
fcgi_suite(void)
{
	Suite *s = suite_create("api_fcgi");
	TCase *tc = tcase_create("records");

	tcase_add_loop_test(tc, test_stdout, 0, (int)(sizeof stdout_cases / sizeof stdout_cases[0]));
	tcase_add_test(tc, test_stdout_empty);
	tcase_add_test(tc, test_end);
	tcase_add_loop_test(tc, test_feed_steps, 0, 24);
	tcase_add_test(tc, test_feed_garbled);
	tcase_add_test(tc, test_feed_empty);
	suite_add_tcase(s, tc);
	return s;
}
