/* sse_load: hold N SSE streams of ciis-api behind a web server on 127.0.0.1
 * and time the delivery of `created` messages to every one of them.
 *
 * One thread, one epoll set, non-blocking sockets, loopback only.  It opens
 * N HTTP/1.1 GET streams (at most -c still opening at a time, so the API's
 * database pool is not stampeded), token i % T from the token file (with
 * T >= N/3 every user has at most 3 streams, sse.max_streams_per_user's
 * default), decodes the chunked body, parses `id:` / `data:` lines and
 * counts each message type.  Once every stream is open (or failed), it
 * holds them for -H seconds; with -k K it then POSTs K issues, -i ms apart
 * (plus 0..-j ms), one connection each (title "sse-bench-<seq>"), and notes
 * when each 201 came back -- or, with -E CMD, runs `CMD seq` to create issue
 * seq from another process, which the API learns of by polling.  For every
 * `created` message of those issues on every stream it records the delivery
 * time against the event's own `timestamp` (set by ciis-api when it appends
 * the event, just before COMMIT) and against the 201.  It stops when every stream has every issue, or -w seconds after the
 * last POST, or at the -d deadline, whichever comes first; it then closes
 * the streams (-r per second, 0 = all at once) and prints a summary of
 * key=value lines.  With -P PID (and -L PID) it samples VmRSS and Threads
 * of those processes before the first stream, every -s streams held, after
 * all are open and after the hold, with their CPU time; -S FILE copies the
 * API's /proc/PID/smaps once the deliveries are done, before the closes
 * (run-sse.sh breaks the RSS down from it; at 5,000 streams that read
 * stalls ciis-api for seconds, so it is never taken while timing).
 *
 * Exit status: 0 when every stream was held to the end and got every
 * issue; 1 otherwise (the summary says what failed); 2 on bad usage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include "load_util.h"

#define MAX_STREAMS 20000
#define MAX_CREATES 10000
#define TITLE_PREFIX "sse-bench-"

enum kind { K_STREAM, K_POST };
enum state { S_CONNECT, S_SEND, S_HEAD, S_BODY, S_CLOSED };
enum cstate { CH_SIZE, CH_DATA, CH_DATA_CRLF, CH_TRAILER, CH_IDENTITY };
enum phase { PH_OPEN, PH_HOLD, PH_CREATE, PH_WAIT, PH_CLOSE, PH_DONE };

enum msg_type { M_INITIAL, M_CREATED, M_UPDATED, M_DELETED, M_HEARTBEAT, M_ERROR,
	M_RESET, M_EXPIRED, M_OTHER, M_NTYPES };
static const char *const msg_names[M_NTYPES] = { "initial", "created", "updated",
	"deleted", "heartbeat", "error", "reset", "expired", "other" };

struct conn {
	int fd;
	enum kind kind;
	enum state state;
	int idx;			/* stream number, or create seq */
	const char *req;		/* request bytes (owned for POSTs) */
	size_t req_len, req_off;
	char *lb;			/* header bytes, then a partial body line */
	size_t lb_len, lb_cap;
	int status;
	int chunked;
	enum cstate cs;
	long long crem;
	int chunk_ext;
	int live;			/* got its first message */
	int closed_by_us;
	int ncreated;			/* bench issues delivered */
	int last_seq;			/* highest bench seq delivered */
	unsigned char *seen;		/* bench seqs delivered, a bitmap */
	long long last_id;
	long long opened_ms;
};

static struct {
	int port;
	const char *tokens_file;
	const char *path;
	int n, conc, hold_s, creates, interval_ms, jitter_ms, wait_s, deadline_s, step, close_rate;
	const char *post_token, *building;
	const char *create_cmd;		/* -E: creates by another process */
	int api_pid, web_pid;
	const char *out_file, *smaps_file;
} opt = {
	.path = "/api/realtime/issues/stream", .conc = 32, .hold_s = 10,
	.interval_ms = 200, .wait_s = 10, .deadline_s = 300, .step = 1000,
};

static char **tokens;
static size_t ntokens;
static struct conn *streams;
static struct conn *posts;
static int ep;
static struct sockaddr_in dst;

/* counters */
static int opened, inflight, live_now, live_max, failed_open, dropped, closed_end;
static int connect_err, status_non200, eof_before_msg, error_msgs;
static char first_error[256];
static long long msg_count[M_NTYPES], keepalives, id_lines, bytes_in;
static long long open_first_ms, open_last_ms;
static int posts_sent, posts_ok, posts_failed, posts_done;
static long long post_sent_rt[MAX_CREATES], post_201_rt[MAX_CREATES];
static long long ev_ts_ms[MAX_CREATES];	/* the event's timestamp, first seen */
static int *del_seq;
static long long *del_us;
static int *del_stream;
static size_t nlat, lat_cap;
static long long duplicates, out_of_seq, id_regressions, foreign_created, bad_ts;
static FILE *outf;

