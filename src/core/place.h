/* Organizations, campuses and buildings: validation and SQL. */
#ifndef CIIS_CORE_PLACE_H
#define CIIS_CORE_PLACE_H

#include <json-c/json.h>
#include <stdint.h>

#include "core/db.h"
#include "core/err.h"

struct ciis_place {
	int64_t id;
	int64_t campus_id;	/* buildings; 0 for a campus */
	char org_id[65];
	char *name;		/* owned */
	int has_coords;
	double lat, lng;
};

void ciis_place_cleanup(struct ciis_place *pl);
/* {id,name,lat,lng} for a campus, {id,campusId,name,lat,lng} for a building. */
struct json_object *ciis_place_to_json(const struct ciis_place *pl);
/* Validate {name, lat?, lng?} into out (name owned by out). */
int ciis_place_parse(struct json_object *body, struct ciis_place *out, struct ciis_err *err);
/* Is s a valid organization id: [A-Za-z0-9_-]{1,64}? */
int ciis_org_id_valid(const char *s);

/* Create the organization, or rename it when it exists (idempotent). */
int ciis_org_upsert(struct ciis_db *db, const char *id, const char *name, struct ciis_err *err);
/* 0 when it exists; -1 with CIIS_E_NOT_FOUND (or 503). */
int ciis_org_check(struct ciis_db *db, const char *id, struct ciis_err *err);

/* Insert pl (org_id, name, coords; campus_id for a building) and set pl->id. */
int ciis_campus_create(struct ciis_db *db, struct ciis_place *pl, struct ciis_err *err);
int ciis_building_create(struct ciis_db *db, struct ciis_place *pl, struct ciis_err *err);
/* Load one of organization org into out; 404 when missing or another org's. */
int ciis_campus_get(struct ciis_db *db, const char *org, int64_t id,
    struct ciis_place *out, struct ciis_err *err);
int ciis_building_get(struct ciis_db *db, const char *org, int64_t id,
    struct ciis_place *out, struct ciis_err *err);

/* Up to `limit` campuses of org (buildings of campus) with id > after, oldest
 * first; *items is a new json array; *next is the last id when more follow,
 * else 0. */
int ciis_campus_list(struct ciis_db *db, const char *org, int64_t after, int limit,
    struct json_object **items, int64_t *next, struct ciis_err *err);
int ciis_building_list(struct ciis_db *db, const char *org, int64_t campus,
    int64_t after, int limit, struct json_object **items, int64_t *next,
    struct ciis_err *err);

#endif
