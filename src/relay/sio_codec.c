/* Socket.IO packet codec (pure). */
#include "relay/sio_codec.h"

#include <string.h>

#include "core/json.h"

static const char *const reserved[] = {
	"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

int
sio_reserved_event(const char *name)
{
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (strcmp(name, reserved[i]) == 0)
			return 1;
	return 0;
}

static int
event_ok(struct json_object *d)
{
	struct json_object *name;

	if (!json_object_is_type(d, json_type_array) || json_object_array_length(d) == 0)
		return 0;
	name = json_object_array_get_idx(d, 0);
	if (json_object_is_type(name, json_type_int) || json_object_is_type(name, json_type_double))
		return 1;
	return json_object_is_type(name, json_type_string) &&
	    !sio_reserved_event(json_object_get_string(name));
}

/* isPayloadValid() of the reference decoder, per type. */
static int
payload_ok(enum sio_type t, struct json_object *d)
{
	switch (t) {
	case SIO_CONNECT:
		return d == NULL || json_object_is_type(d, json_type_object);
	case SIO_DISCONNECT:
		return d == NULL;
	case SIO_CONNECT_ERROR:
		return d != NULL && (json_object_is_type(d, json_type_string) ||
		    json_object_is_type(d, json_type_object));
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
		return d != NULL && event_ok(d);
	case SIO_ACK:
	case SIO_BINARY_ACK:
		return d != NULL && json_object_is_type(d, json_type_array);
	}
	return 0;
}

/* "<n>-" of the binary types. */
static int
attachments(const char **p, const char *end, size_t max, size_t *out)
{
	const char *q = *p;
	size_t n = 0;

	while (q < end && *q >= '0' && *q <= '9' && q - *p < 6)
		n = n * 10 + (size_t)(*q++ - '0');
	if (q == *p || q >= end || *q != '-' || n < 1 || n > max)
		return -1;	/* 0 too: socket.io-parser 4.2 refuses it */
	*out = n;
	*p = q + 1;
	return 0;
}

/* "/name," or "/name" up to the end. */
static int
namespace(const char **p, const char *end, char nsp[SIO_NSP_MAX + 1])
{
	const char *q = *p, *comma;
	size_t n;

	if (q >= end || *q != '/') {
		strcpy(nsp, "/");
		return 0;
	}
	comma = memchr(q, ',', (size_t)(end - q));
	n = (size_t)((comma ? comma : end) - q);
	if (n > SIO_NSP_MAX || memchr(q, '\0', n) != NULL)
		return -1;
	memcpy(nsp, q, n);
	nsp[n] = '\0';
	*p = comma ? comma + 1 : end;
	return 0;
}

/* Digits up to 15 (exact in a JS number, which the client uses). */
static int
ack_id(const char **p, const char *end, int64_t *id)
{
	const char *q = *p;
	int64_t v = 0;

	*id = SIO_NO_ACK;
	while (q < end && *q >= '0' && *q <= '9') {
		if (q - *p == 15)
			return -1;
		v = v * 10 + (*q++ - '0');
	}
	if (q > *p)
		*id = v;
	*p = q;
	return 0;
}

int
sio_decode(const char *p, size_t n, size_t max_attachments, struct sio_packet *pkt,
    const char **why)
{
	const char *end = p + n;
	struct ciis_err err;

	memset(pkt, 0, sizeof *pkt);
	*why = "unknown packet type";
	if (n == 0 || *p < '0' || *p > '6')
		return -1;
	pkt->type = (enum sio_type)(*p++ - '0');
	*why = "illegal attachments";
	if ((pkt->type == SIO_BINARY_EVENT || pkt->type == SIO_BINARY_ACK) &&
	    attachments(&p, end, max_attachments, &pkt->attachments) != 0)
		return -1;
	*why = "invalid namespace";
	if (namespace(&p, end, pkt->nsp) != 0)
		return -1;
	*why = "invalid ack id";
	if (ack_id(&p, end, &pkt->id) != 0)
		return -1;
	*why = "invalid payload";
	if (p < end && (pkt->data = ciis_json_parse(p, (size_t)(end - p), &err)) == NULL)
		return -1;
	if (!payload_ok(pkt->type, pkt->data)) {
		sio_packet_cleanup(pkt);
		return -1;
	}
	return 0;
}

void
sio_packet_cleanup(struct sio_packet *pkt)
{
	json_object_put(pkt->data);
	pkt->data = NULL;
}

void
sio_encode(struct ciis_buf *out, const struct sio_packet *pkt)
{
	ciis_buf_printf(out, "%d", (int)pkt->type);
	if (pkt->type == SIO_BINARY_EVENT || pkt->type == SIO_BINARY_ACK)
		ciis_buf_printf(out, "%zu-", pkt->attachments);
	if (strcmp(pkt->nsp, "/") != 0)
		ciis_buf_printf(out, "%s,", pkt->nsp);
	if (pkt->id != SIO_NO_ACK)
		ciis_buf_printf(out, "%lld", (long long)pkt->id);
	if (pkt->data != NULL)
		ciis_buf_puts(out, ciis_json_text(pkt->data));
}

static int
placeholder(struct json_object *v, size_t n)
{
	struct json_object *flag, *num;
	int64_t k;

	if (!json_object_object_get_ex(v, "_placeholder", &flag) ||
	    !json_object_is_type(flag, json_type_boolean) || !json_object_get_boolean(flag))
		return -1;	/* not one: an ordinary object */
	if (!json_object_object_get_ex(v, "num", &num) || !json_object_is_type(num, json_type_int))
		return 0;
	k = json_object_get_int64(num);
	return k >= 0 && (uint64_t)k < n;
}

int
sio_placeholders_ok(struct json_object *v, size_t n)
{
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!sio_placeholders_ok(json_object_array_get_idx(v, i), n))
				return 0;
	} else if (json_object_is_type(v, json_type_object)) {
		int ph = placeholder(v, n);

		if (ph >= 0)
			return ph;
		json_object_object_foreach(v, key, val) {
			(void)key;
			if (!sio_placeholders_ok(val, n))
				return 0;
		}
	}
	return 1;
}