static void
note_error(const char *fmt, ...)
{
	va_list ap;

	if (first_error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(first_error, sizeof first_error, fmt, ap);
	va_end(ap);
}

/* ---- /proc sampling ---- */

static double cpu_open = -1, cpu_hold = -1, wcpu_open = -1, wcpu_hold = -1;
static long long smaps_ms = -1;
static long rss_before = -1, rss_open = -1, rss_hold = -1, rss_at_step1 = -1;
static int streams_at_step1, streams_at_open, streams_at_hold;
static long web_before = -1, web_open = -1;

static void
sample(const char *label)
{
	long rss, thr, wrss = -1, wthr = -1;

	if (opt.api_pid <= 0)
		return;
	load_proc_status(opt.api_pid, &rss, &thr);
	if (opt.web_pid > 0)
		load_proc_status(opt.web_pid, &wrss, &wthr);
	{
		double cpu = load_proc_cpu(opt.api_pid);
		double wcpu = opt.web_pid > 0 ? load_proc_cpu(opt.web_pid) : -1;

		printf("rss label=%s streams=%d api_rss_kb=%ld api_threads=%ld api_cpu_s=%.2f "
		    "web_rss_kb=%ld web_cpu_s=%.2f self_cpu_s=%.2f load1=%.2f t=%.3f\n", label,
		    live_now, rss, thr, cpu, wrss, wcpu, load_self_cpu(), load_avg1(),
		    (load_mono_ms() - load_t0_ms()) / 1000.0);
		fflush(stdout);
		if (strcmp(label, "open") == 0) {
			cpu_open = cpu;
			wcpu_open = wcpu;
		} else if (strcmp(label, "hold") == 0) {
			cpu_hold = cpu;
			wcpu_hold = wcpu;
		}
	}
	if (strcmp(label, "before") == 0) {
		rss_before = rss;
		web_before = wrss;
	} else if (strcmp(label, "open") == 0) {
		rss_open = rss;
		web_open = wrss;
		streams_at_open = live_now;
	} else if (strcmp(label, "hold") == 0) {
		rss_hold = rss;
		streams_at_hold = live_now;
	} else if (strcmp(label, "end") == 0) {
		/* last, since reading smaps of a process with 10,000 mappings
		 * stalls it (and us) for seconds */
		if (opt.smaps_file != NULL) {
			long long t = load_mono_ms();
			char err[PATH_MAX + 128];

			(void)load_copy_smaps(opt.api_pid, opt.smaps_file, err, sizeof err);
			smaps_ms = load_mono_ms() - t;
		}
		return;
	} else if (rss_at_step1 < 0) {
		rss_at_step1 = rss;
		streams_at_step1 = live_now;
	}
}

/* ---- connections ---- */

static void
ep_set(struct conn *c, int op, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = c };

	if (epoll_ctl(ep, op, c->fd, &e) != 0 && op != EPOLL_CTL_DEL) {
		perror("sse_load: epoll_ctl");
		exit(1);
	}
}

