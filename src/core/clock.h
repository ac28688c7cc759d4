/* Wall-clock time in milliseconds and its RFC 3339 rendering
 * ("2026-11-23T10:00:00.000Z"), the only timestamp format on the wire. */
#ifndef CIIS_CORE_CLOCK_H
#define CIIS_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CIIS_TIME_LEN 25	/* "YYYY-MM-DDTHH:MM:SS.mmmZ" + NUL */

int64_t ciis_now_ms(void);
int64_t ciis_monotonic_ms(void);
/* Write ms since the epoch as RFC 3339 UTC with milliseconds into out. */
void ciis_time_format(int64_t ms, char out[CIIS_TIME_LEN]);
/* Parse "YYYY-MM-DD HH:MM:SS[.fff]" (MySQL DATETIME text, UTC) or the RFC 3339
 * form above; 0 and *ms set, or -1. */
int ciis_time_parse(const char *s, int64_t *ms);

#endif
