/* stderr logging with a timestamp and level; lines are written whole so
 * threads do not interleave within a line. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int ciis_log_threshold = CIIS_LOG_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };

void
ciis_log_write(enum ciis_log_level level, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s [%ld] ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, names[level], (long)getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof line - 1)
		n = sizeof line - 2;
	line[n++] = '\n';
	/* one write(2) per line keeps concurrent threads' lines whole */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

int
ciis_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	if (strcmp(name, "warning") == 0)
		return CIIS_LOG_WARN;
	return -1;
}

void
ciis_log_set_level(enum ciis_log_level level)
{
	ciis_log_threshold = level;
}

/* Is in[i] the start of a token parameter name (after ? or &)? */
static size_t
token_key_len(const char *in, size_t i)
{
	static const char *const keys[] = { "token=", "access_token=" };

	if (i > 0 && in[i - 1] != '?' && in[i - 1] != '&')
		return 0;
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
		if (strncmp(in + i, keys[k], strlen(keys[k])) == 0)
			return strlen(keys[k]);
	return 0;
}

void
ciis_log_redact(const char *in, char *out, size_t n)
{
	size_t i = 0, o = 0, k;

	if (n == 0)
		return;
	while (in[i] != '\0' && o + 1 < n) {
		if ((k = token_key_len(in, i)) > 0) {
			for (size_t j = 0; j < k && o + 1 < n; j++)
				out[o++] = in[i++];
			for (const char *m = "***"; *m && o + 1 < n; m++)
				out[o++] = *m;
			while (in[i] != '\0' && in[i] != '&' && in[i] != '#')
				i++;
			continue;
		}
		out[o++] = in[i++];
	}
	out[o] = '\0';
}
