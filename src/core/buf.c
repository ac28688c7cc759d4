/* Growable byte strings. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

void
ciis_buf_init(struct ciis_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
ciis_buf_cleanup(struct ciis_buf *b)
{
	free(b->data);
	ciis_buf_init(b);
}

void
ciis_buf_reset(struct ciis_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
reserve(struct ciis_buf *b, size_t more)
{
	size_t need = b->len + more + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = ciis_xrealloc(b->data, b->cap);
}

void
ciis_buf_append(struct ciis_buf *b, const void *p, size_t n)
{
	reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
ciis_buf_puts(struct ciis_buf *b, const char *s)
{
	ciis_buf_append(b, s, strlen(s));
}

void
ciis_buf_vprintf(struct ciis_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
ciis_buf_printf(struct ciis_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ciis_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *
ciis_buf_str(struct ciis_buf *b)
{
	return b->data ? b->data : "";
}

char *
ciis_buf_take(struct ciis_buf *b)
{
	char *s = b->data ? b->data : ciis_xstrdup("");

	ciis_buf_init(b);
	return s;
}
