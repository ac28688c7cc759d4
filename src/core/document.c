/* Collaborative documents: visibility. */
#include "core/document.h"

#include <stddef.h>

static const char SQL_VISIBLE[] =
    "SELECT 1 FROM documents d WHERE d.id = ? AND d.org_id = ?"
    " AND (? OR d.owner_id = ? OR EXISTS (SELECT 1 FROM document_collaborators c"
    " WHERE c.document_id = d.id AND c.user_id = ?))";

int
ciis_document_visible(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    struct ciis_err *err)
{
	struct ciis_param p[] = {
		CIIS_PI64(id), CIIS_PSTR(who->org_id),
		CIIS_PI64(who->role == CIIS_ROLE_ADMIN),
		CIIS_PSTR(who->user_id), CIIS_PSTR(who->user_id),
	};
	struct ciis_rows rows = { 0 };
	int rc = -1;

	if (ciis_db_query(db, SQL_VISIBLE, p, sizeof p / sizeof p[0], &rows, err) != 0)
		return -1;
	if (rows.nrows == 0)
		CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "document not found");
	else
		rc = 0;
	ciis_rows_free(&rows);
	return rc;
}