static int
start_conn(struct conn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0) {
		note_error("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	c->state = S_CONNECT;
	c->req_off = 0;
	c->lb_len = 0;
	c->status = 0;
	c->chunked = 0;
	c->chunk_ext = 0;
	c->cs = CH_SIZE;
	c->opened_ms = load_mono_ms();
	if (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS) {
		note_error("connect: %s", strerror(errno));
		close(fd);
		c->fd = -1;
		c->state = S_CLOSED;
		return -1;
	}
	ep_set(c, EPOLL_CTL_ADD, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
	return 0;
}

static void
finish_conn(struct conn *c, int by_us)
{
	if (c->state == S_CLOSED)
		return;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = S_CLOSED;
	if (c->kind == K_POST) {
		posts_done++;
		if (c->status != 201) {
			posts_failed++;
			note_error("POST %d: status %d", c->idx, c->status);
		}
		return;
	}
	c->closed_by_us = by_us;
	if (c->live) {
		live_now--;
		if (by_us)
			closed_end++;
		else {
			dropped++;
			note_error("stream %d closed by the server after %lld ms (status %d)",
			    c->idx, load_mono_ms() - c->opened_ms, c->status);
		}
	} else {
		inflight--;
		failed_open++;
		if (!by_us && c->status == 200)
			eof_before_msg++;
	}
}

static void
stream_live(struct conn *c)
{
	long long now = load_mono_ms();

	c->live = 1;
	inflight--;
	live_now++;
	if (live_now > live_max)
		live_max = live_now;
	if (open_first_ms == 0)
		open_first_ms = now - c->opened_ms;
	open_last_ms = now - c->opened_ms;
	if (opt.step > 0 && live_now % opt.step == 0 && live_now < opt.n) {
		char label[32];

		snprintf(label, sizeof label, "step%d", live_now);
		sample(label);
	}
}

/* ---- tiny JSON peeks (ciis writes plain JSON, one object per data line) ---- */

/* After `"key"`, a string value: copied to out, 0; else -1.  from_end:
 * the last occurrence (the top-level timestamp follows the issue). */
static int
json_str(const char *s, const char *key, int from_end, char *out, size_t n)
{
	char pat[64];
	const char *p = NULL, *q;
	size_t plen;

	snprintf(pat, sizeof pat, "\"%s\"", key);
	plen = strlen(pat);
	for (q = strstr(s, pat); q != NULL; q = strstr(q + 1, pat)) {
		p = q;
		if (!from_end)
			break;
	}
	if (p == NULL)
		return -1;
	p += plen;
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ')
		p++;
	if (*p++ != '"')
		return -1;
	for (q = p; *q && *q != '"'; q++)
		;
	if (*q != '"' || (size_t)(q - p) >= n)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

static void
add_delivery(int seq, int stream, long long recv_us)
{
	if (nlat == lat_cap) {
		lat_cap = lat_cap ? lat_cap * 2 : 65536;
		del_seq = load_xrealloc(del_seq, lat_cap * sizeof *del_seq);
		del_us = load_xrealloc(del_us, lat_cap * sizeof *del_us);
		del_stream = load_xrealloc(del_stream, lat_cap * sizeof *del_stream);
	}
	del_seq[nlat] = seq;
	del_us[nlat] = recv_us;
	del_stream[nlat] = stream;
	nlat++;
}

static void
on_created(struct conn *c, const char *json, long long now_us)
{
	char title[128], ts[64];
	long long tms;
	int seq;

	if (json_str(json, "title", 0, title, sizeof title) != 0 ||
	    strncmp(title, TITLE_PREFIX, strlen(TITLE_PREFIX)) != 0) {
		foreign_created++;
		return;
	}
	seq = atoi(title + strlen(TITLE_PREFIX));
	if (seq < 0 || seq >= opt.creates) {
		foreign_created++;
		return;
	}
	if (load_seen_mark(&c->seen, opt.creates, seq)) {
		duplicates++;
		return;
	}
	/* concurrent POSTs may commit in another order than they were sent */
	if (seq < c->last_seq)
		out_of_seq++;
	else
		c->last_seq = seq;
	c->ncreated++;
	if (json_str(json, "timestamp", 1, ts, sizeof ts) != 0 || (tms = load_iso_ms(ts)) < 0) {
		bad_ts++;
		return;
	}
	if (ev_ts_ms[seq] == 0)
		ev_ts_ms[seq] = tms;
	else if (ev_ts_ms[seq] != tms)
		bad_ts++;	/* one event, one timestamp */
	add_delivery(seq, c->idx, now_us);
}

static enum msg_type
type_of(const char *json)
{
	char t[32];

	if (json_str(json, "type", 0, t, sizeof t) != 0)
		return M_OTHER;
	for (int i = 0; i < M_OTHER; i++)
		if (strcmp(t, msg_names[i]) == 0)
			return (enum msg_type)i;
	return M_OTHER;
}

/* One body line (no \n, \r stripped). */
static void
sse_line(struct conn *c, char *line, long long now_us)
{
	if (line[0] == ':') {
		keepalives++;
		return;
	}
	if (strncmp(line, "id:", 3) == 0) {
		long long id = atoll(line + 3);

		id_lines++;
		if (id <= c->last_id)
			id_regressions++;	/* ids must only grow on a stream */
		c->last_id = id;
		return;
	}
	if (strncmp(line, "data:", 5) == 0) {
		const char *json = line + 5 + (line[5] == ' ');
		enum msg_type t = type_of(json);

		msg_count[t]++;
		if (!c->live && t != M_ERROR)
			stream_live(c);
		if (t == M_CREATED)
			on_created(c, json, now_us);
		else if (t == M_ERROR) {
			error_msgs++;
			note_error("stream %d: %.200s", c->idx, json);
		}
	}
	/* retry:, event:, blank lines: nothing to do */
}

/* Decoded body bytes of a stream, split into lines. */
static void
body_bytes(struct conn *c, const char *p, size_t n, long long now_us)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;

		if (c->lb_len + take + 1 > c->lb_cap) {
			c->lb_cap = (c->lb_len + take + 1) * 2;
			c->lb = load_xrealloc(c->lb, c->lb_cap);
		}
		memcpy(c->lb + c->lb_len, p, take);
		c->lb_len += take;
		if (nl == NULL)
			return;
		if (c->lb_len > 0 && c->lb[c->lb_len - 1] == '\r')
			c->lb_len--;
		c->lb[c->lb_len] = '\0';
		if (c->kind == K_STREAM)
			sse_line(c, c->lb, now_us);
		c->lb_len = 0;
		p += take + 1;
		n -= take + 1;
	}
}

/* Body bytes as they come off the wire: chunked or not. */
static int
wire_body(struct conn *c, const char *p, size_t n, long long now_us)
{
	if (!c->chunked) {
		body_bytes(c, p, n, now_us);
		return 0;
	}
	while (n > 0) {
		switch (c->cs) {
		case CH_SIZE: {
			/* hex digits, then maybe ";ext", then CRLF */
			char ch = *p++;

			n--;
			if (ch == '\n') {
				c->chunk_ext = 0;
				if (c->crem == 0) {
					c->cs = CH_TRAILER;
					return 1;	/* last chunk: the response is over */
				}
				c->cs = CH_DATA;
			} else if (!c->chunk_ext && isxdigit((unsigned char)ch)) {
				c->crem = c->crem * 16 + (isdigit((unsigned char)ch) ? ch - '0' :
				    tolower((unsigned char)ch) - 'a' + 10);
			} else if (ch != '\r') {
				c->chunk_ext = 1;
			}
			break;
		}
		case CH_DATA: {
			size_t take = (size_t)c->crem < n ? (size_t)c->crem : n;

			body_bytes(c, p, take, now_us);
			p += take;
			n -= take;
			c->crem -= (long long)take;
			if (c->crem == 0)
				c->cs = CH_DATA_CRLF;
			break;
		}
		case CH_DATA_CRLF:
			if (*p == '\n') {
				c->cs = CH_SIZE;
				c->crem = 0;
			}
			p++;
			n--;
			break;
		default:
			return 1;
		}
	}
	return 0;
}

static int
header_done(struct conn *c, long long now_us)
{
	char *end, *h;
	int major, minor;

	c->lb[c->lb_len] = '\0';
	if ((end = strstr(c->lb, "\r\n\r\n")) == NULL)
		return 0;
	*end = '\0';
	if (sscanf(c->lb, "HTTP/%d.%d %d", &major, &minor, &c->status) != 3)
		c->status = -1;
	if (c->kind == K_POST && c->status == 201)
		post_201_rt[c->idx] = now_us;
	for (h = strstr(c->lb, "\r\n"); h != NULL; h = strstr(h + 2, "\r\n"))
		if (strncasecmp(h + 2, "transfer-encoding:", 18) == 0 && strcasestr(h + 20, "chunked"))
			c->chunked = 1;
	if (c->kind == K_STREAM && c->status != 200) {
		status_non200++;
		note_error("stream %d: %.120s", c->idx, c->lb);
		c->chunked = -1;	/* not a stream: the caller closes it */
	}
	c->cs = CH_SIZE;
	c->crem = 0;
	return (int)(end + 4 - c->lb);
}

static void
on_readable(struct conn *c)
{
	static char buf[65536];
	long long now_us;
	ssize_t got;

	for (;;) {
		got = recv(c->fd, buf, sizeof buf, 0);
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			if (!c->live && c->kind == K_STREAM)
				connect_err++;
			note_error("recv (%s %d): %s", c->kind == K_POST ? "POST" : "stream",
			    c->idx, strerror(errno));
			finish_conn(c, 0);
			return;
		}
		if (got == 0) {
			if (c->kind == K_STREAM && c->state == S_HEAD)
				note_error("stream %d: EOF before the response", c->idx);
			finish_conn(c, 0);
			return;
		}
		bytes_in += got;
		now_us = load_real_us();
		if (c->state == S_HEAD) {
			size_t room = (size_t)got, off;
			int hl;

			if (c->lb_len + room + 1 > c->lb_cap) {
				c->lb_cap = (c->lb_len + room + 1) * 2;
				c->lb = load_xrealloc(c->lb, c->lb_cap);
			}
			memcpy(c->lb + c->lb_len, buf, room);
			c->lb_len += room;
			if ((hl = header_done(c, now_us)) == 0) {
				if (c->lb_len > 16384) {
					note_error("%d: headers too long", c->idx);
					finish_conn(c, 0);
					return;
				}
				continue;
			}
			/* what followed the headers is body */
			off = c->lb_len - (size_t)hl;
			{
				char *rest = load_xrealloc(NULL, off + 1);

				memcpy(rest, c->lb + hl, off);
				c->lb_len = 0;
				c->state = S_BODY;
				if (c->kind == K_POST || c->chunked < 0) {
					free(rest);
					finish_conn(c, 1);	/* the status is all we need */
					return;
				}
				if (wire_body(c, rest, off, now_us) == 1) {
					free(rest);
					finish_conn(c, 0);
					return;
				}
				free(rest);
			}
			continue;
		}
		if (wire_body(c, buf, (size_t)got, now_us) == 1) {
			finish_conn(c, 0);
			return;
		}
	}
}

