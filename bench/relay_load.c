/* relay_load: hold N Socket.IO clients of a relay on 127.0.0.1 and time the
 * delivery of `issue:created` events to every one of them.
 *
 * One thread, one epoll set, non-blocking sockets, loopback only, libc
 * only; every socket is bound to the next free port of ip_local_port_range
 * (read_port_range() says why).  Each client opens `GET /socket.io/?EIO=4&transport=websocket`
 * straight away (no polling first, a fixed Sec-WebSocket-Key), waits for
 * the Engine.IO open packet, sends `40{"token":…}` (token i % T of the token
 * file), then `421["subscribe:campus",{"campusId":…}]`, and counts as held
 * once ack 1 says `"ok":true`.  It answers Engine.IO pings (`2` → `3`) and
 * WebSocket pings, masks every frame it sends, and reassembles fragments.
 * At most -c clients are opening at a time, at most -R started per second;
 * one that is not held within -O seconds is given up.  Failures are counted
 * by kind and the run goes on.
 *
 * Once every client is held (or failed) it holds them -H seconds, then
 * triggers -k events, -i ms (+ 0..-j ms) apart, each by one HTTP/1.1 POST on its own
 * connection to 127.0.0.1:-q:
 *   -m ciis: POST /api/issues (title "relay-bench-<seq>", bearer -a, building
 *            -b) to ciis-api; the 201 is the commit;
 *   -m node: POST /emit?room=campus:<id> to bench/node-relay.mjs with the
 *            payload of -F (its "relay-bench-TEMPLATE" title replaced), which
 *            that server answers 200 and then broadcasts.
 * For every delivery of those events (the title gives the sequence) it keeps
 * the receive time; per event, the figure is the last delivery against the
 * moment the POST's status line came back.  It stops when every held client
 * has every event, -w s after the last answer or at the -d deadline, then
 * resets the connections (SO_LINGER 0, so no TIME_WAIT is left for the next
 * run) and prints key=value lines.  With -P PID it samples that server's
 * VmRSS before the first client, every -s held, once all are open, after the
 * hold and at the end; -S FILE copies its /proc/PID/smaps at the end.
 *
 * Exit status: 0 when every client was held to the end and got every event
 * once; 1 otherwise (the summary says what failed); 2 on bad usage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load_util.h"

#define MAX_CONNS 60000
#define MAX_CREATES 10000
#define MAX_FRAME (16u << 20)
#define TITLE_PREFIX "relay-bench-"
#define TEMPLATE_TITLE TITLE_PREFIX "TEMPLATE"
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="	/* RFC 6455's sample: fixed is fine for a client */
#define NOTE_MAX 256			/* first_error, first_drop */
#define HEAD_MAX 16384			/* the longest 101 head we wait for */

enum kind { K_WS, K_TRIG };
/* a client's states, in order; S_LIVE = held */
enum state { S_CONNECT, S_SEND, S_HEAD, S_OPEN, S_SIOCONN, S_SUB, S_LIVE, S_CLOSED, S_NSTATES };
static const char *const state_names[S_NSTATES] = { "connect", "request", "101",
	"eio_open", "sio_connect", "subscribe_ack", "live", "closed" };
/* why a connection ended */
enum why { W_US, W_CONNECT, W_STATUS, W_EOF, W_RESET, W_WS_CLOSE, W_EIO_CLOSE, W_SIO_DISC,
	W_REFUSED, W_SUB_FAIL, W_TIMEOUT, W_PROTO, W_NWHY };
static const char *const why_names[W_NWHY] = { "us", "connect", "http_status", "eof", "reset",
	"ws_close", "eio_close", "sio_disconnect", "refused", "subscribe_failed", "timeout",
	"protocol" };
enum phase { PH_OPEN, PH_HOLD, PH_CREATE, PH_WAIT, PH_CLOSE, PH_DONE };

struct conn {
	int fd;
	unsigned char kind;
	unsigned char state;
	unsigned char msg_op;		/* opcode of the fragmented message in msg */
	unsigned char held_end;		/* held until we closed it at the end */
	int idx;			/* client number, or trigger seq */
	char *in;			/* owned: bytes not parsed yet (head or partial frame) */
	uint32_t in_len, in_cap;
	char *msg;			/* owned: fragments of a message */
	uint32_t msg_len, msg_cap;
	char *out;			/* owned: bytes send() did not take */
	uint32_t out_len, out_off;
	int ncreated, last_seq;
	unsigned char *seen;		/* owned: bitmap of the event seqs delivered */
	long long t_start_ms;
	int status;			/* HTTP status of the 101 / the trigger's answer */
};

static struct {
	int port, trig_port, n, conc, rate, hold_s, creates, interval_ms, wait_s, deadline_s;
	int open_timeout_s, step, pid, close_rate, jitter_ms;
	const char *tokens_file, *mode, *post_token, *building, *campus, *template_file;
	const char *out_file, *smaps_file;
} opt = {
	.conc = 64, .rate = 2000, .hold_s = 10, .interval_ms = 300, .wait_s = 10,
	.deadline_s = 600, .open_timeout_s = 30, .step = 1000, .mode = "ciis",
};

static char **tokens;
static size_t ntokens;
static char *tmpl;			/* -F: the node payload, split at the title */
static size_t tmpl_pre, tmpl_post_off;
static struct conn *conns, *trigs;
static int ep;
static struct sockaddr_in dst, trig_dst;
static int port_lo, port_hi, port_next;	/* our source ports; 0: the kernel's */

/* counters */
static int started, inflight, live_now, live_max, failed_open, dropped;
static int why_open[W_NWHY], why_drop[W_NWHY], timeout_in[S_NSTATES];
static char first_error[NOTE_MAX], first_drop[NOTE_MAX];
static long long eio_pings, ws_pings, other_events, foreign, duplicates, out_of_seq;
static long long bytes_in, frames_in;
static char other_event_name[64];
static int trig_sent, trig_ok, trig_failed, trig_done;
static long long trig_sent_us[MAX_CREATES], trig_resp_us[MAX_CREATES];
static long long ev_ts_ms[MAX_CREATES], first_us[MAX_CREATES], last_us[MAX_CREATES];
static int ndeliv[MAX_CREATES];
static int *del_seq;
static long long *del_us;
static size_t nlat, lat_cap;
static uint32_t rnd = 2463534242u;

