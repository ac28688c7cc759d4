/* The issue record, its JSON form and the validation of client bodies.
 * Nothing here touches the database; every rule of SPEC §5 and doc/api.md
 * that can be checked without it lives here. */
#include "core/issue.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/xalloc.h"

static const char *const priority_names[CIIS_PRIO_COUNT] = {
	"low", "medium", "high", "critical",
};

static const char *const status_names[CIIS_ST_COUNT] = {
	"open", "assigned", "in_progress", "resolved", "closed",
};

/* moves[from][to]: 0 no, 1 yes, 2 yes when the issue has an assignee */
static const unsigned char moves[CIIS_ST_COUNT][CIIS_ST_COUNT] = {
	/*              open assigned in_prog resolved closed */
	[CIIS_ST_OPEN] =        { 1, 2, 1, 1, 1 },
	[CIIS_ST_ASSIGNED] =    { 1, 1, 1, 1, 1 },
	[CIIS_ST_IN_PROGRESS] = { 1, 2, 1, 1, 1 },
	[CIIS_ST_RESOLVED] =    { 1, 2, 1, 1, 1 },
	[CIIS_ST_CLOSED] =      { 1, 0, 0, 0, 1 },
};

static int
lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *
ciis_priority_name(enum ciis_priority p)
{
	return (unsigned)p < CIIS_PRIO_COUNT ? priority_names[p] : "medium";
}

int
ciis_priority_parse(const char *s)
{
	return lookup(priority_names, CIIS_PRIO_COUNT, s);
}

int
ciis_priority_weight(enum ciis_priority p)
{
	return (int)p + 1;
}

const char *
ciis_status_name(enum ciis_status s)
{
	return (unsigned)s < CIIS_ST_COUNT ? status_names[s] : "open";
}

int
ciis_status_parse(const char *s)
{
	return lookup(status_names, CIIS_ST_COUNT, s);
}

int
ciis_status_is_open(enum ciis_status s)
{
	return s != CIIS_ST_RESOLVED && s != CIIS_ST_CLOSED;
}

int
ciis_status_can_move(enum ciis_status from, enum ciis_status to, int has_assignee)
{
	unsigned char m;

	if ((unsigned)from >= CIIS_ST_COUNT || (unsigned)to >= CIIS_ST_COUNT)
		return 0;
	m = moves[from][to];
	return m == 1 || (m == 2 && has_assignee);
}

const char *
ciis_issue_field_name(enum ciis_issue_field f)
{
	switch (f) {
	case CIIS_F_TITLE: return "title";
	case CIIS_F_DESCRIPTION: return "description";
	case CIIS_F_CATEGORY: return "category";
	case CIIS_F_PRIORITY: return "priority";
	case CIIS_F_STATUS: return "status";
	case CIIS_F_LOCATION: return "location";
	}
	return "";
}

int
ciis_category_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= CIIS_CATEGORY_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int
ciis_id_parse(const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 19 ||
	    strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -1;
	*id = v;
	return 0;
}

void
ciis_issue_init(struct ciis_issue *is)
{
	memset(is, 0, sizeof *is);
	is->priority = CIIS_PRIO_MEDIUM;
}

static void
location_cleanup(struct ciis_location *l)
{
	free(l->floor);
	free(l->room);
	memset(l, 0, sizeof *l);
}

void
ciis_issue_cleanup(struct ciis_issue *is)
{
	free(is->title);
	free(is->description);
	free(is->category);
	free(is->assigned_to);
	free(is->resolution);
	location_cleanup(&is->location);
	ciis_issue_init(is);
}

static char *
dup_or_null(const char *s)
{
	return s ? ciis_xstrdup(s) : NULL;
}

static void
location_copy(struct ciis_location *dst, const struct ciis_location *src)
{
	*dst = *src;
	dst->floor = dup_or_null(src->floor);
	dst->room = dup_or_null(src->room);
}

void
ciis_issue_copy(struct ciis_issue *dst, const struct ciis_issue *src)
{
	*dst = *src;
	dst->title = dup_or_null(src->title);
	dst->description = dup_or_null(src->description);
	dst->category = dup_or_null(src->category);
	dst->assigned_to = dup_or_null(src->assigned_to);
	dst->resolution = dup_or_null(src->resolution);
	location_copy(&dst->location, &src->location);
}

static struct json_object *
time_or_null(int64_t ms)
{
	char ts[CIIS_TIME_LEN];

	if (ms == 0)
		return NULL;
	ciis_time_format(ms, ts);
	return json_object_new_string(ts);
}

