/* Time helpers: UTC everywhere, milliseconds on the wire. */
#include "core/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t
ciis_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ciis_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ciis_time_format(int64_t ms, char out[CIIS_TIME_LEN])
{
	int64_t frac = ((ms % 1000) + 1000) % 1000;	/* floor, also before 1970 */
	time_t sec = (time_t)((ms - frac) / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(out, CIIS_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, CIIS_TIME_LEN - n, ".%03uZ", (unsigned)frac);
}

/* n digits at *s into *v; advances *s. */
static int
fixed_digits(const char **s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

static int
expect(const char **s, const char *chars)
{
	if (**s == '\0' || strchr(chars, **s) == NULL)
		return -1;
	(*s)++;
	return 0;
}

/* Milliseconds after "." (at least one digit; past the third ignored). */
static int
fraction(const char **s)
{
	int frac = 0, digits = 0;

	for (; **s >= '0' && **s <= '9'; (*s)++, digits++)
		if (digits < 3)
			frac = frac * 10 + (**s - '0');
	if (digits == 0)
		return -1;
	for (; digits < 3; digits++)
		frac *= 10;
	return frac;
}

int
ciis_time_parse(const char *s, int64_t *ms)
{
	struct tm tm, back;
	int y, mo, d, h, mi, sec, frac = 0;
	time_t t;

	if (fixed_digits(&s, 4, &y) || expect(&s, "-") || fixed_digits(&s, 2, &mo) ||
	    expect(&s, "-") || fixed_digits(&s, 2, &d) || expect(&s, " T") ||
	    fixed_digits(&s, 2, &h) || expect(&s, ":") || fixed_digits(&s, 2, &mi) ||
	    expect(&s, ":") || fixed_digits(&s, 2, &sec))
		return -1;
	if (*s == '.' && (s++, (frac = fraction(&s)) < 0))
		return -1;
	if (*s == 'Z')
		s++;
	if (*s != '\0')
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm rolls 13/32/24:60 over; a date that does not come back is not one */
	gmtime_r(&t, &back);
	if (back.tm_year != y - 1900 || back.tm_mon != mo - 1 || back.tm_mday != d ||
	    back.tm_hour != h || back.tm_min != mi || back.tm_sec != sec)
		return -1;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}