/* Keeps the first message of its kind: where is first_error or first_drop. */
static void
note(char *where, const char *fmt, ...)
{
	va_list ap;

	if (where[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(where, NOTE_MAX, fmt, ap);
	va_end(ap);
}

/* ---- /proc sampling ---- */

static long rss_before = -1, rss_open = -1, rss_hold = -1, rss_end = -1, rss_step1 = -1;
static int n_step1, n_open, n_hold;
static double cpu_open = -1, cpu_hold = -1, cpu_wait0 = -1, cpu_wait1 = -1;
static double self_wait0 = -1, self_wait1 = -1, user_wait0 = -1, user_wait1 = -1;

/* One `rss` line; the named samples are kept for the summary. */
static long
sample(const char *label)
{
	long rss, thr;
	double cpu;

	if (opt.pid <= 0)
		return -1;
	load_proc_status(opt.pid, &rss, &thr);
	cpu = load_proc_cpu(opt.pid);
	printf("rss label=%s held=%d server_rss_kb=%ld server_threads=%ld server_cpu_s=%.2f "
	    "self_cpu_s=%.2f load1=%.2f t=%.3f\n", label, live_now, rss, thr, cpu, load_self_cpu(),
	    load_avg1(), (load_mono_ms() - load_t0_ms()) / 1000.0);
	fflush(stdout);
	if (strcmp(label, "before") == 0)
		rss_before = rss;
	else if (strcmp(label, "open") == 0) {
		rss_open = rss;
		n_open = live_now;
		cpu_open = cpu;
	} else if (strcmp(label, "hold") == 0) {
		rss_hold = rss;
		n_hold = live_now;
		cpu_hold = cpu;
	} else if (strcmp(label, "end") == 0)
		rss_end = rss;
	else if (rss_step1 < 0) {
		rss_step1 = rss;
		n_step1 = live_now;
	}
	return rss;
}

/* ---- input files ---- */

static void
load_template(void)
{
	FILE *f = fopen(opt.template_file, "r");
	size_t n = 0, cap = 0, got;
	char *t;

	if (f == NULL) {
		fprintf(stderr, "relay_load: %s: %s\n", opt.template_file, strerror(errno));
		exit(2);
	}
	do {
		if (n + 4096 > cap)
			tmpl = load_xrealloc(tmpl, cap = n + 65536);
		got = fread(tmpl + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		fprintf(stderr, "relay_load: %s: %s\n", opt.template_file, strerror(errno));
		exit(2);
	}
	fclose(f);
	while (n > 0 && isspace((unsigned char)tmpl[n - 1]))
		n--;
	tmpl[n] = '\0';
	if ((t = strstr(tmpl, TEMPLATE_TITLE)) == NULL) {
		fprintf(stderr, "relay_load: %s: no \"%s\" in it\n", opt.template_file, TEMPLATE_TITLE);
		exit(2);
	}
	tmpl_pre = (size_t)(t - tmpl);
	tmpl_post_off = tmpl_pre + strlen(TEMPLATE_TITLE);
}

/* ---- sockets ---- */

static void
ep_set(struct conn *c, int op, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = c };

	if (epoll_ctl(ep, op, c->fd, &e) != 0) {
		perror("relay_load: epoll_ctl");
		exit(1);
	}
}

/* Linux's connect() tries the even ports of ip_local_port_range first and
 * takes an odd one only after scanning every even one: past ~14,000 of our
 * connections each connect() costs a scan of all of them (the opening rate
 * falls to 250/s and our CPU goes to 100 %).  So every socket is bound to
 * the next free port of that range ourselves. */
static void
read_port_range(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f == NULL || fscanf(f, "%d %d", &port_lo, &port_hi) != 2 || port_lo < 1 ||
	    port_hi > 65535 || port_lo > port_hi) {
		fprintf(stderr, "relay_load: warning: no ip_local_port_range; connect() picks the ports\n");
		port_lo = port_hi = 0;
	}
	if (f != NULL)
		fclose(f);
	port_next = port_lo;
}

/* 0, or -1 when no port of the range is free (after trying each once). */
static int
bind_port(int fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	for (int tries = port_hi - port_lo + 1; tries > 0; tries--) {
		a.sin_port = htons((uint16_t)port_next);
		port_next = port_next == port_hi ? port_lo : port_next + 1;
		if (bind(fd, (const struct sockaddr *)&a, sizeof a) == 0)
			return 0;
		if (errno != EADDRINUSE)	/* in use by anyone, TIME_WAIT included */
			return -1;
	}
	errno = EADDRNOTAVAIL;
	return -1;
}

/* A non-blocking connect to `to`, watched for its completion; -1 (c stays
 * closed, first_error says why) when it could not even start. */
static int
start_conn(struct conn *c, const struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	c->t_start_ms = load_mono_ms();
	c->state = S_CLOSED;
	if (fd < 0) {
		note(first_error, "socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
	    (port_lo > 0 && bind_port(fd) != 0) ||
	    (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0 && errno != EINPROGRESS)) {
		note(first_error, "TCP_NODELAY, bind or connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->state = S_CONNECT;
	ep_set(c, EPOLL_CTL_ADD, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
	return 0;
}

static void
free_bufs(struct conn *c)
{
	free(c->in);
	free(c->msg);
	free(c->out);
	c->in = c->msg = c->out = NULL;
	c->in_len = c->in_cap = c->msg_len = c->msg_cap = c->out_len = c->out_off = 0;
}

/* Ends a connection and counts why.  A client of ours closes with a reset:
 * the next run finds no TIME_WAIT ports. */
static void
finish_conn(struct conn *c, enum why why)
{
	if (c->state == S_CLOSED)
		return;
	if (why == W_US) {
		struct linger l = { 1, 0 };

		if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0)
			note(first_error, "SO_LINGER (%d): %s: its port stays in TIME_WAIT", c->idx,
			    strerror(errno));
	}
	close(c->fd);			/* which also takes it out of the epoll set */
	c->fd = -1;
	free_bufs(c);
	if (c->kind == K_TRIG) {
		c->state = S_CLOSED;
		trig_done++;
		if (c->status / 100 == 2)
			trig_ok++;
		else {
			trig_failed++;
			note(first_error, "trigger %d: status %d (%s)", c->idx, c->status, why_names[why]);
		}
		return;
	}
	if (c->state == S_LIVE) {
		live_now--;
		if (why == W_US)
			c->held_end = 1;
		else {
			dropped++;
			why_drop[why]++;
			note(first_drop, "client %d dropped after %lld ms: %s", c->idx,
			    load_mono_ms() - c->t_start_ms, why_names[why]);
		}
	} else {
		inflight--;
		failed_open++;
		why_open[why]++;
		if (why == W_TIMEOUT)
			timeout_in[c->state]++;
	}
	c->state = S_CLOSED;
}

/* A client broke the protocol: noted, closed, -1. */
static int
proto_error(struct conn *c, const char *what)
{
	note(c->state == S_LIVE ? first_drop : first_error, "client %d: %s", c->idx, what);
	finish_conn(c, W_PROTO);
	return -1;
}

/* Sends or queues bytes; -1 when the connection had to be closed. */
static int
conn_write(struct conn *c, const void *p, size_t n)
{
	ssize_t w = 0;

	if (c->out_len == c->out_off) {
		c->out_len = c->out_off = 0;
		if ((w = send(c->fd, p, n, MSG_NOSIGNAL)) < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				note(first_error, "send (%d): %s", c->idx, strerror(errno));
				finish_conn(c, errno == ECONNRESET || errno == EPIPE ? W_RESET : W_PROTO);
				return -1;
			}
			w = 0;
		}
		if ((size_t)w == n)
			return 0;
		ep_set(c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	}
	c->out = load_xrealloc(c->out, c->out_len + (n - (size_t)w));
	memcpy(c->out + c->out_len, (const char *)p + w, n - (size_t)w);
	c->out_len += (uint32_t)(n - (size_t)w);
	return 0;
}

static int
flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			note(first_error, "send (%d): %s", c->idx, strerror(errno));
			finish_conn(c, errno == ECONNRESET || errno == EPIPE ? W_RESET : W_PROTO);
			return -1;
		}
		c->out_off += (uint32_t)w;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	ep_set(c, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP);
	return 0;
}

/* One masked client frame (RFC 6455 5.3). */
static int
ws_send(struct conn *c, int opcode, const char *p, size_t n)
{
	unsigned char stack[4096], *f = stack, mask[4];
	size_t hl = n < 126 ? 6 : n < 65536 ? 8 : 14;
	int rc;

	if (hl + n > sizeof stack)
		f = load_xrealloc(NULL, hl + n);
	for (int i = 0; i < 4; i++) {
		rnd ^= rnd << 13, rnd ^= rnd >> 17, rnd ^= rnd << 5;
		mask[i] = (unsigned char)rnd;
	}
	f[0] = (unsigned char)(0x80 | opcode);
	if (n < 126)
		f[1] = (unsigned char)(0x80 | n);
	else if (n < 65536) {
		f[1] = 0x80 | 126;
		f[2] = (unsigned char)(n >> 8);
		f[3] = (unsigned char)n;
	} else {
		f[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			f[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	}
	memcpy(f + hl - 4, mask, 4);
	for (size_t i = 0; i < n; i++)
		f[hl + i] = (unsigned char)p[i] ^ mask[i % 4];
	rc = conn_write(c, f, hl + n);
	if (f != stack)
		free(f);
	return rc;
}

static int
ws_text(struct conn *c, const char *s)
{
	return ws_send(c, 1, s, strlen(s));
}

/* ---- opening ---- */

static void
open_client(int i)
{
	struct conn *c = &conns[i];

	c->kind = K_WS;
	c->idx = i;
	c->last_seq = -1;
	started++;
	inflight++;
	if (start_conn(c, &dst) != 0) {
		inflight--;
		failed_open++;
		why_open[W_CONNECT]++;
	}
}

static int
send_upgrade(struct conn *c)
{
	char req[512];
	int n = snprintf(req, sizeof req, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n", opt.port);

	return conn_write(c, req, (size_t)n);
}

static int
send_sio_connect(struct conn *c)
{
	char buf[2100];

	snprintf(buf, sizeof buf, "40{\"token\":\"%s\"}", tokens[(size_t)c->idx % ntokens]);
	c->state = S_SIOCONN;
	return ws_text(c, buf);
}

static int
send_subscribe(struct conn *c)
{
	char buf[256];

	snprintf(buf, sizeof buf, "421[\"subscribe:campus\",{\"campusId\":\"%s\"}]", opt.campus);
	c->state = S_SUB;
	return ws_text(c, buf);
}

static void
client_live(struct conn *c)
{
	c->state = S_LIVE;
	inflight--;
	live_now++;
	if (live_now > live_max)
		live_max = live_now;
	if (opt.step > 0 && live_now % opt.step == 0 && live_now < opt.n) {
		char label[32];

		snprintf(label, sizeof label, "step%d", live_now);
		sample(label);
	}
}

/* ---- events ---- */

static long long
iso_ms(const char *s, size_t n)
{
	char b[40];

	if (n >= sizeof b)
		return -1;
	memcpy(b, s, n);
	b[n] = '\0';
	return load_iso_ms(b);
}

/* The last top-level `"timestamp":"…"` of an event (it follows the issue). */
static long long
event_ts(const char *p, size_t n)
{
	static const char key[] = "\"timestamp\":\"";
	const char *q = p, *last = NULL, *e;

	while ((q = memmem(q, n - (size_t)(q - p), key, sizeof key - 1)) != NULL) {
		last = q + sizeof key - 1;
		q = last;
	}
	if (last == NULL || (e = memchr(last, '"', n - (size_t)(last - p))) == NULL)
		return -1;
	return iso_ms(last, (size_t)(e - last));
}

static void
add_delivery(int seq, long long us)
{
	if (nlat == lat_cap) {
		lat_cap = lat_cap ? lat_cap * 2 : 65536;
		del_seq = load_xrealloc(del_seq, lat_cap * sizeof *del_seq);
		del_us = load_xrealloc(del_us, lat_cap * sizeof *del_us);
	}
	del_seq[nlat] = seq;
	del_us[nlat] = us;
	nlat++;
}

static void
on_created(struct conn *c, const char *p, size_t n, long long now_us)
{
	static const char key[] = "\"title\":\"" TITLE_PREFIX;
	const char *t = memmem(p, n, key, sizeof key - 1);
	long long ts;
	int seq = 0, digits = 0;

	if (t == NULL) {
		foreign++;
		return;
	}
	for (t += sizeof key - 1; t < p + n && isdigit((unsigned char)*t) && digits < 6; t++, digits++)
		seq = seq * 10 + (*t - '0');
	if (digits == 0 || seq >= opt.creates) {
		foreign++;
		return;
	}
	if (load_seen_mark(&c->seen, opt.creates, seq)) {
		duplicates++;
		return;
	}
	if (seq < c->last_seq)
		out_of_seq++;
	else
		c->last_seq = seq;
	c->ncreated++;
	if (ev_ts_ms[seq] == 0 && (ts = event_ts(p, n)) > 0)
		ev_ts_ms[seq] = ts;
	if (first_us[seq] == 0 || now_us < first_us[seq])
		first_us[seq] = now_us;
	if (now_us > last_us[seq])
		last_us[seq] = now_us;
	ndeliv[seq]++;
	add_delivery(seq, now_us);
}

/* ACK 3<id>[…]: ack 1 answers our subscribe.  -1: the client is gone. */
static int
sio_ack(struct conn *c, const char *p, const char *e)
{
	const char *q;
	long id = 0;

	for (q = p; q < e && isdigit((unsigned char)*q) && id < 1000000; q++)
		id = id * 10 + (*q - '0');
	if (c->state != S_SUB || id != 1)
		return 0;
	if (memmem(q, (size_t)(e - q), "\"ok\":true", 9) != NULL) {
		client_live(c);
		return 0;
	}
	note(first_error, "client %d: subscribe ack %.*s", c->idx, (int)(e - q > 120 ? 120 : e - q), q);
	finish_conn(c, W_SUB_FAIL);
	return -1;
}

/* EVENT 2[/nsp,][id]["name",…]: ours are issue:created, the rest is counted. */
static void
sio_event(struct conn *c, const char *p, const char *e, long long now_us)
{
	static const char created[] = "[\"issue:created\",";
	const char *q = p;

	if (q < e && *q == '/')
		while (q < e && *q++ != ',')
			;
	while (q < e && isdigit((unsigned char)*q))
		q++;
	if ((size_t)(e - q) > sizeof created && memcmp(q, created, sizeof created - 1) == 0) {
		on_created(c, q + sizeof created - 1, (size_t)(e - q) - (sizeof created - 1), now_us);
		return;
	}
	other_events++;
	if (other_event_name[0] == '\0')
		snprintf(other_event_name, sizeof other_event_name, "%.*s", (int)(e - q > 40 ? 40 : e - q), q);
}

/* A Socket.IO packet (after the Engine.IO `4`).  -1: the client is gone. */
static int
sio_packet(struct conn *c, const char *p, size_t n, long long now_us)
{
	if (n == 0)
		return 0;
	switch (p[0]) {
	case '0':		/* CONNECT accepted */
		return c->state == S_SIOCONN ? send_subscribe(c) : 0;
	case '1':
		finish_conn(c, W_SIO_DISC);
		return -1;
	case '4':
		note(first_error, "client %d: CONNECT_ERROR %.*s", c->idx, (int)(n > 120 ? 120 : n - 1), p + 1);
		finish_conn(c, W_REFUSED);
		return -1;
	case '3':
		return sio_ack(c, p + 1, p + n);
	case '2':
		sio_event(c, p + 1, p + n, now_us);
		return 0;
	default:
		return 0;
	}
}

/* A whole WebSocket text message: an Engine.IO packet. */
static int
eio_packet(struct conn *c, const char *p, size_t n, long long now_us)
{
	if (n == 0)
		return proto_error(c, "empty Engine.IO packet");
	switch (p[0]) {
	case '0':
		return c->state == S_OPEN ? send_sio_connect(c) : 0;
	case '1':
		finish_conn(c, W_EIO_CLOSE);
		return -1;
	case '2':
		eio_pings++;
		return ws_send(c, 1, n == 1 ? "3" : "3probe", n == 1 ? 1 : 6);
	case '4':
		return sio_packet(c, p + 1, n - 1, now_us);
	default:		/* 6 noop, 3 pong */
		return 0;
	}
}

/* A fragment of a message in c->msg; the whole of it goes up at the last. */
static int
ws_fragment(struct conn *c, int fin, const char *p, size_t n, long long now_us)
{
	char *m;
	size_t len;
	int rc;

	if (c->msg_len + n > MAX_FRAME)
		return proto_error(c, "fragmented message too long");
	if (c->msg == NULL || c->msg_len + n + 1 > c->msg_cap)
		c->msg = load_xrealloc(c->msg, c->msg_cap = c->msg_len + (uint32_t)n + 1);
	memcpy(c->msg + c->msg_len, p, n);
	c->msg_len += (uint32_t)n;
	if (!fin)
		return 0;
	m = c->msg;
	len = c->msg_len;
	c->msg = NULL;
	c->msg_len = c->msg_cap = 0;
	rc = c->msg_op == 1 ? eio_packet(c, m, len, now_us) : 0;
	free(m);
	return rc;
}

/* One frame (RFC 6455 5.2); -1 when c is gone. */
static int
ws_frame(struct conn *c, int fin, int op, const char *p, size_t n, long long now_us)
{
	switch (op) {
	case 8:
		if (c->state == S_LIVE)
			note(first_drop, "client %d: close frame %d", c->idx,
			    n >= 2 ? ((unsigned char)p[0] << 8 | (unsigned char)p[1]) : 1005);
		finish_conn(c, W_WS_CLOSE);
		return -1;
	case 9:
		ws_pings++;
		return ws_send(c, 10, p, n);
	case 10:
		return 0;
	case 0:
		if (c->msg == NULL)
			return proto_error(c, "continuation frame without a message");
		return ws_fragment(c, fin, p, n, now_us);
	case 1:
	case 2:
		if (c->msg != NULL)
			return proto_error(c, "new message inside a fragmented one");
		if (fin)
			return op == 1 ? eio_packet(c, p, n, now_us) : 0;
		c->msg_op = (unsigned char)op;
		return ws_fragment(c, fin, p, n, now_us);
	default:
		return proto_error(c, "unknown opcode");
	}
}

/* Frames in p[0..n); returns the bytes consumed, or -1 when c is gone. */
static long
ws_frames(struct conn *c, char *p, size_t n, long long now_us)
{
	size_t off = 0;

	while (n - off >= 2) {
		unsigned char *h = (unsigned char *)p + off;
		size_t hl = 2;
		uint64_t len = h[1] & 0x7f;

		if (len == 126) {
			if (n - off < 4)
				break;
			len = (uint64_t)h[2] << 8 | h[3];
			hl = 4;
		} else if (len == 127) {
			if (n - off < 10)
				break;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | h[2 + i];
			hl = 10;
		}
		if ((h[1] & 0x80) || len > MAX_FRAME)	/* a server never masks */
			return proto_error(c, "masked or oversized frame");
		if (n - off < hl + len)
			break;
		frames_in++;
		if (ws_frame(c, h[0] & 0x80, h[0] & 0x0f, p + off + hl, (size_t)len, now_us) != 0)
			return -1;
		off += hl + (size_t)len;
	}
	return (long)off;
}

/* The answer head, in c->in; 0 = not complete yet, else its length. */
static size_t
head_done(struct conn *c)
{
	char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	int major, minor;

	if (end == NULL)
		return 0;
	*end = '\0';
	if (sscanf(c->in, "HTTP/%d.%d %d", &major, &minor, &c->status) != 3)
		c->status = -1;
	*end = '\r';
	return (size_t)(end + 4 - c->in);
}

/* Appends to c->in, which stays NUL-terminated. */
static void
keep(struct conn *c, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (c->in_len + n + 1 > c->in_cap)
		c->in = load_xrealloc(c->in, c->in_cap = c->in_len + (uint32_t)n + 1024);
	memcpy(c->in + c->in_len, p, n);
	c->in_len += (uint32_t)n;
	c->in[c->in_len] = '\0';
}

/* Frames in p[0..n); what is left of an incomplete frame goes to c->in. */
static void
feed(struct conn *c, char *p, size_t n, long long now_us)
{
	long used = ws_frames(c, p, n, now_us);

	if (used >= 0 && c->state != S_CLOSED)
		keep(c, p + used, n - (size_t)used);
}

/* c->in, detached: the caller owns it; *n gets its length. */
static char *
take_in(struct conn *c, size_t *n)
{
	char *p = c->in;

	*n = c->in_len;
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	return p;
}

/* Bytes before and just after the 101. */
static void
head_bytes(struct conn *c, const char *p, size_t n, long long now_us)
{
	size_t hl, len;
	char *buf;

	keep(c, p, n);
	if ((hl = head_done(c)) == 0) {
		if (c->in_len > HEAD_MAX)
			finish_conn(c, W_STATUS);
		return;
	}
	if (c->status != 101) {
		note(first_error, "client %d: %.100s", c->idx, c->in);
		finish_conn(c, W_STATUS);
		return;
	}
	c->state = S_OPEN;
	buf = take_in(c, &len);
	feed(c, buf + hl, len - hl, now_us);
	free(buf);
}

/* Bytes of a client.  Parsed straight from the read buffer when nothing is
 * pending; only the tail of an incomplete frame is kept. */
static void
client_bytes(struct conn *c, char *p, size_t n, long long now_us)
{
	size_t len;
	char *buf;

	if (c->state == S_HEAD) {
		head_bytes(c, p, n, now_us);
	} else if (c->in_len == 0) {
		feed(c, p, n, now_us);
	} else {
		keep(c, p, n);
		buf = take_in(c, &len);
		feed(c, buf, len, now_us);
		free(buf);
	}
}

static void
trig_bytes(struct conn *c, const char *p, size_t n, long long now_us)
{
	keep(c, p, n);
	if (c->status == 0 && memmem(c->in, c->in_len, "\r\n", 2) != NULL) {
		int major, minor;

		c->in[c->in_len] = '\0';
		if (sscanf(c->in, "HTTP/%d.%d %d", &major, &minor, &c->status) != 3)
			c->status = -1;
		trig_resp_us[c->idx] = now_us;
		finish_conn(c, W_US);	/* the status is all we need */
	}
}

static void
on_readable(struct conn *c)
{
	static char buf[262144];

	while (c->state != S_CLOSED) {
		ssize_t got = recv(c->fd, buf, sizeof buf, 0);
		long long now_us;

		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			note(c->state == S_LIVE ? first_drop : first_error, "recv (%d, %s): %s", c->idx,
			    state_names[c->state], strerror(errno));
			finish_conn(c, c->state == S_CONNECT ? W_CONNECT :
			    errno == ECONNRESET ? W_RESET : W_PROTO);
			return;
		}
		if (got == 0) {
			finish_conn(c, W_EOF);
			return;
		}
		now_us = load_real_us();
		bytes_in += got;
		if (c->kind == K_TRIG)
			trig_bytes(c, buf, (size_t)got, now_us);
		else
			client_bytes(c, buf, (size_t)got, now_us);
		if ((size_t)got < sizeof buf)
			return;
	}
}

/* The connect finished: a client sends its upgrade, a trigger the request
 * start_trigger() queued in c->out. */
static void
on_connected(struct conn *c)
{
	socklen_t len = sizeof(int);
	int e = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		e = errno;
	if (e != 0) {
		note(first_error, "connect (%d): %s", c->idx, strerror(e));
		finish_conn(c, W_CONNECT);
		return;
	}
	c->state = S_HEAD;
	if (c->kind == K_TRIG) {
		flush_out(c);
		return;
	}
	ep_set(c, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP);
	send_upgrade(c);
}

static void
on_writable(struct conn *c)
{
	if (c->state == S_CONNECT)
		on_connected(c);
	else
		flush_out(c);
}

/* ---- triggers ---- */

/* -m ciis: an issue of building -b, titled with its sequence number. */
static char *
ciis_request(int seq, size_t *len)
{
	char body[512], *req;
	int blen = snprintf(body, sizeof body, "{\"title\":\"%s%d\",\"category\":\"plumbing\","
	    "\"buildingId\":\"%s\",\"description\":\"relay_load\"}", TITLE_PREFIX, seq, opt.building);
	size_t cap = (size_t)blen + strlen(opt.post_token) + 512;

	req = load_xrealloc(NULL, cap);
	*len = (size_t)snprintf(req, cap, "POST /api/issues HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n%s", opt.trig_port, opt.post_token,
	    blen, body);
	return req;
}

/* -m node: the -F payload with its title "relay-bench-<seq>", to room campus:-g. */
static char *
node_request(int seq, size_t *len)
{
	char num[16], *req, *b;
	size_t nl = (size_t)snprintf(num, sizeof num, "%d", seq);
	size_t pre = strlen(TITLE_PREFIX), post = strlen(tmpl + tmpl_post_off);
	size_t blen = tmpl_pre + pre + nl + post, cap = blen + 512;
	int hl;

	req = load_xrealloc(NULL, cap);
	hl = snprintf(req, cap, "POST /emit?room=campus:%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	    opt.campus, opt.trig_port, blen);
	b = req + hl;
	memcpy(b, tmpl, tmpl_pre);
	memcpy(b + tmpl_pre, TITLE_PREFIX, pre);
	memcpy(b + tmpl_pre + pre, num, nl);
	memcpy(b + tmpl_pre + pre + nl, tmpl + tmpl_post_off, post);
	*len = (size_t)hl + blen;
	return req;
}

/* Event seq: one POST on a connection of its own, queued until it connects. */
static void
start_trigger(int seq)
{
	struct conn *c = &trigs[seq];
	size_t len;
	char *req = strcmp(opt.mode, "ciis") == 0 ? ciis_request(seq, &len) : node_request(seq, &len);

	c->kind = K_TRIG;
	c->idx = seq;
	trig_sent++;
	trig_sent_us[seq] = load_real_us();
	if (start_conn(c, &trig_dst) != 0) {
		free(req);
		trig_done++;
		trig_failed++;
		return;
	}
	c->out = req;
	c->out_len = (uint32_t)len;
}

/* Opening clients older than -O seconds are given up. */
static void
sweep_timeouts(long long now)
{
	for (int i = 0; i < started; i++) {
		struct conn *c = &conns[i];

		if (c->state < S_LIVE && now - c->t_start_ms > (long long)opt.open_timeout_s * 1000) {
			note(first_error, "client %d: not held after %d s (in %s)", i,
			    opt.open_timeout_s, state_names[c->state]);
			finish_conn(c, W_TIMEOUT);
		}
	}
}

/* ---- summary ---- */

static void
print_dist(const char *name, double *v, size_t n)
{
	size_t m = load_sort_known(v, n);

	if (m == 0) {
		printf("%s n=0\n", name);
		return;
	}
	printf("%s n=%zu min=%.1f p50=%.1f p90=%.1f p99=%.1f max=%.1f\n", name, m, v[0],
	    load_pct(v, m, 0.50), load_pct(v, m, 0.90), load_pct(v, m, 0.99), v[m - 1]);
}

/* Per event: (when - its reference) in ms, NaN when either is unknown. */
static void
per_create(const char *name, const long long *when_us, const long long *ref_us, int ref_is_ms)
{
	double *v = load_xrealloc(NULL, ((size_t)opt.creates + 1) * sizeof *v);

	for (int s = 0; s < opt.creates; s++) {
		double ref = ref_is_ms ? (double)ref_us[s] * 1000.0 : (double)ref_us[s];

		v[s] = when_us[s] > 0 && ref_us[s] > 0 ? ((double)when_us[s] - ref) / 1000.0 : NAN;
	}
	print_dist(name, v, (size_t)opt.creates);
	free(v);
}

/* What the held clients got of the answered events. */
struct tally {
	long long expected, lost;
	int held_end, with_all, with_none, short_events;
};

static void
count_deliveries(struct tally *t)
{
	memset(t, 0, sizeof *t);
	for (int i = 0; i < opt.n; i++) {
		if (!conns[i].held_end)
			continue;
		t->held_end++;
		t->expected += trig_ok;
		t->lost += trig_ok > conns[i].ncreated ? trig_ok - conns[i].ncreated : 0;
		if (conns[i].ncreated >= trig_ok)
			t->with_all++;
		else if (conns[i].ncreated == 0)
			t->with_none++;
	}
	for (int s = 0; s < trig_sent; s++)
		if (trig_resp_us[s] > 0 && ndeliv[s] < t->held_end)
			t->short_events++;
}

static void
print_counts(const char *name, const char *const *names, const int *v, int from, int to)
{
	printf("%s", name);
	for (int i = from; i < to; i++)
		printf(" %s=%d", names[i], v[i]);
	printf("\n");
}

static void
print_clients(const struct tally *t)
{
	printf("clients requested=%d started=%d held_max=%d held_at_open=%d held_after_hold=%d "
	    "held_at_end=%d failed_open=%d dropped=%d\n", opt.n, started, live_max, n_open, n_hold,
	    t->held_end, failed_open, dropped);
	print_counts("open_failures", why_names, why_open, 1, W_NWHY);
	print_counts("timeouts_in", state_names, timeout_in, 0, S_LIVE);
	print_counts("drops", why_names, why_drop, 1, W_NWHY);
	printf("heartbeats eio_pings=%lld ws_pings=%lld frames_in=%lld bytes_in=%lld\n",
	    eio_pings, ws_pings, frames_in, bytes_in);
	printf("triggers sent=%d ok=%d failed=%d\n", trig_sent, trig_ok, trig_failed);
	printf("deliveries got=%zu expected=%lld lost=%lld duplicates=%lld out_of_order=%lld "
	    "clients_with_all=%d clients_with_none=%d events_not_everywhere=%d foreign=%lld "
	    "other_events=%lld%s%s\n", nlat, t->expected, t->lost, duplicates, out_of_seq,
	    t->with_all, t->with_none, t->short_events, foreign, other_events,
	    other_event_name[0] ? " first_other=" : "", other_event_name);
}

/* The server's RSS per held client: (after the hold - before) / held, and
 * from the first -s step on, without the fixed costs. */
static void
print_server(void)
{
	long r = rss_hold >= 0 ? rss_hold : rss_open;
	int nh = rss_hold >= 0 ? n_hold : n_open;

	if (rss_before < 0)
		return;
	printf("server_rss_kb before=%ld open=%ld hold=%ld end=%ld", rss_before, rss_open,
	    rss_hold, rss_end);
	if (nh > 0 && r >= 0)
		printf(" per_client_kb=%.2f", (double)(r - rss_before) / nh);
	if (rss_step1 >= 0 && nh > n_step1)
		printf(" marginal_kb=%.2f (from %d to %d)", (double)(r - rss_step1) / (nh - n_step1),
		    n_step1, nh);
	printf("\n");
	if (cpu_open >= 0 && cpu_hold >= 0 && opt.hold_s > 0)
		printf("server_cpu_hold %.1f%% of a core (%d s, %d clients)\n",
		    100 * (cpu_hold - cpu_open) / opt.hold_s, opt.hold_s, n_hold);
	if (cpu_wait0 >= 0 && cpu_wait1 >= 0)
		printf("cpu_s triggers_to_end server=%.2f server_user=%.2f server_sys=%.2f self=%.2f\n",
		    cpu_wait1 - cpu_wait0, user_wait1 - user_wait0,
		    (cpu_wait1 - cpu_wait0) - (user_wait1 - user_wait0), self_wait1 - self_wait0);
}

/* The figures: per event, from the trigger's answer to its last delivery;
 * then the same from other starting points, and every single delivery. */
static void
print_latencies(void)
{
	double *v;

	per_create("event_last_ms", last_us, trig_resp_us, 0);
	per_create("event_first_ms", first_us, trig_resp_us, 0);
	per_create("event_last_from_sent_ms", last_us, trig_sent_us, 0);
	per_create("event_last_from_ts_ms", last_us, ev_ts_ms, 1);
	per_create("trigger_answer_ms", trig_resp_us, trig_sent_us, 0);
	if (nlat == 0)
		return;
	v = load_xrealloc(NULL, nlat * sizeof *v);
	for (size_t i = 0; i < nlat; i++)
		v[i] = trig_resp_us[del_seq[i]] > 0 ?
		    (double)(del_us[i] - trig_resp_us[del_seq[i]]) / 1000.0 : NAN;
	print_dist("delivery_ms", v, nlat);
	free(v);
}

/* -o: one line per event, times in µs of the wall clock. */
static int
write_events(void)
{
	FILE *f = fopen(opt.out_file, "w");
	int bad;

	if (f == NULL) {
		load_say("%s: %s", opt.out_file, strerror(errno));
		return -1;
	}
	for (int s = 0; s < opt.creates; s++)
		fprintf(f, "%d sent=%lld answer=%lld ts_ms=%lld first=%lld last=%lld n=%d\n", s,
		    trig_sent_us[s], trig_resp_us[s], ev_ts_ms[s], first_us[s], last_us[s], ndeliv[s]);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		load_say("%s: write failed", opt.out_file);
		return -1;
	}
	return 0;
}

/* The key=value lines; 0 when the run went as it should. */
static int
summary(int timed_out, int complete)
{
	struct tally t;
	int ok, files_ok = 1;

	count_deliveries(&t);
	print_clients(&t);
	print_server();
	if (opt.creates > 0) {
		print_latencies();
		if (opt.out_file != NULL)
			files_ok = write_events() == 0;
	}
	if (first_error[0])
		printf("first_error %s\n", first_error);
	if (first_drop[0])
		printf("first_drop %s\n", first_drop);
	if (timed_out)
		printf("timed_out 1\n");
	ok = !timed_out && failed_open == 0 && dropped == 0 && trig_failed == 0 &&
	    duplicates == 0 && (opt.creates == 0 || complete);
	printf("result %s\n", ok ? "ok" : "FAILED");
	return ok && files_ok ? 0 : 1;
}

static void
usage(void)
{
	fputs("usage: relay_load -p PORT -t TOKENS -n N -g CAMPUS [-c OPENING] [-R OPENS_PER_S]\n"
	    "                  [-O OPEN_TIMEOUT_S] [-H HOLD_S] [-k EVENTS -i MS [-j JITTER_MS] -q TRIGGER_PORT\n"
	    "                  (-m ciis -a POST_TOKEN -b BUILDING | -m node -F PAYLOAD_FILE)]\n"
	    "                  [-w WAIT_S] [-d DEADLINE_S] [-P SERVER_PID] [-s STEP] [-r CLOSES_PER_S]\n"
	    "                  [-o PER_EVENT_FILE] [-S SMAPS_COPY]\n"
	    "Connects to 127.0.0.1 only.\n", stderr);
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "p:t:n:g:c:R:O:H:k:i:j:q:m:a:b:F:w:d:P:s:r:o:S:")) != -1) {
		switch (ch) {
		case 'p': opt.port = load_opt_int(optarg, 1, 65535); break;
		case 't': opt.tokens_file = optarg; break;
		case 'n': opt.n = load_opt_int(optarg, 0, MAX_CONNS); break;
		case 'g': opt.campus = optarg; break;
		case 'c': opt.conc = load_opt_int(optarg, 1, MAX_CONNS); break;
		case 'R': opt.rate = load_opt_int(optarg, 1, 1000000); break;
		case 'O': opt.open_timeout_s = load_opt_int(optarg, 1, 3600); break;
		case 'H': opt.hold_s = load_opt_int(optarg, 0, 3600); break;
		case 'k': opt.creates = load_opt_int(optarg, 0, MAX_CREATES); break;
		case 'i': opt.interval_ms = load_opt_int(optarg, 1, 60000); break;
		case 'j': opt.jitter_ms = load_opt_int(optarg, 0, 60000); break;
		case 'q': opt.trig_port = load_opt_int(optarg, 1, 65535); break;
		case 'm': opt.mode = optarg; break;
		case 'a': opt.post_token = optarg; break;
		case 'b': opt.building = optarg; break;
		case 'F': opt.template_file = optarg; break;
		case 'w': opt.wait_s = load_opt_int(optarg, 0, 3600); break;
		case 'd': opt.deadline_s = load_opt_int(optarg, 1, 7200); break;
		case 'P': opt.pid = load_opt_int(optarg, 1, INT_MAX); break;
		case 's': opt.step = load_opt_int(optarg, 0, MAX_CONNS); break;
		case 'r': opt.close_rate = load_opt_int(optarg, 0, 1000000); break;
		case 'o': opt.out_file = optarg; break;
		case 'S': opt.smaps_file = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || opt.port == 0 || opt.tokens_file == NULL || opt.campus == NULL ||
	    strlen(opt.campus) > 64 || (strcmp(opt.mode, "ciis") != 0 && strcmp(opt.mode, "node") != 0))
		usage();
	if (opt.creates > 0 && (opt.trig_port == 0 ||
	    (strcmp(opt.mode, "ciis") == 0 && (opt.post_token == NULL || opt.building == NULL ||
		strlen(opt.building) > 64)) ||
	    (strcmp(opt.mode, "node") == 0 && opt.template_file == NULL)))
		usage();
}

/* One descriptor per client, the triggers, a few of our own: up to the
 * hard limit.  Short of it, the clients past it fail to open (counted). */
static void
raise_nofile(void)
{
	rlim_t want = (rlim_t)opt.n + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		perror("relay_load: getrlimit");
		return;
	}
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		perror("relay_load: setrlimit");
	else if (rl.rlim_cur < want)
		fprintf(stderr, "relay_load: warning: RLIMIT_NOFILE is %ld (hard), %ld wanted\n",
		    (long)rl.rlim_cur, (long)want);
}

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	tokens = load_tokens(opt.tokens_file, 2000, &ntokens);
	if (opt.template_file != NULL)
		load_template();
	raise_nofile();
	read_port_range();
	memset(&dst, 0, sizeof dst);
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)opt.port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);	/* loopback, never anything else */
	trig_dst = dst;
	trig_dst.sin_port = htons((uint16_t)opt.trig_port);
	conns = calloc((size_t)opt.n + 1, sizeof *conns);
	trigs = calloc((size_t)opt.creates + 1, sizeof *trigs);
	if (conns == NULL || trigs == NULL || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("relay_load");
		exit(1);
	}
	for (int i = 0; i < opt.n; i++) {
		conns[i].fd = -1;
		conns[i].state = S_CLOSED;
	}
	for (int i = 0; i < opt.creates; i++) {
		trigs[i].fd = -1;
		trigs[i].state = S_CLOSED;
	}
}

