/* The pure half of http.h: request heads, query parameters, header tokens.
 * Strict where laxness would let one request be read two ways (obsolete
 * line folding, bare LF, conflicting Content-Length): those are 400s. */
#include "relay/http.h"

#include <string.h>
#include <strings.h>

static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static struct http_str
trim(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return (struct http_str){ p, (size_t)(end - p) };
}

int
http_str_eq(struct http_str s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

int
http_has_token(struct http_str list, const char *token)
{
	const char *p = list.p, *end = list.p + list.n;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		struct http_str t = trim(p, comma ? comma : end);

		if (t.n == strlen(token) && strncasecmp(t.p, token, t.n) == 0)
			return 1;
		p = comma ? comma + 1 : end;
	}
	return 0;
}

int
http_query_param(struct http_str query, const char *name, struct http_str *val)
{
	const char *p = query.p, *end = query.p + query.n;
	size_t nlen = strlen(name);

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;

		if ((size_t)(stop - p) >= nlen && memcmp(p, name, nlen) == 0 &&
		    (p + nlen == stop || p[nlen] == '=')) {
			const char *v = p + nlen == stop ? stop : p + nlen + 1;

			*val = (struct http_str){ v, (size_t)(stop - v) };
			return 1;
		}
		p = stop + (amp != NULL);
	}
	return 0;
}

/* "GET /path?query HTTP/1.1"; 0 or -1 with *status. */
static int
request_line(const char *p, const char *end, struct http_req *req, int *status)
{
	const char *sp1, *sp2, *q;

	*status = 400;
	for (sp1 = p; sp1 < end && is_tchar((unsigned char)*sp1); sp1++)
		;
	if (sp1 == p || sp1 >= end || *sp1 != ' ')
		return -1;
	for (sp2 = sp1 + 1; sp2 < end && (unsigned char)*sp2 > ' ' && *sp2 != 0x7f; sp2++)
		;
	if (sp2 == sp1 + 1 || sp2 >= end || *sp2 != ' ' || sp1[1] != '/')
		return -1;
	if (end - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1')) {
		if (end - sp2 >= 6 && memcmp(sp2 + 1, "HTTP/", 5) == 0)
			*status = 505;
		return -1;
	}
	req->method = (struct http_str){ p, (size_t)(sp1 - p) };
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	req->path = (struct http_str){ sp1 + 1, (size_t)((q ? q : sp2) - sp1 - 1) };
	req->query = q ? (struct http_str){ q + 1, (size_t)(sp2 - q - 1) }
		       : (struct http_str){ sp2, 0 };
	req->minor = sp2[8] - '0';
	return 0;
}

/* Content-Length: digits only; a repeat must agree. */
static int
content_length(struct http_str v, struct http_req *req, int *seen)
{
	size_t n = 0;

	if (v.n == 0 || v.n > 15)
		return -1;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (size_t)(v.p[i] - '0');
	}
	if (*seen && n != req->content_length)
		return -1;
	*seen = 1;
	req->content_length = n;
	return 0;
}

struct heads {
	struct http_str connection, upgrade;
	int seen_length;
};

static int
header(struct http_str name, struct http_str v, struct http_req *req, struct heads *h)
{
	static const struct {
		const char *name;
		size_t off;
	} lent[] = {
		{ "sec-websocket-key", offsetof(struct http_req, ws_key) },
		{ "sec-websocket-version", offsetof(struct http_req, ws_version) },
		{ "authorization", offsetof(struct http_req, authorization) },
	};

	if (name.n == 14 && strncasecmp(name.p, "content-length", 14) == 0)
		return content_length(v, req, &h->seen_length);
	if (name.n == 17 && strncasecmp(name.p, "transfer-encoding", 17) == 0)
		req->chunked = 1;
	else if (name.n == 6 && strncasecmp(name.p, "expect", 6) == 0)
		req->expect_continue = v.n == 12 && strncasecmp(v.p, "100-continue", 12) == 0;
	else if (name.n == 10 && strncasecmp(name.p, "connection", 10) == 0)
		h->connection = v;
	else if (name.n == 7 && strncasecmp(name.p, "upgrade", 7) == 0)
		h->upgrade = v;
	for (size_t i = 0; i < sizeof lent / sizeof lent[0]; i++)
		if (name.n == strlen(lent[i].name) && strncasecmp(name.p, lent[i].name, name.n) == 0)
			*(struct http_str *)(void *)((char *)req + lent[i].off) = v;
	return 0;
}

/* One "Name: value" line in [p, end). */
static int
header_line(const char *p, const char *end, struct http_req *req, struct heads *h)
{
	const char *colon;

	for (colon = p; colon < end && is_tchar((unsigned char)*colon); colon++)
		;
	if (colon == p || colon >= end || *colon != ':')
		return -1;	/* also obs-fold: a line starting with white space */
	for (const char *c = colon + 1; c < end; c++)
		if ((unsigned char)*c < ' ' && *c != '\t')
			return -1;
	return header((struct http_str){ p, (size_t)(colon - p) }, trim(colon + 1, end), req, h);
}

int
http_parse_head(const char *buf, size_t len, size_t max_head, struct http_req *req, int *status)
{
	size_t scan = len < max_head ? len : max_head;
	const char *end = scan >= 4 ? memmem(buf, scan, "\r\n\r\n", 4) : NULL;
	const char *p = buf, *eol;
	struct heads h = { { "", 0 }, { "", 0 }, 0 };

	memset(req, 0, sizeof *req);
	if (end == NULL) {
		*status = 431;
		return len >= max_head ? -1 : 0;
	}
	eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
	if (request_line(p, eol, req, status) != 0)
		return -1;
	*status = 400;
	for (p = eol + 2; p < end + 2; p = eol + 2) {
		eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		if (memchr(p, '\n', (size_t)(eol - p)) != NULL || header_line(p, eol, req, &h) != 0)
			return -1;
	}
	req->keep_alive = req->minor == 1 ? !http_has_token(h.connection, "close")
					  : http_has_token(h.connection, "keep-alive");
	req->upgrade = http_has_token(h.connection, "upgrade") && http_has_token(h.upgrade, "websocket");
	return (int)(end + 4 - buf);
}
