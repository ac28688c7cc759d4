/* Engine.IO packet and payload codec (pure). */
#include "relay/eio_codec.h"

#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
eio_decode_text(const char *p, size_t n, struct eio_packet *pkt)
{
	if (n == 0 || p[0] < '0' || p[0] > '6')
		return -1;
	pkt->type = (enum eio_type)(p[0] - '0');
	pkt->binary = 0;
	pkt->data = p + 1;
	pkt->len = n - 1;
	return 0;
}

void
eio_payload_begin(struct eio_payload_iter *it, const char *p, size_t n)
{
	it->p = p;
	it->end = p + n;
	it->done = 0;
}

int
eio_payload_next(struct eio_payload_iter *it, struct eio_packet *pkt, struct ciis_buf *scratch)
{
	const char *rs, *rec = it->p;
	size_t n;

	if (it->done)
		return 0;
	rs = memchr(rec, EIO_RS, (size_t)(it->end - rec));
	n = (size_t)((rs ? rs : it->end) - rec);
	it->p = rs ? rs + 1 : it->end;
	it->done = rs == NULL;
	if (n > 0 && rec[0] == 'b') {
		ciis_buf_reset(scratch);
		if (eio_base64_decode(scratch, rec + 1, n - 1) != 0)
			return -1;
		*pkt = (struct eio_packet){ EIO_MESSAGE, 1, scratch->data ? scratch->data : "",
					    scratch->len };
		return 1;
	}
	return eio_decode_text(rec, n, pkt) == 0 ? 1 : -1;
}

int
eio_payload_check(const char *p, size_t n, struct ciis_buf *scratch)
{
	struct eio_payload_iter it;
	struct eio_packet pkt;
	int rc;

	eio_payload_begin(&it, p, n);
	while ((rc = eio_payload_next(&it, &pkt, scratch)) == 1)
		;
	return rc;
}

void
eio_payload_add(struct ciis_buf *out, const struct eio_packet *pkt)
{
	char type = pkt->binary ? 'b' : (char)('0' + pkt->type);

	if (out->len > 0)
		ciis_buf_append(out, "\x1e", 1);
	ciis_buf_append(out, &type, 1);
	if (pkt->binary)
		eio_base64_encode(out, pkt->data, pkt->len);
	else
		ciis_buf_append(out, pkt->data, pkt->len);
}

void
eio_base64_encode(struct ciis_buf *out, const void *data, size_t n)
{
	const unsigned char *s = data;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
		    (i + 2 < n ? s[i + 2] : 0);
		char q[4] = { b64[v >> 18], b64[(v >> 12) & 63],
			      i + 1 < n ? b64[(v >> 6) & 63] : '=', i + 2 < n ? b64[v & 63] : '=' };

		ciis_buf_append(out, q, 4);
	}
	if (n == 0)
		ciis_buf_append(out, "", 0);
}

static int
b64val(char c)
{
	const char *at = c ? strchr(b64, c) : NULL;

	return at ? (int)(at - b64) : -1;
}

int
eio_base64_decode(struct ciis_buf *out, const char *p, size_t n)
{
	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int pad = (p[i + 3] == '=') + (p[i + 2] == '=' && p[i + 3] == '=');
		int a = b64val(p[i]), b = b64val(p[i + 1]);
		int c = pad >= 2 ? 0 : b64val(p[i + 2]), d = pad >= 1 ? 0 : b64val(p[i + 3]);
		unsigned v;
		unsigned char o[3];

		if (a < 0 || b < 0 || c < 0 || d < 0 || (pad > 0 && i + 4 != n))
			return -1;
		v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
		if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
			return -1;	/* non-zero bits under the padding */
		o[0] = (unsigned char)(v >> 16);
		o[1] = (unsigned char)(v >> 8);
		o[2] = (unsigned char)v;
		ciis_buf_append(out, o, (size_t)(3 - pad));
	}
	if (n == 0)
		ciis_buf_append(out, "", 0);
	return 0;
}

void
eio_open_packet(struct ciis_buf *out, const char *sid, int can_upgrade, int ping_interval_ms,
    int ping_timeout_ms, size_t max_payload)
{
	ciis_buf_printf(out, "0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%d,"
	    "\"pingTimeout\":%d,\"maxPayload\":%zu}", sid, can_upgrade ? "\"websocket\"" : "",
	    ping_interval_ms, ping_timeout_ms, max_payload);
}
