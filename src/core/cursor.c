/* base64url cursors around a positive id. */
#include "core/cursor.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/issue.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64[v & 63];
	}
	out[o] = '\0';
}

/* Decode unpadded base64url; the number of bytes, or -1. */
static int
decode(const char *in, unsigned char *out, size_t cap)
{
	size_t n = strlen(in), o = 0;
	uint32_t v = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *p = in[i] ? strchr(b64, in[i]) : NULL;

		if (p == NULL)
			return -1;
		v = (v << 6) | (uint32_t)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return (int)o;
}

void
ciis_cursor_encode(int64_t id, char out[CIIS_CURSOR_LEN])
{
	char plain[32];
	int n = snprintf(plain, sizeof plain, "c1:%" PRId64, id);

	encode((const unsigned char *)plain, (size_t)n, out);
}

int
ciis_cursor_decode(const char *s, int64_t *id)
{
	unsigned char plain[32];
	int n;

	if (strlen(s) >= CIIS_CURSOR_LEN || (n = decode(s, plain, sizeof plain - 1)) < 4)
		return -1;
	char again[CIIS_CURSOR_LEN];

	plain[n] = '\0';
	if (memcmp(plain, "c1:", 3) != 0 || ciis_id_parse((const char *)plain + 3, id) != 0)
		return -1;
	/* only the one spelling we give out: no stray bits, bytes or zeros */
	ciis_cursor_encode(*id, again);
	return strcmp(again, s) == 0 ? 0 : -1;
}
