/* Leveled logging to stderr, one line per call, module tag first:
 * ciis_log(CIIS_LOG_WARN, "db: reconnect failed: %s", ...).  The level is
 * tested before formatting.  Tokens in URLs go through ciis_log_redact(). */
#ifndef CIIS_CORE_LOG_H
#define CIIS_CORE_LOG_H

#include <stddef.h>

enum ciis_log_level {
	CIIS_LOG_ERROR = 0,
	CIIS_LOG_WARN,
	CIIS_LOG_INFO,
	CIIS_LOG_DEBUG,
};

extern int ciis_log_threshold;

#define ciis_log(level, ...) \
	do { \
		if ((int)(level) <= ciis_log_threshold) \
			ciis_log_write((level), __VA_ARGS__); \
	} while (0)

void ciis_log_write(enum ciis_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "error" | "warn" | "info" | "debug" → level; -1 when unknown. */
int ciis_log_level_parse(const char *name);
void ciis_log_set_level(enum ciis_log_level level);
/* Copy `in` to `out` (size n, always NUL-terminated) with the value of every
 * token= / access_token= query parameter replaced by "***". */
void ciis_log_redact(const char *in, char *out, size_t n);

#endif