static void
on_writable(struct conn *c)
{
	if (c->state == S_CONNECT) {
		int e = 0;
		socklen_t len = sizeof e;

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len);
		if (e != 0) {
			if (c->kind == K_STREAM)
				connect_err++;
			note_error("connect (%d): %s", c->idx, strerror(e));
			finish_conn(c, 0);
			return;
		}
		c->state = S_SEND;
	}
	while (c->req_off < c->req_len) {
		ssize_t w = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN)
				return;
			note_error("send (%d): %s", c->idx, strerror(errno));
			finish_conn(c, 0);
			return;
		}
		c->req_off += (size_t)w;
	}
	c->state = S_HEAD;
	ep_set(c, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP);
}

static void
open_stream(int i)
{
	struct conn *c = &streams[i];
	const char *tok = tokens[(size_t)i % ntokens];
	size_t cap = strlen(tok) + strlen(opt.path) + 256;
	char *r = load_xrealloc(NULL, cap);

	c->kind = K_STREAM;
	c->idx = i;
	c->last_seq = -1;
	c->last_id = -1;	/* an empty log's initial has id: 0 */
	c->req_len = (size_t)snprintf(r, cap, "GET %s?token=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Accept: text/event-stream\r\nCache-Control: no-cache\r\n"
	    "User-Agent: ciis-sse-load\r\n\r\n", opt.path, tok, opt.port);
	c->req = r;
	opened++;
	inflight++;
	if (start_conn(c) != 0) {
		connect_err++;
		inflight--;
		failed_open++;
	}
}

