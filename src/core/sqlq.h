/* Building a prepared statement whose shape depends on which filters a
 * request uses: the text comes only from our own fragments, every value is
 * a bound parameter. */
#ifndef CIIS_CORE_SQLQ_H
#define CIIS_CORE_SQLQ_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/db.h"

struct ciis_sqlq {
	struct ciis_buf sql;
	struct ciis_param *p;	/* owned, grown as parameters are added */
	size_t n, cap;
};

void ciis_sqlq_init(struct ciis_sqlq *q, const char *start);
void ciis_sqlq_cleanup(struct ciis_sqlq *q);
/* Append our own text. */
void ciis_sqlq_text(struct ciis_sqlq *q, const char *text);
/* Append a parameter (its "?" is in the text). */
void ciis_sqlq_param(struct ciis_sqlq *q, struct ciis_param p);
/* " AND col IN (?, …)" binding v[0..n); nothing when n is 0. */
void ciis_sqlq_in_ids(struct ciis_sqlq *q, const char *col, const int64_t *v, size_t n);
void ciis_sqlq_in_strs(struct ciis_sqlq *q, const char *col, const char *const *v, size_t n);
/* Run it. */
int ciis_sqlq_query(struct ciis_db *db, struct ciis_sqlq *q, struct ciis_rows *out,
    struct ciis_err *err);

#endif
