/* Socket.IO clients (one per Engine.IO session) and their sockets (one per
 * connected namespace).  A client that breaks the protocol is closed whole,
 * as the reference server does (client.ts ondecoded / onerror). */
#include "relay/sio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xalloc.h"

struct sio_server {
	struct loop *loop;			/* borrowed */
	struct eio_server *eio;			/* owned */
	struct sio_config cfg;
	const struct sio_namespace *nsps;	/* borrowed table */
	size_t nnsps;
};

struct sio_client {
	struct sio_server *srv;			/* borrowed */
	struct eio_session *eio;		/* borrowed: it owns us */
	struct sio_socket *sockets;		/* owned list */
	struct loop_timer connect_timer;
	const char *close_reason;		/* why we closed it, if we did */
	struct sio_packet *pending;		/* owned: a binary packet awaiting its attachments */
	struct ciis_buf *att;			/* owned; natt_max, made on first use */
	size_t natt_max;
	size_t natt;
};

struct sio_socket {
	struct sio_client *cl;			/* borrowed */
	const struct sio_namespace *ns;		/* borrowed */
	char id[EIO_SID_LEN + 1];
	char pid[EIO_SID_LEN + 1];		/* "" when the reply carries none */
	int pending;				/* authorize answered SIO_PENDING */
	void *data;
	struct sio_socket *next;
};

const char SIO_PENDING[] = "(pending)";

/* ---- sending ---------------------------------------------------------------- */

static int
send_packet(struct sio_client *cl, const struct sio_packet *p, const struct sio_blob *att,
    size_t natt)
{
	struct ciis_buf b;
	int rc;

	ciis_buf_init(&b);
	sio_encode(&b, p);
	rc = eio_send(cl->eio, 0, b.data, b.len);
	ciis_buf_cleanup(&b);
	for (size_t i = 0; rc == 0 && i < natt; i++)
		rc = eio_send(cl->eio, 1, att[i].data, att[i].len);
	return rc;
}

/* A packet for namespace nsp carrying `data` (lent). */
static int
send_simple(struct sio_client *cl, enum sio_type t, const char *nsp, struct json_object *data)
{
	struct sio_packet p = { .type = t, .id = SIO_NO_ACK, .data = data };

	strcpy(p.nsp, nsp);
	return send_packet(cl, &p, NULL, 0);
}

static struct json_object *
message_object(const char *message)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "message", json_object_new_string(message));
	return o;
}

/* [head?, ...args]: a new array sharing args' elements. */
static struct json_object *
array_with(const char *head, struct json_object *args)
{
	struct json_object *a = json_object_new_array();

	if (head != NULL)
		json_object_array_add(a, json_object_new_string(head));
	for (size_t i = 0; args != NULL && i < json_object_array_length(args); i++)
		json_object_array_add(a, json_object_get(json_object_array_get_idx(args, i)));
	return a;
}

static int
emit(struct sio_socket *sk, enum sio_type plain, int64_t id, const char *name,
    struct json_object *args, const struct sio_blob *att, size_t natt)
{
	struct sio_packet p = { .type = natt ? plain + 3 : plain, .id = id, .attachments = natt };
	int rc;

	if (sk->cl == NULL)
		return -1;
	strcpy(p.nsp, sk->ns->name);
	p.data = array_with(name, args);
	rc = send_packet(sk->cl, &p, att, natt);
	json_object_put(p.data);
	return rc;
}

int
sio_emit(struct sio_socket *sk, const char *name, struct json_object *args,
    const struct sio_blob *att, size_t natt)
{
	return emit(sk, SIO_EVENT, SIO_NO_ACK, name, args, att, natt);
}

int
sio_ack(struct sio_socket *sk, int64_t id, struct json_object *args, const struct sio_blob *att,
    size_t natt)
{
	return emit(sk, SIO_ACK, id, NULL, args, att, natt);
}

/* ---- sockets ---------------------------------------------------------------- */