/* -E CMD: run `CMD seq` for a create (another process commits it, so the
 * streams' process learns of it by polling, not by its own commit hook). */
static pid_t create_pid[MAX_CREATES];
static int creates_running;

static void
start_external(int seq)
{
	char arg[16];
	pid_t pid;

	snprintf(arg, sizeof arg, "%d", seq);
	posts_sent++;
	post_sent_rt[seq] = load_real_us();
	if ((pid = fork()) == 0) {
		execl(opt.create_cmd, opt.create_cmd, arg, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		note_error("fork: %s", strerror(errno));
		posts_done++;
		posts_failed++;
		return;
	}
	create_pid[seq] = pid;
	creates_running++;
}

static void
reap_external(void)
{
	for (int seq = 0; creates_running > 0 && seq < opt.creates; seq++) {
		int st;

		if (create_pid[seq] <= 0 || waitpid(create_pid[seq], &st, WNOHANG) != create_pid[seq])
			continue;
		create_pid[seq] = 0;
		creates_running--;
		posts_done++;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			posts_failed++;
			note_error("create command %d: status %d", seq, st);
		}
	}
}

static void
start_post(int seq)
{
	struct conn *c = &posts[seq];
	char body[256];
	size_t cap;
	char *r;
	int blen;

	blen = snprintf(body, sizeof body, "{\"title\":\"%s%d\",\"category\":\"plumbing\","
	    "\"buildingId\":\"%s\",\"description\":\"sse_load\"}", TITLE_PREFIX, seq, opt.building);
	cap = strlen(opt.post_token) + (size_t)blen + 256;
	r = load_xrealloc(NULL, cap);
	c->kind = K_POST;
	c->idx = seq;
	c->req_len = (size_t)snprintf(r, cap, "POST /api/issues HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n%s", opt.port, opt.post_token, blen, body);
	c->req = r;
	posts_sent++;
	post_sent_rt[seq] = load_real_us();
	if (start_conn(c) != 0) {
		posts_done++;
		posts_failed++;
	}
}

/* ---- summary ---- */

static void
print_dist(const char *name, double *v, size_t n)
{
	/* the 201 figures lack a value when the POST's answer was not seen */
	size_t m = load_sort_known(v, n);

	if (m == 0)
		return;
	printf("%s n=%zu min=%.1f p50=%.1f p90=%.1f p99=%.1f p999=%.1f max=%.1f\n", name, m, v[0],
	    load_pct(v, m, 0.50), load_pct(v, m, 0.90), load_pct(v, m, 0.99), load_pct(v, m, 0.999),
	    v[m - 1]);
}

