/* ciis-relay (SPEC §8): Socket.IO on /socket.io/, plain JSON WebSocket on
 * /ws and GET /health/websocket, on one port, in the foreground, logging to
 * stderr.  Threads: the loop (every socket), the tailer (reads the event
 * log into the ring) and one worker (every other database call).  SIGTERM
 * and SIGINT close every client properly and exit; SIGHUP reloads the
 * configuration and the keys. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/event.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "relay/eio.h"
#include "relay/http.h"
#include "relay/relay.h"
#include "relay/sio.h"

#define RELAY_DRAIN_MS 500	/* after SIGTERM: for the close frames to leave */

static const struct sio_config relay_sio_config = {
	.connect_timeout_ms = 45000,	/* the reference server's connectTimeout */
	.max_attachments = 10,
};

struct relay_main {
	struct loop *loop;
	struct ciis_conf conf;		/* the boot configuration: tailer and pool */
	struct ciis_conf *reloaded;	/* owned: the latest SIGHUP's, NULL before */
	struct ciis_keys *keys;		/* owned */
	struct ciis_tail *tail;
	struct relay_hub hub;
	struct http_server *http;
	struct sio_server *sio;
	struct sio_namespace ns;
	struct loop_io signals;
	struct loop_timer drain;
	int draining;
};

/* ---- HTTP ------------------------------------------------------------------- */

static int
under(struct http_str path, const char *prefix)
{
	size_t n = strlen(prefix);

	return (path.n >= n && memcmp(path.p, prefix, n) == 0) ||
	    (path.n == n - 1 && memcmp(path.p, prefix, n - 1) == 0);
}

static void
health(struct relay_main *rm, struct http_conn *c)
{
	char body[128];
	int n = snprintf(body, sizeof body,
	    "{\"status\":\"ok\",\"service\":\"websocket\",\"connectedClients\":%zu}", rm->hub.nconns);

	http_respond(c, 200, "Cache-Control: no-store\r\n", "application/json", body, (size_t)n);
}

static void
route(struct http_conn *c, const struct http_req *req, void *arg)
{
	struct relay_main *rm = arg;

	if (rm->draining)
		http_respond(c, 503, "Retry-After: 1\r\n", "text/plain", "Shutting down", 13);
	else if (under(req->path, "/socket.io/"))
		sio_handle(rm->sio, c, req);	/* bodies still coming included: polling */
	else if (req->partial)
		http_respond(c, 413, NULL, "text/plain", "Payload Too Large", 17);
	else if (http_str_eq(req->path, "/ws"))
		relay_ws_handle(&rm->hub, c, req);
	else if (http_str_eq(req->path, "/health/websocket") && http_str_eq(req->method, "GET"))
		health(rm, c);
	else
		http_respond(c, 404, NULL, "text/plain", "Not Found", 9);
}

/* ---- signals --------------------------------------------------------------------- */

static void
reload(struct relay_main *rm)
{
	struct ciis_conf *c = ciis_xcalloc(1, sizeof *c);
	struct ciis_keys *k;
	char msg[512];

	ciis_conf_defaults(c);
	if (ciis_conf_load(c, rm->conf.path, msg, sizeof msg) != 0 ||
	    (k = ciis_keys_load(c, 0, msg, sizeof msg)) == NULL) {
		ciis_log(CIIS_LOG_ERROR, "relay: reload failed, keeping the old configuration: %s", msg);
		ciis_conf_cleanup(c);
		free(c);
		return;
	}
	ciis_keys_free(rm->keys);
	rm->keys = rm->hub.keys = k;
	rm->hub.live = c;
	if (rm->reloaded != NULL) {
		ciis_conf_cleanup(rm->reloaded);
		free(rm->reloaded);
	}
	rm->reloaded = c;
	ciis_tail_set_poll_ms(rm->tail, c->relay_tail_poll_ms);
	if (ciis_log_level_parse(c->log_level) >= 0)
		ciis_log_set_level((enum ciis_log_level)ciis_log_level_parse(c->log_level));
	ciis_log(CIIS_LOG_INFO, "relay: configuration and keys reloaded");
}

static void
on_drained(struct loop_timer *t)
{
	struct relay_main *rm = LOOP_OWNER(t, struct relay_main, drain);

	loop_stop(rm->loop);
}

static void
on_signal(struct loop_io *io, uint32_t events)
{
	struct relay_main *rm = LOOP_OWNER(io, struct relay_main, signals);
	struct signalfd_siginfo si;

	while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			reload(rm);
		} else if (!rm->draining) {
			ciis_log(CIIS_LOG_INFO, "relay: signal %u, closing %zu clients", si.ssi_signo,
			    rm->hub.nconns);
			rm->draining = 1;
			/* clients that come back at once find the port closed, not us leaving */
			http_server_stop_listening(rm->http);
			relay_hub_close_all(&rm->hub);
			loop_timer_arm(rm->loop, &rm->drain, RELAY_DRAIN_MS);
		}
	}
}

static int
watch_signals(struct relay_main *rm)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	return loop_signals(rm->loop, &rm->signals, sigs, 3, on_signal);
}

