/* The WebSocket layer: the opening handshake (RFC 6455's own example key,
 * which requests are refused with which status), and framing against an
 * echo server on loopback driven with raw frames — fragments, control
 * frames between them, input split anywhere, every protocol error with its
 * close code, the closing handshake, a peer that reads slowly and one that
 * does not read at all. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "relay/loop.h"
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

/* ---- framing, against an echo server on its own loop thread ---- */

#define MAX_MESSAGE 100000
#define MAX_QUEUE (256 * 1024)

enum { OP_CONT = 0, OP_TEXT = 1, OP_BIN = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

static struct loop *srv_loop;
static struct http_server *srv;
static struct ws_set srv_set;
static pthread_t srv_thread;
static int srv_port;

static void
echo_message(struct ws_conn *ws, int binary, const char *data, size_t len, void *arg)
{
	(void)arg;
	ws_send(ws, binary, data, len);
}

static void
echo_closed(struct ws_conn *ws, void *arg)
{
	(void)ws;
	(void)arg;
}

static const struct ws_handlers echo = { echo_message, echo_closed };

static void
echo_handle(struct http_conn *c, const struct http_req *req, void *arg)
{
	(void)arg;
	if (ws_check(req) != 0)
		http_respond(c, 400, NULL, "text/plain", "", 0);
	else
		ws_accept(&srv_set, c, req, &echo, NULL);
}

static void *
serve(void *arg)
{
	loop_run(arg);
	return NULL;
}

static void
stop_server(void *arg)
{
	(void)arg;
	ws_set_abort_all(&srv_set);
	loop_stop(srv_loop);
}

static void
echo_setup(void)
{
	static const struct http_limits lim = { 8192, 8192, 65536, 5000 };
	char err[256];

	memset(&srv_set, 0, sizeof srv_set);
	srv_set.cfg = (struct ws_config){ MAX_MESSAGE, MAX_QUEUE, 500, 0 };
	srv_loop = loop_new();
	ck_assert_ptr_nonnull(srv_loop);
	srv = http_server_new(srv_loop, "127.0.0.1", "0", &lim, echo_handle, NULL, err, sizeof err);
	ck_assert_msg(srv != NULL, "%s", err);
	srv_port = http_server_port(srv);
	ck_assert_int_eq(pthread_create(&srv_thread, NULL, serve, srv_loop), 0);
}

static void
echo_teardown(void)
{
	loop_post(srv_loop, stop_server, NULL);
	pthread_join(srv_thread, NULL);
	http_server_free(srv);
	loop_free(srv_loop);
}

/* A client socket past the opening handshake; rcvbuf > 0 makes it small. */
static int
client_open(int rcvbuf)
{
	static const char req[] = "GET /x HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)srv_port) };
	struct timeval tv = { 3, 0 };
	char resp[512];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
	/* byte by byte: nothing past the head is taken */
	while (got < 4 || memcmp(resp + got - 4, "\r\n\r\n", 4) != 0) {
		ck_assert_uint_lt(got, sizeof resp);
		ck_assert_int_eq(recv(fd, resp + got, 1, 0), 1);
		got++;
	}
	ck_assert_msg(strncmp(resp, "HTTP/1.1 101 ", 13) == 0, "%.*s", (int)got, resp);
	return fd;
}

/* One frame as a client sends it (masked unless told not to). */
static size_t
frame(unsigned char *out, int fin, int rsv, int op, const void *data, size_t len, int mask)
{
	static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	size_t n = 0;

	out[n++] = (unsigned char)((fin ? 0x80 : 0) | (rsv << 4) | op);
	if (len < 126) {
		out[n++] = (unsigned char)((mask ? 0x80 : 0) | len);
	} else if (len < 65536) {
		out[n++] = (unsigned char)((mask ? 0x80 : 0) | 126);
		out[n++] = (unsigned char)(len >> 8);
		out[n++] = (unsigned char)len;
	} else {
		out[n++] = (unsigned char)((mask ? 0x80 : 0) | 127);
		for (int i = 7; i >= 0; i--)
			out[n++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	if (mask) {
		memcpy(out + n, key, 4);
		n += 4;
	}
	for (size_t i = 0; i < len; i++)
		out[n + i] = ((const unsigned char *)data)[i] ^ (mask ? key[i % 4] : 0);
	return n + len;
}

static void
send_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t n = send(fd, c, len, MSG_NOSIGNAL);

		ck_assert_int_gt(n, 0);
		c += n;
		len -= (size_t)n;
	}
}

static void
send_frame(int fd, int fin, int op, const void *data, size_t len)
{
	unsigned char *buf = malloc(len + 14);

	send_all(fd, buf, frame(buf, fin, 0, op, data, len, 1));
	free(buf);
}

static int
recv_n(int fd, void *p, size_t len)
{
	char *c = p;

	while (len > 0) {
		ssize_t n = recv(fd, c, len, 0);

		if (n <= 0)
			return -1;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

struct rframe {
	int fin, op;
	size_t len;
	unsigned char *data;	/* malloc'd, NUL-terminated */
};

/* The server's next frame (never masked); -1 at EOF or after 3 s. */
static int
read_frame(int fd, struct rframe *f)
{
	unsigned char h[8];
	uint64_t len;

	if (recv_n(fd, h, 2) != 0)
		return -1;
	ck_assert_int_eq(h[1] & 0x80, 0);
	f->fin = h[0] >> 7;
	f->op = h[0] & 0x0f;
	len = h[1] & 0x7f;
	if (len == 126) {
		ck_assert_int_eq(recv_n(fd, h, 2), 0);
		len = (uint64_t)h[0] << 8 | h[1];
	} else if (len == 127) {
		ck_assert_int_eq(recv_n(fd, h, 8), 0);
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | h[i];
	}
	f->len = (size_t)len;
	f->data = malloc(f->len + 1);
	ck_assert_int_eq(recv_n(fd, f->data, f->len), 0);
	f->data[f->len] = 0;
	return 0;
}

/* The next frame must be a close: its code (0: none); the connection must
 * end right after it. */
static int
expect_close(int fd)
{
	struct rframe f;
	int code;
	char c;

	ck_assert_int_eq(read_frame(fd, &f), 0);
	ck_assert_msg(f.op == OP_CLOSE, "a frame of opcode %d instead of a close", f.op);
	code = f.len >= 2 ? f.data[0] << 8 | f.data[1] : 0;
	free(f.data);
	ck_assert_int_eq(recv(fd, &c, 1, 0), 0);	/* EOF, not a timeout */
	return code;
}

static void
expect_message(int fd, int op, const void *data, size_t len)
{
	struct rframe f;

	ck_assert_int_eq(read_frame(fd, &f), 0);
	ck_assert_int_eq(f.fin, 1);
	ck_assert_int_eq(f.op, op);
	ck_assert_uint_eq(f.len, len);
	ck_assert(memcmp(f.data, data, len) == 0);
	free(f.data);
}

START_TEST(test_echo)
{
	int fd = client_open(0);
	char *big = malloc(70000);

	for (size_t i = 0; i < 70000; i++)
		big[i] = (char)('a' + i % 26);
	send_frame(fd, 1, OP_TEXT, "hello", 5);
	expect_message(fd, OP_TEXT, "hello", 5);
	send_frame(fd, 1, OP_BIN, "\0\1\2", 3);
	expect_message(fd, OP_BIN, "\0\1\2", 3);
	send_frame(fd, 1, OP_TEXT, "", 0);
	expect_message(fd, OP_TEXT, "", 0);
	send_frame(fd, 1, OP_TEXT, big, 70000);	/* 64-bit length, many reads */
	expect_message(fd, OP_TEXT, big, 70000);
	send_frame(fd, 1, OP_CLOSE, "\3\350bye", 5);	/* 1000 */
	ck_assert_int_eq(expect_close(fd), 1000);
	close(fd);
	free(big);
}
END_TEST

/* Input split at every byte: headers, mask keys and payloads in pieces. */
START_TEST(test_split_input)
{
	unsigned char buf[600];
	size_t n = frame(buf, 0, 0, OP_TEXT, "h\xc3", 2, 1);
	int fd = client_open(0);

	n += frame(buf + n, 1, 0, OP_CONT, "\xa9llo", 4, 1);
	n += frame(buf + n, 1, 0, OP_TEXT, "x", 1, 1);
	for (size_t i = 0; i < n; i++) {
		send_all(fd, buf + i, 1);
		usleep(1000);
	}
	expect_message(fd, OP_TEXT, "h\xc3\xa9llo", 6);	/* UTF-8 split across frames */
	expect_message(fd, OP_TEXT, "x", 1);
	close(fd);
}
END_TEST

/* Control frames between fragments; the message keeps its first opcode. */
START_TEST(test_fragments)
{
	int fd = client_open(0);
	struct rframe f;

	send_frame(fd, 0, OP_TEXT, "Hel", 3);
	send_frame(fd, 1, OP_PING, "p1", 2);
	send_frame(fd, 1, OP_PONG, "", 0);
	send_frame(fd, 0, OP_CONT, "", 0);
	send_frame(fd, 1, OP_CONT, "lo", 2);
	ck_assert_int_eq(read_frame(fd, &f), 0);
	ck_assert_int_eq(f.op, OP_PONG);
	ck_assert_str_eq((char *)f.data, "p1");
	free(f.data);
	expect_message(fd, OP_TEXT, "Hello", 5);
	/* binary, empty first piece, the rest in the last one */
	send_frame(fd, 0, OP_BIN, "", 0);
	send_frame(fd, 1, OP_CONT, "\xff\xfe", 2);
	expect_message(fd, OP_BIN, "\xff\xfe", 2);
	send_frame(fd, 1, OP_CLOSE, "", 0);
	ck_assert_int_eq(expect_close(fd), 0);	/* answered with no code, as it came */
	close(fd);
}
END_TEST

static const struct {
	const char *what;
	int fin, rsv, op, mask;
	const char *data;
	size_t len;
	int code;
} refused[] = {
	{ "unmasked", 1, 0, OP_TEXT, 0, "a", 1, 1002 },
	{ "rsv1 without an extension", 1, 4, OP_TEXT, 1, "a", 1, 1002 },
	{ "reserved opcode 3", 1, 0, 3, 1, "a", 1, 1002 },
	{ "reserved control opcode 11", 1, 0, 11, 1, "", 0, 1002 },
	{ "continuation with no message", 1, 0, OP_CONT, 1, "a", 1, 1002 },
	{ "fragmented ping", 0, 0, OP_PING, 1, "", 0, 1002 },
	{ "ping of 126 bytes", 1, 0, OP_PING, 1, NULL, 126, 1002 },
	{ "close with a 1-byte body", 1, 0, OP_CLOSE, 1, "\3", 1, 1002 },
	{ "close code 1005", 1, 0, OP_CLOSE, 1, "\3\355", 2, 1002 },
	{ "close code 999", 1, 0, OP_CLOSE, 1, "\3\347", 2, 1002 },
	{ "close reason not UTF-8", 1, 0, OP_CLOSE, 1, "\3\350\xff", 3, 1002 },
	{ "text not UTF-8", 1, 0, OP_TEXT, 1, "a\xc0\xaf", 3, 1007 },
	{ "text cut inside a character", 1, 0, OP_TEXT, 1, "\xe2\x82", 2, 1007 },
	{ "one frame over the limit", 1, 0, OP_BIN, 1, NULL, MAX_MESSAGE + 1, 1009 },
};

START_TEST(test_refused)
{
	unsigned char *buf = malloc(MAX_MESSAGE + 64);
	unsigned char *data = calloc(1, MAX_MESSAGE + 1);
	int fd = client_open(0);
	size_t n;

	if (refused[_i].data != NULL)
		memcpy(data, refused[_i].data, refused[_i].len);
	n = frame(buf, refused[_i].fin, refused[_i].rsv, refused[_i].op, data, refused[_i].len,
	    refused[_i].mask);
	send(fd, buf, n, MSG_NOSIGNAL);	/* the server may stop reading midway */
	ck_assert_msg(expect_close(fd) == refused[_i].code, "%s", refused[_i].what);
	close(fd);
	free(buf);
	free(data);
}
END_TEST

/* Pieces that are each under the limit but not together; a new message
 * inside an open one. */
START_TEST(test_refused_fragments)
{
	char *half = calloc(1, MAX_MESSAGE / 2 + 1);
	int fd = client_open(0);

	send_frame(fd, 0, OP_BIN, half, MAX_MESSAGE / 2);
	send_frame(fd, 0, OP_CONT, half, MAX_MESSAGE / 2);
	send_frame(fd, 1, OP_CONT, "x", 1);
	ck_assert_int_eq(expect_close(fd), 1009);
	close(fd);
	fd = client_open(0);
	send_frame(fd, 0, OP_TEXT, "a", 1);
	send_frame(fd, 1, OP_TEXT, "b", 1);
	ck_assert_int_eq(expect_close(fd), 1002);
	close(fd);
	free(half);
}
END_TEST

/* A peer that reads slowly gets every message whole and in order, however
 * the kernel cuts what the server writes. */
START_TEST(test_slow_reader)
{
	enum { N = 6, LEN = 60000 };
	char *m = malloc(LEN);
	int fd = client_open(4096);

	for (int k = 0; k < N; k++) {
		memset(m, 'a' + k, LEN);
		send_frame(fd, 1, OP_BIN, m, LEN);
	}
	usleep(200 * 1000);	/* the server's writes fill both buffers */
	for (int k = 0; k < N; k++) {
		memset(m, 'a' + k, LEN);
		expect_message(fd, OP_BIN, m, LEN);
	}
	close(fd);
	free(m);
}
END_TEST

/* A peer that never reads: past max_queue it gets close 1008
 * "slow_consumer" — ahead of what is still queued — and is let go. */
START_TEST(test_slow_consumer)
{
	enum { LEN = 90000 };
	char *m = calloc(1, LEN);
	int fd = client_open(4096);
	struct rframe f;
	int got_close = 0;

	/* more than the kernel's buffers (which grow to a few MiB) and max_queue */
	for (int k = 0; k < 100; k++)
		send_frame(fd, 1, OP_BIN, m, LEN);
	while (!got_close && read_frame(fd, &f) == 0) {
		if (f.op == OP_CLOSE) {
			got_close = 1;
			ck_assert_uint_ge(f.len, 2);
			ck_assert_int_eq(f.data[0] << 8 | f.data[1], 1008);
			ck_assert_str_eq((char *)f.data + 2, "slow_consumer");
		} else {
			ck_assert_int_eq(f.op, OP_BIN);
			ck_assert_uint_eq(f.len, LEN);
		}
		free(f.data);
	}
	ck_assert_msg(got_close, "no close frame");
	close(fd);
	free(m);
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
	tc = tcase_create("framing");
	tcase_add_checked_fixture(tc, echo_setup, echo_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_echo);
	tcase_add_test(tc, test_split_input);
	tcase_add_test(tc, test_fragments);
	tcase_add_loop_test(tc, test_refused, 0, sizeof refused / sizeof refused[0]);
	tcase_add_test(tc, test_refused_fragments);
	tcase_add_test(tc, test_slow_reader);
	tcase_add_test(tc, test_slow_consumer);
	suite_add_tcase(s, tc);
	return s;
}
