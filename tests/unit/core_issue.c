/* The issue domain without a database: status moves (doc/api.md table),
 * create and PATCH validation, applying patches, single-field bodies, ids
 * and the SPEC §5 JSON form. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/issue.h"
#include "core/json.h"
#include "core/xalloc.h"
#include "suites.h"

/* 2026-11-23T10:00:00.000Z */
#define T_CREATED INT64_C(1795428000000)

/* ---- helpers ---- */

static struct json_object *
body(const char *text)
{
	struct ciis_err err;
	struct json_object *o;

	memset(&err, 0, sizeof err);
	o = ciis_json_parse(text, strlen(text), &err);
	ck_assert_msg(o != NULL, "test body does not parse: %s (%s)", text, err.message);
	return o;
}

/* n copies of unit, a new string. */
static char *
repeat(const char *unit, size_t n)
{
	size_t k = strlen(unit);
	char *s = malloc(k * n + 1);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * k, unit, k);
	s[k * n] = '\0';
	return s;
}

static void
assert_json_eq(struct json_object *got, const char *want_text)
{
	struct json_object *want = body(want_text);
	char *g = ciis_xstrdup(got ? ciis_json_text(got) : "(NULL)");

	ck_assert_msg(json_object_equal(got, want), "got %s, want %s", g, want_text);
	free(g);
	json_object_put(want);
}

/* The issue of SPEC §5, open and unassigned. */
static void
sample_issue(struct ciis_issue *is)
{
	ciis_issue_init(is);
	is->id = 1042;
	strcpy(is->org_id, "org123");
	is->campus_id = 456;
	is->building_id = 789;
	is->title = ciis_xstrdup("Leak in room 201");
	is->description = ciis_xstrdup("Water on the floor");
	is->category = ciis_xstrdup("plumbing");
	is->priority = CIIS_PRIO_HIGH;
	is->status = CIIS_ST_OPEN;
	strcpy(is->reporter_id, "u1");
	is->location.floor = ciis_xstrdup("2");
	is->location.room = ciis_xstrdup("201");
	is->location.has_lat = 1;
	is->location.lat = 52.2053;
	is->location.has_lng = 1;
	is->location.lng = 0.1218;
	is->version = 1;
	is->created_at = T_CREATED;
	is->updated_at = T_CREATED + 1500;
}

/* ---- status moves: every cell of the doc/api.md table ---- */

#define O CIIS_ST_OPEN
#define A CIIS_ST_ASSIGNED
#define P CIIS_ST_IN_PROGRESS
#define R CIIS_ST_RESOLVED
#define C CIIS_ST_CLOSED
static const struct {
	enum ciis_status from, to;
	int without, with;	/* allowed without / with an assignee */
} moves[] = {
	{ O, A, 0, 1 }, { O, P, 1, 1 }, { O, R, 1, 1 }, { O, C, 1, 1 },
	{ A, O, 1, 1 }, { A, P, 1, 1 }, { A, R, 1, 1 }, { A, C, 1, 1 },
	{ P, O, 1, 1 }, { P, A, 0, 1 }, { P, R, 1, 1 }, { P, C, 1, 1 },
	{ R, O, 1, 1 }, { R, A, 0, 1 }, { R, P, 1, 1 }, { R, C, 1, 1 },
	{ C, O, 1, 1 }, { C, A, 0, 0 }, { C, P, 0, 0 }, { C, R, 0, 0 },
};
#undef O
#undef A
#undef P
#undef R
#undef C

START_TEST(test_move)
{
	ck_assert_msg(ciis_status_can_move(moves[_i].from, moves[_i].to, 0) == moves[_i].without,
	    "%s -> %s without an assignee", ciis_status_name(moves[_i].from),
	    ciis_status_name(moves[_i].to));
	ck_assert_msg(ciis_status_can_move(moves[_i].from, moves[_i].to, 1) == moves[_i].with,
	    "%s -> %s with an assignee", ciis_status_name(moves[_i].from),
	    ciis_status_name(moves[_i].to));
}
END_TEST

START_TEST(test_move_out_of_range)
{
	ck_assert_int_eq(ciis_status_can_move(CIIS_ST_COUNT, CIIS_ST_OPEN, 1), 0);
	ck_assert_int_eq(ciis_status_can_move(CIIS_ST_OPEN, CIIS_ST_COUNT, 1), 0);
	ck_assert_int_eq(ciis_status_can_move((enum ciis_status)-1, CIIS_ST_OPEN, 1), 0);
}
END_TEST

START_TEST(test_names)
{
	static const char *const st[] = { "open", "assigned", "in_progress", "resolved", "closed" };
	static const char *const pr[] = { "low", "medium", "high", "critical" };

	for (int i = 0; i < CIIS_ST_COUNT; i++) {
		ck_assert_str_eq(ciis_status_name((enum ciis_status)i), st[i]);
		ck_assert_int_eq(ciis_status_parse(st[i]), i);
		ck_assert_int_eq(ciis_status_is_open((enum ciis_status)i), i < CIIS_ST_RESOLVED);
	}
	for (int i = 0; i < CIIS_PRIO_COUNT; i++) {
		ck_assert_str_eq(ciis_priority_name((enum ciis_priority)i), pr[i]);
		ck_assert_int_eq(ciis_priority_parse(pr[i]), i);
		ck_assert_int_eq(ciis_priority_weight((enum ciis_priority)i), i + 1);
	}
	ck_assert_int_eq(ciis_status_parse("Open"), -1);
	ck_assert_int_eq(ciis_status_parse("in-progress"), -1);
	ck_assert_int_eq(ciis_status_parse(""), -1);
	ck_assert_int_eq(ciis_priority_parse("urgent"), -1);
	ck_assert_int_eq(ciis_priority_parse("HIGH"), -1);
	ck_assert_int_eq(ciis_priority_parse(""), -1);
	ck_assert_str_eq(ciis_issue_field_name(CIIS_F_TITLE), "title");
	ck_assert_str_eq(ciis_issue_field_name(CIIS_F_DESCRIPTION), "description");
	ck_assert_str_eq(ciis_issue_field_name(CIIS_F_CATEGORY), "category");
	ck_assert_str_eq(ciis_issue_field_name(CIIS_F_PRIORITY), "priority");
	ck_assert_str_eq(ciis_issue_field_name(CIIS_F_STATUS), "status");
	ck_assert_str_eq(ciis_issue_field_name(CIIS_F_LOCATION), "location");
}
END_TEST

/* ---- create bodies ---- */