static struct json_object *
location_to_json(const struct ciis_location *l)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "floor", ciis_json_str_or_null(l->floor));
	json_object_object_add(o, "room", ciis_json_str_or_null(l->room));
	json_object_object_add(o, "lat", l->has_lat ? ciis_json_double(l->lat) : NULL);
	json_object_object_add(o, "lng", l->has_lng ? ciis_json_double(l->lng) : NULL);
	return o;
}

struct json_object *
ciis_issue_to_json(const struct ciis_issue *is)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", ciis_json_id(is->id));
	json_object_object_add(o, "organizationId", json_object_new_string(is->org_id));
	json_object_object_add(o, "campusId", ciis_json_id(is->campus_id));
	json_object_object_add(o, "buildingId", ciis_json_id(is->building_id));
	json_object_object_add(o, "title", json_object_new_string(is->title ? is->title : ""));
	json_object_object_add(o, "description",
	    json_object_new_string(is->description ? is->description : ""));
	json_object_object_add(o, "category", json_object_new_string(is->category ? is->category : ""));
	json_object_object_add(o, "priority", json_object_new_string(ciis_priority_name(is->priority)));
	json_object_object_add(o, "status", json_object_new_string(ciis_status_name(is->status)));
	json_object_object_add(o, "reporterId", json_object_new_string(is->reporter_id));
	json_object_object_add(o, "assignedTo", ciis_json_str_or_null(is->assigned_to));
	json_object_object_add(o, "location", location_to_json(&is->location));
	json_object_object_add(o, "resolution", ciis_json_str_or_null(is->resolution));
	json_object_object_add(o, "version", json_object_new_int64(is->version));
	json_object_object_add(o, "createdAt", time_or_null(is->created_at));
	json_object_object_add(o, "updatedAt", time_or_null(is->updated_at));
	json_object_object_add(o, "resolvedAt", time_or_null(is->resolved_at));
	return o;
}

/* ---- validation of client bodies ---- */

/* A string member of at most max code points (at least min), without NUL
 * bytes; *out gets a copy.  null_ok: JSON null gives *out = NULL. */
static int
get_text(struct json_object *v, const char *field, long min, long max, int null_ok,
    char **out, struct ciis_err *err)
{
	const char *s;
	size_t n;
	long cps;

	if (v == NULL && null_ok) {
		*out = NULL;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, field, "%s: must be a string", field);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, field, "%s: must not contain NUL characters", field);
	cps = ciis_utf8_len(s, n);
	if (cps < min || cps > max)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, field, "%s: must be %ld to %ld characters long",
		    field, min, max);
	*out = ciis_xstrndup(s, n);
	return 0;
}

/* A number in [lo, hi], or null (*has = 0). */
static int
get_coord(struct json_object *v, const char *field, double lo, double hi,
    int *has, double *out, struct ciis_err *err)
{
	double d;

	if (v == NULL) {
		*has = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, field, "%s: must be a number or null", field);
	d = json_object_get_double(v);
	if (!isfinite(d) || d < lo || d > hi)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, field, "%s: must be between %g and %g", field, lo, hi);
	*has = 1;
	*out = d;
	return 0;
}

/* v's text when it is a string without NUL bytes, else NULL. */
static const char *
plain_string(struct json_object *v)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

static int
get_enum(struct json_object *v, const char *field, int (*parse)(const char *),
    int *out, struct ciis_err *err)
{
	const char *s = plain_string(v);
	int e = 0;

	if (s == NULL || (e = parse(s)) < 0)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, field, "%s: not a valid value", field);
	*out = e;
	return 0;
}

static int
get_category(struct json_object *v, char **out, struct ciis_err *err)
{
	const char *s = plain_string(v);

	if (s == NULL || !ciis_category_valid(s))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "category",
		    "category: must be 1 to 64 characters of a-z, 0-9, _ and -");
	*out = ciis_xstrdup(s);
	return 0;
}

/* An id given as a decimal string (or, leniently, a positive integer). */
static int
get_id(struct json_object *v, const char *field, int64_t *out, struct ciis_err *err)
{
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0) {
		*out = json_object_get_int64(v);
		return 0;
	}
	if (plain_string(v) != NULL && ciis_id_parse(plain_string(v), out) == 0)
		return 0;
	return CIIS_ERR(err, CIIS_E_BAD_REQUEST, field, "%s: must be an id string", field);
}