/* Every held client has every answered event. */
static int
all_delivered(void)
{
	for (int i = 0; i < opt.n; i++)
		if (conns[i].state == S_LIVE && conns[i].ncreated < trig_ok)
			return 0;
	return 1;
}

/* ---- the run ---- */

struct run {
	enum phase ph;
	long long deadline, open_t0;
	long long until;		/* end of the hold, or of the wait */
	long long next_trig, next_check, next_sweep, next_close;
	int next_open, trig_started, close_i, closing, timed_out, complete;
};

/* Starts clients, -c at a time and -R a second, until all are held or failed. */
static void
phase_open(struct run *r, long long now)
{
	long long allowed = (now - r->open_t0) * opt.rate / 1000 + 1;

	while (r->next_open < opt.n && inflight < opt.conc && r->next_open < allowed)
		open_client(r->next_open++);
	if (r->next_open < opt.n || inflight > 0)
		return;
	sample("open");
	load_say("open: %d held, %d failed in %.1f s", live_now, failed_open, (now - r->open_t0) / 1000.0);
	r->ph = PH_HOLD;
	r->until = now + (long long)opt.hold_s * 1000;
}

/* ms until the hold ends */
static long long
phase_hold(struct run *r, long long now)
{
	if (now < r->until)
		return r->until - now;
	sample("hold");
	load_say("hold: %d held after %d s (%d dropped)", live_now, opt.hold_s, dropped);
	r->ph = opt.creates > 0 ? PH_CREATE : PH_CLOSE;
	r->next_trig = now;
	cpu_wait0 = opt.pid > 0 ? load_proc_cpu_split(opt.pid, &user_wait0) : -1;
	self_wait0 = load_self_cpu();
	return 0;
}