static void
usage(void)
{
	fputs("usage: sse_load -p PORT -t TOKENS -n N [-c OPENING] [-H HOLD_S] [-k CREATES\n"
	    "                -i MS [-j JITTER_MS] (-a POST_TOKEN -b BUILDING_ID | -E CREATE_CMD)] [-w WAIT_S]\n"
	    "                [-d DEADLINE_S]\n"
	    "                [-P API_PID] [-L WEB_PID] [-s STEP] [-r CLOSES_PER_S] [-u PATH]\n"
	    "                [-o LATENCY_FILE] [-S SMAPS_COPY]\n"
	    "Connects to 127.0.0.1:PORT only.\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	enum phase ph = PH_OPEN;
	long long deadline, hold_until = 0, next_create = 0, wait_until = 0, next_close = 0;
	long long next_check = 0, phase_t[PH_DONE + 1];
	int ch, next_open = 0, created_started = 0, close_i = 0, timed_out = 0, complete = 0;
	struct epoll_event evs[512];
	struct rlimit rl;

	load_util_init("sse_load");
	while ((ch = getopt(argc, argv, "p:t:n:c:H:k:i:j:a:b:w:d:E:P:L:s:r:u:o:S:")) != -1) {
		switch (ch) {
		case 'p': opt.port = load_opt_int(optarg, 1, 65535); break;
		case 't': opt.tokens_file = optarg; break;
		case 'n': opt.n = load_opt_int(optarg, 0, MAX_STREAMS); break;
		case 'c': opt.conc = load_opt_int(optarg, 1, MAX_STREAMS); break;
		case 'H': opt.hold_s = load_opt_int(optarg, 0, 3600); break;
		case 'k': opt.creates = load_opt_int(optarg, 0, MAX_CREATES); break;
		case 'i': opt.interval_ms = load_opt_int(optarg, 1, 60000); break;
		case 'j': opt.jitter_ms = load_opt_int(optarg, 0, 60000); break;
		case 'a': opt.post_token = optarg; break;
		case 'b': opt.building = optarg; break;
		case 'E': opt.create_cmd = optarg; break;
		case 'w': opt.wait_s = load_opt_int(optarg, 0, 3600); break;
		case 'd': opt.deadline_s = load_opt_int(optarg, 1, 7200); break;
		case 'P': opt.api_pid = load_opt_int(optarg, 1, INT_MAX); break;
		case 'L': opt.web_pid = load_opt_int(optarg, 1, INT_MAX); break;
		case 's': opt.step = load_opt_int(optarg, 0, MAX_STREAMS); break;
		case 'r': opt.close_rate = load_opt_int(optarg, 0, 1000000); break;
		case 'u': opt.path = optarg; break;
		case 'o': opt.out_file = optarg; break;
		case 'S': opt.smaps_file = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || opt.port == 0 || opt.tokens_file == NULL ||
	    (opt.creates > 0 && opt.create_cmd == NULL && (opt.post_token == NULL || opt.building == NULL)) ||
	    opt.path[0] != '/')
		usage();
	signal(SIGPIPE, SIG_IGN);
	tokens = load_tokens(opt.tokens_file, 0, &ntokens);
	/* file descriptors: one per stream plus a few */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.n + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)opt.n + 64 ? rl.rlim_max : (rlim_t)opt.n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)opt.n + 64)
			fprintf(stderr, "sse_load: warning: RLIMIT_NOFILE %ld < N + 64\n", (long)rl.rlim_cur);
	}
	if (opt.out_file != NULL && (outf = fopen(opt.out_file, "w")) == NULL) {
		fprintf(stderr, "sse_load: %s: %s\n", opt.out_file, strerror(errno));
		return 2;
	}
	memset(&dst, 0, sizeof dst);
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)opt.port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);	/* loopback, never anything else */
	streams = calloc((size_t)opt.n + 1, sizeof *streams);
	posts = calloc((size_t)opt.creates + 1, sizeof *posts);
	if (streams == NULL || posts == NULL || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("sse_load");
		return 1;
	}
	/* nothing open yet: S_CLOSED until start_conn() */
	for (int i = 0; i < opt.n; i++) {
		streams[i].fd = -1;
		streams[i].state = S_CLOSED;
	}
	for (int i = 0; i < opt.creates; i++) {
		posts[i].fd = -1;
		posts[i].state = S_CLOSED;
	}
	srand((unsigned)getpid());
	printf("config streams=%d tokens=%zu opening=%d hold_s=%d creates=%d interval_ms=%d "
	    "jitter_ms=%d by=%s wait_s=%d deadline_s=%d port=%d path=%s\n", opt.n, ntokens,
	    opt.conc, opt.hold_s, opt.creates, opt.interval_ms, opt.jitter_ms,
	    opt.create_cmd ? "command" : "POST", opt.wait_s, opt.deadline_s, opt.port, opt.path);
	sample("before");
	deadline = load_t0_ms() + (long long)opt.deadline_s * 1000;
	memset(phase_t, 0, sizeof phase_t);
	phase_t[PH_OPEN] = load_mono_ms();

	while (ph != PH_DONE) {
		long long now = load_mono_ms();
		int timeout = 50, got;

		if (now >= deadline && ph != PH_CLOSE) {
			load_say("deadline (%d s) reached in phase %d", opt.deadline_s, (int)ph);
			timed_out = 1;
			ph = PH_CLOSE;
			phase_t[PH_CLOSE] = now;
		}
		switch (ph) {
		case PH_OPEN:
			while (next_open < opt.n && inflight < opt.conc)
				open_stream(next_open++);
			if (next_open == opt.n && inflight == 0) {
				sample("open");
				load_say("open: %d held, %d failed; first %lld ms, last %lld ms to open",
				    live_now, failed_open, open_first_ms, open_last_ms);
				ph = PH_HOLD;
				phase_t[PH_HOLD] = now;
				hold_until = now + (long long)opt.hold_s * 1000;
			}
			break;
		case PH_HOLD:
			if (now >= hold_until) {
				sample("hold");
				load_say("hold: %d held after %d s (%d dropped)", live_now, opt.hold_s, dropped);
				ph = opt.creates > 0 ? PH_CREATE : PH_CLOSE;
				phase_t[ph] = now;
				next_create = now;
			} else if (hold_until - now < timeout)
				timeout = (int)(hold_until - now);
			break;
		case PH_CREATE:
			while (created_started < opt.creates && now >= next_create) {
				if (opt.create_cmd != NULL)
					start_external(created_started++);
				else
					start_post(created_started++);
				/* -j: spread the creates over the poll cycle */
				next_create += opt.interval_ms + (opt.jitter_ms ? rand() % opt.jitter_ms : 0);
			}
			if (opt.create_cmd != NULL)
				reap_external();
			if (created_started == opt.creates && posts_done == opt.creates) {
				load_say("creates: %d sent, %d answered 201", posts_sent, posts_sent - posts_failed);
				ph = PH_WAIT;
				phase_t[PH_WAIT] = now;
				wait_until = now + (long long)opt.wait_s * 1000;
			} else if (created_started < opt.creates && next_create - now < timeout)
				timeout = next_create - now > 0 ? (int)(next_create - now) : 0;
			break;
		case PH_WAIT:
			if (now >= next_check) {
				int all = 1;

				next_check = now + 100;
				posts_ok = posts_sent - posts_failed;
				for (int i = 0; i < opt.n && all; i++)
					if (streams[i].state != S_CLOSED && streams[i].live &&
					    streams[i].ncreated < posts_ok)
						all = 0;
				if (all)
					complete = 1;
				if (all || now >= wait_until) {
					load_say("deliveries: %zu (%s)", nlat, all ? "every stream has every issue" :
					    "wait ran out");
					ph = PH_CLOSE;
					phase_t[PH_CLOSE] = now;
				}
			}
			break;
		case PH_CLOSE:
			if (close_i == 0 && next_close == 0)
				sample("end");
			if (now >= next_close) {
				int batch = opt.close_rate > 0 ? (opt.close_rate + 19) / 20 : opt.n;

				for (; close_i < opt.n && batch > 0; close_i++) {
					if (streams[close_i].state != S_CLOSED) {
						finish_conn(&streams[close_i], 1);
						batch--;
					}
				}
				next_close = now + 50;
			}
			if (close_i >= opt.n) {
				for (int s = 0; s < opt.creates; s++)
					if (posts[s].state != S_CLOSED && posts[s].fd >= 0)
						finish_conn(&posts[s], 1);
				ph = PH_DONE;
				phase_t[PH_DONE] = now;
			}
			break;
		case PH_DONE:
			break;
		}
		if (ph == PH_DONE)
			break;
		if ((got = epoll_wait(ep, evs, sizeof evs / sizeof evs[0], timeout)) < 0) {
			if (errno == EINTR)
				continue;
			perror("sse_load: epoll_wait");
			return 1;
		}
		for (int i = 0; i < got; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->state == S_CLOSED)
				continue;
			if ((evs[i].events & EPOLLOUT) && (c->state == S_CONNECT || c->state == S_SEND))
				on_writable(c);
			if (c->state != S_CLOSED && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
				on_readable(c);
		}
	}

	/* ---- summary ---- */
	posts_ok = posts_sent - posts_failed;
	{
		int got_all = 0, got_none = 0;
		long long expected = 0;

		for (int i = 0; i < opt.n; i++) {
			if (!streams[i].live)
				continue;
			expected += posts_ok;
			if (streams[i].ncreated >= posts_ok)
				got_all++;
			else if (streams[i].ncreated == 0)
				got_none++;
		}
		printf("streams requested=%d held_max=%d held_at_open=%d held_after_hold=%d "
		    "failed_open=%d dropped=%d closed_by_us=%d\n", opt.n, live_max, streams_at_open,
		    streams_at_hold, failed_open, dropped, closed_end);
		printf("failures connect=%d status_non200=%d eof_before_message=%d error_messages=%d\n",
		    connect_err, status_non200, eof_before_msg, error_msgs);
		printf("open_ms first=%lld last=%lld phase_s open=%.1f hold=%.1f create=%.1f wait=%.1f\n",
		    open_first_ms, open_last_ms,
		    ((phase_t[PH_HOLD] ? phase_t[PH_HOLD] : phase_t[PH_CLOSE]) - phase_t[PH_OPEN]) / 1000.0,
		    phase_t[PH_HOLD] ? ((phase_t[PH_CREATE] ? phase_t[PH_CREATE] : phase_t[PH_CLOSE]) -
		    phase_t[PH_HOLD]) / 1000.0 : 0.0,
		    phase_t[PH_CREATE] ? ((phase_t[PH_WAIT] ? phase_t[PH_WAIT] : phase_t[PH_CLOSE]) -
		    phase_t[PH_CREATE]) / 1000.0 : 0.0,
		    phase_t[PH_WAIT] ? (phase_t[PH_CLOSE] - phase_t[PH_WAIT]) / 1000.0 : 0.0);
		printf("messages");
		for (int t = 0; t < M_NTYPES; t++)
			printf(" %s=%lld", msg_names[t], msg_count[t]);
		printf(" keepalive_comments=%lld id_lines=%lld bytes=%lld\n", keepalives, id_lines, bytes_in);
		printf("creates sent=%d ok=%d failed=%d\n", posts_sent, posts_ok, posts_failed);
		printf("deliveries got=%zu expected=%lld streams_with_all=%d streams_with_none=%d "
		    "duplicates=%lld id_regressions=%lld foreign=%lld bad_timestamp=%lld "
		    "out_of_post_order=%lld\n", nlat, expected, got_all, got_none, duplicates,
		    id_regressions, foreign_created, bad_ts, out_of_seq);
		if (rss_before >= 0) {
			long rss_end = rss_hold >= 0 ? rss_hold : rss_open;
			int nst = rss_hold >= 0 ? streams_at_hold : streams_at_open;

			printf("api_rss_kb before=%ld open=%ld hold=%ld", rss_before, rss_open, rss_hold);
			if (nst > 0 && rss_end >= 0)
				printf(" per_stream_kb=%.2f", (double)(rss_end - rss_before) / nst);
			if (rss_at_step1 >= 0 && nst > streams_at_step1)
				printf(" marginal_kb=%.2f (from %d to %d streams)",
				    (double)(rss_end - rss_at_step1) / (nst - streams_at_step1),
				    streams_at_step1, nst);
			printf("\n");
			if (cpu_open >= 0 && cpu_hold >= 0 && opt.hold_s > 0)
				printf("cpu_during_hold api=%.1f%% web=%.1f%% (of one core, %d s, %d streams)\n",
				    100 * (cpu_hold - cpu_open) / opt.hold_s,
				    100 * (wcpu_hold - wcpu_open) / opt.hold_s, opt.hold_s, streams_at_hold);
			if (smaps_ms >= 0)
				printf("smaps_copy_ms %lld (after the deliveries, before the closes)\n", smaps_ms);
			if (web_before >= 0 && web_open >= 0 && streams_at_open > 0)
				printf("web_rss_kb before=%ld open=%ld per_stream_kb=%.2f\n", web_before,
				    web_open, (double)(web_open - web_before) / streams_at_open);
		}
		if (nlat > 0) {
			/* per issue: when the last stream got it, after its timestamp */
			double *spread = load_xrealloc(NULL, (size_t)opt.creates * sizeof *spread);
			size_t ns = 0;

			double *lts = load_xrealloc(NULL, nlat * sizeof *lts);
			double *l201 = load_xrealloc(NULL, nlat * sizeof *l201);

			for (size_t i = 0; i < nlat; i++) {
				int q = del_seq[i];

				lts[i] = ev_ts_ms[q] > 0 ? del_us[i] / 1000.0 - (double)ev_ts_ms[q] : NAN;
				l201[i] = post_201_rt[q] > 0 ? (del_us[i] - post_201_rt[q]) / 1000.0 : NAN;
				if (outf != NULL)
					fprintf(outf, "%d %d %.3f %.3f\n", q, del_stream[i], lts[i], l201[i]);
			}
			print_dist("latency_ts_ms", lts, nlat);
			print_dist("latency_201_ms", l201, nlat);
			free(lts);
			free(l201);
			for (int s = 0; s < opt.creates; s++)
				if (post_201_rt[s] > 0 && ev_ts_ms[s] > 0)
					spread[ns++] = post_201_rt[s] / 1000.0 - (double)ev_ts_ms[s];
			print_dist("ts_to_201_ms", spread, ns);
			ns = 0;
			for (int s = 0; s < opt.creates; s++)
				if (post_201_rt[s] > 0)
					spread[ns++] = (post_201_rt[s] - post_sent_rt[s]) / 1000.0;
			print_dist("post_to_201_ms", spread, ns);
			free(spread);
		}
		if (first_error[0])
			printf("first_error %s\n", first_error);
		if (timed_out)
			printf("timed_out 1\n");
		if (outf != NULL)
			fclose(outf);
		{
			int ok = !timed_out && failed_open == 0 && dropped == 0 && posts_failed == 0 &&
			    (opt.creates == 0 || complete);

			printf("result %s\n", ok ? "ok" : "FAILED");
			return ok ? 0 : 1;
		}
	}
}
