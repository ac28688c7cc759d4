/* The HTTP/1.1 connection machine: read, parse, hand complete requests to
 * the handler, write responses (partial writes queued behind EPOLLOUT),
 * keep-alive, hold requests open for long-polling, and lingering close after
 * an unread body so the client still sees our 413. */
#include "relay/http.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/xalloc.h"

#define LINGER_MS 2000
#define READ_CHUNK 16384

enum conn_state {
	C_READ,		/* waiting for (more of) a request */
	C_HELD,		/* a request is open; its response comes later */
	C_CLOSING,	/* flush what is queued, then close */
	C_LINGER,	/* write side shut; discarding input until EOF */
	C_DEAD,
};

struct http_conn {
	struct loop_io io;
	struct http_server *srv;	/* borrowed */
	enum conn_state state;
	int keep_alive;			/* of the current request */
	int discard;			/* body left unread: linger after the response */
	int responded;
	int continued;			/* "100 Continue" sent for the request in c->in */
	int announced;			/* its head went to the handler as partial */
	size_t req_len;			/* bytes of the request being handled */
	struct ciis_buf in;		/* bytes not yet consumed */
	struct ciis_buf out;		/* response bytes from out_off on are unsent */
	size_t out_off;
	struct loop_timer timer;	/* idle or linger */
	void (*on_gone)(void *);	/* holder (C_HELD) or watcher (partial) */
	void *gone_arg;
	struct http_conn *prev, *next;	/* the server's list */
};

struct http_server {
	struct loop *loop;		/* borrowed */
	struct loop_io listen;
	struct loop_timer backoff;	/* out of fds: pause accepting */
	struct http_limits lim;
	http_handler_fn fn;
	void *arg;
	int port;
	struct http_conn *conns;
};

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 426, "Upgrade Required" },
	{ 431, "Request Header Fields Too Large" }, { 501, "Not Implemented" },
	{ 505, "HTTP Version Not Supported" },
};

static const char *
reason(int status)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return ciis_status_reason(status);
}

struct loop *
http_conn_loop(const struct http_conn *c)
{
	return c->srv->loop;
}

static void
conn_free(void *arg)
{
	struct http_conn *c = arg;

	ciis_buf_cleanup(&c->in);
	ciis_buf_cleanup(&c->out);
	free(c);
}

/* Close now; a holder hears of it.  The memory goes after this round. */
static void
conn_die(struct http_conn *c)
{
	struct http_server *s = c->srv;

	if (c->state == C_DEAD)
		return;
	if (c->on_gone != NULL) {
		c->state = C_DEAD;
		c->on_gone(c->gone_arg);
	}
	c->state = C_DEAD;
	loop_timer_cancel(s->loop, &c->timer);
	loop_io_close(s->loop, &c->io);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	loop_defer(s->loop, conn_free, c);
}

static void
watch(struct http_conn *c)
{
	uint32_t ev = EPOLLRDHUP;

	if (c->state != C_CLOSING)
		ev |= EPOLLIN;
	if (c->out_off < c->out.len)
		ev |= EPOLLOUT;
	loop_io_mod(c->srv->loop, &c->io, ev);
}

static void
linger_start(struct http_conn *c)
{
	shutdown(c->io.fd, SHUT_WR);
	c->state = C_LINGER;
	loop_timer_arm(c->srv->loop, &c->timer, LINGER_MS);
	watch(c);
}

/* All queued output written: decide what the connection does next. */
static void
written(struct http_conn *c)
{
	ciis_buf_cleanup(&c->out);	/* idle and held connections keep no buffers */
	c->out_off = 0;
	if (c->state == C_CLOSING && c->discard)
		linger_start(c);
	else if (c->state == C_CLOSING)
		conn_die(c);
	else
		watch(c);
}

static void
flush(struct http_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->io.fd, c->out.data + c->out_off, c->out.len - c->out_off,
		    MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_die(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len)
		written(c);
	else if (c->out.len - c->out_off > c->srv->lim.max_out)
		conn_die(c);	/* a client that never reads holds nobody else up */
	else
		watch(c);
}

static void process(struct http_conn *c);

static void
process_later(void *arg)
{
	struct http_conn *c = arg;

	if (c->state == C_READ)
		process(c);
}