static struct sio_socket *
find_socket(struct sio_client *cl, const char *nsp)
{
	for (struct sio_socket *sk = cl->sockets; sk != NULL; sk = sk->next)
		if (strcmp(sk->ns->name, nsp) == 0)
			return sk;
	return NULL;
}

static const struct sio_namespace *
find_namespace(const struct sio_server *srv, const char *nsp)
{
	for (size_t i = 0; i < srv->nnsps; i++)
		if (strcmp(srv->nsps[i].name, nsp) == 0)
			return &srv->nsps[i];
	return NULL;
}

static void
socket_free(void *arg)
{
	free(arg);
}

/* Unlink, tell the handler, free after this round. */
static void
socket_remove(struct sio_socket *sk, const char *reason)
{
	struct sio_client *cl = sk->cl;
	struct sio_socket **p = &cl->sockets;

	while (*p != sk)
		p = &(*p)->next;
	*p = sk->next;
	if (sk->ns->h->on_disconnect != NULL)
		sk->ns->h->on_disconnect(sk, reason, sk->ns->arg);
	sk->cl = NULL;
	loop_defer(cl->srv->loop, socket_free, sk);
}

void
sio_disconnect(struct sio_socket *sk)
{
	if (sk->cl == NULL)
		return;
	send_simple(sk->cl, SIO_DISCONNECT, sk->ns->name, NULL);
	socket_remove(sk, "server namespace disconnect");
}

static void
send_connect_error(struct sio_client *cl, const char *nsp, const char *message)
{
	struct json_object *m = message_object(message);

	send_simple(cl, SIO_CONNECT_ERROR, nsp, m);
	json_object_put(m);
}

/* The CONNECT reply: {sid} and, for a session that can be recovered, pid. */
static void
send_connect(struct sio_socket *sk)
{
	struct json_object *reply = json_object_new_object();

	json_object_object_add(reply, "sid", json_object_new_string(sk->id));
	if (sk->pid[0] != '\0')
		json_object_object_add(reply, "pid", json_object_new_string(sk->pid));
	send_simple(sk->cl, SIO_CONNECT, sk->ns->name, reply);
	json_object_put(reply);
}

static void
connect_ns(struct sio_client *cl, struct sio_packet *p)
{
	const struct sio_namespace *ns = find_namespace(cl->srv, p->nsp);
	struct json_object *auth = p->data ? p->data : json_object_new_object();
	struct sio_socket *sk;
	const char *refusal;

	p->data = auth;		/* p owns it, whichever it is */
	if (ns == NULL) {
		send_connect_error(cl, p->nsp, "Invalid namespace");
		return;
	}
	sk = ciis_xcalloc(1, sizeof *sk);
	sk->cl = cl;
	sk->ns = ns;
	eio_random_id(sk->id);
	if ((refusal = ns->h->authorize ? ns->h->authorize(sk, auth, ns->arg) : NULL) != NULL &&
	    refusal != SIO_PENDING) {
		send_connect_error(cl, p->nsp, refusal);
		free(sk);
		return;
	}
	sk->next = cl->sockets;
	cl->sockets = sk;
	loop_timer_cancel(cl->srv->loop, &cl->connect_timer);
	if (refusal == SIO_PENDING) {
		sk->pending = 1;	/* sio_connect_finish() answers */
		return;
	}
	send_connect(sk);
	if (ns->h->on_connect != NULL)
		ns->h->on_connect(sk, auth, ns->arg);
}

void
sio_connect_finish(struct sio_socket *sk, const char *refusal)
{
	struct sio_client *cl = sk->cl;
	struct sio_socket **p;

	if (cl == NULL || !sk->pending)
		return;
	sk->pending = 0;
	if (refusal == NULL) {
		send_connect(sk);
		if (sk->ns->h->on_connect != NULL)
			sk->ns->h->on_connect(sk, NULL, sk->ns->arg);
		return;
	}
	send_connect_error(cl, sk->ns->name, refusal);
	for (p = &cl->sockets; *p != sk; p = &(*p)->next)
		;
	*p = sk->next;
	sk->cl = NULL;
	loop_defer(cl->srv->loop, socket_free, sk);
}

