/* A growable byte string, embedded by its owner (init/cleanup).  Always
 * NUL-terminated after the first append, so data can be used as a C string. */
#ifndef CIIS_CORE_BUF_H
#define CIIS_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct ciis_buf {
	char *data;	/* owned; NULL until the first append */
	size_t len;
	size_t cap;
};

void ciis_buf_init(struct ciis_buf *b);
void ciis_buf_cleanup(struct ciis_buf *b);
void ciis_buf_reset(struct ciis_buf *b);	/* len = 0, keeps the memory */
void ciis_buf_append(struct ciis_buf *b, const void *p, size_t n);
void ciis_buf_puts(struct ciis_buf *b, const char *s);
void ciis_buf_printf(struct ciis_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ciis_buf_vprintf(struct ciis_buf *b, const char *fmt, va_list ap);
/* The contents as a C string ("" when empty); lent, valid until the next append. */
const char *ciis_buf_str(struct ciis_buf *b);
/* Hand the contents to the caller (who frees them) and reset b. */
char *ciis_buf_take(struct ciis_buf *b);

#endif