void
http_respond(struct http_conn *c, int status, const char *extra, const char *ctype,
    const void *body, size_t len)
{
	if (c->state == C_DEAD || c->responded)
		return;
	c->responded = 1;
	c->on_gone = NULL;
	if (c->announced)
		c->discard = 1;		/* refused before its body came: skip it */
	ciis_buf_printf(&c->out, "HTTP/1.1 %d %s\r\n", status, reason(status));
	if (ctype != NULL)
		ciis_buf_printf(&c->out, "Content-Type: %s\r\n", ctype);
	ciis_buf_printf(&c->out, "Content-Length: %zu\r\nConnection: %s\r\n", len,
	    c->keep_alive && !c->discard ? "keep-alive" : "close");
	if (extra != NULL)
		ciis_buf_puts(&c->out, extra);
	ciis_buf_append(&c->out, "\r\n", 2);
	if (len > 0)
		ciis_buf_append(&c->out, body, len);
	if (!c->keep_alive || c->discard)
		c->state = C_CLOSING;
	else if (c->state == C_HELD) {
		c->state = C_READ;
		if (c->in.len > 0)	/* pipelined: not from inside someone's callback */
			loop_defer(c->srv->loop, process_later, c);
	}
	if (c->state == C_READ)
		loop_timer_arm(c->srv->loop, &c->timer, c->srv->lim.idle_ms);
	flush(c);
}

void
http_watch(struct http_conn *c, void (*on_gone)(void *), void *arg)
{
	c->on_gone = on_gone;
	c->gone_arg = arg;
}

void
http_hold(struct http_conn *c, void (*on_gone)(void *), void *arg)
{
	c->state = C_HELD;
	c->on_gone = on_gone;
	c->gone_arg = arg;
	loop_timer_cancel(c->srv->loop, &c->timer);
}

int
http_detach(struct http_conn *c, struct ciis_buf *rest)
{
	struct http_server *s = c->srv;
	int fd = loop_io_release(s->loop, &c->io);

	memmove(c->in.data, c->in.data + c->req_len, c->in.len - c->req_len);
	c->in.len -= c->req_len;
	*rest = c->in;		/* sent after the request, ahead of its answer */
	ciis_buf_init(&c->in);
	c->state = C_READ;
	c->on_gone = NULL;
	conn_die(c);
	return fd;
}

/* Hand one complete request to the handler; 1 to go on parsing, 0 to stop. */
static int
dispatch(struct http_conn *c, struct http_req *req, size_t used)
{
	c->responded = 0;
	c->announced = 0;
	c->on_gone = NULL;
	c->req_len = used;
	c->keep_alive = req->keep_alive;
	c->discard = req->too_large;
	c->srv->fn(c, req, c->srv->arg);
	if (c->state == C_DEAD || c->io.fd < 0)
		return 0;	/* closed or detached */
	if (c->state != C_HELD && !c->responded)
		http_respond(c, 500, NULL, "text/plain", "", 0);
	memmove(c->in.data, c->in.data + used, c->in.len - used);
	c->in.len -= used;
	if (c->in.len == 0)
		ciis_buf_cleanup(&c->in);
	return c->state == C_READ;
}

static void
refuse(struct http_conn *c, int status)
{
	c->keep_alive = 0;
	c->discard = 1;
	http_respond(c, status, NULL, "text/plain", reason(status), strlen(reason(status)));
}

/* The head of a request whose body is still coming: tell the handler once
 * (it may refuse now), and say "100 Continue" if the client waits for it. */
static void
announce(struct http_conn *c, struct http_req *req, size_t head)
{
	if (!c->announced) {
		c->announced = 1;
		c->responded = 0;
		c->req_len = head;	/* what http_detach() drops: the body is theirs */
		c->keep_alive = req->keep_alive;
		req->partial = 1;
		c->srv->fn(c, req, c->srv->arg);
		if (c->state == C_DEAD || c->responded)
			return;
	}
	if (req->expect_continue && !c->continued) {
		c->continued = 1;	/* else curl waits a second first */
		ciis_buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		flush(c);
	}
}

/* Parse and dispatch every complete request in c->in. */
static void
process(struct http_conn *c)
{
	const struct http_limits *lim = &c->srv->lim;

	while (c->state == C_READ && c->in.len > 0) {
		struct http_req req;
		int status, head = http_parse_head(c->in.data, c->in.len, lim->max_head, &req, &status);
		size_t used;

		if (head == 0)
			return;
		if (head < 0 || req.chunked) {
			refuse(c, head < 0 ? status : 501);
			return;
		}
		req.too_large = req.content_length > lim->max_body;
		used = (size_t)head + (req.too_large ? 0 : req.content_length);
		if (!req.too_large && c->in.len < used) {
			announce(c, &req, (size_t)head);
			return;		/* body incomplete; bounded by max_body */
		}
		c->continued = 0;
		req.body = c->in.data + head;
		if (req.too_large)
			used = c->in.len;
		if (!dispatch(c, &req, used))
			return;
	}
}