void
sio_socket_set_session(struct sio_socket *sk, const char *sid, const char *pid)
{
	if (sid != NULL)
		snprintf(sk->id, sizeof sk->id, "%s", sid);
	snprintf(sk->pid, sizeof sk->pid, "%s", pid != NULL ? pid : "");
}

const char *
sio_socket_pid(const struct sio_socket *sk)
{
	return sk->pid;
}

static void
event(struct sio_socket *sk, struct sio_packet *p, const struct sio_blob *att, size_t natt)
{
	struct json_object *name = json_object_array_get_idx(p->data, 0);
	struct json_object *args = json_object_new_array();
	struct sio_event ev = { json_object_get_string(name), args, att, natt, p->id };

	for (size_t i = 1; i < json_object_array_length(p->data); i++)
		json_object_array_add(args, json_object_get(json_object_array_get_idx(p->data, i)));
	if (sk->ns->h->on_event != NULL)
		sk->ns->h->on_event(sk, &ev, sk->ns->arg);
	json_object_put(args);
}

static void
close_client(struct sio_client *cl, const char *reason)
{
	cl->close_reason = reason;
	eio_close(cl->eio);
}

/* A complete packet (attachments gathered) from the client. */
static void
dispatch(struct sio_client *cl, struct sio_packet *p, const struct sio_blob *att, size_t natt)
{
	struct sio_socket *sk = find_socket(cl, p->nsp);

	if ((p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK) &&
	    !sio_placeholders_ok(p->data, natt)) {
		close_client(cl, "parse error");
	} else if (sk == NULL && p->type == SIO_CONNECT) {
		connect_ns(cl, p);
	} else if (sk == NULL || sk->pending || p->type == SIO_CONNECT || p->type == SIO_CONNECT_ERROR) {
		close_client(cl, "invalid state");
	} else if (p->type == SIO_DISCONNECT) {
		socket_remove(sk, "client namespace disconnect");
	} else if (p->type == SIO_EVENT || p->type == SIO_BINARY_EVENT) {
		event(sk, p, att, natt);
	}
	/* ACK, BINARY_ACK: the server asks for no acks yet; nothing waits. */
}

/* ---- the Engine.IO side ----------------------------------------------------- */

static void
pending_dispatch(struct sio_client *cl)
{
	struct sio_blob *att = ciis_xcalloc(cl->natt + 1, sizeof *att);
	struct sio_packet *p = cl->pending;

	for (size_t i = 0; i < cl->natt; i++)
		att[i] = (struct sio_blob){ cl->att[i].data, cl->att[i].len };
	cl->pending = NULL;
	dispatch(cl, p, att, cl->natt);	/* may close cl: freed after this round */
	sio_packet_cleanup(p);
	free(p);
	free(att);
	for (size_t i = 0; i < cl->natt; i++)
		ciis_buf_reset(&cl->att[i]);
	cl->natt = 0;
}

static void
on_binary(struct sio_client *cl, const char *data, size_t len)
{
	if (cl->pending == NULL) {
		close_client(cl, "parse error");	/* binary data when not reconstructing */
		return;
	}
	ciis_buf_append(&cl->att[cl->natt++], data, len);
	if (cl->natt == cl->pending->attachments)
		pending_dispatch(cl);
}

