/* wslay under our loop.  Every send is batched to the end of the loop round
 * (kick), so that no callback of ours runs inside a caller's ws_send(). */
#include "relay/ws.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "core/json.h"
#include "core/log.h"
#include "core/xalloc.h"

struct ws_conn {
	struct loop_io io;
	struct loop *loop;		/* borrowed */
	struct ws_set *set;		/* borrowed: lists us */
	struct ws_conn *prev, *next;
	wslay_event_context_ptr ctx;	/* owned */
	struct ws_config cfg;
	const struct ws_handlers *h;	/* borrowed */
	void *arg;
	struct ciis_buf head;		/* our 101, written before any frame */
	size_t head_off;
	struct ciis_buf early;		/* frames read with the HTTP request */
	size_t early_off;
	struct loop_timer timer;	/* close wait, and the linger */
	struct loop_timer ping;
	int dead, eof, kicked, lingering, slow;
	int heard;			/* a frame came since our last ping */
	int in_recv;			/* inside wslay_event_recv(): send later */
	uint16_t close_code;		/* a close waiting for the queued messages */
};

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void
ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
	unsigned char md[SHA_DIGEST_LENGTH];
	char *text = ciis_xmalloc(len + sizeof ws_guid);

	memcpy(text, key, len);
	memcpy(text + len, ws_guid, sizeof ws_guid - 1);
	if (EVP_Digest(text, len + sizeof ws_guid - 1, md, NULL, EVP_sha1(), NULL) != 1)
		abort();	/* SHA-1 is always there */
	EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
	free(text);
}

int
ws_check(const struct http_req *req)
{
	if (!http_str_eq(req->method, "GET") || !req->upgrade || req->minor != 1)
		return 400;
	if (!http_str_eq(req->ws_version, "13"))
		return 426;
	/* base64 of 16 bytes: 22 characters and "==" */
	if (req->ws_key.n != 24 || req->ws_key.p[22] != '=' || req->ws_key.p[23] != '=')
		return 400;
	return 0;
}

static void
ws_free(void *arg)
{
	struct ws_conn *ws = arg;

	wslay_event_context_free(ws->ctx);
	ciis_buf_cleanup(&ws->head);
	ciis_buf_cleanup(&ws->early);
	free(ws);
}

/* on_close, once. */
static void
tell_owner(struct ws_conn *ws)
{
	const struct ws_handlers *h = ws->h;

	ws->h = NULL;
	if (h != NULL && h->on_close != NULL)
		h->on_close(ws, ws->arg);
}

static void
die(struct ws_conn *ws)
{
	if (ws->dead)
		return;
	ws->dead = 1;
	if (ws->prev != NULL)
		ws->prev->next = ws->next;
	else
		ws->set->head = ws->next;
	if (ws->next != NULL)
		ws->next->prev = ws->prev;
	ws->set->count--;
	loop_timer_cancel(ws->loop, &ws->timer);
	loop_timer_cancel(ws->loop, &ws->ping);
	loop_io_close(ws->loop, &ws->io);
	tell_owner(ws);
	loop_defer(ws->loop, ws_free, ws);
}

/* Our side is done but the peer's is not: send FIN and read (and drop)
 * until its EOF or close_wait_ms, so that what it still sends — the rest
 * of an oversize frame — is not answered with a reset that would lose our
 * close frame on its way.  The owner hears of the end now. */
static void
linger(struct ws_conn *ws)
{
	ws->lingering = 1;
	shutdown(ws->io.fd, SHUT_WR);
	loop_timer_cancel(ws->loop, &ws->ping);
	loop_timer_arm(ws->loop, &ws->timer, ws->cfg.close_wait_ms);
	loop_io_mod(ws->loop, &ws->io, EPOLLIN | EPOLLRDHUP);
	tell_owner(ws);
}

static void
drain_linger(struct ws_conn *ws)
{
	char sink[4096];
	ssize_t n;

	while ((n = recv(ws->io.fd, sink, sizeof sink, 0)) > 0 || (n < 0 && errno == EINTR))
		;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		die(ws);
}