static int
parse_location(struct json_object *v, struct ciis_location *l, struct ciis_err *err)
{
	memset(l, 0, sizeof *l);
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "location", "location: must be an object or null");
	json_object_object_foreach(v, key, val) {
		int rc;

		if (strcmp(key, "floor") == 0)
			rc = get_text(val, "location.floor", 0, CIIS_FLOOR_MAX, 1, &l->floor, err);
		else if (strcmp(key, "room") == 0)
			rc = get_text(val, "location.room", 0, CIIS_ROOM_MAX, 1, &l->room, err);
		else if (strcmp(key, "lat") == 0)
			rc = get_coord(val, "location.lat", -90, 90, &l->has_lat, &l->lat, err);
		else if (strcmp(key, "lng") == 0)
			rc = get_coord(val, "location.lng", -180, 180, &l->has_lng, &l->lng, err);
		else
			rc = CIIS_ERR(err, CIIS_E_BAD_REQUEST, "location", "location.%s: unknown field", key);
		if (rc != 0) {
			location_cleanup(l);
			return -1;
		}
	}
	return 0;
}

static int
require_object(struct json_object *body, struct ciis_err *err)
{
	if (!json_object_is_type(body, json_type_object))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "", "the body must be a JSON object");
	return 0;
}

/* One member of a create body. */
static int
create_field(struct ciis_issue *out, const char *key, struct json_object *val,
    struct ciis_err *err)
{
	int e = 0;

	if (strcmp(key, "title") == 0)
		return get_text(val, "title", 1, CIIS_TITLE_MAX, 0, &out->title, err);
	if (strcmp(key, "description") == 0)
		return get_text(val, "description", 0, CIIS_TEXT_MAX, 0, &out->description, err);
	if (strcmp(key, "category") == 0)
		return get_category(val, &out->category, err);
	if (strcmp(key, "priority") == 0) {
		if (get_enum(val, "priority", ciis_priority_parse, &e, err) != 0)
			return -1;
		out->priority = (enum ciis_priority)e;
		return 0;
	}
	if (strcmp(key, "buildingId") == 0)
		return get_id(val, "buildingId", &out->building_id, err);
	if (strcmp(key, "campusId") == 0)
		return get_id(val, "campusId", &out->campus_id, err);
	if (strcmp(key, "location") == 0)
		return parse_location(val, &out->location, err);
	return CIIS_ERR(err, CIIS_E_BAD_REQUEST, key, "%s: unknown or read-only field", key);
}

int
ciis_issue_parse_create(struct json_object *body, struct ciis_issue *out,
    struct ciis_err *err)
{
	static const char *const required[] = { "title", "category", "buildingId" };

	ciis_issue_init(out);
	if (require_object(body, err) != 0)
		return -1;
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!json_object_object_get_ex(body, required[i], NULL))
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, required[i], "%s: required", required[i]);
	json_object_object_foreach(body, key, val) {
		if (create_field(out, key, val, err) != 0) {
			ciis_issue_cleanup(out);
			return -1;
		}
	}
	if (out->description == NULL)
		out->description = ciis_xstrdup("");
	out->status = CIIS_ST_OPEN;
	return 0;
}

int
ciis_issue_parse_single(struct json_object *body, const char *field, long min,
    long max, int null_ok, char **out, struct ciis_err *err)
{
	struct json_object *v;

	*out = NULL;
	if (require_object(body, err) != 0)
		return -1;
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, field) != 0)
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, key, "%s: unknown field", key);
	}
	if (!json_object_object_get_ex(body, field, &v))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, field, "%s: required", field);
	return get_text(v, field, min, max, null_ok, out, err);
}

static int
patch_version(struct ciis_issue_patch *p, struct json_object *val, struct ciis_err *err)
{
	if (!json_object_is_type(val, json_type_int) || json_object_get_int64(val) < 1)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "version", "version: must be a positive integer");
	p->has_version = 1;
	p->version = json_object_get_int64(val);
	return 0;
}

/* One member of a PATCH body. */
static int
patch_field(struct ciis_issue_patch *p, const char *key, struct json_object *val,
    struct ciis_err *err)
{
	struct ciis_issue *v = &p->v;
	int e = 0, rc;

	if (strcmp(key, "version") == 0)
		return patch_version(p, val, err);
	if (strcmp(key, "status") == 0) {
		if ((rc = get_enum(val, "status", ciis_status_parse, &e, err)) == 0)
			v->status = (enum ciis_status)e;
		p->fields |= CIIS_F_STATUS;
		return rc;
	}
	if (strcmp(key, "priority") == 0) {
		if ((rc = get_enum(val, "priority", ciis_priority_parse, &e, err)) == 0)
			v->priority = (enum ciis_priority)e;
		p->fields |= CIIS_F_PRIORITY;
		return rc;
	}
	if (strcmp(key, "title") == 0) {
		p->fields |= CIIS_F_TITLE;
		return get_text(val, "title", 1, CIIS_TITLE_MAX, 0, &v->title, err);
	}
	if (strcmp(key, "description") == 0) {
		p->fields |= CIIS_F_DESCRIPTION;
		return get_text(val, "description", 0, CIIS_TEXT_MAX, 0, &v->description, err);
	}
	if (strcmp(key, "category") == 0) {
		p->fields |= CIIS_F_CATEGORY;
		return get_category(val, &v->category, err);
	}
	if (strcmp(key, "location") == 0) {
		p->fields |= CIIS_F_LOCATION;
		return parse_location(val, &v->location, err);
	}
	return CIIS_ERR(err, CIIS_E_BAD_REQUEST, key, "%s: unknown or read-only field", key);
}