static void
on_message(struct eio_session *s, int binary, const char *data, size_t len, void *arg)
{
	struct sio_client *cl = eio_session_data(s);
	struct sio_packet p;
	const char *why;

	if (binary) {
		on_binary(cl, data, len);
		return;
	}
	if (cl->pending != NULL || sio_decode(data, len, cl->srv->cfg.max_attachments, &p, &why) != 0) {
		close_client(cl, "parse error");
		return;
	}
	if ((p.type == SIO_BINARY_EVENT || p.type == SIO_BINARY_ACK) && p.attachments > 0) {
		if (cl->att == NULL)	/* most clients never send binary: keep idle ones small */
			cl->att = ciis_xcalloc(cl->natt_max, sizeof *cl->att);
		cl->pending = ciis_xmalloc(sizeof *cl->pending);
		*cl->pending = p;
		return;
	}
	dispatch(cl, &p, NULL, 0);
	sio_packet_cleanup(&p);
}

static void
on_connect_late(struct loop_timer *t)
{
	struct sio_client *cl = LOOP_OWNER(t, struct sio_client, connect_timer);

	if (cl->sockets == NULL)
		close_client(cl, "connect timeout");
}

static void
on_open(struct eio_session *s, void *arg)
{
	struct sio_server *srv = arg;
	struct sio_client *cl = ciis_xcalloc(1, sizeof *cl);

	cl->srv = srv;
	cl->eio = s;
	cl->natt_max = srv->cfg.max_attachments;
	cl->connect_timer.cb = on_connect_late;
	loop_timer_arm(srv->loop, &cl->connect_timer, srv->cfg.connect_timeout_ms);
	eio_session_set_data(s, cl);
}

static void
client_free(void *arg)
{
	struct sio_client *cl = arg;

	if (cl->pending != NULL)
		sio_packet_cleanup(cl->pending);
	free(cl->pending);
	for (size_t i = 0; cl->att != NULL && i < cl->natt_max; i++)
		ciis_buf_cleanup(&cl->att[i]);	/* not cl->srv: gone at shutdown */
	free(cl->att);
	free(cl);
}

/* The memory waits for the end of the round: a handler that closed the
 * client is still inside dispatch(). */
static void
on_close(struct eio_session *s, const char *reason, void *arg)
{
	struct sio_client *cl = eio_session_data(s);

	loop_timer_cancel(cl->srv->loop, &cl->connect_timer);
	while (cl->sockets != NULL)
		socket_remove(cl->sockets, cl->close_reason ? cl->close_reason : reason);
	loop_defer(cl->srv->loop, client_free, cl);
}

static const struct eio_handlers sio_eio = { on_open, on_message, on_close };

/* ---- the server ------------------------------------------------------------- */

struct sio_server *
sio_server_new(struct loop *l, const struct eio_config *ecfg, const struct sio_config *cfg,
    const struct sio_namespace *nsps, size_t n)
{
	struct sio_server *srv = ciis_xcalloc(1, sizeof *srv);

	srv->loop = l;
	srv->cfg = *cfg;
	srv->nsps = nsps;
	srv->nnsps = n;
	srv->eio = eio_server_new(l, ecfg, &sio_eio, srv);
	return srv;
}

void
sio_server_free(struct sio_server *srv)
{
	if (srv == NULL)
		return;
	eio_server_free(srv->eio);
	free(srv);
}

void
sio_handle(struct sio_server *srv, struct http_conn *c, const struct http_req *req)
{
	eio_handle(srv->eio, c, req);
}

int
sio_send_raw(struct sio_socket *sk, const char *packet, size_t len)
{
	return sk->cl != NULL ? eio_send(sk->cl->eio, 0, packet, len) : -1;
}

struct eio_session *
sio_socket_session(const struct sio_socket *sk)
{
	return sk->cl != NULL ? sk->cl->eio : NULL;
}

const char *
sio_socket_id(const struct sio_socket *sk)
{
	return sk->id;
}

const char *
sio_socket_nsp(const struct sio_socket *sk)
{
	return sk->ns->name;
}

void
sio_socket_set_data(struct sio_socket *sk, void *data)
{
	sk->data = data;
}

void *
sio_socket_data(const struct sio_socket *sk)
{
	return sk->data;
}