/* Starts the triggers on time, gives up on any not answered in 30 s; the
 * ms until the next one. */
static long long
phase_create(struct run *r, long long now)
{
	for (int s = 0; s < r->trig_started; s++)
		if (trigs[s].state != S_CLOSED && now - trigs[s].t_start_ms > 30000)
			finish_conn(&trigs[s], W_TIMEOUT);
	while (r->trig_started < opt.creates && now >= r->next_trig) {
		start_trigger(r->trig_started++);
		/* -j: events fall anywhere in a poll cycle, not in step with it */
		r->next_trig += opt.interval_ms + (opt.jitter_ms ? rand() % (opt.jitter_ms + 1) : 0);
	}
	if (r->trig_started < opt.creates)
		return r->next_trig > now ? r->next_trig - now : 0;
	if (trig_done == opt.creates) {
		load_say("triggers: %d sent, %d answered 2xx", trig_sent, trig_ok);
		r->ph = PH_WAIT;
		r->until = now + (long long)opt.wait_s * 1000;
	}
	return LLONG_MAX;
}

/* Until every held client has every answered event, or -w s. */
static void
phase_wait(struct run *r, long long now)
{
	if (now < r->next_check)
		return;
	r->next_check = now + 50;
	r->complete = all_delivered();
	if (r->complete || now >= r->until) {
		load_say("deliveries: %zu (%s)", nlat, r->complete ?
		    "every held client has every event" : "wait ran out");
		r->ph = PH_CLOSE;
	}
}

