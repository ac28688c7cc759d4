/* load_util: what the load generators bench/sse_load and bench/relay_load
 * share -- their clocks, the stderr progress line, allocation that exits on
 * out of memory, /proc sampling of the server under test, the token file,
 * percentiles and option numbers.  Every message it prints starts with the
 * program name given to load_util_init(); the summaries stay the programs'. */
#ifndef CIIS_BENCH_LOAD_UTIL_H
#define CIIS_BENCH_LOAD_UTIL_H

#include <stddef.h>

/* Names the program in every message (prog is borrowed: a literal) and
 * starts the clock of load_say() and load_t0_ms(); first thing in main(). */
void load_util_init(const char *prog);
/* load_mono_ms() when load_util_init() ran. */
long long load_t0_ms(void);
/* CLOCK_MONOTONIC in ms. */
long long load_mono_ms(void);
/* The wall clock in µs: comparable with the events' timestamps. */
long long load_real_us(void);
/* "<prog>: [%7.3f s] <fmt...>\n" on stderr, seconds since load_util_init(). */
void load_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* realloc(p, n) / calloc(n, size) / strdup(s); on out of memory they print
 * "<prog>: out of memory" and exit(1), so they never return NULL. */
void *load_xrealloc(void *p, size_t n);
void *load_xcalloc(size_t n, size_t size);
char *load_xstrdup(const char *s);

/* VmRSS (kB) and Threads of process pid from /proc/pid/status; -1 each
 * when it cannot be read. */
void load_proc_status(int pid, long *rss_kb, long *threads);
/* utime + stime of process pid in seconds from /proc/pid/stat, or -1;
 * *user gets utime alone (-1 when unknown). */
double load_proc_cpu_split(int pid, double *user);
/* load_proc_cpu_split() without the split. */
double load_proc_cpu(int pid);
/* Our own user + system CPU time in seconds. */
double load_self_cpu(void);
/* The 1-minute load average of /proc/loadavg, or -1. */
double load_avg1(void);
/* Copies /proc/pid/smaps to the file path (created or truncated): 0; or -1
 * with the reason in err, cut to n bytes (PATH_MAX + 128 holds any):
 * "smaps copy: FILE: <strerror>" when a file does not open, "smaps copy to
 * PATH failed" when the copy fails.  Reading smaps stalls a process with
 * many mappings: never take it while timing. */
int load_copy_smaps(int pid, const char *path, char *err, size_t n);

/* The non-empty lines of the file path, trailing white space cut, as *n
 * new strings in a new array (kept for the whole run).  Exits 2 with
 * "<prog>: path: ..." when the file cannot be read, when a line is longer
 * than max_len bytes (0: no limit) or when it has no line. */
char **load_tokens(const char *path, size_t max_len, size_t *n);

/* Marks event seq (0 <= seq < nseq) as delivered in the bitmap *seen,
 * which it allocates (nseq bits, never freed) on first use: 0, or 1 when
 * seq was marked already (a duplicate). */
int load_seen_mark(unsigned char **seen, int nseq, int seq);

/* "2026-12-01T10:00:00.000Z" -> ms since the epoch (UTC), or -1. */
long long load_iso_ms(const char *s);

/* Drops the NaNs (the unknown values) of v[0..n) and sorts the rest in
 * place, ascending; how many are left, in v[0..m). */
size_t load_sort_known(double *v, size_t n);
/* The p-quantile (0 < p <= 1) of the sorted v[0..n): its ceil(p n)-th
 * value, the first for small p; 0 when n is 0. */
double load_pct(const double *v, size_t n, double p);

/* The option argument s as an int in lo..hi, or exit 2 with
 * "<prog>: s: expected lo..hi". */
int load_opt_int(const char *s, int lo, int hi);

#endif
