/* Collaborative documents (SPEC §10): who may see one. */
#ifndef CIIS_CORE_DOCUMENT_H
#define CIIS_CORE_DOCUMENT_H

#include <stdint.h>

#include "core/auth.h"
#include "core/db.h"
#include "core/err.h"

/* 0 when who may see document id: its owner, a collaborator, or an admin
 * of its organization.  -1 otherwise, with CIIS_E_NOT_FOUND (to anyone
 * else a document does not exist), or the database's error. */
int ciis_document_visible(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    struct ciis_err *err);

#endif