#define BASE "\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"12\""
#define LOC(x) "{" BASE ",\"location\":" x "}"
static const struct {
	const char *body;
	const char *field;	/* NULL: accepted */
} creates[] = {
	/* accepted */
	{ "{" BASE "}", NULL },
	{ "{" BASE ",\"description\":\"\"}", NULL },
	{ "{" BASE ",\"description\":\"Water \\u00e9verywhere\"}", NULL },
	{ "{" BASE ",\"priority\":\"low\"}", NULL },
	{ "{" BASE ",\"priority\":\"critical\"}", NULL },
	{ "{" BASE ",\"campusId\":\"3\"}", NULL },
	{ "{" BASE ",\"campusId\":3}", NULL },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":12}", NULL },
	{ "{\"buildingId\":\"9223372036854775807\",\"title\":\"x\",\"category\":\"a\"}", NULL },
	{ LOC("null"), NULL },
	{ LOC("{}"), NULL },
	{ LOC("{\"floor\":\"2\",\"room\":\"201\",\"lat\":52.2053,\"lng\":0.1218}"), NULL },
	{ LOC("{\"floor\":null,\"room\":null,\"lat\":null,\"lng\":null}"), NULL },
	{ LOC("{\"floor\":\"\",\"room\":\"\"}"), NULL },
	{ LOC("{\"lat\":90,\"lng\":180}"), NULL },
	{ LOC("{\"lat\":-90,\"lng\":-180}"), NULL },
	{ LOC("{\"lat\":0,\"lng\":0.0}"), NULL },
	{ LOC("{\"lat\":-89.999999,\"lng\":179.999999}"), NULL },
	/* required fields */
	{ "{\"category\":\"plumbing\",\"buildingId\":\"12\"}", "title" },
	{ "{\"title\":\"Leak\",\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\"}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"description\":\"d\"}", "buildingId" },
	/* wrong types */
	{ "{\"title\":5,\"category\":\"plumbing\",\"buildingId\":\"12\"}", "title" },
	{ "{\"title\":null,\"category\":\"plumbing\",\"buildingId\":\"12\"}", "title" },
	{ "{\"title\":true,\"category\":\"plumbing\",\"buildingId\":\"12\"}", "title" },
	{ "{\"title\":[\"Leak\"],\"category\":\"plumbing\",\"buildingId\":\"12\"}", "title" },
	{ "{\"title\":{},\"category\":\"plumbing\",\"buildingId\":\"12\"}", "title" },
	{ "{\"title\":\"\",\"category\":\"plumbing\",\"buildingId\":\"12\"}", "title" },
	{ "{\"title\":\"Leak\",\"category\":5,\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":null,\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":[],\"buildingId\":\"12\"}", "category" },
	{ "{" BASE ",\"description\":5}", "description" },
	{ "{" BASE ",\"description\":[]}", "description" },
	{ "{" BASE ",\"description\":false}", "description" },
	{ "{" BASE ",\"priority\":2}", "priority" },
	{ "{" BASE ",\"priority\":null}", "priority" },
	{ "{" BASE ",\"priority\":\"urgent\"}", "priority" },
	{ "{" BASE ",\"priority\":\"HIGH\"}", "priority" },
	{ "{" BASE ",\"priority\":\"\"}", "priority" },
	{ "{" BASE ",\"priority\":[\"low\"]}", "priority" },
	/* ids: decimal strings or positive integers */
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":true}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":null}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":1.5}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":12.0}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":[12]}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":{}}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":0}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":-3}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"\"}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"0\"}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"-3\"}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"012\"}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\" 12\"}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"12 \"}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"bldg\"}", "buildingId" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"9223372036854775808\"}", "buildingId" },
	{ "{" BASE ",\"campusId\":\"\"}", "campusId" },
	{ "{" BASE ",\"campusId\":0}", "campusId" },
	{ "{" BASE ",\"campusId\":\"0\"}", "campusId" },
	{ "{" BASE ",\"campusId\":-1}", "campusId" },
	{ "{" BASE ",\"campusId\":\"x\"}", "campusId" },
	{ "{" BASE ",\"campusId\":null}", "campusId" },
	{ "{" BASE ",\"campusId\":2.5}", "campusId" },
	{ "{" BASE ",\"campusId\":true}", "campusId" },
	/* unknown and read-only fields */
	{ "{" BASE ",\"status\":\"open\"}", "status" },
	{ "{" BASE ",\"id\":\"1\"}", "id" },
	{ "{" BASE ",\"version\":1}", "version" },
	{ "{" BASE ",\"organizationId\":\"org123\"}", "organizationId" },
	{ "{" BASE ",\"reporterId\":\"u1\"}", "reporterId" },
	{ "{" BASE ",\"createdAt\":\"2026-11-23T10:00:00.000Z\"}", "createdAt" },
	{ "{" BASE ",\"updatedAt\":\"2026-11-23T10:00:00.000Z\"}", "updatedAt" },
	{ "{" BASE ",\"resolvedAt\":null}", "resolvedAt" },
	{ "{" BASE ",\"assignedTo\":\"u7\"}", "assignedTo" },
	{ "{" BASE ",\"resolution\":\"Fixed\"}", "resolution" },
	{ "{" BASE ",\"bogus\":1}", "bogus" },
	{ "{" BASE ",\"Title\":\"x\"}", "Title" },
	{ "{" BASE ",\"\":1}", "" },
	/* category charset */
	{ "{\"title\":\"Leak\",\"category\":\"\",\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":\"Plumbing\",\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":\"plumb ing\",\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":\"plumb.ing\",\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":\"plumb/ing\",\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":\"caf\\u00e9\",\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":\"a\\nb\",\"buildingId\":\"12\"}", "category" },
	{ "{\"title\":\"Leak\",\"category\":\"hvac-2_x\",\"buildingId\":\"12\"}", NULL },
	{ "{\"title\":\"Leak\",\"category\":\"0\",\"buildingId\":\"12\"}", NULL },
	{ "{\"title\":\"Leak\",\"category\":\"-\",\"buildingId\":\"12\"}", NULL },
	{ "{\"title\":\"Leak\",\"category\":\"_\",\"buildingId\":\"12\"}", NULL },
	/* location */
	{ LOC("\"room 201\""), "location" },
	{ LOC("5"), "location" },
	{ LOC("[]"), "location" },
	{ LOC("true"), "location" },
	{ LOC("{\"building\":\"A\"}"), "location" },
	{ LOC("{\"floor\":\"2\",\"Floor\":\"2\"}"), "location" },
	{ LOC("{\"floor\":2}"), "location.floor" },
	{ LOC("{\"floor\":{}}"), "location.floor" },
	{ LOC("{\"room\":201}"), "location.room" },
	{ LOC("{\"room\":true}"), "location.room" },
	{ LOC("{\"lat\":\"52.2\"}"), "location.lat" },
	{ LOC("{\"lat\":true}"), "location.lat" },
	{ LOC("{\"lat\":[52]}"), "location.lat" },
	{ LOC("{\"lat\":90.0001}"), "location.lat" },
	{ LOC("{\"lat\":-90.0001}"), "location.lat" },
	{ LOC("{\"lat\":91}"), "location.lat" },
	{ LOC("{\"lat\":1e400}"), "location.lat" },
	{ LOC("{\"lng\":\"0.1\"}"), "location.lng" },
	{ LOC("{\"lng\":180.5}"), "location.lng" },
	{ LOC("{\"lng\":-181}"), "location.lng" },
	{ LOC("{\"lng\":{}}"), "location.lng" },
	/* NUL bytes in strings */
	{ "{\"title\":\"Le\\u0000ak\",\"category\":\"plumbing\",\"buildingId\":\"12\"}", "title" },
	{ "{" BASE ",\"description\":\"a\\u0000b\"}", "description" },
	{ "{\"title\":\"Leak\",\"category\":\"plumb\\u0000ing\",\"buildingId\":\"12\"}", "category" },
	{ "{" BASE ",\"priority\":\"low\\u0000x\"}", "priority" },
	{ "{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"12\\u0000\"}", "buildingId" },
	{ "{" BASE ",\"campusId\":\"3\\u00004\"}", "campusId" },
	{ LOC("{\"floor\":\"2\\u0000\"}"), "location.floor" },
	{ LOC("{\"room\":\"\\u0000\"}"), "location.room" },
	/* not an object */
	{ "[]", "" },
	{ "[{" BASE "}]", "" },
	{ "\"Leak\"", "" },
	{ "12 ", "" },
	{ "true ", "" },
};
#undef LOC

START_TEST(test_create)
{
	struct json_object *b = body(creates[_i].body);
	struct ciis_issue is;
	struct ciis_err err;
	int rc;

	memset(&err, 0, sizeof err);
	rc = ciis_issue_parse_create(b, &is, &err);
	if (creates[_i].field == NULL) {
		ck_assert_msg(rc == 0, "%s refused: %s", creates[_i].body, err.message);
		ck_assert_int_eq(err.code, CIIS_E_OK);
		ck_assert_int_eq(is.status, CIIS_ST_OPEN);
		ck_assert_ptr_nonnull(is.title);
		ck_assert_ptr_nonnull(is.description);
		ck_assert_ptr_nonnull(is.category);
		ck_assert_int_gt(is.building_id, 0);
		ciis_issue_cleanup(&is);
	} else {
		if (rc != -1) {	/* free first: CK_FORK=no under valgrind */
			ciis_issue_cleanup(&is);
			json_object_put(b);
			ck_abort_msg("%s accepted", creates[_i].body);
		}
		ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
		ck_assert_msg(strcmp(err.field, creates[_i].field) == 0,
		    "%s: field \"%s\", want \"%s\" (%s)", creates[_i].body, err.field,
		    creates[_i].field, err.message);
		ck_assert_str_ne(err.message, "");
		/* out was cleaned up */
		ck_assert_ptr_null(is.title);
		ck_assert_ptr_null(is.description);
		ck_assert_ptr_null(is.category);
		ck_assert_ptr_null(is.location.floor);
		ck_assert_ptr_null(is.location.room);
	}
	json_object_put(b);
}
END_TEST