static int
read_some(struct http_conn *c)
{
	char buf[READ_CHUNK];
	size_t cap = c->srv->lim.max_head + c->srv->lim.max_body;

	for (;;) {
		ssize_t n = recv(c->io.fd, buf, sizeof buf, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;	/* EOF or reset: a held poll was aborted */
		if (c->state == C_LINGER)
			continue;
		if (c->in.len + (size_t)n > cap)
			return -1;	/* more than one request may hold */
		ciis_buf_append(&c->in, buf, (size_t)n);
	}
}

static void
on_io(struct loop_io *io, uint32_t events)
{
	struct http_conn *c = LOOP_OWNER(io, struct http_conn, io);

	if (events & EPOLLOUT)
		flush(c);
	if (c->state == C_DEAD)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		if (read_some(c) != 0) {
			conn_die(c);
			return;
		}
		if (c->state == C_READ) {
			loop_timer_arm(c->srv->loop, &c->timer, c->srv->lim.idle_ms);
			process(c);
		}
	}
}

static void
on_timer(struct loop_timer *t)
{
	conn_die(LOOP_OWNER(t, struct http_conn, timer));
}

static void
conn_new(struct http_server *s, int fd)
{
	struct http_conn *c = ciis_xcalloc(1, sizeof *c);
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->srv = s;
	c->io.cb = on_io;
	c->timer.cb = on_timer;
	ciis_buf_init(&c->in);
	ciis_buf_init(&c->out);
	if (loop_io_add(s->loop, &c->io, fd, EPOLLIN | EPOLLRDHUP) != 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	loop_timer_arm(s->loop, &c->timer, s->lim.idle_ms);
}

static void
on_backoff(struct loop_timer *t)
{
	struct http_server *s = LOOP_OWNER(t, struct http_server, backoff);

	loop_io_mod(s->loop, &s->listen, EPOLLIN);
}

static void
on_accept(struct loop_io *io, uint32_t events)
{
	struct http_server *s = LOOP_OWNER(io, struct http_server, listen);

	for (;;) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			conn_new(s, fd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			ciis_log(CIIS_LOG_WARN, "http: accept: %s; pausing", strerror(errno));
			loop_io_mod(s->loop, io, 0);	/* else the listener spins */
			loop_timer_arm(s->loop, &s->backoff, 100);
		}
		return;		/* EAGAIN, or a connection that died in the backlog */
	}
}

static int
bind_listen(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, rc = getaddrinfo(host, port, &hints, &ai);

	if (rc != 0) {
		ciis_errbuf_printf(err, errlen, "%s:%s: %s", host, port, gai_strerror(rc));
		goto out;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    (ai->ai_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 511) != 0) {
		ciis_errbuf_printf(err, errlen, "%s:%s: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	return fd;
}

static int
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

struct http_server *
http_server_new(struct loop *l, const char *host, const char *port, const struct http_limits *lim,
    http_handler_fn fn, void *arg, char *err, size_t errlen)
{
	struct http_server *s;
	int fd = bind_listen(host, port, err, errlen);

	if (fd < 0)
		return NULL;
	s = ciis_xcalloc(1, sizeof *s);
	s->loop = l;
	s->lim = *lim;
	s->fn = fn;
	s->arg = arg;
	s->port = bound_port(fd);
	s->listen.cb = on_accept;
	s->backoff.cb = on_backoff;
	if (loop_io_add(l, &s->listen, fd, EPOLLIN) != 0) {
		ciis_errbuf_printf(err, errlen, "epoll: %s", strerror(errno));
		close(fd);
		free(s);
		return NULL;
	}
	return s;
}

int
http_server_port(const struct http_server *s)
{
	return s->port;
}

void
http_server_free(struct http_server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		conn_die(s->conns);
	loop_timer_cancel(s->loop, &s->backoff);
	loop_io_close(s->loop, &s->listen);
	free(s);
}

void
http_server_stop_listening(struct http_server *s)
{
	loop_timer_cancel(s->loop, &s->backoff);
	loop_io_close(s->loop, &s->listen);
}

int
http_split_listen(const char *arg, char **host, char **port)
{
	const char *colon = strrchr(arg, ':');
	size_t hl;

	if (colon == NULL || colon == arg || colon[1] == '\0')
		return -1;
	hl = (size_t)(colon - arg);
	if (arg[0] == '[' && hl >= 2 && arg[hl - 1] == ']')
		*host = ciis_xstrndup(arg + 1, hl - 2);
	else
		*host = ciis_xstrndup(arg, hl);
	*port = ciis_xstrdup(colon + 1);
	return 0;
}
