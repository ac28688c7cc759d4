/* WebSocket (RFC 6455) over our loop: frame headers are wslay's (its frame
 * layer); the opening handshake, fragments, control frames, the closing
 * handshake and close codes are ours.  Messages are delivered whole (at most
 * max_message bytes, else close 1009); text must be UTF-8 (else 1007); any
 * other protocol error is close 1002.  Sends are queued up to max_queue bytes
 * (what the kernel did not take); past that the peer is not reading: close
 * 1008 "slow_consumer", and the connection is dropped after close_wait_ms.  With cfg.ping_ms, ping
 * frames keep proxies' idle timers from cutting a quiet connection.  Our
 * side of a close ends with a lingering close (FIN, then read until the
 * peer's EOF), so that unread input does not turn it into a reset that
 * loses the close frame.  Knows nothing of Engine.IO. */
#ifndef CIIS_RELAY_WS_H
#define CIIS_RELAY_WS_H

#include <stddef.h>
#include <stdint.h>

#include "relay/http.h"

#define WS_ACCEPT_LEN 28	/* base64 of a SHA-1 */

struct ws_conn;

struct ws_config {
	size_t max_message;
	size_t max_queue;
	int close_wait_ms;	/* after our close frame, for the peer's */
	int ping_ms;		/* a ping frame this often (0: none); a peer
				 * that sent nothing since the last one is dropped */
};

/* Every live connection of one owner, so that it can end them all at once;
 * embedded by the owner, zeroed but for cfg. */
struct ws_set {
	struct ws_config cfg;
	struct ws_conn *head;
	size_t count;
};

struct ws_handlers {
	/* A whole message; data is lent for the call. */
	void (*on_message)(struct ws_conn *ws, int binary, const char *data, size_t len, void *arg);
	/* Once, when the connection is gone (whoever closed it); ws stays valid
	 * until the end of the loop round but must not be used. */
	void (*on_close)(struct ws_conn *ws, void *arg);
};

/* Sec-WebSocket-Accept for a client key: out gets WS_ACCEPT_LEN chars + NUL. */
void ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1]);
/* Is req a valid WebSocket opening handshake?  0, or the HTTP status to refuse
 * it with (400, or 426 for a version other than 13). */
int ws_check(const struct http_req *req);
/* Answer 101 and take the connection over from HTTP.  req must have passed
 * ws_check().  Never NULL. */
struct ws_conn *ws_accept(struct ws_set *set, struct http_conn *c, const struct http_req *req,
    const struct ws_handlers *h, void *arg);
/* Point the callbacks at a new owner (an upgrade changes hands). */
void ws_set_handlers(struct ws_conn *ws, const struct ws_handlers *h, void *arg);
/* Queue a message; 0, or -1 when closing or over max_queue (then closed). */
int ws_send(struct ws_conn *ws, int binary, const void *data, size_t len);
/* Start the closing handshake with `code` (1000 normal); on_close follows. */
void ws_close(struct ws_conn *ws, uint16_t code);
/* Drop the connection now, without a closing handshake; on_close follows. */
void ws_abort(struct ws_conn *ws);
/* ws_abort() every connection of the set (shutdown). */
void ws_set_abort_all(struct ws_set *set);

#endif
