/* WebSocket on wslay's frame layer under our loop.  wslay parses and
 * unmasks frame headers and writes ours; messages, control frames, the
 * closing handshake and the send queue are here.  (wslay's event layer would
 * do those too, but it holds a 4 KiB output buffer per connection that its
 * send path never uses — half of what an idle connection costs.)  A frame's
 * header and payload leave in one sendmsg(), and a message is sent as soon
 * as ws_send() queues it; only what the kernel refuses waits for EPOLLOUT. */
#include "relay/ws.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "core/json.h"
#include "core/log.h"
#include "core/xalloc.h"

/* RFC 6455 §7.4.1 close codes we send */
enum {
	WS_PROTOCOL_ERROR = 1002,
	WS_INVALID_DATA = 1007,
	WS_POLICY_VIOLATION = 1008,
	WS_TOO_BIG = 1009,
};

/* A frame waiting to be sent, payload and all. */
struct ws_out {
	struct ws_out *next;
	size_t len;
	uint8_t opcode;
	unsigned char data[];
};

struct ws_queue {
	struct ws_out *head;
	struct ws_out **tail;
};

struct ws_conn {
	struct loop_io io;
	struct loop *loop;		/* borrowed */
	struct ws_set *set;		/* borrowed: lists us */
	struct ws_conn *prev, *next;
	wslay_frame_context_ptr frame;	/* owned */
	struct ws_config cfg;
	const struct ws_handlers *h;	/* borrowed */
	void *arg;
	struct ciis_buf head;		/* our 101, written before any frame */
	size_t head_off;
	struct ciis_buf early;		/* frames read with the HTTP request */
	size_t early_off;
	/* input: the frame being read, and the message it belongs to */
	uint64_t frame_left;		/* its payload still to come */
	uint8_t frame_opcode;
	uint8_t frame_fin;
	int in_frame;
	uint8_t msg_opcode;		/* text or binary; 0: no message open */
	struct ciis_buf msg;		/* a message that came in pieces */
	struct ciis_buf ctl;		/* a control frame that came in pieces */
	/* output: control frames go first, but never into a frame half sent */
	struct ws_queue ctl_q, data_q;
	struct ws_out *cur;		/* being sent */
	size_t cur_off;
	size_t queued;			/* payload bytes of data frames not yet sent */
	uint8_t hdr[14];		/* a header that waits for its payload */
	uint8_t hdr_len;
	struct loop_timer timer;	/* close wait, and the linger */
	struct loop_timer ping;
	int dead, eof, kicked, lingering, slow;
	int would_block, send_failed;	/* what the last recv() or send() met */
	int read_off;			/* input is no longer read: we failed it */
	int close_queued, close_sent, close_recv;
	int heard;			/* a frame came since our last ping */
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

/* ---- the send queue ---- */

static void
queue_init(struct ws_queue *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void
queue_push(struct ws_queue *q, uint8_t opcode, const void *data, size_t len)
{
	struct ws_out *o = ciis_xmalloc(sizeof *o + len);

	o->next = NULL;
	o->len = len;
	o->opcode = opcode;
	if (len > 0)
		memcpy(o->data, data, len);
	*q->tail = o;
	q->tail = &o->next;
}

static struct ws_out *
queue_pop(struct ws_queue *q)
{
	struct ws_out *o = q->head;

	if (o != NULL && (q->head = o->next) == NULL)
		q->tail = &q->head;
	return o;
}

static void
queue_clear(struct ws_queue *q)
{
	struct ws_out *o;

	while ((o = queue_pop(q)) != NULL)
		free(o);
}

static int
is_data(uint8_t opcode)
{
	return opcode == WSLAY_TEXT_FRAME || opcode == WSLAY_BINARY_FRAME;
}

static void
ws_free(void *arg)
{
	struct ws_conn *ws = arg;

	wslay_frame_context_free(ws->frame);
	queue_clear(&ws->ctl_q);
	queue_clear(&ws->data_q);
	free(ws->cur);
	ciis_buf_cleanup(&ws->head);
	ciis_buf_cleanup(&ws->early);
	ciis_buf_cleanup(&ws->msg);
	ciis_buf_cleanup(&ws->ctl);
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

/* wslay's input: what came with the HTTP request first, then the socket.
 * -1 is all wslay hears of EAGAIN, EOF and errors alike; we tell them apart. */
static ssize_t
recv_cb(uint8_t *buf, size_t len, int flags, void *ud)
{
	struct ws_conn *ws = ud;
	ssize_t n;

	(void)flags;
	if (ws->early_off < ws->early.len) {
		n = (ssize_t)(ws->early.len - ws->early_off < len ? ws->early.len - ws->early_off : len);
		memcpy(buf, ws->early.data + ws->early_off, (size_t)n);
		ws->early_off += (size_t)n;
		return n;
	}
	do
		n = recv(ws->io.fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		ws->would_block = 1;
	else if (n <= 0)
		ws->eof = 1;
	return n > 0 ? n : -1;
}

/* wslay's output.  A header with a payload to follow (WSLAY_MSG_MORE) is
 * kept and leaves with the payload in one sendmsg(); whatever the kernel
 * refuses of either is sent from where it stopped on the next call. */
static ssize_t
send_cb(const uint8_t *data, size_t len, int flags, void *ud)
{
	struct ws_conn *ws = ud;
	struct iovec iov[2] = { { ws->hdr, ws->hdr_len }, { (void *)data, len } };
	struct msghdr mh = { .msg_iov = ws->hdr_len > 0 ? iov : iov + 1,
			     .msg_iovlen = ws->hdr_len > 0 ? 2 : 1 };
	ssize_t n;

	if ((flags & WSLAY_MSG_MORE) && ws->hdr_len == 0 && len <= sizeof ws->hdr) {
		memcpy(ws->hdr, data, len);
		ws->hdr_len = (uint8_t)len;
		return (ssize_t)len;
	}
	do
		n = sendmsg(ws->io.fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			ws->send_failed = 1;
		return -1;
	}
	if ((size_t)n < ws->hdr_len) {
		memmove(ws->hdr, ws->hdr + n, ws->hdr_len - (size_t)n);
		ws->hdr_len -= (uint8_t)n;
		return -1;
	}
	n -= ws->hdr_len;
	ws->hdr_len = 0;
	return n > 0 ? n : -1;
}

static int
want_read(const struct ws_conn *ws)
{
	return !ws->close_recv && !ws->read_off;
}

static int
want_write(const struct ws_conn *ws)
{
	return !ws->close_sent &&
	    (ws->cur != NULL || ws->ctl_q.head != NULL || ws->data_q.head != NULL);
}

/* A frame is out: after a close frame, nothing else is sent. */
static void
sent(struct ws_conn *ws)
{
	struct ws_out *o = ws->cur;

	ws->cur = NULL;
	if (is_data(o->opcode))
		ws->queued -= o->len;
	if (o->opcode == WSLAY_CONNECTION_CLOSE) {
		ws->close_sent = 1;
		queue_clear(&ws->ctl_q);
		queue_clear(&ws->data_q);
		ws->queued = 0;
	}
	free(o);
}

/* Send until the queues are empty or the kernel takes no more; -1 when the
 * connection failed. */
static int
send_queued(struct ws_conn *ws)
{
	while (!ws->close_sent) {
		struct wslay_frame_iocb out = { .fin = 1 };
		ssize_t n;

		if (ws->cur == NULL) {
			if ((ws->cur = queue_pop(&ws->ctl_q)) == NULL &&
			    (ws->cur = queue_pop(&ws->data_q)) == NULL)
				return 0;
			ws->cur_off = 0;
		}
		out.opcode = ws->cur->opcode;
		out.payload_length = ws->cur->len;
		out.data = ws->cur->data + ws->cur_off;
		out.data_length = ws->cur->len - ws->cur_off;
		n = wslay_frame_send(ws->frame, &out);
		if (n == WSLAY_ERR_WANT_WRITE)
			return ws->send_failed ? -1 : 0;
		if (n < 0)
			return -1;
		ws->cur_off += (size_t)n;
		if (ws->cur_off == ws->cur->len)
			sent(ws);
	}
	return 0;
}

static void
push_close(struct ws_queue *q, uint16_t code, const char *reason, size_t len)
{
	unsigned char p[125];

	if (code == 0) {
		queue_push(q, WSLAY_CONNECTION_CLOSE, NULL, 0);
		return;
	}
	p[0] = (unsigned char)(code >> 8);
	p[1] = (unsigned char)code;
	len = len < sizeof p - 2 ? len : sizeof p - 2;
	if (len > 0)
		memcpy(p + 2, reason, len);
	queue_push(q, WSLAY_CONNECTION_CLOSE, p, 2 + len);
}

static void kick(struct ws_conn *ws);

/* The peer broke the protocol: close with `code` ahead of anything queued,
 * read no more, and give it close_wait_ms to take the close. */
static void
fail(struct ws_conn *ws, uint16_t code)
{
	ws->read_off = 1;
	if (ws->close_queued)
		return;
	ws->close_queued = 1;
	push_close(&ws->ctl_q, code, NULL, 0);
	loop_timer_arm(ws->loop, &ws->timer, ws->cfg.close_wait_ms);
	kick(ws);
}

static int
valid_close_code(unsigned code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	    (code >= 3000 && code <= 4999);
}

/* The peer's close: answered with its own code (none if it gave none). */
static void
on_peer_close(struct ws_conn *ws, const unsigned char *p, size_t len)
{
	unsigned code = len >= 2 ? (unsigned)p[0] << 8 | p[1] : 0;

	ws->close_recv = 1;
	if (len == 1 || (len >= 2 && (!valid_close_code(code) ||
	    ciis_utf8_len((const char *)p + 2, len - 2) < 0))) {
		fail(ws, WS_PROTOCOL_ERROR);
		return;
	}
	if (ws->close_queued)
		return;		/* the answer to ours */
	ws->close_queued = 1;
	push_close(&ws->ctl_q, (uint16_t)code, NULL, 0);
	kick(ws);
}

static void
on_control(struct ws_conn *ws, uint8_t opcode, const unsigned char *p, size_t len)
{
	if (opcode == WSLAY_CONNECTION_CLOSE)
		on_peer_close(ws, p, len);
	else if (opcode == WSLAY_PING && !ws->close_queued) {
		queue_push(&ws->ctl_q, WSLAY_PONG, p, len);
		kick(ws);
	}
	/* a pong only tells us the peer is there (heard) */
}

static void
deliver(struct ws_conn *ws, uint8_t opcode, const char *data, size_t len)
{
	int binary = opcode == WSLAY_BINARY_FRAME;

	if (!binary && ciis_utf8_len(data, len) < 0) {
		fail(ws, WS_INVALID_DATA);
		return;
	}
	/* after our close nothing more is taken in */
	if (ws->h != NULL && !ws->close_queued)
		ws->h->on_message(ws, binary, data, len, ws->arg);
}

/* A frame starts: is it one the peer may send now? */
static int
frame_start(struct ws_conn *ws, const struct wslay_frame_iocb *in)
{
	uint8_t op = in->opcode;

	ws->heard = 1;
	if (!in->mask || in->rsv != 0)
		return WS_PROTOCOL_ERROR;	/* clients mask; no extensions */
	if (wslay_is_ctrl_frame(op)) {
		if (op != WSLAY_CONNECTION_CLOSE && op != WSLAY_PING && op != WSLAY_PONG)
			return WS_PROTOCOL_ERROR;
	} else if (op == WSLAY_CONTINUATION_FRAME) {
		if (ws->msg_opcode == 0)
			return WS_PROTOCOL_ERROR;
	} else if (!is_data(op) || ws->msg_opcode != 0) {
		return WS_PROTOCOL_ERROR;
	}
	if (!wslay_is_ctrl_frame(op) &&
	    in->payload_length > ws->cfg.max_message - ws->msg.len)
		return WS_TOO_BIG;
	if (is_data(op))
		ws->msg_opcode = op;
	ws->in_frame = 1;
	ws->frame_opcode = op;
	ws->frame_fin = in->fin;
	ws->frame_left = in->payload_length;
	return 0;
}

/* One piece of a frame's payload, as wslay hands it over. */
static void
on_chunk(struct ws_conn *ws, const struct wslay_frame_iocb *in)
{
	const char *p = (const char *)in->data;
	int code;

	if (!ws->in_frame && (code = frame_start(ws, in)) != 0) {
		fail(ws, (uint16_t)code);
		return;
	}
	ws->frame_left -= in->data_length;
	if (wslay_is_ctrl_frame(ws->frame_opcode)) {
		if (ws->frame_left > 0 || ws->ctl.len > 0)
			ciis_buf_append(&ws->ctl, p, in->data_length);
		if (ws->frame_left > 0)
			return;
		ws->in_frame = 0;
		if (ws->ctl.len > 0)
			on_control(ws, ws->frame_opcode, (const unsigned char *)ws->ctl.data, ws->ctl.len);
		else
			on_control(ws, ws->frame_opcode, (const unsigned char *)p, in->data_length);
		ciis_buf_cleanup(&ws->ctl);
		return;
	}
	/* a whole message in one piece is handed on from wslay's buffer */
	if (ws->frame_fin && ws->frame_left == 0 && ws->msg.len == 0) {
		uint8_t op = ws->msg_opcode;	/* a continuation's is its message's */

		ws->in_frame = 0;
		ws->msg_opcode = 0;
		deliver(ws, op, p, in->data_length);
		return;
	}
	ciis_buf_append(&ws->msg, p, in->data_length);
	if (ws->frame_left > 0)
		return;
	ws->in_frame = 0;
	if (!ws->frame_fin)
		return;
	{
		uint8_t op = ws->msg_opcode;
		struct ciis_buf m = ws->msg;

		ws->msg_opcode = 0;
		ciis_buf_init(&ws->msg);	/* an idle connection keeps no buffer */
		deliver(ws, op, m.data != NULL ? m.data : "", m.len);
		ciis_buf_cleanup(&m);
	}
}

/* Read frames until the socket has no more, the peer is gone, or input is
 * shut (a close, or a frame refused). */
static void
receive(struct ws_conn *ws)
{
	while (!ws->dead && !ws->eof && want_read(ws)) {
		struct wslay_frame_iocb in;
		ssize_t n;

		ws->would_block = 0;
		n = wslay_frame_recv(ws->frame, &in);
		if (n == WSLAY_ERR_WANT_READ) {
			if (ws->would_block)
				return;
			continue;	/* a short read (or EOF, which ends the loop) */
		}
		if (n < 0) {
			fail(ws, WS_PROTOCOL_ERROR);
			return;
		}
		on_chunk(ws, &in);
	}
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
	if (ws->head.data != NULL) {
		ciis_buf_cleanup(&ws->head);	/* an idle connection keeps nothing extra */
		ws->head_off = 0;
	}
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
	if (ws->send_failed || (head_done && send_queued(ws) != 0)) {
		die(ws);
		return;
	}
	if (ws->eof && !want_write(ws)) {
		die(ws);	/* the peer is gone */
		return;
	}
	if (!want_read(ws) && !want_write(ws)) {
		linger(ws);	/* closing handshake done, or our close is out */
		return;
	}
	if (want_read(ws))
		ev |= EPOLLIN | EPOLLRDHUP;
	if (!head_done || want_write(ws))
		ev |= EPOLLOUT;
	loop_io_mod(ws->loop, &ws->io, ev);
}

static void
on_io(struct loop_io *io, uint32_t events)
{
	struct ws_conn *ws = LOOP_OWNER(io, struct ws_conn, io);

	if (ws->lingering) {
		drain_linger(ws);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		receive(ws);
	if (ws->eof && want_read(ws)) {
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
	if (ws->early_off < ws->early.len)
		receive(ws);
	if (ws->early_off == ws->early.len && ws->early.data != NULL) {
		ciis_buf_cleanup(&ws->early);
		ws->early_off = 0;
	}
	if (ws->eof && want_read(ws)) {
		die(ws);
		return;
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

	if (!ws->heard) {
		ciis_log(CIIS_LOG_INFO, "ws: no pong within %d ms: dropped", ws->cfg.ping_ms);
		ws_abort(ws);
		return;
	}
	ws->heard = 0;
	if (!ws->close_queued) {
		queue_push(&ws->ctl_q, WSLAY_PING, NULL, 0);
		kick(ws);
	}
	loop_timer_arm(ws->loop, &ws->ping, ws->cfg.ping_ms);
}

static const struct wslay_frame_callbacks callbacks = {
	.recv_callback = recv_cb,
	.send_callback = send_cb,
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
	queue_init(&ws->ctl_q);
	queue_init(&ws->data_q);
	ciis_buf_init(&ws->msg);
	ciis_buf_init(&ws->ctl);
	ciis_buf_init(&ws->head);
	ciis_buf_printf(&ws->head, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	if (wslay_frame_context_init(&ws->frame, &callbacks, ws) != 0)
		abort();	/* out of memory: as ciis_xmalloc does */
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
	if (ws->head.len == 0 && want_write(ws) && send_queued(ws) != 0)
		ws->send_failed = 1;
}

/* The peer does not read what we send: a close 1008 "slow_consumer" goes
 * ahead of the queued messages and nothing more is queued; the peer sees it
 * if it reads within close_wait_ms, else the connection is dropped then.
 * Nobody else waits on it. */
static void
slow_consumer(struct ws_conn *ws)
{
	static const char reason[] = "slow_consumer";

	ws->slow = 1;
	ciis_log(CIIS_LOG_INFO, "ws: slow_consumer: %zu bytes unsent, closing", ws->queued);
	if (!ws->close_queued) {
		ws->close_queued = 1;
		push_close(&ws->ctl_q, WS_POLICY_VIOLATION, reason, sizeof reason - 1);
	}
	loop_timer_arm(ws->loop, &ws->timer, ws->cfg.close_wait_ms);
	kick(ws);
}

int
ws_send(struct ws_conn *ws, int binary, const void *data, size_t len)
{
	if (ws->dead || ws->lingering || ws->slow || ws->close_queued)
		return -1;
	if (ws->queued + len > ws->cfg.max_queue)
		write_now(ws);
	if (ws->queued + len > ws->cfg.max_queue) {
		slow_consumer(ws);
		return -1;
	}
	queue_push(&ws->data_q, binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME, data, len);
	ws->queued += len;
	/* out at once: the first member of a large room does not wait for the
	 * last one's message to be built, and our copy is freed here */
	write_now(ws);
	kick(ws);
	return 0;
}

void
ws_close(struct ws_conn *ws, uint16_t code)
{
	if (ws->dead || ws->lingering || ws->slow || ws->close_queued)
		return;
	/* behind the messages queued before it: they are sent first */
	ws->close_queued = 1;
	push_close(&ws->data_q, code, NULL, 0);
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