/* The last samples, then every connection reset, -r a second (0: at once). */
static void
phase_close(struct run *r, long long now)
{
	int batch = opt.close_rate > 0 ? (opt.close_rate + 19) / 20 : opt.n;
	char err[PATH_MAX + 128];

	if (!r->closing) {
		r->closing = 1;
		cpu_wait1 = opt.pid > 0 ? load_proc_cpu_split(opt.pid, &user_wait1) : -1;
		self_wait1 = load_self_cpu();
		sample("end");
		if (opt.smaps_file != NULL && opt.pid > 0 &&
		    load_copy_smaps(opt.pid, opt.smaps_file, err, sizeof err) != 0)
			load_say("%s", err);
	}
	if (now < r->next_close)
		return;
	r->next_close = now + 50;
	for (; r->close_i < opt.n && batch > 0; r->close_i++)
		if (conns[r->close_i].state != S_CLOSED) {
			finish_conn(&conns[r->close_i], W_US);
			batch--;
		}
	if (r->close_i < opt.n)
		return;
	for (int s = 0; s < opt.creates; s++)
		finish_conn(&trigs[s], W_US);	/* closed ones are left alone */
	r->ph = PH_DONE;
}

/* One turn of the run at time now; the epoll timeout until the next. */
static int
step(struct run *r, long long now)
{
	long long wait = 20;

	if (now >= r->deadline && r->ph < PH_CLOSE) {
		load_say("deadline (%d s) reached in phase %d", opt.deadline_s, (int)r->ph);
		r->timed_out = 1;
		r->ph = PH_CLOSE;
	}
	if ((r->ph == PH_OPEN || r->ph == PH_HOLD) && now >= r->next_sweep) {
		sweep_timeouts(now);
		r->next_sweep = now + 250;
	}
	switch (r->ph) {
	case PH_OPEN: phase_open(r, now); break;
	case PH_HOLD: wait = phase_hold(r, now); break;
	case PH_CREATE: wait = phase_create(r, now); break;
	case PH_WAIT: phase_wait(r, now); break;
	case PH_CLOSE: phase_close(r, now); break;
	case PH_DONE: break;
	}
	return wait < 20 ? (int)wait : 20;
}

