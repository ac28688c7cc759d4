/* Answers.  Every body is built whole, so Content-Length is always known. */
#include "api/resp.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/cursor.h"
#include "core/json.h"

void
api_send(struct api_req *req, int status, const char *ctype, const char *extra,
    const char *body, size_t len)
{
	struct ciis_buf h;

	ciis_buf_init(&h);
	ciis_buf_printf(&h, "Status: %d %s\r\n", status, ciis_status_reason(status));
	if (ctype != NULL)
		ciis_buf_printf(&h, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype, len);
	ciis_buf_puts(&h, "Cache-Control: no-store\r\n");
	if (extra != NULL)
		ciis_buf_puts(&h, extra);
	ciis_buf_puts(&h, "\r\n");
	/* a client that went away is not an error of ours: nothing to do */
	if (req->io->write(req->io, h.data, h.len) == 0 && len > 0)
		req->io->write(req->io, body, len);
	req->io->flush(req->io);
	ciis_buf_cleanup(&h);
	req->status = status;
}

void
api_send_json(struct api_req *req, int status, struct json_object *o, const char *extra)
{
	const char *text = ciis_json_text(o);

	api_send(req, status, "application/json", extra, text, strlen(text));
}

struct json_object *
api_error_json(const struct ciis_err *err)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(ciis_code_name(err->code)));
	json_object_object_add(e, "message", json_object_new_string(err->message[0] ? err->message :
	    ciis_status_reason(ciis_code_status(err->code))));
	json_object_object_add(o, "error", e);
	return o;
}

void
api_send_error_extra(struct api_req *req, const struct ciis_err *err, const char *extra)
{
	struct json_object *o = api_error_json(err);
	struct ciis_buf h;

	ciis_buf_init(&h);
	if (err->code == CIIS_E_UNAUTHORIZED)
		ciis_buf_puts(&h, "WWW-Authenticate: Bearer\r\n");
	if (err->code == CIIS_E_UNAVAILABLE || err->code == CIIS_E_RATE_LIMITED)
		ciis_buf_puts(&h, "Retry-After: 2\r\n");
	if (extra != NULL)
		ciis_buf_puts(&h, extra);
	api_send_json(req, ciis_code_status(err->code), o, h.len ? h.data : NULL);
	ciis_buf_cleanup(&h);
	json_object_put(o);
}

void
api_send_error(struct api_req *req, const struct ciis_err *err)
{
	api_send_error_extra(req, err, NULL);
}

void
api_send_list(struct api_req *req, struct json_object *items, int64_t next)
{
	struct json_object *o = json_object_new_object();
	char cursor[CIIS_CURSOR_LEN];

	json_object_object_add(o, "items", items);
	if (next > 0)
		ciis_cursor_encode(next, cursor);
	json_object_object_add(o, "nextCursor", next > 0 ? json_object_new_string(cursor) : NULL);
	api_send_json(req, 200, o, NULL);
	json_object_put(o);
}

void
api_send_no_content(struct api_req *req)
{
	api_send(req, 204, NULL, NULL, NULL, 0);
}
