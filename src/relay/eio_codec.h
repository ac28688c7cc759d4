/* Engine.IO 4 packets and polling payloads, with no I/O: a packet is one
 * type digit and its data ("4hello"); a polling payload joins packets with
 * the record separator 0x1e and carries binary ones as 'b' + base64. */
#ifndef CIIS_RELAY_EIO_CODEC_H
#define CIIS_RELAY_EIO_CODEC_H

#include <stddef.h>

#include "core/buf.h"

#define EIO_RS '\x1e'

enum eio_type {
	EIO_OPEN = 0,
	EIO_CLOSE,
	EIO_PING,
	EIO_PONG,
	EIO_MESSAGE,
	EIO_UPGRADE,
	EIO_NOOP,
};

struct eio_packet {
	enum eio_type type;
	int binary;		/* a binary message: data is raw bytes */
	const char *data;	/* lent: into the input, or into the scratch buffer */
	size_t len;
};

/* Decode one text packet ("4hello", "2probe"); 0, or -1 for an empty packet
 * or an unknown type. */
int eio_decode_text(const char *p, size_t n, struct eio_packet *pkt);

/* Walk a polling payload: eio_payload_next() gives 1 and the next packet,
 * 0 at the end, -1 for an invalid record (empty, unknown type, bad base64).
 * Binary packets are decoded into *scratch, valid until the next call. */
struct eio_payload_iter {
	const char *p, *end;
	int done;
};
void eio_payload_begin(struct eio_payload_iter *it, const char *p, size_t n);
int eio_payload_next(struct eio_payload_iter *it, struct eio_packet *pkt, struct ciis_buf *scratch);
/* Is the whole payload valid (non-empty, every record decodable)?  0 or -1. */
int eio_payload_check(const char *p, size_t n, struct ciis_buf *scratch);

/* Append one packet to a polling payload under construction, with the
 * separator when out is not empty.  Text packets: type digit + data. */
void eio_payload_add(struct ciis_buf *out, const struct eio_packet *pkt);

/* Standard base64 with padding.  decode: 0, or -1 for anything else than
 * canonical base64 (the bytes appended to out so far stay). */
void eio_base64_encode(struct ciis_buf *out, const void *data, size_t n);
int eio_base64_decode(struct ciis_buf *out, const char *p, size_t n);

/* The open packet: 0{"sid":…,"upgrades":[…],"pingInterval":…,…}. */
void eio_open_packet(struct ciis_buf *out, const char *sid, int can_upgrade,
    int ping_interval_ms, int ping_timeout_ms, size_t max_payload);

#endif
