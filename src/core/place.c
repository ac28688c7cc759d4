/* Organizations, campuses and buildings: the pure checks of a client body
 * and the SQL behind them.  A campus or building is always read through its
 * organization, so an id of another organization looks exactly like a
 * missing one (404) and ids never leak across organizations. */
#include "core/place.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/auth.h"		/* CIIS_ID_MAX */
#include "core/json.h"
#include "core/xalloc.h"

#define NAME_MAX_CP 200		/* code points, as organizations.name */
#define LIST_MAX 200		/* SPEC §11: limit clamps to 200 */

/* Every SELECT below returns these six columns, so one row reader serves
 * campuses (campus_id 0) and buildings alike. */
enum { COL_ID, COL_CAMPUS, COL_ORG, COL_NAME, COL_LAT, COL_LNG };

void
ciis_place_cleanup(struct ciis_place *pl)
{
	if (pl == NULL)
		return;
	free(pl->name);
	pl->name = NULL;
}

static struct json_object *
coord_json(int has, double v)
{
	return has ? ciis_json_double(v) : NULL;
}

struct json_object *
ciis_place_to_json(const struct ciis_place *pl)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", ciis_json_id(pl->id));
	if (pl->campus_id != 0)
		json_object_object_add(o, "campusId", ciis_json_id(pl->campus_id));
	json_object_object_add(o, "name", json_object_new_string(pl->name ? pl->name : ""));
	json_object_object_add(o, "lat", coord_json(pl->has_coords, pl->lat));
	json_object_object_add(o, "lng", coord_json(pl->has_coords, pl->lng));
	return o;
}

int
ciis_org_id_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (n == CIIS_ID_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

/* 1..200 code points of valid UTF-8; len is the byte length, so an embedded
 * NUL (a JSON "\u0000") is refused rather than silently cutting the name. */
static int
name_check(const char *s, size_t len, struct ciis_err *err)
{
	long cp;

	if (s == NULL || strlen(s) != len)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "name", "name: expected a string without NUL");
	cp = ciis_utf8_len(s, len);
	if (cp < 1 || cp > NAME_MAX_CP)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "name",
		    "name: expected 1..%d characters of UTF-8", NAME_MAX_CP);
	return 0;
}

/* NaN fails both comparisons, so it is refused too. */
static int
coords_check(const struct ciis_place *pl, struct ciis_err *err)
{
	if (!pl->has_coords)
		return 0;
	if (!(pl->lat >= -90.0 && pl->lat <= 90.0))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "lat", "lat: expected a number in -90..90");
	if (!(pl->lng >= -180.0 && pl->lng <= 180.0))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "lng", "lng: expected a number in -180..180");
	return 0;
}

/* One of lat/lng: absent or null → *set = 0; a number → *set = 1. */
static int
coord_parse(struct json_object *body, const char *key, double *v, int *set,
    struct ciis_err *err)
{
	struct json_object *o = NULL;

	*set = 0;
	if (!json_object_object_get_ex(body, key, &o) || o == NULL)
		return 0;
	if (!json_object_is_type(o, json_type_double) && !json_object_is_type(o, json_type_int))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, key, "%s: expected a number or null", key);
	*v = json_object_get_double(o);
	*set = 1;
	return 0;
}

/* Refuse any key but name, lat and lng (doc/api.md: unknown fields are 400). */
static int
keys_check(struct json_object *body, struct ciis_err *err)
{
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "name") != 0 && strcmp(key, "lat") != 0 && strcmp(key, "lng") != 0)
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, key, "%s: unknown field", key);
	}
	return 0;
}

/* The struct keeps one has_coords for both, so a point is given whole or not
 * at all: lat without lng (or the reverse) is 400 naming the missing one. */
int
ciis_place_parse(struct json_object *body, struct ciis_place *out, struct ciis_err *err)
{
	struct json_object *name = NULL;
	int has_lat, has_lng;

	memset(out, 0, sizeof *out);
	if (!json_object_is_type(body, json_type_object))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "", "expected a JSON object");
	if (keys_check(body, err) != 0)
		return -1;
	if (!json_object_object_get_ex(body, "name", &name) ||
	    !json_object_is_type(name, json_type_string))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "name", "name: required string");
	if (name_check(json_object_get_string(name), (size_t)json_object_get_string_len(name), err) != 0)
		return -1;
	if (coord_parse(body, "lat", &out->lat, &has_lat, err) != 0 ||
	    coord_parse(body, "lng", &out->lng, &has_lng, err) != 0)
		return -1;
	if (has_lat != has_lng)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, has_lat ? "lng" : "lat",
		    "%s: lat and lng go together", has_lat ? "lng" : "lat");
	out->has_coords = has_lat;
	if (coords_check(out, err) != 0)
		return -1;
	out->name = ciis_xstrdup(json_object_get_string(name));
	return 0;
}

