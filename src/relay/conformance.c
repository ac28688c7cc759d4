/* relay-conformance-server: the Engine.IO and Socket.IO layers of ciis-relay
 * under the handlers of the upstream protocol test suites, and nothing else
 * (no database, no configuration file):
 *   /engine.io/  every message comes back unchanged
 *   /socket.io/  "/" and "/custom" emit "auth"; "/" answers "message" with
 *                "message-back" and acknowledges "message-with-ack"
 * with pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6 and a 1 s
 * connect timeout, the suites' settings. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "relay/eio.h"
#include "relay/http.h"
#include "relay/loop.h"
#include "relay/sio.h"

static const struct eio_config relay_eio_config = {
	.ping_interval_ms = 300,
	.ping_timeout_ms = 200,
	.upgrade_timeout_ms = 10000,
	.max_payload = 1000000,
	.max_buffered = 4000000,
	.close_wait_ms = 1000,
};

static const struct sio_config relay_sio_config = {
	.connect_timeout_ms = 1000,
	.max_attachments = 10,
};

struct relay_conf_server {
	struct loop *loop;
	struct http_server *http;
	struct eio_server *echo;
	struct sio_server *sio;
	struct loop_io signals;
};

/* ---- /engine.io/: echo ------------------------------------------------------ */

static void
relay_echo_open(struct eio_session *s, void *arg)
{
}

static void
relay_echo_message(struct eio_session *s, int binary, const char *data, size_t len, void *arg)
{
	eio_send(s, binary, data, len);
}

static void
relay_echo_close(struct eio_session *s, const char *reason, void *arg)
{
}

static const struct eio_handlers relay_echo = {
	relay_echo_open, relay_echo_message, relay_echo_close,
};

/* ---- /socket.io/ ------------------------------------------------------------ */

#define AUTH_DELAY_MS 5

static struct loop *relay_loop;	/* the one loop of this program */

/* The "auth" event of a socket, sent a moment after its CONNECT reply. */
struct relay_auth_later {
	struct loop_timer t;
	struct sio_socket *sk;		/* borrowed: disconnect cancels us first */
	struct json_object *auth;	/* owned */
};

static void
relay_send_auth(struct loop_timer *t)
{
	struct relay_auth_later *a = LOOP_OWNER(t, struct relay_auth_later, t);
	struct json_object *args = json_object_new_array();

	json_object_array_add(args, json_object_get(a->auth));
	sio_emit(a->sk, "auth", args, NULL, 0);
	json_object_put(args);
	sio_socket_set_data(a->sk, NULL);
	json_object_put(a->auth);
	free(a);
}

/* The reference server writes the CONNECT reply and the handler's first
 * event in two writes; clients that deliver every message of one read
 * synchronously (ws >= 8.17, the suites' own helper) drop a second message
 * arriving in the same segment before their next listener is attached. */
static void
relay_emit_auth(struct sio_socket *sk, struct json_object *auth, void *arg)
{
	struct relay_auth_later *a = ciis_xcalloc(1, sizeof *a);

	a->t.cb = relay_send_auth;
	a->sk = sk;
	a->auth = json_object_get(auth);
	sio_socket_set_data(sk, a);
	loop_timer_arm(relay_loop, &a->t, AUTH_DELAY_MS);
}

static void
relay_drop_auth(struct sio_socket *sk, const char *reason, void *arg)
{
	struct relay_auth_later *a = sio_socket_data(sk);

	if (a == NULL)
		return;
	loop_timer_cancel(relay_loop, &a->t);
	json_object_put(a->auth);
	free(a);
	sio_socket_set_data(sk, NULL);
}

static void
relay_message(struct sio_socket *sk, const struct sio_event *ev)
{
	sio_emit(sk, "message-back", ev->args, ev->att, ev->natt);
}

static void
relay_message_with_ack(struct sio_socket *sk, const struct sio_event *ev)
{
	if (ev->ack_id != SIO_NO_ACK)
		sio_ack(sk, ev->ack_id, ev->args, ev->att, ev->natt);
}

static const struct {
	const char *name;
	void (*fn)(struct sio_socket *sk, const struct sio_event *ev);
} relay_events[] = {
	{ "message", relay_message },
	{ "message-with-ack", relay_message_with_ack },
};

static void
relay_main_event(struct sio_socket *sk, const struct sio_event *ev, void *arg)
{
	for (size_t i = 0; i < sizeof relay_events / sizeof relay_events[0]; i++)
		if (strcmp(ev->name, relay_events[i].name) == 0)
			relay_events[i].fn(sk, ev);
}