START_TEST(test_create_not_object)
{
	struct ciis_issue is;
	struct ciis_err err;

	memset(&err, 0, sizeof err);
	ck_assert_int_eq(ciis_issue_parse_create(NULL, &is, &err), -1);
	ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
	ck_assert_str_eq(err.field, "");
}
END_TEST

START_TEST(test_create_values)
{
	struct json_object *b = body("{\"title\":\"Leak in room 201\",\"description\":\"Water\","
	    "\"category\":\"plumbing\",\"priority\":\"high\",\"campusId\":\"456\",\"buildingId\":789,"
	    "\"location\":{\"floor\":\"2\",\"room\":\"201\",\"lat\":52.2053,\"lng\":-0.1218}}");
	struct ciis_issue is;
	struct ciis_err err;

	memset(&err, 0, sizeof err);
	ck_assert_int_eq(ciis_issue_parse_create(b, &is, &err), 0);
	ck_assert_str_eq(is.title, "Leak in room 201");
	ck_assert_str_eq(is.description, "Water");
	ck_assert_str_eq(is.category, "plumbing");
	ck_assert_int_eq(is.priority, CIIS_PRIO_HIGH);
	ck_assert_int_eq(is.status, CIIS_ST_OPEN);
	ck_assert_int_eq(is.campus_id, 456);
	ck_assert_int_eq(is.building_id, 789);
	ck_assert_str_eq(is.location.floor, "2");
	ck_assert_str_eq(is.location.room, "201");
	ck_assert_int_eq(is.location.has_lat, 1);
	ck_assert_double_eq(is.location.lat, 52.2053);
	ck_assert_int_eq(is.location.has_lng, 1);
	ck_assert_double_eq(is.location.lng, -0.1218);
	/* everything else is the caller's */
	ck_assert_int_eq(is.id, 0);
	ck_assert_int_eq(is.version, 0);
	ck_assert_str_eq(is.org_id, "");
	ck_assert_str_eq(is.reporter_id, "");
	ck_assert_ptr_null(is.assigned_to);
	ck_assert_ptr_null(is.resolution);
	ck_assert_int_eq(is.resolved_at, 0);
	ciis_issue_cleanup(&is);
	json_object_put(b);
}
END_TEST

START_TEST(test_create_defaults)
{
	struct json_object *b = body("{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"12\","
	    "\"location\":{\"floor\":null,\"lat\":null}}");
	struct ciis_issue is;
	struct ciis_err err;

	memset(&err, 0, sizeof err);
	ck_assert_int_eq(ciis_issue_parse_create(b, &is, &err), 0);
	ck_assert_int_eq(is.priority, CIIS_PRIO_MEDIUM);
	ck_assert_str_eq(is.description, "");
	ck_assert_int_eq(is.campus_id, 0);
	ck_assert_int_eq(is.building_id, 12);
	ck_assert_ptr_null(is.location.floor);
	ck_assert_ptr_null(is.location.room);
	ck_assert_int_eq(is.location.has_lat, 0);
	ck_assert_int_eq(is.location.has_lng, 0);
	ciis_issue_cleanup(&is);
	json_object_put(b);
}
END_TEST

/* Lengths count code points: a string of n copies of unit in field (or in
 * location.<sub> when sub is set). */
static const struct {
	const char *field, *sub, *unit;
	size_t n;
	int ok;
} lengths[] = {
	{ "title", NULL, "\xf0\x9f\x98\x80", 200, 1 },	/* 800 bytes */
	{ "title", NULL, "\xf0\x9f\x98\x80", 201, 0 },
	{ "title", NULL, "a", 200, 1 },
	{ "title", NULL, "a", 201, 0 },
	{ "title", NULL, "\xc3\xa9", 200, 1 },
	{ "title", NULL, "a", 1, 1 },
	{ "title", NULL, "a", 0, 0 },
	{ "description", NULL, "a", 10000, 1 },
	{ "description", NULL, "a", 10001, 0 },
	{ "description", NULL, "\xe2\x82\xac", 10000, 1 },	/* 30,000 bytes */
	{ "description", NULL, "\xe2\x82\xac", 10001, 0 },
	{ "description", NULL, "a", 0, 1 },
	{ "category", NULL, "a", 64, 1 },
	{ "category", NULL, "a", 65, 0 },
	{ "location", "floor", "\xc3\xa9", 32, 1 },
	{ "location", "floor", "\xc3\xa9", 33, 0 },
	{ "location", "floor", "1", 32, 1 },
	{ "location", "floor", "1", 33, 0 },
	{ "location", "room", "\xf0\x9f\x9a\xbf", 64, 1 },
	{ "location", "room", "\xf0\x9f\x9a\xbf", 65, 0 },
	{ "location", "room", "r", 64, 1 },
	{ "location", "room", "r", 65, 0 },
};

START_TEST(test_create_length)
{
	struct json_object *b = body("{\"title\":\"Leak\",\"category\":\"plumbing\",\"buildingId\":\"12\"}");
	char *s = repeat(lengths[_i].unit, lengths[_i].n);
	char want[64];
	struct ciis_issue is;
	struct ciis_err err;
	int rc;

	if (lengths[_i].sub != NULL) {
		struct json_object *loc = json_object_new_object();

		json_object_object_add(loc, lengths[_i].sub, json_object_new_string(s));
		json_object_object_add(b, "location", loc);
		snprintf(want, sizeof want, "location.%s", lengths[_i].sub);
	} else {
		json_object_object_add(b, lengths[_i].field, json_object_new_string(s));
		snprintf(want, sizeof want, "%s", lengths[_i].field);
	}
	memset(&err, 0, sizeof err);
	rc = ciis_issue_parse_create(b, &is, &err);
	if (lengths[_i].ok) {
		ck_assert_msg(rc == 0, "%s of %zu refused: %s", want, lengths[_i].n, err.message);
		if (lengths[_i].sub == NULL && strcmp(lengths[_i].field, "title") == 0)
			ck_assert_str_eq(is.title, s);
		else if (lengths[_i].sub == NULL && strcmp(lengths[_i].field, "description") == 0)
			ck_assert_str_eq(is.description, s);
		else if (lengths[_i].sub != NULL && strcmp(lengths[_i].sub, "floor") == 0)
			ck_assert_str_eq(is.location.floor, s);
		else if (lengths[_i].sub != NULL)
			ck_assert_str_eq(is.location.room, s);
		ciis_issue_cleanup(&is);
	} else {
		ck_assert_msg(rc == -1, "%s of %zu accepted", want, lengths[_i].n);
		ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
		ck_assert_str_eq(err.field, want);
	}
	free(s);
	json_object_put(b);
}
END_TEST

/* ---- PATCH bodies ---- */

#define ALL_F (CIIS_F_TITLE | CIIS_F_DESCRIPTION | CIIS_F_CATEGORY | CIIS_F_PRIORITY | \
	CIIS_F_STATUS | CIIS_F_LOCATION)