/* What a create needs besides the body checks: callers other than the API
 * (ciis-admin seed-demo) fill pl by hand. */
static int
place_check(const struct ciis_place *pl, struct ciis_err *err)
{
	if (!ciis_org_id_valid(pl->org_id))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "organizationId", "organizationId: invalid");
	if (pl->name == NULL)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "name", "name: required string");
	if (name_check(pl->name, strlen(pl->name), err) != 0)
		return -1;
	return coords_check(pl, err);
}

int
ciis_org_upsert(struct ciis_db *db, const char *id, const char *name, struct ciis_err *err)
{
	struct ciis_param p[2];

	if (!ciis_org_id_valid(id))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "id",
		    "organization id: expected 1..%d of [A-Za-z0-9_-]", CIIS_ID_MAX);
	if (name == NULL)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "name", "name: required");
	if (name_check(name, strlen(name), err) != 0)
		return -1;
	p[0] = CIIS_PSTR(id);
	p[1] = CIIS_PSTR(name);
	/* VALUES(name), not "AS new": MariaDB lacks the MySQL 8 alias form */
	return ciis_db_exec(db,
	    "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, UTC_TIMESTAMP(3)) "
	    "ON DUPLICATE KEY UPDATE name = VALUES(name)", p, 2, NULL, NULL, err);
}

/* 0 when sql (taking p[0..n)) returns a row, 404 `what` when it does not. */
static int
exists(struct ciis_db *db, const char *sql, const struct ciis_param *p, size_t n,
    const char *what, struct ciis_err *err)
{
	struct ciis_rows rows = { 0 };
	int rc;

	if (ciis_db_query(db, sql, p, n, &rows, err) != 0)
		return -1;
	rc = rows.nrows > 0 ? 0 : CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "%s not found", what);
	ciis_rows_free(&rows);
	return rc;
}

int
ciis_org_check(struct ciis_db *db, const char *id, struct ciis_err *err)
{
	struct ciis_param p = CIIS_PSTR(id);

	if (!ciis_org_id_valid(id))	/* cannot exist: spare the query */
		return CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "organization not found");
	return exists(db, "SELECT 1 FROM organizations WHERE id = ?", &p, 1,
	    "organization", err);
}

static struct ciis_param
coord_param(const struct ciis_place *pl, double v)
{
	return pl->has_coords ? CIIS_PDBL(v) : CIIS_PNULL;
}

/* INSERT … SELECT from the parent row: a parent that is missing or of
 * another organization inserts nothing, and that is the 404, with no window
 * between a check and the insert. */
static int
insert_child(struct ciis_db *db, const char *sql, size_t n, struct ciis_place *pl,
    struct ciis_param parent, const char *what, struct ciis_err *err)
{
	struct ciis_param p[5];
	uint64_t affected = 0, id = 0;

	if (place_check(pl, err) != 0)
		return -1;
	p[0] = CIIS_PSTR(pl->name);
	p[1] = coord_param(pl, pl->lat);
	p[2] = coord_param(pl, pl->lng);
	p[3] = parent;
	p[4] = CIIS_PSTR(pl->org_id);	/* buildings only (n == 5) */
	if (ciis_db_exec(db, sql, p, n, &affected, &id, err) != 0)
		return -1;
	if (affected == 0)
		return CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "%s not found", what);
	pl->id = (int64_t)id;
	return 0;
}

int
ciis_campus_create(struct ciis_db *db, struct ciis_place *pl, struct ciis_err *err)
{
	pl->campus_id = 0;
	return insert_child(db,
	    "INSERT INTO campuses (org_id, name, lat, lng, created_at) "
	    "SELECT id, ?, ?, ?, UTC_TIMESTAMP(3) FROM organizations WHERE id = ?",
	    4, pl, CIIS_PSTR(pl->org_id), "organization", err);
}

int
ciis_building_create(struct ciis_db *db, struct ciis_place *pl, struct ciis_err *err)
{
	return insert_child(db,
	    "INSERT INTO buildings (org_id, campus_id, name, lat, lng, created_at) "
	    "SELECT org_id, id, ?, ?, ?, UTC_TIMESTAMP(3) FROM campuses WHERE id = ? AND org_id = ?",
	    5, pl, CIIS_PI64(pl->campus_id), "campus", err);
}

