/* Filter-shaped prepared statements. */
#include "core/sqlq.h"

#include <stdlib.h>

#include "core/xalloc.h"

void
ciis_sqlq_init(struct ciis_sqlq *q, const char *start)
{
	ciis_buf_init(&q->sql);
	ciis_buf_puts(&q->sql, start);
	q->p = NULL;
	q->n = q->cap = 0;
}

void
ciis_sqlq_cleanup(struct ciis_sqlq *q)
{
	ciis_buf_cleanup(&q->sql);
	free(q->p);
	q->p = NULL;
	q->n = q->cap = 0;
}

void
ciis_sqlq_text(struct ciis_sqlq *q, const char *text)
{
	ciis_buf_puts(&q->sql, text);
}

void
ciis_sqlq_param(struct ciis_sqlq *q, struct ciis_param p)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->p = ciis_xrealloc(q->p, q->cap * sizeof *q->p);
	}
	q->p[q->n++] = p;
}

static void
in_list(struct ciis_sqlq *q, const char *col, size_t n)
{
	ciis_buf_printf(&q->sql, " AND %s IN (", col);
	for (size_t i = 0; i < n; i++)
		ciis_buf_puts(&q->sql, i ? ", ?" : "?");
	ciis_buf_puts(&q->sql, ")");
}

void
ciis_sqlq_in_ids(struct ciis_sqlq *q, const char *col, const int64_t *v, size_t n)
{
	if (n == 0)
		return;
	in_list(q, col, n);
	for (size_t i = 0; i < n; i++)
		ciis_sqlq_param(q, CIIS_PI64(v[i]));
}

void
ciis_sqlq_in_strs(struct ciis_sqlq *q, const char *col, const char *const *v, size_t n)
{
	if (n == 0)
		return;
	in_list(q, col, n);
	for (size_t i = 0; i < n; i++)
		ciis_sqlq_param(q, CIIS_PSTR(v[i]));
}

int
ciis_sqlq_query(struct ciis_db *db, struct ciis_sqlq *q, struct ciis_rows *out,
    struct ciis_err *err)
{
	return ciis_db_query(db, ciis_buf_str(&q->sql), q->p, q->n, out, err);
}