static const struct {
	const char *body;
	const char *field;	/* NULL: accepted */
	unsigned fields;
	int has_version;
	int64_t version;
} patches[] = {
	{ "{}", NULL, 0, 0, 0 },
	{ "{\"title\":\"New\"}", NULL, CIIS_F_TITLE, 0, 0 },
	{ "{\"description\":\"\"}", NULL, CIIS_F_DESCRIPTION, 0, 0 },
	{ "{\"category\":\"electrical\"}", NULL, CIIS_F_CATEGORY, 0, 0 },
	{ "{\"priority\":\"critical\"}", NULL, CIIS_F_PRIORITY, 0, 0 },
	{ "{\"status\":\"in_progress\"}", NULL, CIIS_F_STATUS, 0, 0 },
	{ "{\"location\":null}", NULL, CIIS_F_LOCATION, 0, 0 },
	{ "{\"location\":{\"floor\":\"3\"}}", NULL, CIIS_F_LOCATION, 0, 0 },
	{ "{\"title\":\"t\",\"priority\":\"low\"}", NULL, CIIS_F_TITLE | CIIS_F_PRIORITY, 0, 0 },
	{ "{\"version\":3}", NULL, 0, 1, 3 },
	{ "{\"version\":1,\"status\":\"closed\"}", NULL, CIIS_F_STATUS, 1, 1 },
	{ "{\"version\":9007199254740993}", NULL, 0, 1, INT64_C(9007199254740993) },
	{ "{\"title\":\"t\",\"description\":\"d\",\"category\":\"c\",\"priority\":\"high\","
	  "\"status\":\"resolved\",\"location\":{},\"version\":7}", NULL, ALL_F, 1, 7 },
	/* version */
	{ "{\"version\":0}", "version", 0, 0, 0 },
	{ "{\"version\":-1}", "version", 0, 0, 0 },
	{ "{\"version\":\"3\"}", "version", 0, 0, 0 },
	{ "{\"version\":3.5}", "version", 0, 0, 0 },
	{ "{\"version\":3.0}", "version", 0, 0, 0 },
	{ "{\"version\":null}", "version", 0, 0, 0 },
	{ "{\"version\":true}", "version", 0, 0, 0 },
	{ "{\"version\":[3]}", "version", 0, 0, 0 },
	/* read-only and unknown fields */
	{ "{\"version\":3,\"id\":\"1042\"}", "id", 0, 0, 0 },
	{ "{\"organizationId\":\"org123\"}", "organizationId", 0, 0, 0 },
	{ "{\"reporterId\":\"u1\"}", "reporterId", 0, 0, 0 },
	{ "{\"createdAt\":\"2026-11-23T10:00:00.000Z\"}", "createdAt", 0, 0, 0 },
	{ "{\"updatedAt\":\"2026-11-23T10:00:00.000Z\"}", "updatedAt", 0, 0, 0 },
	{ "{\"resolvedAt\":null}", "resolvedAt", 0, 0, 0 },
	{ "{\"assignedTo\":\"u7\"}", "assignedTo", 0, 0, 0 },
	{ "{\"resolution\":\"Fixed\"}", "resolution", 0, 0, 0 },
	{ "{\"buildingId\":\"12\"}", "buildingId", 0, 0, 0 },
	{ "{\"campusId\":\"3\"}", "campusId", 0, 0, 0 },
	{ "{\"title\":\"t\",\"bogus\":1}", "bogus", 0, 0, 0 },
	{ "{\"Status\":\"open\"}", "Status", 0, 0, 0 },
	/* bad values */
	{ "{\"status\":\"bogus\"}", "status", 0, 0, 0 },
	{ "{\"status\":\"Open\"}", "status", 0, 0, 0 },
	{ "{\"status\":1}", "status", 0, 0, 0 },
	{ "{\"status\":null}", "status", 0, 0, 0 },
	{ "{\"status\":\"open\\u0000x\"}", "status", 0, 0, 0 },
	{ "{\"priority\":\"urgent\"}", "priority", 0, 0, 0 },
	{ "{\"priority\":null}", "priority", 0, 0, 0 },
	{ "{\"priority\":\"high\\u0000\"}", "priority", 0, 0, 0 },
	{ "{\"title\":\"\"}", "title", 0, 0, 0 },
	{ "{\"title\":null}", "title", 0, 0, 0 },
	{ "{\"title\":5}", "title", 0, 0, 0 },
	{ "{\"title\":\"a\\u0000b\"}", "title", 0, 0, 0 },
	{ "{\"description\":5}", "description", 0, 0, 0 },
	{ "{\"description\":\"\\u0000\"}", "description", 0, 0, 0 },
	{ "{\"category\":\"Bad\"}", "category", 0, 0, 0 },
	{ "{\"category\":\"\"}", "category", 0, 0, 0 },
	{ "{\"category\":\"ok\\u0000\"}", "category", 0, 0, 0 },
	{ "{\"location\":\"x\"}", "location", 0, 0, 0 },
	{ "{\"location\":{\"lat\":91}}", "location.lat", 0, 0, 0 },
	{ "{\"location\":{\"lng\":\"0\"}}", "location.lng", 0, 0, 0 },
	{ "{\"location\":{\"floor\":1}}", "location.floor", 0, 0, 0 },
	{ "{\"location\":{\"x\":1}}", "location", 0, 0, 0 },
	{ "[]", "", 0, 0, 0 },
	{ "\"x\"", "", 0, 0, 0 },
};

START_TEST(test_patch)
{
	struct json_object *b = body(patches[_i].body);
	struct ciis_issue_patch p;
	struct ciis_err err;
	int rc;

	memset(&err, 0, sizeof err);
	rc = ciis_issue_parse_patch(b, &p, &err);
	if (patches[_i].field == NULL) {
		ck_assert_msg(rc == 0, "%s refused: %s", patches[_i].body, err.message);
		ck_assert_msg(p.fields == patches[_i].fields, "%s: fields %#x, want %#x",
		    patches[_i].body, p.fields, patches[_i].fields);
		ck_assert_int_eq(p.has_version, patches[_i].has_version);
		if (patches[_i].has_version)
			ck_assert_int_eq(p.version, patches[_i].version);
		ciis_issue_patch_cleanup(&p);
	} else {
		if (rc != -1) {
			ciis_issue_patch_cleanup(&p);
			json_object_put(b);
			ck_abort_msg("%s accepted", patches[_i].body);
		}
		ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
		ck_assert_msg(strcmp(err.field, patches[_i].field) == 0,
		    "%s: field \"%s\", want \"%s\" (%s)", patches[_i].body, err.field,
		    patches[_i].field, err.message);
		ck_assert_uint_eq(p.fields, 0);
		ck_assert_ptr_null(p.v.title);
	}
	json_object_put(b);
}
END_TEST

START_TEST(test_patch_values)
{
	struct json_object *b = body("{\"title\":\"Flood\",\"description\":\"Worse\","
	    "\"category\":\"water\",\"priority\":\"critical\",\"status\":\"in_progress\","
	    "\"location\":{\"room\":\"B12\",\"lng\":-1.5},\"version\":4}");
	struct ciis_issue_patch p;
	struct ciis_err err;

	memset(&err, 0, sizeof err);
	ck_assert_int_eq(ciis_issue_parse_patch(b, &p, &err), 0);
	ck_assert_str_eq(p.v.title, "Flood");
	ck_assert_str_eq(p.v.description, "Worse");
	ck_assert_str_eq(p.v.category, "water");
	ck_assert_int_eq(p.v.priority, CIIS_PRIO_CRITICAL);
	ck_assert_int_eq(p.v.status, CIIS_ST_IN_PROGRESS);
	ck_assert_ptr_null(p.v.location.floor);
	ck_assert_str_eq(p.v.location.room, "B12");
	ck_assert_int_eq(p.v.location.has_lat, 0);
	ck_assert_int_eq(p.v.location.has_lng, 1);
	ck_assert_double_eq(p.v.location.lng, -1.5);
	ck_assert_int_eq(p.has_version, 1);
	ck_assert_int_eq(p.version, 4);
	ciis_issue_patch_cleanup(&p);
	json_object_put(b);
}
END_TEST

START_TEST(test_patch_title_length)
{
	struct json_object *b = body("{}");
	char *ok = repeat("\xf0\x9f\x98\x80", 200), *bad = repeat("\xf0\x9f\x98\x80", 201);
	struct ciis_issue_patch p;
	struct ciis_err err;

	memset(&err, 0, sizeof err);
	json_object_object_add(b, "title", json_object_new_string(ok));
	ck_assert_int_eq(ciis_issue_parse_patch(b, &p, &err), 0);
	ck_assert_str_eq(p.v.title, ok);
	ciis_issue_patch_cleanup(&p);
	json_object_object_add(b, "title", json_object_new_string(bad));
	ck_assert_int_eq(ciis_issue_parse_patch(b, &p, &err), -1);
	ck_assert_str_eq(err.field, "title");
	free(ok);
	free(bad);
	json_object_put(b);
}
END_TEST

/* ---- applying patches ---- */

static int
apply(struct ciis_issue *is, const char *patch, int64_t now, struct json_object **changes,
    struct ciis_err *err)
{
	struct json_object *b = body(patch);
	struct ciis_issue_patch p;
	int rc;

