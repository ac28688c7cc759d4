/* Routing by table: method, path pattern ({x} captures one segment), the
 * least role, and whether a JSON body is read first. */
#include "api/router.h"

#include <string.h>

#include "api/handlers.h"
#include "api/resp.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/cursor.h"
#include "core/issue.h"
#include "core/log.h"
#include "core/xalloc.h"

struct route {
	const char *method;
	const char *pattern;
	api_handler *handler;
	enum ciis_role role;	/* CIIS_ROLE_NONE: no token needed */
	unsigned flags;
};

enum {
	BODY = 1,		/* read a JSON body first */
	QUERY_TOKEN = 2,	/* ?token= accepted: EventSource cannot set headers */
};

static const struct route routes[] = {
	{ "GET", "/health", h_health, CIIS_ROLE_NONE, 0 },
	{ "GET", "/api/organizations/{org}/campuses", h_campus_list, CIIS_ROLE_VIEWER, 0 },
	{ "POST", "/api/organizations/{org}/campuses", h_campus_create, CIIS_ROLE_ADMIN, BODY },
	{ "GET", "/api/campuses/{campus}/buildings", h_building_list, CIIS_ROLE_VIEWER, 0 },
	{ "POST", "/api/campuses/{campus}/buildings", h_building_create, CIIS_ROLE_ADMIN, BODY },
	{ "POST", "/api/issues", h_issue_create, CIIS_ROLE_REPORTER, BODY },
	{ "GET", "/api/issues", h_issue_list, CIIS_ROLE_VIEWER, 0 },
	{ "GET", "/api/issues/{id}", h_issue_get, CIIS_ROLE_VIEWER, 0 },
	{ "PATCH", "/api/issues/{id}", h_issue_patch, CIIS_ROLE_STAFF, BODY },
	{ "DELETE", "/api/issues/{id}", h_issue_delete, CIIS_ROLE_ADMIN, 0 },
	{ "POST", "/api/issues/{id}/resolve", h_issue_resolve, CIIS_ROLE_STAFF, BODY },
	{ "POST", "/api/issues/{id}/assign", h_issue_assign, CIIS_ROLE_STAFF, BODY },
	{ "POST", "/api/issues/{id}/notes", h_issue_notes, CIIS_ROLE_REPORTER, BODY },
	{ "GET", "/api/issues/{id}/history", h_issue_history, CIIS_ROLE_VIEWER, 0 },
	{ "GET", "/api/heatmap", h_heatmap, CIIS_ROLE_VIEWER, 0 },
	{ "GET", "/api/realtime/issues/stream", h_stream_issues, CIIS_ROLE_VIEWER, QUERY_TOKEN },
	{ "GET", "/api/realtime/heatmap/stream", h_stream_heatmap, CIIS_ROLE_VIEWER, QUERY_TOKEN },
	{ "GET", "/api/realtime/stats", h_realtime_stats, CIIS_ROLE_VIEWER, 0 },
	{ "GET", "/api/realtime/users/online", h_users_online, CIIS_ROLE_VIEWER, 0 },
	{ "GET", "/metrics", h_metrics, CIIS_ROLE_NONE, 0 },
};

#define NROUTES (sizeof routes / sizeof routes[0])

/* Does path match pattern?  Captures go to req->seg (pointing into copy). */
static int
match(const char *pattern, const char *path, char *copy, struct api_req *req)
{
	size_t nseg = 0;

	strcpy(copy, path);
	path = copy;
	while (*pattern != '\0' || *path != '\0') {
		size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/");

		if ((*pattern == '/') != (*path == '/'))
			return 0;
		if (*pattern == '/') {
			pattern++;
			path++;
			continue;
		}
		if (pattern[0] == '{') {
			if (slen == 0 || nseg >= API_MAX_SEGS)
				return 0;
			req->seg[nseg++] = path;
		} else if (plen != slen || strncmp(pattern, path, plen) != 0) {
			return 0;
		}
		pattern += plen;
		path += slen;
	}
	req->nseg = nseg;
	return 1;
}

/* Terminate the captured segments in place. */
static void
cut_segments(struct api_req *req)
{
	for (size_t i = 0; i < req->nseg; i++)
		((char *)req->seg[i])[strcspn(req->seg[i], "/")] = '\0';
}

/* The route for req, or NULL with err set (404, or 405 and *allow filled). */
static const struct route *
find_route(struct api_req *req, struct ciis_buf *allow, struct ciis_err *err)
{
	const struct route *found = NULL;

	req->segbuf = ciis_xmalloc(strlen(req->path) + 1);
	for (size_t i = 0; i < NROUTES; i++) {
		if (!match(routes[i].pattern, req->path, req->segbuf, req))
			continue;
		ciis_buf_printf(allow, "%s%s", allow->len ? ", " : "Allow: ", routes[i].method);
		if (found == NULL && strcmp(routes[i].method, req->method) == 0)
			found = &routes[i];
	}
	if (found != NULL) {
		match(found->pattern, req->path, req->segbuf, req);
		cut_segments(req);
		return found;
	}
	if (allow->len == 0)
		CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "no such resource");
	else
		CIIS_ERR(err, CIIS_E_METHOD, "", "%s is not allowed here", req->method);
	return NULL;
}

static int
run(struct api_req *req, const struct route *rt, struct ciis_err *err)
{
	if (rt->role != CIIS_ROLE_NONE &&
	    api_req_auth(req, rt->role, (rt->flags & QUERY_TOKEN) != 0, err) != 0)
		return -1;
	if ((rt->flags & BODY) && api_req_read_json(req, err) != 0)
		return -1;
	return rt->handler(req, err);
}

void
api_dispatch(struct api_req *req)
{
	struct ciis_err err;
	struct ciis_buf allow;
	const struct route *rt;

	ciis_err_clear(&err);
	ciis_buf_init(&allow);
	rt = find_route(req, &allow, &err);
	if (rt == NULL || run(req, rt, &err) != 0) {
		if (err.code == CIIS_E_METHOD)
			ciis_buf_puts(&allow, "\r\n");
		api_send_error_extra(req, &err, err.code == CIIS_E_METHOD ? allow.data : NULL);
		if (err.code == CIIS_E_INTERNAL)
			ciis_log(CIIS_LOG_ERROR, "api: %s %s: %s (%s:%d)", req->method,
			    req->uri_redacted, err.message, err.func ? err.func : "?", err.line);
	}
	ciis_buf_cleanup(&allow);
	if (req->status > 0 && req->status < 600)
		__atomic_add_fetch(&req->ctx->metrics.requests[req->status], 1, __ATOMIC_RELAXED);
	ciis_log(CIIS_LOG_INFO, "api: %s %s %d %lldms", req->method, req->uri_redacted,
	    req->status, (long long)(ciis_monotonic_ms() - req->started_ms));
}

int
api_page_params(struct api_req *req, int *limit, int64_t *cursor, struct ciis_err *err)
{
	const char *c = api_req_query(req, "cursor");
	long l;

	if (api_req_query_int(req, "limit", 1, 200, 50, &l, err) != 0)
		return -1;
	*limit = (int)l;
	*cursor = 0;
	if (c != NULL && *c != '\0' && ciis_cursor_decode(c, cursor) != 0)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "cursor", "cursor: not a cursor this API gave out");
	return 0;
}

int
api_seg_id(struct api_req *req, size_t i, int64_t *id, struct ciis_err *err)
{
	if (i >= req->nseg || ciis_id_parse(req->seg[i], id) != 0)
		return CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "no such resource");
	return 0;
}
