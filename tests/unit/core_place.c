/* Places without a database: the {name, lat?, lng?} body, organization ids
 * and the campus / building JSON. */
#include <math.h>
#include <string.h>

#include "core/json.h"
#include "core/place.h"
#include "suites.h"

/* ok: 1 parses; else field is the one the 400 must name. */
static const struct {
	const char *body;
	int ok;
	const char *field;
	int has_coords;
} bodies[] = {
	{ "{\"name\":\"Main Library\"}", 1, "", 0 },
	{ "{\"name\":\"Main Library\",\"lat\":52.2053,\"lng\":0.1218}", 1, "", 1 },
	{ "{\"name\":\"Pole\",\"lat\":-90,\"lng\":180}", 1, "", 1 },
	{ "{\"name\":\"Null point\",\"lat\":null,\"lng\":null}", 1, "", 0 },
	{ "{\"name\":\"Caf\\u00e9 \\ud83d\\ude00\"}", 1, "", 0 },
	{ "{}", 0, "name", 0 },
	{ "{\"name\":\"\"}", 0, "name", 0 },
	{ "{\"name\":42}", 0, "name", 0 },
	{ "{\"name\":null}", 0, "name", 0 },
	{ "{\"name\":\"a\\u0000b\"}", 0, "name", 0 },
	{ "{\"name\":\"x\",\"lat\":90.5,\"lng\":0}", 0, "lat", 0 },
	{ "{\"name\":\"x\",\"lat\":0,\"lng\":-180.01}", 0, "lng", 0 },
	{ "{\"name\":\"x\",\"lat\":\"52\",\"lng\":0}", 0, "lat", 0 },
	{ "{\"name\":\"x\",\"lat\":1}", 0, "lng", 0 },
	{ "{\"name\":\"x\",\"lng\":1}", 0, "lat", 0 },
	{ "{\"name\":\"x\",\"lat\":1e999,\"lng\":0}", 0, "lat", 0 },
	{ "{\"name\":\"x\",\"campusId\":\"1\"}", 0, "campusId", 0 },
	{ "{\"name\":\"x\",\"id\":\"1\"}", 0, "id", 0 },
	{ "[\"name\"]", 0, "", 0 },
};

START_TEST(test_parse)
{
	struct json_object *body = json_tokener_parse(bodies[_i].body);
	struct ciis_place pl;
	struct ciis_err err;
	int rc;

	ciis_err_clear(&err);
	ck_assert_ptr_nonnull(body);
	rc = ciis_place_parse(body, &pl, &err);
	if (bodies[_i].ok) {
		ck_assert_int_eq(rc, 0);
		ck_assert_ptr_nonnull(pl.name);
		ck_assert_int_eq(pl.has_coords, bodies[_i].has_coords);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
		ck_assert_str_eq(err.field, bodies[_i].field);
		ck_assert_ptr_null(pl.name);
	}
	ciis_place_cleanup(&pl);
	json_object_put(body);
}
END_TEST

START_TEST(test_parse_name_length)
{
	char name[3 * 201 + 1];
	struct json_object *body;
	struct ciis_place pl;
	struct ciis_err err;

	/* 200 three-byte characters are 600 bytes and still valid */
	name[0] = '\0';
	for (int i = 0; i < 200; i++)
		strcat(name, "\xe2\x82\xac");
	body = json_object_new_object();
	json_object_object_add(body, "name", json_object_new_string(name));
	ck_assert_int_eq(ciis_place_parse(body, &pl, &err), 0);
	ck_assert_str_eq(pl.name, name);
	ciis_place_cleanup(&pl);
	strcat(name, "\xe2\x82\xac");
	json_object_object_add(body, "name", json_object_new_string(name));
	ck_assert_int_eq(ciis_place_parse(body, &pl, &err), -1);
	ck_assert_str_eq(err.field, "name");
	json_object_put(body);
}
END_TEST