	memset(err, 0, sizeof *err);
	ck_assert_msg(ciis_issue_parse_patch(b, &p, err) == 0, "patch %s: %s", patch, err->message);
	*changes = NULL;
	rc = ciis_issue_apply_patch(is, &p, now, changes, err);
	ciis_issue_patch_cleanup(&p);
	json_object_put(b);
	return rc;
}

/* The sample issue's location, as JSON. */
#define LOC_JSON "{\"floor\":\"2\",\"room\":\"201\",\"lat\":52.2053,\"lng\":0.1218}"
#define LOC_NULL "{\"floor\":null,\"room\":null,\"lat\":null,\"lng\":null}"

static const struct {
	const char *patch, *changes;
} applies[] = {
	/* nothing really changes */
	{ "{}", "{}" },
	{ "{\"version\":1}", "{}" },
	{ "{\"title\":\"Leak in room 201\",\"description\":\"Water on the floor\","
	  "\"category\":\"plumbing\",\"priority\":\"high\",\"status\":\"open\","
	  "\"location\":" LOC_JSON "}", "{}" },
	{ "{\"location\":{\"lng\":0.1218,\"lat\":52.2053,\"room\":\"201\",\"floor\":\"2\"}}", "{}" },
	/* one field */
	{ "{\"title\":\"Flood\"}", "{\"title\":{\"from\":\"Leak in room 201\",\"to\":\"Flood\"}}" },
	{ "{\"description\":\"\"}", "{\"description\":{\"from\":\"Water on the floor\",\"to\":\"\"}}" },
	{ "{\"category\":\"water\"}", "{\"category\":{\"from\":\"plumbing\",\"to\":\"water\"}}" },
	{ "{\"priority\":\"low\"}", "{\"priority\":{\"from\":\"high\",\"to\":\"low\"}}" },
	{ "{\"status\":\"in_progress\"}", "{\"status\":{\"from\":\"open\",\"to\":\"in_progress\"}}" },
	{ "{\"status\":\"closed\"}", "{\"status\":{\"from\":\"open\",\"to\":\"closed\"}}" },
	{ "{\"location\":null}", "{\"location\":{\"from\":" LOC_JSON ",\"to\":" LOC_NULL "}}" },
	{ "{\"location\":{}}", "{\"location\":{\"from\":" LOC_JSON ",\"to\":" LOC_NULL "}}" },
	{ "{\"location\":{\"floor\":\"3\",\"room\":\"201\",\"lat\":52.2053,\"lng\":0.1218}}",
	  "{\"location\":{\"from\":" LOC_JSON ",\"to\":"
	  "{\"floor\":\"3\",\"room\":\"201\",\"lat\":52.2053,\"lng\":0.1218}}}" },
	/* replaced whole: a partial location drops the rest */
	{ "{\"location\":{\"floor\":\"2\"}}", "{\"location\":{\"from\":" LOC_JSON ",\"to\":"
	  "{\"floor\":\"2\",\"room\":null,\"lat\":null,\"lng\":null}}}" },
	{ "{\"location\":{\"floor\":\"2\",\"room\":\"201\",\"lat\":52.2053,\"lng\":0.1219}}",
	  "{\"location\":{\"from\":" LOC_JSON ",\"to\":"
	  "{\"floor\":\"2\",\"room\":\"201\",\"lat\":52.2053,\"lng\":0.1219}}}" },
	/* only the fields that really changed */
	{ "{\"title\":\"Flood\",\"category\":\"plumbing\",\"status\":\"open\",\"priority\":\"high\"}",
	  "{\"title\":{\"from\":\"Leak in room 201\",\"to\":\"Flood\"}}" },
	{ "{\"title\":\"Leak in room 201\",\"priority\":\"critical\",\"status\":\"resolved\"}",
	  "{\"priority\":{\"from\":\"high\",\"to\":\"critical\"},"
	  "\"status\":{\"from\":\"open\",\"to\":\"resolved\"}}" },
};

START_TEST(test_apply)
{
	struct ciis_issue is;
	struct json_object *changes;
	struct ciis_err err;

	sample_issue(&is);
	ck_assert_msg(apply(&is, applies[_i].patch, T_CREATED + 60000, &changes, &err) == 0,
	    "%s refused: %s", applies[_i].patch, err.message);
	ck_assert_ptr_nonnull(changes);
	ck_assert(json_object_is_type(changes, json_type_object));
	assert_json_eq(changes, applies[_i].changes);
	json_object_put(changes);
	ciis_issue_cleanup(&is);
}
END_TEST

/* A patch that changes nothing leaves every field as it was. */
START_TEST(test_apply_unchanged)
{
	struct ciis_issue is, before;
	struct json_object *changes;
	struct ciis_err err;

	sample_issue(&is);
	sample_issue(&before);
	ck_assert_int_eq(apply(&is, applies[2].patch, T_CREATED + 60000, &changes, &err), 0);
	ck_assert_int_eq(json_object_object_length(changes), 0);
	ck_assert_str_eq(is.title, before.title);
	ck_assert_str_eq(is.description, before.description);
	ck_assert_str_eq(is.category, before.category);
	ck_assert_int_eq(is.priority, before.priority);
	ck_assert_int_eq(is.status, before.status);
	ck_assert_str_eq(is.location.floor, "2");
	ck_assert_double_eq(is.location.lat, 52.2053);
	ck_assert_int_eq(is.version, 1);
	ck_assert_int_eq(is.resolved_at, 0);
	json_object_put(changes);
	ciis_issue_cleanup(&is);
	ciis_issue_cleanup(&before);
}
END_TEST

/* The patched values land in the issue. */
START_TEST(test_apply_values)
{
	struct ciis_issue is;
	struct json_object *changes;
	struct ciis_err err;

	sample_issue(&is);
	ck_assert_int_eq(apply(&is, "{\"title\":\"Flood\",\"description\":\"Worse\","
	    "\"category\":\"water\",\"priority\":\"critical\",\"status\":\"in_progress\","
	    "\"location\":{\"room\":\"B12\"}}", T_CREATED + 60000, &changes, &err), 0);
	ck_assert_int_eq(json_object_object_length(changes), 6);
	ck_assert_str_eq(is.title, "Flood");
	ck_assert_str_eq(is.description, "Worse");
	ck_assert_str_eq(is.category, "water");
	ck_assert_int_eq(is.priority, CIIS_PRIO_CRITICAL);
	ck_assert_int_eq(is.status, CIIS_ST_IN_PROGRESS);
	ck_assert_ptr_null(is.location.floor);
	ck_assert_str_eq(is.location.room, "B12");
	ck_assert_int_eq(is.location.has_lat, 0);
	ck_assert_int_eq(is.location.has_lng, 0);
	ck_assert_int_eq(is.resolved_at, 0);
	/* untouched by any patch */
	ck_assert_int_eq(is.id, 1042);
	ck_assert_int_eq(is.version, 1);
	ck_assert_str_eq(is.reporter_id, "u1");
	ck_assert_int_eq(is.created_at, T_CREATED);
	json_object_put(changes);
	ciis_issue_cleanup(&is);
}
END_TEST

START_TEST(test_apply_resolve)
{
	struct ciis_issue is;
	struct json_object *changes;
	struct ciis_err err;
	int64_t now = T_CREATED + 3600000;

	sample_issue(&is);
	ck_assert_int_eq(apply(&is, "{\"status\":\"resolved\"}", now, &changes, &err), 0);
	ck_assert_int_eq(is.status, CIIS_ST_RESOLVED);
	ck_assert_int_eq(is.resolved_at, now);
	ck_assert_ptr_null(is.resolution);
	assert_json_eq(changes, "{\"status\":{\"from\":\"open\",\"to\":\"resolved\"}}");
	json_object_put(changes);

	/* resolved → closed keeps the resolution and its time */
	is.resolution = ciis_xstrdup("Fixed the pipe");
	ck_assert_int_eq(apply(&is, "{\"status\":\"closed\"}", now + 5000, &changes, &err), 0);
	ck_assert_int_eq(is.status, CIIS_ST_CLOSED);
	ck_assert_int_eq(is.resolved_at, now);
	ck_assert_str_eq(is.resolution, "Fixed the pipe");
	assert_json_eq(changes, "{\"status\":{\"from\":\"resolved\",\"to\":\"closed\"}}");
	json_object_put(changes);
	ciis_issue_cleanup(&is);
}
END_TEST

