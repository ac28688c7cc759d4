/* Shared by issue_store.c (reads) and issue_change.c (writes); not for
 * other modules. */
#ifndef CIIS_CORE_ISSUE_STORE_INT_H
#define CIIS_CORE_ISSUE_STORE_INT_H

#include "core/db.h"
#include "core/issue.h"

extern const char ciis_sql_issue_get[];
extern const char ciis_sql_issue_lock[];	/* the same, FOR UPDATE */

/* Map row r of an issue query (its column list) into is. */
void ciis_issue_from_row(struct ciis_issue *is, const struct ciis_rows *rows, size_t r);
/* Run sql (ciis_sql_issue_get or _lock) for (id, org) into out; 404 when none. */
int ciis_issue_load(struct ciis_db *db, const char *sql, const char *org, int64_t id,
    struct ciis_issue *out, struct ciis_err *err);

#endif