int
ciis_issue_parse_patch(struct json_object *body, struct ciis_issue_patch *p,
    struct ciis_err *err)
{
	memset(p, 0, sizeof *p);
	ciis_issue_init(&p->v);
	if (require_object(body, err) != 0)
		return -1;
	json_object_object_foreach(body, key, val) {
		if (patch_field(p, key, val, err) != 0) {
			ciis_issue_patch_cleanup(p);
			return -1;
		}
	}
	return 0;
}

void
ciis_issue_patch_cleanup(struct ciis_issue_patch *p)
{
	ciis_issue_cleanup(&p->v);
	memset(p, 0, sizeof *p);
}

/* ---- applying a patch ---- */

static int
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
location_eq(const struct ciis_location *a, const struct ciis_location *b)
{
	return str_eq(a->floor, b->floor) && str_eq(a->room, b->room) &&
	    a->has_lat == b->has_lat && (!a->has_lat || a->lat == b->lat) &&
	    a->has_lng == b->has_lng && (!a->has_lng || a->lng == b->lng);
}

static void
add_change(struct json_object *changes, const char *field, struct json_object *from,
    struct json_object *to)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "from", from);
	json_object_object_add(c, "to", to);
	json_object_object_add(changes, field, c);
}

/* Replace a text field, recording the change. */
static void
change_text(struct json_object *changes, const char *field, char **cur, const char *to)
{
	if (str_eq(*cur, to))
		return;
	add_change(changes, field, ciis_json_str_or_null(*cur), ciis_json_str_or_null(to));
	free(*cur);
	*cur = dup_or_null(to);
}

static void
change_status(struct ciis_issue *is, enum ciis_status to, int64_t now,
    struct json_object *changes)
{
	if (is->status == to)
		return;
	add_change(changes, "status", json_object_new_string(ciis_status_name(is->status)),
	    json_object_new_string(ciis_status_name(to)));
	if (to == CIIS_ST_RESOLVED) {
		is->resolved_at = now;
	} else if (ciis_status_is_open(to) && !ciis_status_is_open(is->status)) {
		/* reopened: the old resolution no longer describes it */
		is->resolved_at = 0;
		if (is->resolution != NULL)
			change_text(changes, "resolution", &is->resolution, NULL);
	}
	is->status = to;
}

static void
apply_fields(struct ciis_issue *is, const struct ciis_issue_patch *p, int64_t now,
    struct json_object *changes)
{
	const struct ciis_issue *v = &p->v;

	if (p->fields & CIIS_F_TITLE)
		change_text(changes, "title", &is->title, v->title);
	if (p->fields & CIIS_F_DESCRIPTION)
		change_text(changes, "description", &is->description, v->description);
	if (p->fields & CIIS_F_CATEGORY)
		change_text(changes, "category", &is->category, v->category);
	if ((p->fields & CIIS_F_PRIORITY) && is->priority != v->priority) {
		add_change(changes, "priority", json_object_new_string(ciis_priority_name(is->priority)),
		    json_object_new_string(ciis_priority_name(v->priority)));
		is->priority = v->priority;
	}
	if ((p->fields & CIIS_F_LOCATION) && !location_eq(&is->location, &v->location)) {
		add_change(changes, "location", location_to_json(&is->location), location_to_json(&v->location));
		location_cleanup(&is->location);
		location_copy(&is->location, &v->location);
	}
	if (p->fields & CIIS_F_STATUS)
		change_status(is, v->status, now, changes);
}

int
ciis_issue_apply_patch(struct ciis_issue *is, const struct ciis_issue_patch *p,
    int64_t now, struct json_object **changes, struct ciis_err *err)
{
	if ((p->fields & CIIS_F_STATUS) && p->v.status != is->status &&
	    !ciis_status_can_move(is->status, p->v.status, is->assigned_to != NULL))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "status", "status: cannot move from %s to %s%s",
		    ciis_status_name(is->status), ciis_status_name(p->v.status),
		    p->v.status == CIIS_ST_ASSIGNED ? " without an assignee" : "");
	*changes = json_object_new_object();
	apply_fields(is, p, now, *changes);
	return 0;
}