static ssize_t
recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
	struct ws_conn *ws = ud;
	ssize_t n;

	if (ws->early_off < ws->early.len) {
		n = (ssize_t)(ws->early.len - ws->early_off < len ? ws->early.len - ws->early_off : len);
		memcpy(buf, ws->early.data + ws->early_off, (size_t)n);
		ws->early_off += (size_t)n;
		return n;
	}
	do
		n = recv(ws->io.fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (n <= 0) {
		ws->eof = 1;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static ssize_t
send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct ws_conn *ws = ud;
	ssize_t n;

	do
		n = send(ws->io.fd, data, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK
			? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return n;
}

static void
on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m, void *ud)
{
	struct ws_conn *ws = ud;
	int binary = m->opcode == WSLAY_BINARY_FRAME;

	ws->heard = 1;
	if (ws->dead || ws->h == NULL || (m->opcode != WSLAY_TEXT_FRAME && !binary))
		return;		/* control frames: wslay answers them */
	if (!binary && ciis_utf8_len((const char *)m->msg, m->msg_length) < 0) {
		wslay_event_queue_close(ctx, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, NULL, 0);
		return;
	}
	/* an empty message comes as NULL: hand on "" so nobody memcpy()s NULL */
	ws->h->on_message(ws, binary, m->msg ? (const char *)m->msg : "", m->msg_length, ws->arg);
}

/* Write our 101 head; 1 when it is all out. */
static int
write_head(struct ws_conn *ws)
{
	while (ws->head_off < ws->head.len) {
		ssize_t n = send(ws->io.fd, ws->head.data + ws->head_off,
		    ws->head.len - ws->head_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			die(ws);
			return 0;
		}
		ws->head_off += (size_t)n;
	}
	if (ws->head.data != NULL)
		ciis_buf_cleanup(&ws->head);	/* an idle connection keeps nothing extra */
	return 1;
}

/* Send what can be sent, then watch for what is still wanted. */
static void
update(struct ws_conn *ws)
{
	uint32_t ev = 0;
	int head_done;

	if (ws->dead)
		return;
	head_done = write_head(ws);
	if (ws->dead)
		return;
	if (head_done && wslay_event_send(ws->ctx) != 0) {
		die(ws);
		return;
	}
	if (head_done && ws->close_code != 0 && wslay_event_get_queued_msg_count(ws->ctx) == 0) {
		wslay_event_queue_close(ws->ctx, ws->close_code, NULL, 0);
		ws->close_code = 0;
		if (wslay_event_send(ws->ctx) != 0) {
			die(ws);
			return;
		}
	}
	if (ws->eof && !wslay_event_want_write(ws->ctx)) {
		die(ws);	/* the peer is gone */
		return;
	}
	if (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx)) {
		linger(ws);	/* closing handshake done, or our close is out */
		return;
	}
	if (wslay_event_want_read(ws->ctx))
		ev |= EPOLLIN | EPOLLRDHUP;
	if (!head_done || wslay_event_want_write(ws->ctx))
		ev |= EPOLLOUT;
	loop_io_mod(ws->loop, &ws->io, ev);
}

static int
receive(struct ws_conn *ws)
{
	int rc;

	ws->in_recv = 1;
	rc = wslay_event_recv(ws->ctx);
	ws->in_recv = 0;
	return rc;
}

static void
on_io(struct loop_io *io, uint32_t events)
{
	struct ws_conn *ws = LOOP_OWNER(io, struct ws_conn, io);

	if (ws->lingering) {
		drain_linger(ws);
		return;
	}
	if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && receive(ws) != 0) {
		die(ws);
		return;
	}
	if (ws->eof && wslay_event_want_read(ws->ctx)) {
		die(ws);	/* EOF without a close frame */
		return;
	}
	update(ws);
}

static void
pump(void *arg)
{
	struct ws_conn *ws = arg;

	ws->kicked = 0;
	if (ws->dead || ws->lingering)
		return;
	if (ws->early_off < ws->early.len && receive(ws) != 0) {
		die(ws);
		return;
	}
	if (ws->early_off == ws->early.len && ws->early.data != NULL) {
		ciis_buf_cleanup(&ws->early);
		ws->early_off = 0;
	}
	update(ws);
}

static void
kick(struct ws_conn *ws)
{
	if (!ws->kicked && !ws->dead && !ws->lingering) {
		ws->kicked = 1;
		loop_defer(ws->loop, pump, ws);
	}
}

static void
on_close_wait(struct loop_timer *t)
{
	die(LOOP_OWNER(t, struct ws_conn, timer));
}

/* Every ping_ms: a peer that sent nothing (not even the pong) since the
 * last ping is gone; else ping it again. */
static void
on_ping(struct loop_timer *t)
{
	struct ws_conn *ws = LOOP_OWNER(t, struct ws_conn, ping);
	struct wslay_event_msg m = { WSLAY_PING, NULL, 0 };

	if (!ws->heard) {
		ciis_log(CIIS_LOG_INFO, "ws: no pong within %d ms: dropped", ws->cfg.ping_ms);
		ws_abort(ws);
		return;
	}
	ws->heard = 0;
	if (wslay_event_queue_msg(ws->ctx, &m) == 0)
		kick(ws);
	loop_timer_arm(ws->loop, &ws->ping, ws->cfg.ping_ms);
}

static const struct wslay_event_callbacks callbacks = {
	.recv_callback = recv_cb,
	.send_callback = send_cb,
	.on_msg_recv_callback = on_msg,
};

