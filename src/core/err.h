/* Errors carried from the core to a transport: a code that maps once to a
 * SPEC §4 status, the field it concerns and a human message.  The struct is
 * caller-owned (usually on the stack); only transports turn it into bytes. */
#ifndef CIIS_CORE_ERR_H
#define CIIS_CORE_ERR_H

#include <stddef.h>

enum ciis_code {
	CIIS_E_OK = 0,
	CIIS_E_BAD_REQUEST,	/* 400 */
	CIIS_E_UNAUTHORIZED,	/* 401 */
	CIIS_E_FORBIDDEN,	/* 403 */
	CIIS_E_NOT_FOUND,	/* 404 */
	CIIS_E_METHOD,		/* 405 */
	CIIS_E_CONFLICT,	/* 409 */
	CIIS_E_TOO_LARGE,	/* 413 */
	CIIS_E_MEDIA_TYPE,	/* 415 */
	CIIS_E_LOCKED,		/* 423 */
	CIIS_E_RATE_LIMITED,	/* 429 */
	CIIS_E_INTERNAL,	/* 500 */
	CIIS_E_UNAVAILABLE,	/* 503: database unreachable */
};

struct ciis_err {
	enum ciis_code code;
	char field[64];		/* the offending field, "" when none */
	char message[256];
	const char *func;	/* where it was raised, for the log */
	int line;
};

/* Fill err (which may be NULL) and return -1, so `return CIIS_ERR(...)`. */
#define CIIS_ERR(err, code, field, ...) \
	ciis_err_set((err), (code), (field), __func__, __LINE__, __VA_ARGS__)

int ciis_err_set(struct ciis_err *err, enum ciis_code code, const char *field,
    const char *func, int line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void ciis_err_clear(struct ciis_err *err);
/* printf into a caller's message buffer (NULL or 0 bytes: nothing); for the
 * start-up errors that are plain text lines (config, keys). */
void ciis_errbuf_printf(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* HTTP status and SPEC §4 code name ("bad_request") of a code. */
int ciis_code_status(enum ciis_code code);
const char *ciis_code_name(enum ciis_code code);
/* Reason phrase for an HTTP status ("Not Found"). */
const char *ciis_status_reason(int status);

#endif
