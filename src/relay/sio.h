/* Socket.IO 5 over Engine.IO: namespaces, connect / disconnect, events,
 * acks and binary attachments.  A program registers a table of namespaces,
 * each with its handlers; it sees sockets (one per client and namespace)
 * connect, send events and go, and emits to them.  Knows nothing of ciis.
 *
 * Binary attachments stay as the wire has them: the JSON keeps its
 * {"_placeholder":true,"num":k} objects and the bytes come alongside, in
 * order; emitting works the same way. */
#ifndef CIIS_RELAY_SIO_H
#define CIIS_RELAY_SIO_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/eio.h"
#include "relay/sio_codec.h"

struct sio_server;
struct sio_socket;

struct sio_blob {
	const void *data;
	size_t len;
};

struct sio_event {
	const char *name;
	struct json_object *args;	/* array of the arguments after the name; lent */
	const struct sio_blob *att;	/* attachments, lent */
	size_t natt;
	int64_t ack_id;			/* SIO_NO_ACK when none asked for */
};

/* What authorize answers to decide later (sio_connect_finish). */
extern const char SIO_PENDING[];

struct sio_handlers {
	/* May refuse: return the CONNECT_ERROR message (static), NULL to
	 * accept, or SIO_PENDING to answer later with sio_connect_finish(), e.g.
	 * after a database lookup (the socket takes no packets meanwhile; if the
	 * client goes first, on_disconnect comes instead).  auth is lent ({}
	 * when the client sent none).  NULL: accept. */
	const char *(*authorize)(struct sio_socket *sk, struct json_object *auth, void *arg);
	/* After the CONNECT reply went out (auth NULL when it was pending). */
	void (*on_connect)(struct sio_socket *sk, struct json_object *auth, void *arg);
	void (*on_event)(struct sio_socket *sk, const struct sio_event *ev, void *arg);
	/* Once per connected socket; sk must not be used after it returns. */
	void (*on_disconnect)(struct sio_socket *sk, const char *reason, void *arg);
};

struct sio_namespace {
	const char *name;		/* "/", "/custom" */
	const struct sio_handlers *h;
	void *arg;
};

struct sio_config {
	int connect_timeout_ms;		/* no CONNECT in time: the session closes */
	size_t max_attachments;		/* per packet */
};

/* nsps[0..n) is borrowed and must outlive the server. */
struct sio_server *sio_server_new(struct loop *l, const struct eio_config *ecfg,
    const struct sio_config *cfg, const struct sio_namespace *nsps, size_t n);
/* Every socket gets on_disconnect("server shutting down").  NULL ok. */
void sio_server_free(struct sio_server *srv);
/* Serve one HTTP request to this server's path. */
void sio_handle(struct sio_server *srv, struct http_conn *c, const struct http_req *req);

/* Emit `name` with the elements of args (an array, lent; NULL for none) and
 * attachments att[0..natt) (copied).  0, or -1 when the socket is gone. */
int sio_emit(struct sio_socket *sk, const char *name, struct json_object *args,
    const struct sio_blob *att, size_t natt);
/* Answer the client's ack request `id` with args (array or NULL). */
int sio_ack(struct sio_socket *sk, int64_t id, struct json_object *args,
    const struct sio_blob *att, size_t natt);
/* Answer a socket that authorize left pending: accept (refusal NULL), or
 * refuse with that CONNECT_ERROR message — then sk is freed and no
 * on_disconnect follows. */
void sio_connect_finish(struct sio_socket *sk, const char *refusal);
/* Before the CONNECT reply (in authorize, or before finishing a pending
 * one): the socket id to use instead of a fresh one (sid, may be NULL) and
 * the private session id the reply carries for connection state recovery
 * (pid; NULL or "" for none).  Each at most EIO_SID_LEN characters. */
void sio_socket_set_session(struct sio_socket *sk, const char *sid, const char *pid);
const char *sio_socket_pid(const struct sio_socket *sk);	/* lent; "" when none */

/* Disconnect this namespace (sends DISCONNECT); on_disconnect follows. */
void sio_disconnect(struct sio_socket *sk);

/* Send a text packet already encoded for sk's namespace (an event built once
 * for many sockets).  0, or -1 when the socket is gone. */
int sio_send_raw(struct sio_socket *sk, const char *packet, size_t len);
/* The Engine.IO session under sk (NULL once gone): its handshake's
 * credentials, or eio_close() to end the whole session. */
struct eio_session *sio_socket_session(const struct sio_socket *sk);

const char *sio_socket_id(const struct sio_socket *sk);	/* lent */
const char *sio_socket_nsp(const struct sio_socket *sk);	/* lent */
void sio_socket_set_data(struct sio_socket *sk, void *data);
void *sio_socket_data(const struct sio_socket *sk);

#endif