struct ws_conn *
ws_accept(struct ws_set *set, struct http_conn *c, const struct http_req *req,
    const struct ws_handlers *h, void *arg)
{
	struct ws_conn *ws = ciis_xcalloc(1, sizeof *ws);
	char accept[WS_ACCEPT_LEN + 1];
	int fd;

	ws_accept_key(req->ws_key.p, req->ws_key.n, accept);
	ws->loop = http_conn_loop(c);
	ws->cfg = set->cfg;
	ws->set = set;
	ws->next = set->head;
	if (set->head != NULL)
		set->head->prev = ws;
	set->head = ws;
	set->count++;
	ws->h = h;
	ws->arg = arg;
	ws->io.cb = on_io;
	ws->timer.cb = on_close_wait;
	ws->ping.cb = on_ping;
	ws->heard = 1;
	ciis_buf_init(&ws->head);
	ciis_buf_printf(&ws->head, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	if (wslay_event_context_server_init(&ws->ctx, &callbacks, ws) != 0)
		abort();	/* WSLAY_ERR_NOMEM: as ciis_xmalloc does */
	wslay_event_config_set_max_recv_msg_length(ws->ctx, ws->cfg.max_message);
	fd = http_detach(c, &ws->early);	/* req is gone from here on */
	if (loop_io_add(ws->loop, &ws->io, fd, EPOLLIN | EPOLLRDHUP | EPOLLOUT) != 0)
		close(fd);	/* io.fd stays -1: the first write fails, on_close follows */
	if (ws->cfg.ping_ms > 0)
		loop_timer_arm(ws->loop, &ws->ping, ws->cfg.ping_ms);
	kick(ws);
	return ws;
}

void
ws_set_handlers(struct ws_conn *ws, const struct ws_handlers *h, void *arg)
{
	ws->h = h;
	ws->arg = arg;
}

/* Hand the kernel what it takes now: only what it refuses counts as unsent
 * (a burst of events in one loop round is not a slow peer).  A failure is
 * left for the next update() to find, so that no callback runs here. */
static void
write_now(struct ws_conn *ws)
{
	if (ws->head_off >= ws->head.len && wslay_event_want_write(ws->ctx) &&
	    wslay_event_send(ws->ctx) != 0)
		kick(ws);
}

/* The peer does not read what we send: a close 1008 "slow_consumer" goes
 * ahead of the queued messages (wslay sends control frames first) and
 * nothing more is queued; the peer sees it if it reads within close_wait_ms,
 * else the connection is dropped then.  Nobody else waits on it. */
static void
slow_consumer(struct ws_conn *ws)
{
	static const char reason[] = "slow_consumer";

	ws->slow = 1;
	ciis_log(CIIS_LOG_INFO, "ws: slow_consumer: %zu bytes unsent, closing",
	    wslay_event_get_queued_msg_length(ws->ctx));
	wslay_event_queue_close(ws->ctx, WSLAY_CODE_POLICY_VIOLATION, (const uint8_t *)reason,
	    sizeof reason - 1);
	ws->close_code = 0;
	loop_timer_arm(ws->loop, &ws->timer, ws->cfg.close_wait_ms);
	kick(ws);
}

int
ws_send(struct ws_conn *ws, int binary, const void *data, size_t len)
{
	struct wslay_event_msg m = { binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME, data, len };

	if (ws->dead || ws->lingering || ws->slow || wslay_event_get_close_sent(ws->ctx))
		return -1;
	if (wslay_event_get_queued_msg_length(ws->ctx) + len > ws->cfg.max_queue)
		write_now(ws);
	if (wslay_event_get_queued_msg_length(ws->ctx) + len > ws->cfg.max_queue) {
		slow_consumer(ws);
		return -1;
	}
	if (wslay_event_queue_msg(ws->ctx, &m) != 0)
		return -1;
	/* out at once, unless we are inside wslay (an answer to what it is
	 * reading): the first member of a large room does not wait for the
	 * last one's message to be built, and wslay's copy is freed here */
	if (!ws->in_recv)
		write_now(ws);
	kick(ws);
	return 0;
}

void
ws_close(struct ws_conn *ws, uint16_t code)
{
	if (ws->dead || ws->lingering || ws->slow)
		return;
	/* wslay sends control frames first: a close queued now would overtake
	 * the messages before it, so it waits for them (update) */
	if (wslay_event_get_queued_msg_count(ws->ctx) > 0 || ws->head_off < ws->head.len)
		ws->close_code = code ? code : 1000;
	else
		wslay_event_queue_close(ws->ctx, code, NULL, 0);
	loop_timer_arm(ws->loop, &ws->timer, ws->cfg.close_wait_ms);
	kick(ws);
}

static void
abort_now(void *arg)
{
	die(arg);
}

void
ws_abort(struct ws_conn *ws)
{
	if (ws->dead)
		return;
	loop_io_close(ws->loop, &ws->io);
	ws->eof = 1;
	loop_defer(ws->loop, abort_now, ws);	/* on_close from the loop, not inside our caller */
}

void
ws_set_abort_all(struct ws_set *set)
{
	while (set->head != NULL)
		die(set->head);
}