START_TEST(test_parse_values)
{
	struct json_object *body = json_tokener_parse(
	    "{\"name\":\"Great Hall\",\"lat\":52.2039,\"lng\":-0.5}");
	struct ciis_place pl;
	struct ciis_err err;

	ck_assert_int_eq(ciis_place_parse(body, &pl, &err), 0);
	ck_assert_str_eq(pl.name, "Great Hall");
	ck_assert(fabs(pl.lat - 52.2039) < 1e-12);
	ck_assert(fabs(pl.lng + 0.5) < 1e-12);
	ck_assert_int_eq(pl.id, 0);
	ck_assert_int_eq(pl.campus_id, 0);
	ciis_place_cleanup(&pl);
	ciis_place_cleanup(&pl);	/* twice is harmless */
	json_object_put(body);
}
END_TEST

static const struct {
	const char *id;
	int ok;
} org_ids[] = {
	{ "demo", 1 }, { "org123", 1 }, { "A-b_9", 1 }, { "-", 1 }, { "_", 1 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
	{ "", 0 }, { "has space", 0 }, { "dot.ted", 0 }, { "slash/", 0 },
	{ "caf\xc3\xa9", 0 }, { "semi;colon", 0 }, { "quote'", 0 },
};

START_TEST(test_org_id)
{
	ck_assert_int_eq(ciis_org_id_valid(org_ids[_i].id), org_ids[_i].ok);
}
END_TEST

START_TEST(test_org_id_null)
{
	ck_assert_int_eq(ciis_org_id_valid(NULL), 0);
}
END_TEST

static const struct {
	int64_t id, campus;
	const char *name;
	int has_coords;
	double lat, lng;
	const char *json;
} renders[] = {
	{ 7, 0, "City Campus", 1, 52.2043, 0.118,
	  "{\"id\":\"7\",\"name\":\"City Campus\",\"lat\":52.2043,\"lng\":0.118}" },
	{ 12, 7, "Main Library", 1, 52.2053, 0.1218,
	  "{\"id\":\"12\",\"campusId\":\"7\",\"name\":\"Main Library\",\"lat\":52.2053,\"lng\":0.1218}" },
	{ 9007199254740993LL, 3, "Big id", 0, 0, 0,
	  "{\"id\":\"9007199254740993\",\"campusId\":\"3\",\"name\":\"Big id\",\"lat\":null,\"lng\":null}" },
	{ 1, 0, "Pole", 1, -90, -180,
	  "{\"id\":\"1\",\"name\":\"Pole\",\"lat\":-90,\"lng\":-180}" },
};

START_TEST(test_to_json)
{
	struct ciis_place pl = {
		.id = renders[_i].id, .campus_id = renders[_i].campus,
		.name = (char *)renders[_i].name, .has_coords = renders[_i].has_coords,
		.lat = renders[_i].lat, .lng = renders[_i].lng,
	};
	struct json_object *o = ciis_place_to_json(&pl);

	ck_assert_str_eq(ciis_json_text(o), renders[_i].json);
	json_object_put(o);
}
END_TEST

/* What a client sent comes back as it was: parse, then render. */
START_TEST(test_round_trip)
{
	const char *in = "{\"name\":\"Biotech Labs\",\"lat\":52.2358,\"lng\":0.1452}";
	struct json_object *body = json_tokener_parse(in);
	struct ciis_place pl;
	struct ciis_err err;
	struct json_object *o;

	ck_assert_int_eq(ciis_place_parse(body, &pl, &err), 0);
	pl.id = 5;
	pl.campus_id = 2;
	o = ciis_place_to_json(&pl);
	ck_assert_str_eq(ciis_json_text(o),
	    "{\"id\":\"5\",\"campusId\":\"2\",\"name\":\"Biotech Labs\",\"lat\":52.2358,\"lng\":0.1452}");
	json_object_put(o);
	ciis_place_cleanup(&pl);
	json_object_put(body);
}
END_TEST

Suite *
place_suite(void)
{
	Suite *s = suite_create("place");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, sizeof bodies / sizeof bodies[0]);
	tcase_add_test(tc, test_parse_name_length);
	tcase_add_test(tc, test_parse_values);
	tcase_add_loop_test(tc, test_org_id, 0, sizeof org_ids / sizeof org_ids[0]);
	tcase_add_test(tc, test_org_id_null);
	tcase_add_loop_test(tc, test_to_json, 0, sizeof renders / sizeof renders[0]);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
