/* load_util: the helpers bench/sse_load and bench/relay_load share (see
 * load_util.h).  One thread each; the program name and the start time are
 * set once by load_util_init() and only read afterwards. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "load_util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "load_util";	/* borrowed, from load_util_init() */
static long long t0_ms;

void
load_util_init(const char *name)
{
	prog = name;
	t0_ms = load_mono_ms();
}

long long
load_t0_ms(void)
{
	return t0_ms;
}

long long
load_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
load_real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
load_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: [%7.3f s] ", prog, (load_mono_ms() - t0_ms) / 1000.0);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- memory ---- */

static void
out_of_memory(void)
{
	fprintf(stderr, "%s: out of memory\n", prog);
	exit(1);
}

void *
load_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL)
		out_of_memory();
	return p;
}

void *
load_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		out_of_memory();
	return p;
}

char *
load_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(load_xrealloc(NULL, n), s, n);
}

/* ---- /proc sampling ---- */

void
load_proc_status(int pid, long *rss_kb, long *threads)
{
	char path[64], line[256];
	FILE *f;

	*rss_kb = *threads = -1;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss_kb = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "Threads:", 8) == 0)
			*threads = strtol(line + 8, NULL, 10);
	}
	fclose(f);
}

double
load_proc_cpu_split(int pid, double *user)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	*user = -1;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after "(comm)": state is the 3rd field, utime the 14th */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	*user = (double)ut / (double)sysconf(_SC_CLK_TCK);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double
load_proc_cpu(int pid)
{
	double user;

	return load_proc_cpu_split(pid, &user);
}

double
load_self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double
load_avg1(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

int
load_copy_smaps(int pid, const char *path, char *err, size_t errlen)
{
	char smaps[64], buf[65536];
	FILE *in, *out = NULL;
	size_t n;
	int bad = 0;

	snprintf(smaps, sizeof smaps, "/proc/%d/smaps", pid);
	if ((in = fopen(smaps, "r")) == NULL || (out = fopen(path, "w")) == NULL) {
		snprintf(err, errlen, "smaps copy: %s: %s", in == NULL ? smaps : path,
		    strerror(errno));
		if (in != NULL)
			fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		bad |= fwrite(buf, 1, n, out) != n;
	bad |= ferror(in);
	fclose(in);
	if (fclose(out) != 0 || bad) {
		snprintf(err, errlen, "smaps copy to %s failed", path);
		return -1;
	}
	return 0;
}

/* ---- input ---- */

static void
tokens_fail(const char *path, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", prog, path, why);
	exit(2);
}

char **
load_tokens(const char *path, size_t max_len, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, **tokens = NULL;
	size_t cap = 0, cap_t = 0;
	ssize_t len;

	*n = 0;
	if (f == NULL)
		tokens_fail(path, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (max_len > 0 && (size_t)len > max_len) {
			fprintf(stderr, "%s: %s: a token of %zd bytes\n", prog, path, len);
			exit(2);
		}
		if (*n == cap_t) {
			cap_t = cap_t ? cap_t * 2 : 1024;
			tokens = load_xrealloc(tokens, cap_t * sizeof *tokens);
		}
		tokens[(*n)++] = load_xstrdup(line);
	}
	free(line);
	if (ferror(f))
		tokens_fail(path, strerror(errno));
	fclose(f);
	if (*n == 0)
		tokens_fail(path, "no tokens");
	return tokens;
}

/* ---- events ---- */

int
load_seen_mark(unsigned char **seen, int nseq, int seq)
{
	unsigned char bit = (unsigned char)(1u << (seq % 8));

	if (*seen == NULL)
		*seen = load_xcalloc((size_t)nseq / 8 + 1, 1);
	if ((*seen)[seq / 8] & bit)
		return 1;
	(*seen)[seq / 8] |= bit;
	return 0;
}

long long
load_iso_ms(const char *s)
{
	struct tm tm;
	int ms = 0;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%d-%d-%dT%d:%d:%d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

/* ---- distributions ---- */

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

size_t
load_sort_known(double *v, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[m++] = v[i];
	if (m > 1)
		qsort(v, m, sizeof *v, cmp_d);
	return m;
}

double
load_pct(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

int
load_opt_int(const char *s, int lo, int hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "%s: %s: expected %d..%d\n", prog, s, lo, hi);
		exit(2);
	}
	return (int)v;
}