/* Row r of a six-column result into out (name owned by out). */
static void
place_from_row(const struct ciis_rows *rows, size_t r, struct ciis_place *out)
{
	const char *org = ciis_rows_get(rows, r, COL_ORG);

	memset(out, 0, sizeof *out);
	out->id = ciis_rows_i64(rows, r, COL_ID);
	out->campus_id = ciis_rows_i64(rows, r, COL_CAMPUS);
	snprintf(out->org_id, sizeof out->org_id, "%s", org ? org : "");
	out->name = ciis_xstrdup(ciis_rows_get(rows, r, COL_NAME) ? ciis_rows_get(rows, r, COL_NAME) : "");
	out->has_coords = ciis_rows_get(rows, r, COL_LAT) != NULL &&
	    ciis_rows_get(rows, r, COL_LNG) != NULL;
	if (out->has_coords) {
		out->lat = ciis_rows_dbl(rows, r, COL_LAT);
		out->lng = ciis_rows_dbl(rows, r, COL_LNG);
	}
}

static int
get_one(struct ciis_db *db, const char *sql, const char *org, int64_t id,
    struct ciis_place *out, const char *what, struct ciis_err *err)
{
	struct ciis_param p[2] = { CIIS_PI64(id), CIIS_PSTR(org) };
	struct ciis_rows rows = { 0 };
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (ciis_db_query(db, sql, p, 2, &rows, err) != 0)
		goto out;
	if (rows.nrows == 0) {
		CIIS_ERR(err, CIIS_E_NOT_FOUND, "", "%s not found", what);
		goto out;
	}
	place_from_row(&rows, 0, out);
	rc = 0;
out:
	ciis_rows_free(&rows);
	return rc;
}

int
ciis_campus_get(struct ciis_db *db, const char *org, int64_t id,
    struct ciis_place *out, struct ciis_err *err)
{
	return get_one(db, "SELECT id, 0, org_id, name, lat, lng FROM campuses "
	    "WHERE id = ? AND org_id = ?", org, id, out, "campus", err);
}

int
ciis_building_get(struct ciis_db *db, const char *org, int64_t id,
    struct ciis_place *out, struct ciis_err *err)
{
	return get_one(db, "SELECT id, campus_id, org_id, name, lat, lng FROM buildings "
	    "WHERE id = ? AND org_id = ?", org, id, out, "building", err);
}

/* Run a list query whose last parameter is the LIMIT: asks for one row more
 * than limit, so *next says whether another page exists without a COUNT. */
static int
list_places(struct ciis_db *db, const char *sql, struct ciis_param *p, size_t n,
    int limit, struct json_object **items, int64_t *next, struct ciis_err *err)
{
	struct ciis_rows rows = { 0 };
	size_t shown;

	*items = NULL;
	*next = 0;
	if (limit < 1)
		limit = 1;
	if (limit > LIST_MAX)
		limit = LIST_MAX;
	p[n - 1] = CIIS_PI64((int64_t)limit + 1);
	if (ciis_db_query(db, sql, p, n, &rows, err) != 0)
		return -1;
	shown = rows.nrows > (size_t)limit ? (size_t)limit : rows.nrows;
	*items = json_object_new_array();
	for (size_t r = 0; r < shown; r++) {
		struct ciis_place pl;

		place_from_row(&rows, r, &pl);
		json_object_array_add(*items, ciis_place_to_json(&pl));
		if (rows.nrows > shown)
			*next = pl.id;
		ciis_place_cleanup(&pl);
	}
	ciis_rows_free(&rows);
	return 0;
}

int
ciis_campus_list(struct ciis_db *db, const char *org, int64_t after, int limit,
    struct json_object **items, int64_t *next, struct ciis_err *err)
{
	struct ciis_param p[3] = { CIIS_PSTR(org), CIIS_PI64(after), CIIS_PNULL };

	return list_places(db, "SELECT id, 0, org_id, name, lat, lng FROM campuses "
	    "WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?", p, 3, limit, items, next, err);
}

/* A campus of another organization is 404, not an empty list (SPEC §11). */
int
ciis_building_list(struct ciis_db *db, const char *org, int64_t campus,
    int64_t after, int limit, struct json_object **items, int64_t *next,
    struct ciis_err *err)
{
	struct ciis_param p[4] = { CIIS_PI64(campus), CIIS_PSTR(org), CIIS_PI64(after), CIIS_PNULL };

	*items = NULL;
	*next = 0;
	if (exists(db, "SELECT 1 FROM campuses WHERE id = ? AND org_id = ?", p, 2,
	    "campus", err) != 0)
		return -1;
	return list_places(db, "SELECT id, campus_id, org_id, name, lat, lng FROM buildings "
	    "WHERE campus_id = ? AND org_id = ? AND id > ? ORDER BY id LIMIT ?",
	    p, 4, limit, items, next, err);
}
