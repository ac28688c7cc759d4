/* The WebSocket opening handshake: RFC 6455's own example key, and which
 * requests are refused with which status. */
#include <string.h>

#include "relay/ws.h"
#include "relay_suites.h"

START_TEST(test_accept_key)
{
	char out[WS_ACCEPT_LEN + 1];

	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);	/* RFC 6455 §1.3 */
	ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

static const struct {
	const char *head;
	int status;
} handshakes[] = {
	{ "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 0 },
	{ "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426 },
	{ "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	  "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400 },
	{ "GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400 },
};

START_TEST(test_check)
{
	struct http_req req;
	int status;

	ck_assert_int_gt(http_parse_head(handshakes[_i].head, strlen(handshakes[_i].head), 8192,
	    &req, &status), 0);
	ck_assert_int_eq(ws_check(&req), handshakes[_i].status);
}
END_TEST

Suite *
relay_ws_suite(void)
{
	Suite *s = suite_create("relay_ws");
	TCase *tc = tcase_create("handshake");

	tcase_add_test(tc, test_accept_key);
	tcase_add_loop_test(tc, test_check, 0, sizeof handshakes / sizeof handshakes[0]);
	suite_add_tcase(s, tc);
	return s;
}