/* Leaving resolved or closed for an open status clears resolvedAt and the
 * resolution, and the changes say so. */
static const struct {
	enum ciis_status from;
	const char *patch, *to;
} reopens[] = {
	{ CIIS_ST_RESOLVED, "{\"status\":\"open\"}", "open" },
	{ CIIS_ST_RESOLVED, "{\"status\":\"in_progress\"}", "in_progress" },
	{ CIIS_ST_RESOLVED, "{\"status\":\"assigned\"}", "assigned" },
	{ CIIS_ST_CLOSED, "{\"status\":\"open\"}", "open" },
};

START_TEST(test_apply_reopen)
{
	struct ciis_issue is;
	struct json_object *changes, *c, *v;
	struct ciis_err err;

	sample_issue(&is);
	is.status = reopens[_i].from;
	is.assigned_to = ciis_xstrdup("u7");
	is.resolution = ciis_xstrdup("Fixed the pipe");
	is.resolved_at = T_CREATED + 3600000;
	ck_assert_msg(apply(&is, reopens[_i].patch, T_CREATED + 7200000, &changes, &err) == 0,
	    "%s refused: %s", reopens[_i].patch, err.message);
	ck_assert_str_eq(ciis_status_name(is.status), reopens[_i].to);
	ck_assert_int_eq(is.resolved_at, 0);
	ck_assert_ptr_null(is.resolution);
	ck_assert_str_eq(is.assigned_to, "u7");

	ck_assert_int_eq(json_object_object_length(changes) >= 2, 1);
	ck_assert(json_object_object_get_ex(changes, "status", &c));
	ck_assert(json_object_object_get_ex(c, "from", &v));
	ck_assert_str_eq(json_object_get_string(v), ciis_status_name(reopens[_i].from));
	ck_assert(json_object_object_get_ex(c, "to", &v));
	ck_assert_str_eq(json_object_get_string(v), reopens[_i].to);
	ck_assert(json_object_object_get_ex(changes, "resolution", &c));
	ck_assert(json_object_object_get_ex(c, "from", &v));
	ck_assert_str_eq(json_object_get_string(v), "Fixed the pipe");
	ck_assert(json_object_object_get_ex(c, "to", &v));
	ck_assert_ptr_null(v);
	json_object_put(changes);
	ciis_issue_cleanup(&is);
}
END_TEST

/* A reopen of an issue resolved without a resolution text has no
 * resolution change to report. */
START_TEST(test_apply_reopen_no_resolution)
{
	struct ciis_issue is;
	struct json_object *changes;
	struct ciis_err err;

	sample_issue(&is);
	is.status = CIIS_ST_RESOLVED;
	is.resolved_at = T_CREATED + 1000;
	ck_assert_int_eq(apply(&is, "{\"status\":\"open\"}", T_CREATED + 2000, &changes, &err), 0);
	ck_assert_int_eq(is.resolved_at, 0);
	assert_json_eq(changes, "{\"status\":{\"from\":\"resolved\",\"to\":\"open\"}}");
	json_object_put(changes);
	ciis_issue_cleanup(&is);
}
END_TEST

/* Refused moves: 400 naming status, the issue untouched (also the other
 * fields of the same patch). */
static const struct {
	enum ciis_status from;
	const char *to;
	int assignee;
} refusals[] = {
	{ CIIS_ST_OPEN, "assigned", 0 },
	{ CIIS_ST_IN_PROGRESS, "assigned", 0 },
	{ CIIS_ST_RESOLVED, "assigned", 0 },
	{ CIIS_ST_CLOSED, "assigned", 1 },
	{ CIIS_ST_CLOSED, "assigned", 0 },
	{ CIIS_ST_CLOSED, "in_progress", 1 },
	{ CIIS_ST_CLOSED, "resolved", 1 },
};

START_TEST(test_apply_refused)
{
	struct ciis_issue is;
	struct json_object *changes;
	struct ciis_err err;
	char patch[160];
	int64_t resolved_at = refusals[_i].from >= CIIS_ST_RESOLVED ? T_CREATED + 1000 : 0;

	sample_issue(&is);
	is.status = refusals[_i].from;
	is.resolved_at = resolved_at;
	if (resolved_at != 0)
		is.resolution = ciis_xstrdup("Fixed");
	if (refusals[_i].assignee)
		is.assigned_to = ciis_xstrdup("u7");
	snprintf(patch, sizeof patch, "{\"title\":\"Flood\",\"priority\":\"low\",\"location\":null,"
	    "\"status\":\"%s\"}", refusals[_i].to);
	ck_assert_msg(apply(&is, patch, T_CREATED + 5000, &changes, &err) == -1, "%s -> %s accepted",
	    ciis_status_name(refusals[_i].from), refusals[_i].to);
	ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
	ck_assert_str_eq(err.field, "status");
	ck_assert_int_eq(is.status, refusals[_i].from);
	ck_assert_str_eq(is.title, "Leak in room 201");
	ck_assert_int_eq(is.priority, CIIS_PRIO_HIGH);
	ck_assert_str_eq(is.location.floor, "2");
	ck_assert_int_eq(is.location.has_lat, 1);
	ck_assert_int_eq(is.resolved_at, resolved_at);
	if (resolved_at != 0)
		ck_assert_str_eq(is.resolution, "Fixed");
	ck_assert_ptr_null(changes);
	ciis_issue_cleanup(&is);
}
END_TEST

/* The "–" cells of the table: setting the current status is no move and no
 * change, whatever the assignee. */
START_TEST(test_apply_same_status)
{
	struct ciis_issue is;
	struct json_object *changes;
	struct ciis_err err;
	char patch[64];

	sample_issue(&is);
	is.status = (enum ciis_status)_i;
	if (_i >= CIIS_ST_RESOLVED) {
		is.resolved_at = T_CREATED + 1000;
		is.resolution = ciis_xstrdup("Fixed");
	}
	snprintf(patch, sizeof patch, "{\"status\":\"%s\"}", ciis_status_name((enum ciis_status)_i));
	ck_assert_msg(apply(&is, patch, T_CREATED + 5000, &changes, &err) == 0, "%s refused: %s",
	    patch, err.message);
	assert_json_eq(changes, "{}");
	ck_assert_int_eq(is.status, _i);
	if (_i >= CIIS_ST_RESOLVED) {
		ck_assert_int_eq(is.resolved_at, T_CREATED + 1000);
		ck_assert_str_eq(is.resolution, "Fixed");
	} else {
		ck_assert_int_eq(is.resolved_at, 0);
	}
	json_object_put(changes);
	ciis_issue_cleanup(&is);
}
END_TEST

/* Entering assigned needs an assignee, through apply_patch too. */
START_TEST(test_apply_assigned_with_assignee)
{
	struct ciis_issue is;
	struct json_object *changes;
	struct ciis_err err;

	sample_issue(&is);
	is.assigned_to = ciis_xstrdup("u7");
	ck_assert_int_eq(apply(&is, "{\"status\":\"assigned\"}", T_CREATED + 5000, &changes, &err), 0);
	ck_assert_int_eq(is.status, CIIS_ST_ASSIGNED);
	assert_json_eq(changes, "{\"status\":{\"from\":\"open\",\"to\":\"assigned\"}}");
	json_object_put(changes);
	ciis_issue_cleanup(&is);
}
END_TEST

/* ---- single-field bodies (resolve, assign, notes) ---- */

