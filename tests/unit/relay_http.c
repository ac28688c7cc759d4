/* HTTP request heads: what the relay accepts, and the refusals (with their
 * status) for heads that could be read two ways or are too big. */
#include <string.h>

#include "relay/http.h"
#include "relay_suites.h"

static const struct {
	const char *text;
	int rc;			/* 1: complete, 0: need more, -1: refused */
	int status;
} heads[] = {
	{ "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n", 1, 0 },
	{ "GET / HTTP/1.0\r\n\r\n", 1, 0 },
	{ "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 1, 0 },
	{ "GET / HTTP/1.1\r\nHost: x\r\n", 0, 0 },
	{ "GET / HTTP/1.1\r\n", 0, 0 },
	{ "", 0, 0 },
	{ "GET / HTTP/2.0\r\n\r\n", -1, 505 },
	{ "GET / FTP/1.1\r\n\r\n", -1, 400 },
	{ "GET  / HTTP/1.1\r\n\r\n", -1, 400 },
	{ "GET x HTTP/1.1\r\n\r\n", -1, 400 },
	{ "G(T / HTTP/1.1\r\n\r\n", -1, 400 },
	{ "GET / HTTP/1.1\r\n folded: no\r\n\r\n", -1, 400 },
	{ "GET / HTTP/1.1\r\nNo-Colon\r\n\r\n", -1, 400 },
	{ "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", -1, 400 },
	{ "GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n", -1, 400 },
	{ "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", -1, 400 },
	{ "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -1, 400 },
	{ "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -1, 400 },
	{ "GET / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", 1, 0 },
	{ "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", -1, 400 },
	{ "GET / HTTP/1.1\r\nX: \x01\r\n\r\n", -1, 400 },
};

START_TEST(test_heads)
{
	struct http_req req;
	int status = 0;
	int rc = http_parse_head(heads[_i].text, strlen(heads[_i].text), 8192, &req, &status);

	ck_assert_msg((rc > 0 ? 1 : rc) == heads[_i].rc, "\"%s\": rc %d", heads[_i].text, rc);
	if (rc < 0)
		ck_assert_int_eq(status, heads[_i].status);
}
END_TEST

START_TEST(test_fields)
{
	static const char t[] = "GET /socket.io/?EIO=4&transport=websocket&sid=abc HTTP/1.1\r\n"
	    "Host: h\r\nconnection: keep-alive, Upgrade\r\nUPGRADE: WebSocket\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nrest";
	struct http_req req;
	struct http_str v;
	int status;

	ck_assert_int_eq(http_parse_head(t, sizeof t - 1, 8192, &req, &status), (int)sizeof t - 5);
	ck_assert(http_str_eq(req.method, "GET"));
	ck_assert(http_str_eq(req.path, "/socket.io/"));
	ck_assert(http_str_eq(req.query, "EIO=4&transport=websocket&sid=abc"));
	ck_assert(req.upgrade && req.keep_alive && req.minor == 1);
	ck_assert(http_str_eq(req.ws_key, "dGhlIHNhbXBsZSBub25jZQ=="));
	ck_assert(http_str_eq(req.ws_version, "13"));
	ck_assert(http_query_param(req.query, "transport", &v) && http_str_eq(v, "websocket"));
	ck_assert(http_query_param(req.query, "sid", &v) && http_str_eq(v, "abc"));
	ck_assert(!http_query_param(req.query, "si", &v));
}
END_TEST

START_TEST(test_keep_alive)
{
	static const struct {
		const char *text;
		int keep_alive;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", 1 },
		{ "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct http_req req;
		int status;

		ck_assert_int_gt(http_parse_head(cases[i].text, strlen(cases[i].text), 8192, &req,
		    &status), 0);
		ck_assert_int_eq(req.keep_alive, cases[i].keep_alive);
	}
}
END_TEST

/* A head that does not end within max_head is a 431, however it goes on. */
START_TEST(test_head_limit)
{
	char big[300];
	struct http_req req;
	int status = 0;

	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	ck_assert_int_eq(http_parse_head(big, 100, 256, &req, &status), 0);
	ck_assert_int_eq(http_parse_head(big, sizeof big, 256, &req, &status), -1);
	ck_assert_int_eq(status, 431);
}
END_TEST

START_TEST(test_query_empty_values)
{
	struct http_str q = { "a&b=&c=3", 8 }, v;

	ck_assert(http_query_param(q, "a", &v) && v.n == 0);
	ck_assert(http_query_param(q, "b", &v) && v.n == 0);
	ck_assert(http_query_param(q, "c", &v) && http_str_eq(v, "3"));
	ck_assert(!http_query_param((struct http_str){ "", 0 }, "a", &v));
}
END_TEST

Suite *
relay_http_suite(void)
{
	Suite *s = suite_create("relay_http");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_heads, 0, sizeof heads / sizeof heads[0]);
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_keep_alive);
	tcase_add_test(tc, test_head_limit);
	tcase_add_test(tc, test_query_empty_values);
	suite_add_tcase(s, tc);
	return s;
}
