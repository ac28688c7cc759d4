/* Allocation that cannot fail: out of memory aborts, as in Redis's zmalloc
 * and tmux's xmalloc.  Every size a client controls is bounded before it
 * reaches these. */
#ifndef CIIS_CORE_XALLOC_H
#define CIIS_CORE_XALLOC_H

#include <stddef.h>

void *ciis_xmalloc(size_t n);
void *ciis_xcalloc(size_t nmemb, size_t size);
void *ciis_xrealloc(void *p, size_t n);
/* Copies of s (or of its first n bytes, NUL added); the caller frees. */
char *ciis_xstrdup(const char *s);
char *ciis_xstrndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *ciis_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
