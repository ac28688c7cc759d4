/* Request parsing: the URI, query parameters, authentication, the body. */
#include "api/req.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xalloc.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n), '+' as space, into a new string. */
static char *
url_decode(const char *s, size_t n)
{
	char *out = ciis_xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return out;
}

static void
parse_query(struct api_req *req, const char *q)
{
	while (*q != '\0' && req->nquery < API_MAX_QUERY) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;

		if (len > 0) {
			req->qkey[req->nquery] = url_decode(q, klen);
			req->qval[req->nquery] = eq ? url_decode(eq + 1, len - klen - 1) : ciis_xstrdup("");
			req->nquery++;
		}
		q += len;
		if (*q == '&')
			q++;
	}
}

void
api_req_init(struct api_req *req, struct api_io *io, struct api_ctx *ctx)
{
	const char *uri, *q;
	char red[1024];

	memset(req, 0, sizeof *req);
	req->io = io;
	req->ctx = ctx;
	req->started_ms = ciis_monotonic_ms();
	req->method = api_req_env(req, "REQUEST_METHOD");
	if (req->method == NULL)
		req->method = "GET";
	uri = api_req_env(req, "REQUEST_URI");
	if (uri == NULL) {
		/* some CGI hosts give only SCRIPT_NAME + PATH_INFO + QUERY_STRING */
		const char *pi = api_req_env(req, "PATH_INFO");

		req->path = ciis_xstrdup(pi ? pi : "/");
		q = api_req_env(req, "QUERY_STRING");
		uri = req->path;
	} else {
		req->path = ciis_xstrndup(uri, strcspn(uri, "?#"));
		q = strchr(uri, '?') ? strchr(uri, '?') + 1 : NULL;
	}
	if (q != NULL)
		parse_query(req, q);
	ciis_log_redact(uri, red, sizeof red);
	req->uri_redacted = ciis_xstrdup(red);
}

void
api_req_cleanup(struct api_req *req)
{
	for (size_t i = 0; i < req->nquery; i++) {
		free(req->qkey[i]);
		free(req->qval[i]);
	}
	free(req->path);
	free(req->uri_redacted);
	free(req->segbuf);
	if (req->body != NULL)
		json_object_put(req->body);
	if (req->db != NULL)
		ciis_db_pool_put(req->ctx->pool, req->db);
	memset(req, 0, sizeof *req);
}

const char *
api_req_env(struct api_req *req, const char *name)
{
	return req->io->param(req->io, name);
}

const char *
api_req_query(struct api_req *req, const char *name)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->qkey[i], name) == 0)
			return req->qval[i];
	return NULL;
}

int
api_req_auth(struct api_req *req, enum ciis_role role, int query_ok, struct ciis_err *err)
{
	const char *hdr = api_req_env(req, "HTTP_AUTHORIZATION");
	const char *token = hdr ? ciis_auth_bearer(hdr) : NULL;

	if (token == NULL && query_ok)
		token = api_req_query(req, "token");
	if (token == NULL)
		return CIIS_ERR(err, CIIS_E_UNAUTHORIZED, "", "a bearer token is required");
	if (ciis_jwt_verify(req->ctx->keys, token, ciis_now_ms() / 1000, &req->who, err) != 0)
		return -1;
	if (req->who.role < role)
		return CIIS_ERR(err, CIIS_E_FORBIDDEN, "", "this needs the %s role", ciis_role_name(role));
	return 0;
}

/* Is the media type application/json (parameters such as charset allowed)? */
static int
is_json_type(const char *ct)
{
	size_t n = strcspn(ct, ";");

	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

static int
read_body(struct api_req *req, size_t len, struct ciis_buf *b, struct ciis_err *err)
{
	char chunk[8192];
	long got;

	while (b->len < len) {
		size_t want = len - b->len < sizeof chunk ? len - b->len : sizeof chunk;

		if ((got = req->io->read(req->io, chunk, want)) <= 0)
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "", "the body ended early");
		ciis_buf_append(b, chunk, (size_t)got);
	}
	return 0;
}

int
api_req_read_json(struct api_req *req, struct ciis_err *err)
{
	const char *ct = api_req_env(req, "CONTENT_TYPE");
	const char *cl = api_req_env(req, "CONTENT_LENGTH");
	long max = req->ctx->conf->http_max_body_bytes;
	struct ciis_buf b;
	char *end;
	long len;
	int rc;

	if (ct == NULL || !is_json_type(ct))
		return CIIS_ERR(err, CIIS_E_MEDIA_TYPE, "", "the body must be application/json");
	len = cl && *cl ? strtol(cl, &end, 10) : 0;
	if (cl == NULL || *cl == '\0' || *end != '\0' || len < 0)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "", "a JSON body with a Content-Length is required");
	if (len > max)
		return CIIS_ERR(err, CIIS_E_TOO_LARGE, "", "the body is over %ld bytes", max);
	ciis_buf_init(&b);
	rc = read_body(req, (size_t)len, &b, err);
	if (rc == 0 && (req->body = ciis_json_parse(ciis_buf_str(&b), b.len, err)) == NULL)
		rc = -1;
	ciis_buf_cleanup(&b);
	return rc;
}

struct ciis_db *
api_req_db(struct api_req *req, struct ciis_err *err)
{
	if (req->db == NULL)
		req->db = ciis_db_pool_get(req->ctx->pool, err);
	return req->db;
}

int
api_req_query_int(struct api_req *req, const char *name, long lo, long hi,
    long dflt, long *out, struct ciis_err *err)
{
	const char *s = api_req_query(req, name);
	char *end;
	long v;

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || strspn(s, "0123456789-") != strlen(s) || v < lo)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, name, "%s: expected an integer of at least %ld",
		    name, lo);
	*out = v > hi ? hi : v;
	return 0;
}
