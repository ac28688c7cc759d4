/* A small HTTP/1.1 server for the relay: request heads parsed in place (a
 * pure parser, unit-tested), Content-Length bodies up to a limit, keep-alive,
 * responses with partial-write handling, requests held open for long-polling
 * and sockets handed over to the WebSocket layer.  Knows nothing of
 * Engine.IO: one handler gets every complete request. */
#ifndef CIIS_RELAY_HTTP_H
#define CIIS_RELAY_HTTP_H

#include <stddef.h>

#include "core/buf.h"
#include "relay/loop.h"

/* A borrowed slice of the request text (not NUL-terminated). */
struct http_str {
	const char *p;
	size_t n;
};

struct http_req {
	struct http_str method, path, query;	/* query: after '?', "" if none */
	int minor;			/* HTTP/1.<minor> */
	int keep_alive;
	int upgrade;			/* Connection: upgrade and Upgrade: websocket */
	struct http_str ws_key, ws_version;
	struct http_str authorization;	/* the header's value, "" if none */
	size_t content_length;
	int chunked;			/* Transfer-Encoding present: refused (501) */
	int expect_continue;		/* Expect: 100-continue (curl, over 1 KB) */
	int too_large;			/* Content-Length over max_body: body unread */
	int partial;			/* head only, the body still coming: a notice */
	const char *body;		/* content_length bytes, when complete */
};

struct http_limits {
	size_t max_head;		/* request line + headers */
	size_t max_body;		/* Content-Length; more → req.too_large */
	size_t max_out;			/* unsent response bytes before we give up */
	int idle_ms;			/* silence on a connection not held open */
};

/* Parse a request head from buf[0..len).  Returns the head's length (the
 * body starts there), 0 when more bytes are needed, or -1 with *status set
 * (400 malformed, 431 head over max_head, 505 not HTTP/1.x).  req's slices
 * point into buf. */
int http_parse_head(const char *buf, size_t len, size_t max_head,
    struct http_req *req, int *status);
/* The raw value of query parameter `name` (no %-decoding); 1 found, 0 not. */
int http_query_param(struct http_str query, const char *name, struct http_str *val);
/* Does s equal the C string lit (case-sensitively)? */
int http_str_eq(struct http_str s, const char *lit);
/* Does the comma-separated header value hold token (case-insensitively)? */
int http_has_token(struct http_str list, const char *token);

struct http_server;
struct http_conn;

/* Called for each complete request; it must respond, hold or detach.  req
 * and its slices are lent for the call only.  A request whose body does not
 * come with its head is announced first with req->partial set: the handler
 * may refuse it at once (the body is then discarded) or return without a
 * response and get the complete request later. */
typedef void (*http_handler_fn)(struct http_conn *c, const struct http_req *req, void *arg);

/* Listen on exactly host:port (numeric or a name; the first address wins).
 * NULL on failure, with the reason in err. */
struct http_server *http_server_new(struct loop *l, const char *host, const char *port,
    const struct http_limits *lim, http_handler_fn fn, void *arg, char *err, size_t errlen);
/* Split "127.0.0.1:8081", "[::1]:8081" or "localhost:8081" into new
 * strings *host and *port (the caller frees both); -1 when malformed. */
int http_split_listen(const char *arg, char **host, char **port);
/* The port bound (useful with port "0"). */
int http_server_port(const struct http_server *s);
/* Close the listener and every connection (holders get on_gone).  NULL ok. */
void http_server_free(struct http_server *s);
/* Accept no more connections (shutdown); the open ones go on. */
void http_server_stop_listening(struct http_server *s);

struct loop *http_conn_loop(const struct http_conn *c);

/* Send a response.  `extra` holds additional header lines, each ending in
 * CRLF (may be NULL).  A held request is released by this. */
void http_respond(struct http_conn *c, int status, const char *extra,
    const char *ctype, const void *body, size_t len);
/* Keep the request open: the response comes later, by http_respond().  If
 * the connection dies first, on_gone(arg) is called once (and the conn must
 * not be used after). */
void http_hold(struct http_conn *c, void (*on_gone)(void *arg), void *arg);
/* Be told (on_gone(arg), once) if the connection dies before the request
 * being read completes; on_gone NULL forgets it.  Cleared when the complete
 * request is handed to the handler. */
void http_watch(struct http_conn *c, void (*on_gone)(void *arg), void *arg);
/* Hand the socket to another layer: returns the fd (non-blocking, no longer
 * watched) and moves the bytes read past the current request into *rest
 * (which must not hold memory: it is overwritten); the conn is freed. */
int http_detach(struct http_conn *c, struct ciis_buf *rest);

#endif
