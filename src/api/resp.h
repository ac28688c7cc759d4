/* Writing answers: status line, headers, JSON bodies, SPEC §4 errors. */
#ifndef CIIS_API_RESP_H
#define CIIS_API_RESP_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "api/req.h"
#include "core/err.h"

/* Send a whole answer.  extra: more header lines, each ending "\r\n", or NULL. */
void api_send(struct api_req *req, int status, const char *ctype, const char *extra,
    const char *body, size_t len);
/* o is borrowed. */
void api_send_json(struct api_req *req, int status, struct json_object *o, const char *extra);
/* {"error":{"code","message"}} with the status of err's code, plus
 * WWW-Authenticate (401) or Retry-After (429, 503). */
void api_send_error(struct api_req *req, const struct ciis_err *err);
void api_send_error_extra(struct api_req *req, const struct ciis_err *err, const char *extra);
/* {"items":items,"nextCursor":...}; items is taken; next 0 = no more. */
void api_send_list(struct api_req *req, struct json_object *items, int64_t next);
void api_send_no_content(struct api_req *req);
/* The JSON error object for err, a new reference (409 bodies extend it). */
struct json_object *api_error_json(const struct ciis_err *err);

#endif