static const struct sio_handlers relay_main_ns = {
	.on_connect = relay_emit_auth,
	.on_event = relay_main_event,
	.on_disconnect = relay_drop_auth,
};

static const struct sio_handlers relay_custom_ns = {
	.on_connect = relay_emit_auth,
	.on_disconnect = relay_drop_auth,
};

static const struct sio_namespace relay_namespaces[] = {
	{ "/", &relay_main_ns, NULL },
	{ "/custom", &relay_custom_ns, NULL },
};

/* ---- HTTP ------------------------------------------------------------------- */

static int
relay_under(struct http_str path, const char *prefix)
{
	size_t n = strlen(prefix);

	return (path.n >= n && memcmp(path.p, prefix, n) == 0) ||
	    (path.n == n - 1 && memcmp(path.p, prefix, n - 1) == 0);
}

static void
relay_route(struct http_conn *c, const struct http_req *req, void *arg)
{
	struct relay_conf_server *rs = arg;

	if (relay_under(req->path, "/socket.io/"))
		sio_handle(rs->sio, c, req);
	else if (relay_under(req->path, "/engine.io/"))
		eio_handle(rs->echo, c, req);
	else
		http_respond(c, 404, NULL, "text/plain", "Not Found", 9);
}

/* ---- the program ------------------------------------------------------------ */

static void
relay_on_signal(struct loop_io *io, uint32_t events)
{
	struct relay_conf_server *rs = LOOP_OWNER(io, struct relay_conf_server, signals);
	struct signalfd_siginfo si;

	if (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si)
		ciis_log(CIIS_LOG_INFO, "relay: signal %u, stopping", si.ssi_signo);
	loop_stop(rs->loop);
}

static int
relay_watch_signals(struct relay_conf_server *rs)
{
	static const int stop[] = { SIGINT, SIGTERM };

	return loop_signals(rs->loop, &rs->signals, stop, 2, relay_on_signal);
}

static void
relay_usage(FILE *f)
{
	fputs("usage: relay-conformance-server --listen HOST:PORT [--debug]\n", f);
}

static int
relay_serve(struct relay_conf_server *rs, const char *host, const char *port)
{
	static const struct http_limits lim = {
		.max_head = 8192,
		.max_body = 1000000,		/* = maxPayload: more is a 413 */
		.max_out = 16000000,
		.idle_ms = 30000,
	};
	char err[256] = "";

	if ((rs->loop = relay_loop = loop_new()) == NULL || relay_watch_signals(rs) != 0) {
		fprintf(stderr, "relay-conformance-server: %s\n", strerror(errno));
		return -1;
	}
	rs->echo = eio_server_new(rs->loop, &relay_eio_config, &relay_echo, rs);
	rs->sio = sio_server_new(rs->loop, &relay_eio_config, &relay_sio_config, relay_namespaces,
	    sizeof relay_namespaces / sizeof relay_namespaces[0]);
	rs->http = http_server_new(rs->loop, host, port, &lim, relay_route, rs, err, sizeof err);
	if (rs->http == NULL) {
		fprintf(stderr, "relay-conformance-server: listen %s\n", err);
		return -1;
	}
	printf("relay-conformance-server: listening on %s:%d\n", host, http_server_port(rs->http));
	fflush(stdout);
	return loop_run(rs->loop);
}

/* --listen HOST:PORT [--debug]; 0, or -1 for a usage error. */
static int
relay_parse_args(int argc, char **argv, char **host, char **port)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc && *host == NULL &&
		    http_split_listen(argv[i + 1], host, port) == 0)
			i++;
		else if (strcmp(argv[i], "--debug") == 0)
			ciis_log_set_level(CIIS_LOG_DEBUG);
		else
			return -1;
	}
	return *host != NULL ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct relay_conf_server rs = { .signals.fd = -1 };
	char *host = NULL, *port = NULL;
	int rc = EXIT_FAILURE;

	if (relay_parse_args(argc, argv, &host, &port) != 0) {
		relay_usage(stderr);
		rc = 2;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);	/* sends use MSG_NOSIGNAL; this covers the rest */
	if (relay_serve(&rs, host, port) == 0)
		rc = EXIT_SUCCESS;
out:
	http_server_free(rs.http);	/* first: held polls release their sessions */
	sio_server_free(rs.sio);
	eio_server_free(rs.echo);
	if (rs.loop != NULL)
		loop_io_close(rs.loop, &rs.signals);
	loop_free(rs.loop);		/* runs the last deferred frees */
	free(host);
	free(port);
	return rc;
}
