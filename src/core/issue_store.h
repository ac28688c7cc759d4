/* Issues in the database.  Every mutation runs in one transaction that also
 * appends its SPEC §6 events (one issue:* event, plus heatmap:updated when
 * the building's open count or weight may change), so a change and its
 * events commit or vanish together.  Errors: 404 for a missing or foreign
 * issue, 400 for a bad move, 409 for a stale version, 503 when the database
 * is down. */
#ifndef CIIS_CORE_ISSUE_STORE_H
#define CIIS_CORE_ISSUE_STORE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/db.h"
#include "core/issue.h"

#define CIIS_FILTER_MAX 50	/* values in one comma list */

/* GET /api/issues filters; every list empty = no filter on it. */
struct ciis_issue_filter {
	int64_t campus[CIIS_FILTER_MAX];
	size_t ncampus;
	int64_t building[CIIS_FILTER_MAX];
	size_t nbuilding;
	int status[CIIS_FILTER_MAX];
	size_t nstatus;
	int priority[CIIS_FILTER_MAX];
	size_t npriority;
	const char *category[CIIS_FILTER_MAX];	/* lent */
	size_t ncategory;
	const char *assigned[CIIS_FILTER_MAX];	/* lent */
	size_t nassigned;
	int64_t before;		/* cursor: ids below it; 0 = from the newest */
	int limit;		/* 1..200 */
};

/* A stale PATCH: what the 409 body needs. */
struct ciis_conflict {
	int64_t current_version, your_version;
	struct json_object *fields;	/* array of names; owned */
	struct json_object *current;	/* the issue now; owned */
};
void ciis_conflict_cleanup(struct ciis_conflict *c);

/* Create `is` (from ciis_issue_parse_create) for who: checks the building
 * belongs to who's organization (400 buildingId), fills id, org, campus,
 * reporter, status, version and times. */
int ciis_issue_create(struct ciis_db *db, const struct ciis_principal *who,
    struct ciis_issue *is, struct ciis_err *err);

int ciis_issue_get(struct ciis_db *db, const char *org, int64_t id,
    struct ciis_issue *out, struct ciis_err *err);

/* Newest first; *items a new json array of issues; *next the cursor id
 * (0 when no more). */
int ciis_issue_list(struct ciis_db *db, const char *org, const struct ciis_issue_filter *f,
    struct json_object **items, int64_t *next, struct ciis_err *err);

/* Apply a PATCH at `version`; out gets the issue after it.  A stale version
 * is CIIS_E_CONFLICT with *conflict filled. */
int ciis_issue_update(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    const struct ciis_issue_patch *p, int64_t version, struct ciis_issue *out,
    struct ciis_conflict *conflict, struct ciis_err *err);

int ciis_issue_resolve(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    const char *resolution, struct ciis_issue *out, struct ciis_err *err);
/* assignee NULL unassigns. */
int ciis_issue_assign(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    const char *assignee, struct ciis_issue *out, struct ciis_err *err);
/* *payload: the issue:note payload (new reference). */
int ciis_issue_add_note(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    const char *notes, struct json_object **payload, struct ciis_err *err);
int ciis_issue_delete(struct ciis_db *db, const struct ciis_principal *who, int64_t id,
    struct ciis_err *err);

/* The issue's issue:* events with id > after, oldest first, as SPEC §11
 * history items. */
int ciis_issue_history(struct ciis_db *db, const char *org, int64_t id, int64_t after,
    int limit, struct json_object **items, int64_t *next, struct ciis_err *err);

#endif
