/* FastCGI records (fcgi_rec.h), as the FastCGI 1.0 specification lays
 * them out: an 8-byte header (version, type, request id, content length,
 * padding length, reserved), then content and padding. */
#include "api/fcgi_rec.h"

#include <fastcgi.h>
#include <string.h>

static void
header(struct ciis_buf *out, int type, int request_id, size_t content, size_t padding)
{
	unsigned char h[API_FCGI_HEADER_LEN] = {
		FCGI_VERSION_1, (unsigned char)type,
		(unsigned char)((request_id >> 8) & 0xff), (unsigned char)(request_id & 0xff),
		(unsigned char)((content >> 8) & 0xff), (unsigned char)(content & 0xff),
		(unsigned char)padding, 0,
	};

	ciis_buf_append(out, h, sizeof h);
}

void
api_fcgi_stdout(struct ciis_buf *out, int request_id, const void *p, size_t n)
{
	static const unsigned char zeros[8];
	const unsigned char *c = p;

	while (n > 0) {
		size_t len = n < API_FCGI_MAX_CONTENT ? n : API_FCGI_MAX_CONTENT;
		size_t pad = (8 - len % 8) % 8;

		header(out, FCGI_STDOUT, request_id, len, pad);
		ciis_buf_append(out, c, len);
		ciis_buf_append(out, zeros, pad);
		c += len;
		n -= len;
	}
}

void
api_fcgi_end(struct ciis_buf *out, int request_id, uint32_t app_status)
{
	unsigned char body[8] = {
		(unsigned char)(app_status >> 24), (unsigned char)(app_status >> 16),
		(unsigned char)(app_status >> 8), (unsigned char)app_status,
		FCGI_REQUEST_COMPLETE, 0, 0, 0,
	};

	header(out, FCGI_STDOUT, request_id, 0, 0);
	header(out, FCGI_END_REQUEST, request_id, sizeof body, 0);
	ciis_buf_append(out, body, sizeof body);
}

/* A complete header in r->head: what it means, and what to skip after it. */
static enum api_fcgi_feed
take_header(struct api_fcgi_reader *r, int request_id)
{
	const unsigned char *h = r->head;
	int id = h[2] << 8 | h[3];

	r->nhead = 0;
	if (h[0] != FCGI_VERSION_1)
		return API_FCGI_GARBLED;
	r->skip = (size_t)(h[4] << 8 | h[5]) + h[6];
	return h[1] == FCGI_ABORT_REQUEST && id == request_id ? API_FCGI_ABORTED : API_FCGI_MORE;
}

enum api_fcgi_feed
api_fcgi_feed(struct api_fcgi_reader *r, int request_id, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t k;

		if (r->skip > 0) {
			k = n < r->skip ? n : r->skip;
			r->skip -= k;
		} else {
			k = sizeof r->head - r->nhead;
			if (k > n)
				k = n;
			memcpy(r->head + r->nhead, p, k);
			r->nhead += k;
			if (r->nhead == sizeof r->head) {
				enum api_fcgi_feed f = take_header(r, request_id);

				if (f != API_FCGI_MORE)
					return f;
			}
		}
		p += k;
		n -= k;
	}
	return API_FCGI_MORE;
}