static const struct {
	const char *body, *field;
	long min, max;
	int null_ok;
	const char *err_field;	/* NULL: accepted */
	const char *out;	/* NULL: *out is NULL */
} singles[] = {
	{ "{\"notes\":\"Checked the valve\"}", "notes", 1, 10000, 0, NULL, "Checked the valve" },
	{ "{\"resolution\":\"Fixed\"}", "resolution", 1, 10000, 0, NULL, "Fixed" },
	{ "{\"assigneeId\":\"u7\"}", "assigneeId", 1, 64, 1, NULL, "u7" },
	{ "{\"assigneeId\":null}", "assigneeId", 1, 64, 1, NULL, NULL },
	{ "{\"assigneeId\":\"\\u00e9\\u00e9\"}", "assigneeId", 1, 2, 1, NULL, "\xc3\xa9\xc3\xa9" },
	{ "{\"assigneeId\":\"\\u00e9\\u00e9\\u00e9\"}", "assigneeId", 1, 2, 1, "assigneeId", NULL },
	{ "{\"notes\":null}", "notes", 1, 10000, 0, "notes", NULL },
	{ "{\"notes\":\"\"}", "notes", 1, 10000, 0, "notes", NULL },
	{ "{\"notes\":5}", "notes", 1, 10000, 0, "notes", NULL },
	{ "{\"notes\":[\"x\"]}", "notes", 1, 10000, 0, "notes", NULL },
	{ "{\"notes\":\"a\\u0000b\"}", "notes", 1, 10000, 0, "notes", NULL },
	{ "{\"assigneeId\":\"\"}", "assigneeId", 1, 64, 1, "assigneeId", NULL },
	{ "{\"assigneeId\":7}", "assigneeId", 1, 64, 1, "assigneeId", NULL },
	{ "{}", "notes", 1, 10000, 0, "notes", NULL },
	{ "{}", "assigneeId", 1, 64, 1, "assigneeId", NULL },
	{ "{\"note\":\"x\"}", "notes", 1, 10000, 0, "note", NULL },
	{ "{\"notes\":\"x\",\"extra\":1}", "notes", 1, 10000, 0, "extra", NULL },
	{ "{\"extra\":1,\"notes\":\"x\"}", "notes", 1, 10000, 0, "extra", NULL },
	{ "{\"resolution\":\"x\",\"status\":\"resolved\"}", "resolution", 1, 10000, 0, "status", NULL },
	{ "[\"x\"]", "notes", 1, 10000, 0, "", NULL },
	{ "\"x\"", "notes", 1, 10000, 0, "", NULL },
};

START_TEST(test_single)
{
	struct json_object *b = body(singles[_i].body);
	struct ciis_err err;
	char *out = (char *)"untouched";
	int rc;

	memset(&err, 0, sizeof err);
	rc = ciis_issue_parse_single(b, singles[_i].field, singles[_i].min, singles[_i].max,
	    singles[_i].null_ok, &out, &err);
	if (singles[_i].err_field == NULL) {
		ck_assert_msg(rc == 0, "%s refused: %s", singles[_i].body, err.message);
		if (singles[_i].out == NULL)
			ck_assert_ptr_null(out);
		else
			ck_assert_str_eq(out, singles[_i].out);
		free(out);
	} else {
		ck_assert_msg(rc == -1, "%s accepted", singles[_i].body);
		ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
		ck_assert_str_eq(err.field, singles[_i].err_field);
		ck_assert_ptr_null(out);
	}
	json_object_put(b);
}
END_TEST

START_TEST(test_single_length)
{
	struct json_object *b = json_object_new_object();
	char *ok = repeat("\xe2\x82\xac", 10000), *bad = repeat("a", 10001), *out = NULL;
	struct ciis_err err;

	memset(&err, 0, sizeof err);
	json_object_object_add(b, "resolution", json_object_new_string(ok));
	ck_assert_int_eq(ciis_issue_parse_single(b, "resolution", 1, CIIS_TEXT_MAX, 0, &out, &err), 0);
	ck_assert_str_eq(out, ok);
	free(out);
	json_object_object_add(b, "resolution", json_object_new_string(bad));
	ck_assert_int_eq(ciis_issue_parse_single(b, "resolution", 1, CIIS_TEXT_MAX, 0, &out, &err), -1);
	ck_assert_str_eq(err.field, "resolution");
	ck_assert_ptr_null(out);
	ck_assert_int_eq(ciis_issue_parse_single(NULL, "resolution", 1, CIIS_TEXT_MAX, 0, &out, &err), -1);
	ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
	free(ok);
	free(bad);
	json_object_put(b);
}
END_TEST

/* ---- ids ---- */

static const struct {
	const char *s;
	int ok;
	int64_t id;
} ids[] = {
	{ "1", 1, 1 },
	{ "9", 1, 9 },
	{ "42", 1, 42 },
	{ "1042", 1, 1042 },
	{ "1000000000000000000", 1, INT64_C(1000000000000000000) },	/* 19 digits */
	{ "9223372036854775807", 1, INT64_MAX },
	{ "9223372036854775806", 1, INT64_MAX - 1 },
	{ "9223372036854775808", 0, 0 },	/* 19 digits, overflow */
	{ "9999999999999999999", 0, 0 },
	{ "10000000000000000000", 0, 0 },	/* 20 digits */
	{ "18446744073709551617", 0, 0 },
	{ "00000000000000000001", 0, 0 },
	{ "123456789012345678901234567890", 0, 0 },
	{ "0", 0, 0 },
	{ "00", 0, 0 },
	{ "01", 0, 0 },
	{ "007", 0, 0 },
	{ "-1", 0, 0 },
	{ "-0", 0, 0 },
	{ "+1", 0, 0 },
	{ "", 0, 0 },
	{ " 1", 0, 0 },
	{ "1 ", 0, 0 },
	{ "1 2", 0, 0 },
	{ "\t1", 0, 0 },
	{ "1\n", 0, 0 },
	{ "1a", 0, 0 },
	{ "a1", 0, 0 },
	{ "0x10", 0, 0 },
	{ "1.0", 0, 0 },
	{ "1e3", 0, 0 },
	{ "1,2", 0, 0 },
	{ "\xd9\xa1", 0, 0 },	/* ARABIC-INDIC DIGIT ONE */
};

START_TEST(test_id_parse)
{
	int64_t id = -7;
	int rc = ciis_id_parse(ids[_i].s, &id);

	if (ids[_i].ok) {
		ck_assert_msg(rc == 0, "\"%s\" refused", ids[_i].s);
		ck_assert_int_eq(id, ids[_i].id);
	} else {
		ck_assert_msg(rc == -1, "\"%s\" accepted as %lld", ids[_i].s, (long long)id);
	}
}
END_TEST

START_TEST(test_id_parse_null)
{
	int64_t id = 0;

	ck_assert_int_eq(ciis_id_parse(NULL, &id), -1);
}
END_TEST

/* ---- the SPEC §5 JSON form ---- */

static const struct {
	const char *key;
	enum json_type type;
} open_fields[] = {
	{ "id", json_type_string },
	{ "organizationId", json_type_string },
	{ "campusId", json_type_string },
	{ "buildingId", json_type_string },
	{ "title", json_type_string },
	{ "description", json_type_string },
	{ "category", json_type_string },
	{ "priority", json_type_string },
	{ "status", json_type_string },
	{ "reporterId", json_type_string },
	{ "assignedTo", json_type_null },
	{ "location", json_type_object },
	{ "resolution", json_type_null },
	{ "version", json_type_int },
	{ "createdAt", json_type_string },
	{ "updatedAt", json_type_string },
	{ "resolvedAt", json_type_null },
};
#define N_FIELDS (sizeof open_fields / sizeof open_fields[0])

static const char *
str_member(struct json_object *o, const char *key)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no \"%s\"", key);
	ck_assert_msg(json_object_is_type(v, json_type_string), "\"%s\" is not a string", key);
	return json_object_get_string(v);
}

START_TEST(test_to_json_fields)
{
	struct ciis_issue is;
	struct json_object *o, *v;

	sample_issue(&is);
	o = ciis_issue_to_json(&is);
	ck_assert_int_eq(json_object_object_length(o), N_FIELDS);
	for (size_t i = 0; i < N_FIELDS; i++) {
		ck_assert_msg(json_object_object_get_ex(o, open_fields[i].key, &v), "no \"%s\"",
		    open_fields[i].key);
		ck_assert_msg(json_object_get_type(v) == open_fields[i].type, "\"%s\" has type %s",
		    open_fields[i].key, json_type_to_name(json_object_get_type(v)));
	}
	ck_assert_str_eq(str_member(o, "id"), "1042");
	ck_assert_str_eq(str_member(o, "organizationId"), "org123");
	ck_assert_str_eq(str_member(o, "campusId"), "456");
	ck_assert_str_eq(str_member(o, "buildingId"), "789");
	ck_assert_str_eq(str_member(o, "title"), "Leak in room 201");
	ck_assert_str_eq(str_member(o, "description"), "Water on the floor");
	ck_assert_str_eq(str_member(o, "category"), "plumbing");
	ck_assert_str_eq(str_member(o, "priority"), "high");
	ck_assert_str_eq(str_member(o, "status"), "open");
	ck_assert_str_eq(str_member(o, "reporterId"), "u1");
	ck_assert_str_eq(str_member(o, "createdAt"), "2026-11-23T10:00:00.000Z");
	ck_assert_str_eq(str_member(o, "updatedAt"), "2026-11-23T10:00:01.500Z");
	ck_assert(json_object_object_get_ex(o, "version", &v));
	ck_assert_int_eq(json_object_get_int64(v), 1);
	json_object_put(o);
	ciis_issue_cleanup(&is);
}
END_TEST

