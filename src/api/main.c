/* ciis-api: the REST API as a long-lived multi-threaded FastCGI program, or
 * one CGI request when started as CGI.
 *
 * One acceptor thread takes FastCGI connections and hands each request to a
 * thread of its own, so a request that waits (a slow database) never keeps
 * another from being answered; --threads caps how many run at once.  An SSE
 * stream, once open, leaves its thread for the writer thread (writer.h),
 * which holds every stream; it no longer counts against --threads. */
#include "config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/io.h"
#include "api/req.h"
#include "api/router.h"
#include "api/stream.h"
#include "api/writer.h"
#include "core/auth.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/db.h"
#include "core/log.h"
#include "core/event.h"
#include "core/streams.h"
#include "core/tail.h"
#include "core/xalloc.h"

#define THREAD_STACK (256 * 1024)
#define DEFAULT_THREADS 1024	/* requests at once; held streams are not among them */

struct options {
	const char *config;
	const char *listen;
	long threads;
};

static struct api_ctx ctx;
static int listen_fd = 0;		/* FCGI_LISTENSOCK_FILENO unless --listen */
static volatile sig_atomic_t stopping;

static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t active_cond = PTHREAD_COND_INITIALIZER;
static long active, max_active;

int
api_stopping(void)
{
	return stopping;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: ciis-api [-c FILE] [--listen HOST:PORT|PATH] [--threads N]\n"
	    "       ciis-api --help | --version\n"
	    "Without --listen, serves the FastCGI socket on fd 0, or one CGI request.\n");
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	o->threads = DEFAULT_THREADS;
	while ((ch = getopt_long(argc, argv, "c:l:t:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'l': o->listen = optarg; break;
		case 't':
			o->threads = strtol(optarg, &end, 10);
			if (*end != '\0' || o->threads < 1 || o->threads > 100000) {
				fprintf(stderr, "ciis-api: --threads: expected 1..100000\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("ciis-api %s\n", PACKAGE_VERSION); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static int
setup(const struct options *o)
{
	static struct ciis_conf conf;
	char msg[512];

	ciis_conf_defaults(&conf);
	if (ciis_conf_load(&conf, o->config, msg, sizeof msg) != 0) {
		fprintf(stderr, "ciis-api: %s\n", msg);
		return -1;
	}
	ciis_log_set_level((enum ciis_log_level)ciis_log_level_parse(conf.log_level));
	if ((ctx.keys = ciis_keys_load(&conf, 0, msg, sizeof msg)) == NULL) {
		fprintf(stderr, "ciis-api: %s\n", msg);
		return -1;
	}
	ciis_db_library_init();
	ctx.conf = &conf;
	ctx.pool = ciis_db_pool_new(&conf);
	return 0;
}

static void
serve(struct api_io *io)
{
	struct api_req req;

	api_req_init(&req, io, &ctx);
	api_dispatch(&req);
	api_req_cleanup(&req);
}

/* End the request.  ciis-api answers one request per connection: when the
 * web server set FCGI_KEEP_CONN, libfcgi leaves the connection open for a
 * next request no thread would read, so it is closed here too, which
 * lighttpd (never sets it) and Apache (sets it with enablereuse=on, and
 * checks a pooled connection before reusing it) both cope with. */
static void
finish(FCGX_Request *r)
{
	FCGX_Finish_r(r);
	if (r->ipcFd >= 0) {
		close(r->ipcFd);
		r->ipcFd = -1;
	}
}

/* Hand the open stream and its connection to the writer thread.  libfcgi
 * lets go of the request without a word on the connection: FCGX_Free(r, 0)
 * frees the request's streams (their 8 KB buffers), the parameters, and
 * neither writes (no FCGI_END_REQUEST: the writer sends it) nor closes the
 * fd (libfcgi 2.4.2, fcgiapp.c).  The headers and the initial were flushed
 * by the handler, so libfcgi holds nothing unwritten. */
static void
hand_off(FCGX_Request *r, struct api_stream *s)
{
	static int told;
	int fd = r->ipcFd, id = r->requestId;

	if (r->keepConnection && !__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
		ciis_log(CIIS_LOG_INFO, "api: the web server keeps FastCGI connections "
		    "(FCGI_KEEP_CONN); ciis-api closes each after its request");
	FCGX_Free(r, 0);
	api_writer_adopt(ctx.writer, s, fd, id);
}

static void *
request_thread(void *arg)
{
	FCGX_Request *r = arg;
	struct api_io io;

	api_io_fcgi(&io, r);
	serve(&io);
	if (io.held != NULL)
		hand_off(r, io.held);
	else
		finish(r);
	free(r);
	ciis_db_thread_end();
	pthread_mutex_lock(&active_lock);
	active--;
	pthread_cond_signal(&active_cond);
	pthread_mutex_unlock(&active_lock);
	return NULL;
}

/* Wait for a free slot; 0 when we may start another request. */
static int
take_slot(void)
{
	pthread_mutex_lock(&active_lock);
	while (active >= max_active && !stopping)
		pthread_cond_wait(&active_cond, &active_lock);
	active++;
	pthread_mutex_unlock(&active_lock);
	return stopping ? -1 : 0;
}

static void
give_slot(void)
{
	pthread_mutex_lock(&active_lock);
	active--;
	pthread_cond_signal(&active_cond);
	pthread_mutex_unlock(&active_lock);
}

static int
start_request(FCGX_Request *r, pthread_attr_t *attr)
{
	pthread_t t;
	int e;

	static const char busy[] = "Status: 503 Service Unavailable\r\nRetry-After: 2\r\n"
	    "Content-Type: application/json\r\n\r\n"
	    "{\"error\":{\"code\":\"unavailable\",\"message\":\"the server is at capacity\"}}";

	if ((e = pthread_create(&t, attr, request_thread, r)) != 0) {
		ciis_log(CIIS_LOG_ERROR, "api: cannot start a thread: %s", strerror(e));
		FCGX_PutStr(busy, (int)sizeof busy - 1, r->out);
		finish(r);
		free(r);
		give_slot();
		return -1;
	}
	return 0;
}

static void
accept_loop(void)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (!stopping) {
		FCGX_Request *r = ciis_xmalloc(sizeof *r);

		if (take_slot() != 0) {
			free(r);
			give_slot();
			break;
		}
		FCGX_InitRequest(r, listen_fd, 0);
		if (FCGX_Accept_r(r) != 0) {
			free(r);
			give_slot();
			if (stopping)
				break;
			continue;
		}
		start_request(r, &attr);
	}
	pthread_attr_destroy(&attr);
}

static void
on_terminate(int sig)
{
	stopping = 1;
	/* wakes the acceptor blocked in accept(2) */
	shutdown(listen_fd, SHUT_RDWR);
}

/* libfcgi's own SIGTERM handler only sets a flag a threaded acceptor never
 * sees, so ours replaces it after FCGX_Init. */
static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_terminate;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

#define REFRESH_MS 20000	/* well inside CIIS_STREAM_FRESH_SECONDS */
#define ENDED_BATCH 200

/* Unregister the streams that ended since the last call. */
static void
unregister_ended(struct ciis_db *db)
{
	const char *ids[ENDED_BATCH];
	struct ciis_err err;
	size_t n;

	pthread_mutex_lock(&ctx.ended_lock);
	while (ctx.nended > 0) {
		n = ctx.nended < ENDED_BATCH ? ctx.nended : ENDED_BATCH;
		for (size_t i = 0; i < n; i++)
			ids[i] = ctx.ended[ctx.nended - n + i];
		/* a failure keeps them queued: this process refreshes its rows,
		 * so a row left behind would count against its user for good */
		if (ciis_streams_close_many(db, ids, n, &err) != 0)
			break;
		ctx.nended -= n;
	}
	pthread_mutex_unlock(&ctx.ended_lock);
}

/* The tailer's chore, on every round: unregister ended streams, and keep
 * this process's rows alive. */
static void
stream_chores(struct ciis_db *db, void *arg)
{
	static int64_t next_refresh;
	struct ciis_err err;

	unregister_ended(db);
	if (ciis_monotonic_ms() >= next_refresh) {
		next_refresh = ciis_monotonic_ms() + REFRESH_MS;
		ciis_streams_refresh(db, ctx.process_id, &err);
	}
}

/* Streams exist only in a long-lived process: one tailer feeds them all,
 * and one writer thread holds them, woken by the tailer's publish hook. */
static void
start_streams(void)
{
	char host[64] = "";

	gethostname(host, sizeof host - 1);
	snprintf(ctx.process_id, sizeof ctx.process_id, "%.32s:%ld:%lld", host, (long)getpid(),
	    (long long)(ciis_now_ms() / 1000));
	pthread_mutex_init(&ctx.ended_lock, NULL);
	ctx.tail = ciis_tail_start(ctx.conf, stream_chores, NULL, 0);
	if (ctx.tail == NULL) {
		ciis_log(CIIS_LOG_ERROR, "api: cannot start the tailer; streams are off");
		return;
	}
	ciis_event_set_commit_hook(ciis_tail_kick, ctx.tail);
	if ((ctx.writer = api_writer_start(&ctx)) == NULL)
		ciis_log(CIIS_LOG_ERROR, "api: streams are off");
	else
		ciis_tail_on_publish(ctx.tail, api_writer_published, ctx.writer);
}

static int
open_listener(const char *where)
{
	int fd = FCGX_OpenSocket(where, 1024);

	if (fd < 0) {
		fprintf(stderr, "ciis-api: cannot listen on %s: %s\n", where, strerror(errno));
		return -1;
	}
	/* a unix socket gets umask permissions; the web server must connect */
	if (where[0] == '/' && chmod(where, 0666) != 0)
		ciis_log(CIIS_LOG_WARN, "api: chmod %s: %s", where, strerror(errno));
	return fd;
}

static long
active_requests(void)
{
	long n;

	pthread_mutex_lock(&active_lock);
	n = active;
	pthread_mutex_unlock(&active_lock);
	return n;
}

/* Let running requests finish, for a few seconds at most. */
static void
drain(void)
{
	for (int i = 0; i < 50 && active_requests() > 0; i++)
		usleep(100 * 1000);
}

/* After the acceptor stopped: the streams end (the writer writes their
 * end), requests finish for a few seconds, then the threads go.  Request
 * threads still running may use the ring and hand a stream to the writer:
 * then the tailer and the writer's memory stay. */
static void
stop_streams(void)
{
	if (ctx.writer != NULL)
		api_writer_shutdown(ctx.writer);
	drain();
	ciis_event_set_commit_hook(NULL, NULL);
	if (ctx.tail == NULL)
		return;
	ciis_tail_on_publish(ctx.tail, NULL, NULL);
	api_writer_stop(ctx.writer);
	if (active_requests() == 0) {
		ciis_tail_stop(ctx.tail);	/* its last chore unregisters the ended streams */
		/* only now: the tailer may have been inside the hook just cleared */
		api_writer_free(ctx.writer);
		ctx.writer = NULL;
	}
}

int
main(int argc, char **argv)
{
	struct options o = { 0 };
	int rc;

	if ((rc = parse_options(argc, argv, &o)) != 0)
		return rc;
	if (setup(&o) != 0)
		return 1;
	if (FCGX_Init() != 0) {
		fprintf(stderr, "ciis-api: FCGX_Init failed\n");
		return 1;
	}
	if (o.listen == NULL && FCGX_IsCGI()) {
		struct api_io io;

		api_io_cgi(&io);
		serve(&io);
		return 0;
	}
	if (o.listen != NULL && (listen_fd = open_listener(o.listen)) < 0)
		return 1;
	install_signals();
	start_streams();
	max_active = o.threads;
	ciis_log(CIIS_LOG_INFO, "api: ciis-api %s serving FastCGI%s%s", PACKAGE_VERSION,
	    o.listen ? " on " : "", o.listen ? o.listen : "");
	accept_loop();
	stop_streams();
	ciis_log(CIIS_LOG_INFO, "api: stopped");
	return 0;
}