/* One epoll_wait and its events; -1 when it failed. */
static int
poll_events(int timeout)
{
	struct epoll_event evs[1024];
	int got = epoll_wait(ep, evs, sizeof evs / sizeof evs[0], timeout);

	if (got < 0) {
		if (errno == EINTR)
			return 0;
		perror("relay_load: epoll_wait");
		return -1;
	}
	for (int i = 0; i < got; i++) {
		struct conn *c = evs[i].data.ptr;

		if (c->state == S_CLOSED)	/* closed earlier in this batch */
			continue;
		if (evs[i].events & EPOLLOUT)
			on_writable(c);
		if (c->state != S_CLOSED && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			on_readable(c);
	}
	return 0;
}

static void
print_config(void)
{
	printf("config mode=%s clients=%d tokens=%zu opening=%d opens_per_s=%d open_timeout_s=%d "
	    "hold_s=%d events=%d interval_ms=%d jitter_ms=%d wait_s=%d deadline_s=%d port=%d "
	    "trigger_port=%d campus=%s\n", opt.mode, opt.n, ntokens, opt.conc, opt.rate,
	    opt.open_timeout_s, opt.hold_s, opt.creates, opt.interval_ms, opt.jitter_ms, opt.wait_s,
	    opt.deadline_s, opt.port, opt.trig_port, opt.campus);
}

int
main(int argc, char **argv)
{
	struct run r = { .ph = PH_OPEN };

	load_util_init("relay_load");
	parse_args(argc, argv);
	setup();
	srand((unsigned)getpid());
	print_config();
	sample("before");
	r.deadline = load_t0_ms() + (long long)opt.deadline_s * 1000;
	r.open_t0 = load_mono_ms();
	while (r.ph != PH_DONE) {
		int timeout = step(&r, load_mono_ms());

		if (r.ph != PH_DONE && poll_events(timeout) != 0)
			return 1;
	}
	return summary(r.timed_out, r.complete);
}
