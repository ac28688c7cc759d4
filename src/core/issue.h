/* The issue domain without a database: the record, its JSON form (SPEC §5),
 * validation of client bodies, status moves and patches.  Everything here is
 * pure and unit-tested; issue_store.h does the SQL. */
#ifndef CIIS_CORE_ISSUE_H
#define CIIS_CORE_ISSUE_H

#include <json-c/json.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/err.h"

enum ciis_priority {
	CIIS_PRIO_LOW, CIIS_PRIO_MEDIUM, CIIS_PRIO_HIGH, CIIS_PRIO_CRITICAL,
	CIIS_PRIO_COUNT
};

enum ciis_status {
	CIIS_ST_OPEN, CIIS_ST_ASSIGNED, CIIS_ST_IN_PROGRESS, CIIS_ST_RESOLVED,
	CIIS_ST_CLOSED, CIIS_ST_COUNT
};

#define CIIS_TITLE_MAX 200		/* code points */
#define CIIS_TEXT_MAX 10000		/* description, resolution, notes */
#define CIIS_CATEGORY_MAX 64
#define CIIS_FLOOR_MAX 32
#define CIIS_ROOM_MAX 64

struct ciis_location {
	char *floor;		/* owned, NULL when absent */
	char *room;		/* owned, NULL when absent */
	int has_lat, has_lng;
	double lat, lng;
};

struct ciis_issue {
	int64_t id;
	char org_id[CIIS_ID_MAX + 1];
	int64_t campus_id, building_id;
	char *title;		/* owned */
	char *description;	/* owned, never NULL once valid */
	char *category;		/* owned */
	enum ciis_priority priority;
	enum ciis_status status;
	char reporter_id[CIIS_ID_MAX + 1];
	char *assigned_to;	/* owned, NULL when unassigned */
	struct ciis_location location;
	char *resolution;	/* owned, NULL when none */
	int64_t version;
	int64_t created_at, updated_at;	/* ms since the epoch */
	int64_t resolved_at;		/* 0 when not resolved */
};

/* Fields a PATCH may carry, as bits of ciis_issue_patch.fields. */
enum ciis_issue_field {
	CIIS_F_TITLE = 1 << 0,
	CIIS_F_DESCRIPTION = 1 << 1,
	CIIS_F_CATEGORY = 1 << 2,
	CIIS_F_PRIORITY = 1 << 3,
	CIIS_F_STATUS = 1 << 4,
	CIIS_F_LOCATION = 1 << 5,
};

struct ciis_issue_patch {
	unsigned fields;	/* CIIS_F_* present in the body */
	struct ciis_issue v;	/* their new values; owned, cleaned up with the patch */
	int has_version;
	int64_t version;	/* "version" of the body */
};

const char *ciis_priority_name(enum ciis_priority p);
int ciis_priority_parse(const char *s);		/* -1 when unknown */
int ciis_priority_weight(enum ciis_priority p);	/* low 1 … critical 4 */
const char *ciis_status_name(enum ciis_status s);
int ciis_status_parse(const char *s);		/* -1 when unknown */
/* Is the status open for the heatmap (not resolved or closed)? */
int ciis_status_is_open(enum ciis_status s);
/* May an issue move from `from` to `to`?  Entering assigned needs an assignee. */
int ciis_status_can_move(enum ciis_status from, enum ciis_status to, int has_assignee);
/* Name of the field bit ("title"). */
const char *ciis_issue_field_name(enum ciis_issue_field f);

/* Is s a valid category: 1–64 of [a-z0-9_-]? */
int ciis_category_valid(const char *s);

void ciis_issue_init(struct ciis_issue *is);
void ciis_issue_cleanup(struct ciis_issue *is);
/* Deep copy of src into dst (dst is overwritten, not cleaned). */
void ciis_issue_copy(struct ciis_issue *dst, const struct ciis_issue *src);

/* The SPEC §5 JSON object; a new reference. */
struct json_object *ciis_issue_to_json(const struct ciis_issue *is);

/*
 * Validate a create body (doc/api.md) into out: title, category, buildingId
 * required; description, priority, campusId, location optional; anything else
 * is 400 naming the field.  out's ids other than building/campus are left 0;
 * campus_id is 0 when not given.  On error out is cleaned up.
 */
int ciis_issue_parse_create(struct json_object *body, struct ciis_issue *out,
    struct ciis_err *err);

/* Validate a PATCH body into p (read-only and unknown fields are 400). */
int ciis_issue_parse_patch(struct json_object *body, struct ciis_issue_patch *p,
    struct ciis_err *err);
void ciis_issue_patch_cleanup(struct ciis_issue_patch *p);

/*
 * Apply p to is in memory: checks the status move, sets resolved_at /
 * clears resolution as doc/api.md says, and returns in *changes (a new
 * object, never NULL on success) {field:{from,to}} for each field whose value
 * really changed.  `now` stamps resolved_at.  On error is is unchanged.
 */
int ciis_issue_apply_patch(struct ciis_issue *is, const struct ciis_issue_patch *p,
    int64_t now, struct json_object **changes, struct ciis_err *err);

/* A body that is {field: text} and nothing else (resolve, assign, notes):
 * text of min..max code points, or null when null_ok (*out = NULL). */
int ciis_issue_parse_single(struct json_object *body, const char *field, long min,
    long max, int null_ok, char **out, struct ciis_err *err);

/* Parse "123" (1..2^63-1, digits only) → 0 and *id, else -1. */
int ciis_id_parse(const char *s, int64_t *id);

#endif