/* ---- the program -------------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fputs("usage: ciis-relay [-c FILE] [--listen HOST:PORT]\n"
	    "       ciis-relay --help | --version\n", f);
}

static int
serve(struct relay_main *rm, const char *listen)
{
	struct eio_config ecfg = eio_config_default;
	struct http_limits lim = { 8192, 0, 16000000, 30000 };
	char *host = NULL, *port = NULL, err[256] = "";
	int rc = -1;

	if (http_split_listen(listen, &host, &port) != 0) {
		fprintf(stderr, "ciis-relay: bad listen address \"%s\"\n", listen);
		goto out;
	}
	ecfg.ping_interval_ms = (int)rm->conf.relay_ping_interval_ms;
	ecfg.ping_timeout_ms = (int)rm->conf.relay_ping_timeout_ms;
	ecfg.max_payload = (size_t)rm->conf.relay_max_payload_bytes;
	ecfg.max_buffered = (size_t)rm->conf.relay_send_queue_bytes;
	lim.max_body = ecfg.max_payload;
	if ((rm->loop = loop_new()) == NULL || watch_signals(rm) != 0) {
		fprintf(stderr, "ciis-relay: %s\n", strerror(errno));
		goto out;
	}
	rm->drain.cb = on_drained;
	if ((rm->tail = ciis_tail_start(&rm->conf, NULL, NULL, 0)) == NULL ||
	    relay_hub_init(&rm->hub, rm->loop, &rm->conf, rm->keys, rm->tail) != 0) {
		fprintf(stderr, "ciis-relay: cannot start a thread\n");
		goto out;
	}
	/* one process holds every socket: polling more often than ciis-api's
	 * processes costs little and is most of the commit-to-delivery time */
	ciis_tail_set_poll_ms(rm->tail, rm->conf.relay_tail_poll_ms);
	ciis_tail_on_publish(rm->tail, relay_hub_published, &rm->hub);
	/* presence events the worker commits reach our own loop at once */
	ciis_event_set_commit_hook(ciis_tail_kick, rm->tail);
	rm->ns = (struct sio_namespace){ "/", &relay_sio_handlers, &rm->hub };
	rm->sio = sio_server_new(rm->loop, &ecfg, &relay_sio_config, &rm->ns, 1);
	rm->http = http_server_new(rm->loop, host, port, &lim, route, rm, err, sizeof err);
	if (rm->http == NULL) {
		fprintf(stderr, "ciis-relay: listen %s: %s\n", listen, err);
		goto out;
	}
	ciis_log(CIIS_LOG_INFO, "relay: ciis-relay %s listening on %s:%d", PACKAGE_VERSION, host,
	    http_server_port(rm->http));
	rc = loop_run(rm->loop);
out:
	free(host);
	free(port);
	return rc;
}

static void
shutdown_all(struct relay_main *rm)
{
	if (rm->tail != NULL)
		ciis_tail_on_publish(rm->tail, NULL, NULL);
	ciis_event_set_commit_hook(NULL, NULL);
	ciis_tail_stop(rm->tail);	/* no more posts to the loop */
	http_server_free(rm->http);	/* first: held polls release their sessions */
	sio_server_free(rm->sio);	/* every socket leaves the hub */
	if (rm->loop != NULL) {
		relay_hub_cleanup(&rm->hub);
		loop_io_close(rm->loop, &rm->signals);
	}
	loop_free(rm->loop);		/* the last deferred frees */
	ciis_keys_free(rm->keys);
	if (rm->reloaded != NULL) {
		ciis_conf_cleanup(rm->reloaded);
		free(rm->reloaded);
	}
	ciis_conf_cleanup(&rm->conf);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct relay_main rm = { .signals.fd = -1 };
	const char *file = NULL, *listen = NULL;
	char msg[512];
	int ch, rc = EXIT_FAILURE;

	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'l': listen = optarg; break;
		case 'h': usage(stdout); return EXIT_SUCCESS;
		case 'V': printf("ciis-relay %s\n", PACKAGE_VERSION); return EXIT_SUCCESS;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	ciis_conf_defaults(&rm.conf);
	if (ciis_conf_load(&rm.conf, file, msg, sizeof msg) != 0) {
		fprintf(stderr, "ciis-relay: %s\n", msg);
		ciis_conf_cleanup(&rm.conf);
		return EXIT_FAILURE;
	}
	if (ciis_log_level_parse(rm.conf.log_level) >= 0)
		ciis_log_set_level((enum ciis_log_level)ciis_log_level_parse(rm.conf.log_level));
	if ((rm.keys = ciis_keys_load(&rm.conf, 0, msg, sizeof msg)) == NULL) {
		fprintf(stderr, "ciis-relay: %s\n", msg);
		ciis_conf_cleanup(&rm.conf);
		return EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);	/* sends use MSG_NOSIGNAL; this covers the rest */
	ciis_db_library_init();
	if (serve(&rm, listen != NULL ? listen : rm.conf.relay_listen) == 0)
		rc = EXIT_SUCCESS;
	shutdown_all(&rm);
	return rc;
}
