/* Socket.IO 5 packets, with no I/O:
 *   <type>[<#attachments>-][<namespace>,][<ack id>][JSON payload]
 * Decoding follows the reference parser (socket.io-parser decodeString) and
 * its payload rules; anything it would reject is rejected here. */
#ifndef CIIS_RELAY_SIO_CODEC_H
#define CIIS_RELAY_SIO_CODEC_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define SIO_NSP_MAX 128
#define SIO_NO_ACK ((int64_t)-1)

enum sio_type {
	SIO_CONNECT = 0,
	SIO_DISCONNECT,
	SIO_EVENT,
	SIO_ACK,
	SIO_CONNECT_ERROR,
	SIO_BINARY_EVENT,
	SIO_BINARY_ACK,
};

struct sio_packet {
	enum sio_type type;
	char nsp[SIO_NSP_MAX + 1];	/* "/" when absent */
	int64_t id;			/* ack id, SIO_NO_ACK when absent */
	size_t attachments;		/* binary types only */
	struct json_object *data;	/* owned; NULL when absent */
};

/* Decode a text packet.  0, or -1 with *why a static reason ("unknown packet
 * type", "invalid payload", ...) and nothing to clean up. */
int sio_decode(const char *p, size_t n, size_t max_attachments, struct sio_packet *pkt,
    const char **why);
/* Release pkt->data (pkt may be reused). */
void sio_packet_cleanup(struct sio_packet *pkt);
/* Append the text form of pkt to out. */
void sio_encode(struct ciis_buf *out, const struct sio_packet *pkt);
/* Does every {"_placeholder":true,"num":k} in v have 0 <= k < n?  1 or 0. */
int sio_placeholders_ok(struct json_object *v, size_t n);
/* Is name one the client reserves (connect, disconnect, ...)? */
int sio_reserved_event(const char *name);

#endif
