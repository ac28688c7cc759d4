/* The one table from error codes to HTTP statuses and SPEC §4 names. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int status;
	const char *name;
} codes[] = {
	[CIIS_E_OK] = { 200, "ok" },
	[CIIS_E_BAD_REQUEST] = { 400, "bad_request" },
	[CIIS_E_UNAUTHORIZED] = { 401, "unauthorized" },
	[CIIS_E_FORBIDDEN] = { 403, "forbidden" },
	[CIIS_E_NOT_FOUND] = { 404, "not_found" },
	[CIIS_E_METHOD] = { 405, "method_not_allowed" },
	[CIIS_E_CONFLICT] = { 409, "conflict" },
	[CIIS_E_TOO_LARGE] = { 413, "payload_too_large" },
	[CIIS_E_MEDIA_TYPE] = { 415, "unsupported_media_type" },
	[CIIS_E_LOCKED] = { 423, "locked" },
	[CIIS_E_RATE_LIMITED] = { 429, "rate_limited" },
	[CIIS_E_INTERNAL] = { 500, "internal" },
	[CIIS_E_UNAVAILABLE] = { 503, "unavailable" },
};

int
ciis_err_set(struct ciis_err *err, enum ciis_code code, const char *field,
    const char *func, int line, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	snprintf(err->field, sizeof err->field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	err->func = func;
	err->line = line;
	return -1;
}

void
ciis_errbuf_printf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

void
ciis_err_clear(struct ciis_err *err)
{
	memset(err, 0, sizeof *err);
}

int
ciis_code_status(enum ciis_code code)
{
	if ((unsigned)code >= sizeof codes / sizeof codes[0])
		return 500;
	return codes[code].status;
}

const char *
ciis_code_name(enum ciis_code code)
{
	if ((unsigned)code >= sizeof codes / sizeof codes[0])
		return "internal";
	return codes[code].name;
}

const char *
ciis_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}