START_TEST(test_to_json_location)
{
	struct ciis_issue is;
	struct json_object *o, *loc, *v;
	const char *text;

	sample_issue(&is);
	o = ciis_issue_to_json(&is);
	ck_assert(json_object_object_get_ex(o, "location", &loc));
	ck_assert_int_eq(json_object_object_length(loc), 4);
	ck_assert_str_eq(str_member(loc, "floor"), "2");
	ck_assert_str_eq(str_member(loc, "room"), "201");
	ck_assert(json_object_object_get_ex(loc, "lat", &v));
	ck_assert(json_object_is_type(v, json_type_double));
	ck_assert_double_eq(json_object_get_double(v), 52.2053);
	ck_assert(json_object_object_get_ex(loc, "lng", &v));
	ck_assert(json_object_is_type(v, json_type_double));
	ck_assert_double_eq(json_object_get_double(v), 0.1218);
	text = ciis_json_text(o);
	ck_assert_ptr_nonnull(strstr(text,
	    "\"location\":{\"floor\":\"2\",\"room\":\"201\",\"lat\":52.2053,\"lng\":0.1218}"));
	json_object_put(o);

	/* an issue without a location still has the object, all null */
	free(is.location.floor);
	free(is.location.room);
	memset(&is.location, 0, sizeof is.location);
	o = ciis_issue_to_json(&is);
	ck_assert(json_object_object_get_ex(o, "location", &loc));
	ck_assert(json_object_is_type(loc, json_type_object));
	ck_assert_int_eq(json_object_object_length(loc), 4);
	for (size_t i = 0; i < 4; i++) {
		static const char *const keys[] = { "floor", "room", "lat", "lng" };

		ck_assert_msg(json_object_object_get_ex(loc, keys[i], &v), "no location.%s", keys[i]);
		ck_assert_msg(v == NULL, "location.%s is not null", keys[i]);
	}
	ck_assert_ptr_nonnull(strstr(ciis_json_text(o),
	    "\"location\":{\"floor\":null,\"room\":null,\"lat\":null,\"lng\":null}"));
	json_object_put(o);
	ciis_issue_cleanup(&is);
}
END_TEST

START_TEST(test_to_json_resolved)
{
	struct ciis_issue is;
	struct json_object *o, *v;

	sample_issue(&is);
	is.status = CIIS_ST_RESOLVED;
	is.priority = CIIS_PRIO_CRITICAL;
	is.assigned_to = ciis_xstrdup("u7");
	is.resolution = ciis_xstrdup("Fixed the pipe");
	is.resolved_at = T_CREATED + 86400000 + 5;
	is.version = 4;
	o = ciis_issue_to_json(&is);
	ck_assert_int_eq(json_object_object_length(o), N_FIELDS);
	ck_assert_str_eq(str_member(o, "status"), "resolved");
	ck_assert_str_eq(str_member(o, "priority"), "critical");
	ck_assert_str_eq(str_member(o, "assignedTo"), "u7");
	ck_assert_str_eq(str_member(o, "resolution"), "Fixed the pipe");
	ck_assert_str_eq(str_member(o, "resolvedAt"), "2026-11-24T10:00:00.005Z");
	ck_assert(json_object_object_get_ex(o, "version", &v));
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int64(v), 4);
	json_object_put(o);
	ciis_issue_cleanup(&is);
}
END_TEST

/* Ids are strings on the wire, even the largest. */
START_TEST(test_to_json_big_id)
{
	struct ciis_issue is;
	struct json_object *o;

	sample_issue(&is);
	is.id = INT64_MAX;
	is.building_id = INT64_C(9007199254740993);
	o = ciis_issue_to_json(&is);
	ck_assert_str_eq(str_member(o, "id"), "9223372036854775807");
	ck_assert_str_eq(str_member(o, "buildingId"), "9007199254740993");
	json_object_put(o);
	ciis_issue_cleanup(&is);
}
END_TEST

/* A copy is deep: cleaning the original leaves it intact. */
START_TEST(test_copy)
{
	struct ciis_issue is, cp;

	sample_issue(&is);
	is.assigned_to = ciis_xstrdup("u7");
	is.resolution = ciis_xstrdup("Fixed");
	ciis_issue_copy(&cp, &is);
	ck_assert_ptr_ne(cp.title, is.title);
	ck_assert_ptr_ne(cp.location.floor, is.location.floor);
	ciis_issue_cleanup(&is);
	ck_assert_str_eq(cp.title, "Leak in room 201");
	ck_assert_str_eq(cp.description, "Water on the floor");
	ck_assert_str_eq(cp.category, "plumbing");
	ck_assert_str_eq(cp.assigned_to, "u7");
	ck_assert_str_eq(cp.resolution, "Fixed");
	ck_assert_str_eq(cp.location.floor, "2");
	ck_assert_str_eq(cp.location.room, "201");
	ck_assert_double_eq(cp.location.lat, 52.2053);
	ck_assert_str_eq(cp.org_id, "org123");
	ck_assert_int_eq(cp.id, 1042);
	ciis_issue_cleanup(&cp);
}
END_TEST

Suite *
issue_suite(void)
{
	Suite *s = suite_create("issue");
	TCase *tc = tcase_create("moves");

	tcase_add_loop_test(tc, test_move, 0, sizeof moves / sizeof moves[0]);
	tcase_add_test(tc, test_move_out_of_range);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("create");
	tcase_add_loop_test(tc, test_create, 0, sizeof creates / sizeof creates[0]);
	tcase_add_test(tc, test_create_not_object);
	tcase_add_test(tc, test_create_values);
	tcase_add_test(tc, test_create_defaults);
	tcase_add_loop_test(tc, test_create_length, 0, sizeof lengths / sizeof lengths[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("patch");
	tcase_add_loop_test(tc, test_patch, 0, sizeof patches / sizeof patches[0]);
	tcase_add_test(tc, test_patch_values);
	tcase_add_test(tc, test_patch_title_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("apply");
	tcase_add_loop_test(tc, test_apply, 0, sizeof applies / sizeof applies[0]);
	tcase_add_test(tc, test_apply_unchanged);
	tcase_add_test(tc, test_apply_values);
	tcase_add_test(tc, test_apply_resolve);
	tcase_add_loop_test(tc, test_apply_reopen, 0, sizeof reopens / sizeof reopens[0]);
	tcase_add_test(tc, test_apply_reopen_no_resolution);
	tcase_add_loop_test(tc, test_apply_refused, 0, sizeof refusals / sizeof refusals[0]);
	tcase_add_loop_test(tc, test_apply_same_status, 0, CIIS_ST_COUNT);
	tcase_add_test(tc, test_apply_assigned_with_assignee);
	suite_add_tcase(s, tc);

	tc = tcase_create("single");
	tcase_add_loop_test(tc, test_single, 0, sizeof singles / sizeof singles[0]);
	tcase_add_test(tc, test_single_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("ids");
	tcase_add_loop_test(tc, test_id_parse, 0, sizeof ids / sizeof ids[0]);
	tcase_add_test(tc, test_id_parse_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_test(tc, test_to_json_fields);
	tcase_add_test(tc, test_to_json_location);
	tcase_add_test(tc, test_to_json_resolved);
	tcase_add_test(tc, test_to_json_big_id);
	tcase_add_test(tc, test_copy);
	suite_add_tcase(s, tc);
	return s;
}
