/* Engine.IO 4 server sessions: the handshake, the polling and WebSocket
 * transports, the upgrade from one to the other, the heartbeat and its
 * timeouts.  Above it sits whatever handles messages (Socket.IO, an echo):
 * it sees sessions open, messages arrive (text or binary) and sessions
 * close, and sends messages back; it never sees a transport. */
#ifndef CIIS_RELAY_EIO_H
#define CIIS_RELAY_EIO_H

#include <stddef.h>

#include "relay/http.h"
#include "relay/loop.h"

#define EIO_SID_LEN 20

struct eio_server;
struct eio_session;

struct eio_config {
	int ping_interval_ms;
	int ping_timeout_ms;
	int upgrade_timeout_ms;
	size_t max_payload;	/* POST body and WebSocket message, bytes */
	size_t max_buffered;	/* unsent to one client; past it: closed */
	int close_wait_ms;	/* WebSocket closing handshake */
};

/* Reference defaults (SOCKETIO-NOTES §2): 25000, 20000, 10000, 1e6, ... */
extern const struct eio_config eio_config_default;

struct eio_handlers {
	void (*on_open)(struct eio_session *s, void *arg);
	/* data is lent for the call; the handler may send or close. */
	void (*on_message)(struct eio_session *s, int binary, const char *data, size_t len,
	    void *arg);
	/* Once per opened session; s must not be used after it returns.  The
	 * reason is a static string ("ping timeout", "transport close", ...). */
	void (*on_close)(struct eio_session *s, const char *reason, void *arg);
};

/* cfg and h are copied/borrowed: h must outlive the server. */
struct eio_server *eio_server_new(struct loop *l, const struct eio_config *cfg,
    const struct eio_handlers *h, void *arg);
/* Closes every session (on_close for each), then frees.  NULL ok. */
void eio_server_free(struct eio_server *srv);
/* Serve one HTTP request addressed to this server's path (any method). */
void eio_handle(struct eio_server *srv, struct http_conn *c, const struct http_req *req);
/* Number of open sessions. */
size_t eio_server_count(const struct eio_server *srv);

/* Queue a message; 0, or -1 when the session is closed (or is closed now
 * because its client has max_buffered bytes unread). */
int eio_send(struct eio_session *s, int binary, const void *data, size_t len);
/* Close the session from the server side; on_close follows at once. */
void eio_close(struct eio_session *s);
/* The session id (NUL-terminated, EIO_SID_LEN chars); lent. */
const char *eio_session_id(const struct eio_session *s);
/* One pointer for the layer above. */
void eio_session_set_data(struct eio_session *s, void *data);
void *eio_session_data(const struct eio_session *s);
struct loop *eio_session_loop(const struct eio_session *s);
/* The handshake request's query string (after '?') and Authorization header
 * value ("" when absent), kept for the layers above (credentials); lent. */
const char *eio_session_query(const struct eio_session *s);
const char *eio_session_authorization(const struct eio_session *s);

/* A fresh random id of EIO_SID_LEN base64url characters (+ NUL). */
void eio_random_id(char out[EIO_SID_LEN + 1]);

#endif
