/* Strict JSON input (ciis_json_parse), code-point lengths, number and id
 * rendering, and the RFC 3339 clock helpers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json.h"
#include "suites.h"

/* A literal with its length, embedded NULs included. */
#define L(s) { s, sizeof s - 1 }

static const struct {
	const char *text;
	size_t len;
} good_json[] = {
	L("{}"),
	L("[]"),
	L("{\"a\":1}"),
	L(" {\"a\":1} "),
	L("\t\r\n{ \"a\" : [ 1 , 2 ] }\r\n\t"),
	L("[1,2,3]"),
	L("{\"a\":{\"b\":[true,false,null,1.5,-2,1e3,\"x\"]}}"),
	L("{\"title\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}"),
	L("{\"title\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}"),
	L("{\"\xed\x9f\xbf\":\"\xef\xbf\xbd\xf4\x8f\xbf\xbf\"}"),	/* U+D7FF, U+FFFD, U+10FFFF */
	L("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}"),
	L("\"just a string\""),
	L("42 "),		/* a number needs its end seen */
	L("[42]"),
};

static const struct {
	const char *text;
	size_t len;
} bad_json[] = {
	/* trailing garbage */
	L("{}x"),
	L("{} x"),
	L("{}{}"),
	L("{} {}"),
	L("[1]]"),
	L("{\"a\":1}}"),
	L("{}\0"),
	L("{}\0{}"),
	L("{},"),
	/* truncated */
	L(""),
	L("   "),
	L("{"),
	L("["),
	L("{\"a\""),
	L("{\"a\":"),
	L("{\"a\":1"),
	L("{\"a\":1,"),
	L("[1,"),
	L("\"abc"),
	L("{\"a\":\"b"),
	L("{\"a\":tru"),
	/* not JSON */
	L("{\"a\":1,}"),
	L("[1,]"),
	L("{a:1}"),
	L("{'a':1}"),
	L("['a']"),
	L("[NaN]"),
	L("[Infinity]"),
	L("[-Infinity]"),
	L("[01]"),
	L("[1.]"),
	L("[.5]"),
	L("[+1]"),
	L("[0x10]"),
	L("[\"a\tb\"]"),		/* raw control character in a string */
	L("[\"a\nb\"]"),
	L("[\"\\x41\"]"),
	L("[\"\\u12\"]"),
	L("/* c */ {}"),
	L("{} // c"),
	L("[True]"),
	L("[nul]"),
	L("{\"a\" 1}"),
	L("{\"a\":1 \"b\":2}"),
	/* invalid UTF-8 */
	L("[\"\xff\"]"),
	L("[\"\xfe\"]"),
	L("[\"\x80\"]"),				/* lone continuation byte */
	L("[\"\xc3\"]"),				/* truncated 2-byte */
	L("[\"\xe2\x82\"]"),				/* truncated 3-byte */
	L("[\"\xf0\x9f\x98\"]"),			/* truncated 4-byte */
	L("[\"\xe2\x82"),				/* truncated at the end of input */
	L("[\"\xc0\x80\"]"),				/* overlong NUL */
	L("[\"\xc1\xbf\"]"),				/* overlong 2-byte */
	L("[\"\xe0\x80\xaf\"]"),			/* overlong '/' */
	L("[\"\xe0\x9f\xbf\"]"),			/* overlong 3-byte */
	L("[\"\xf0\x8f\xbf\xbf\"]"),			/* overlong 4-byte */
	L("[\"\xed\xa0\x80\"]"),			/* surrogate U+D800 */
	L("[\"\xed\xbf\xbf\"]"),			/* surrogate U+DFFF */
	L("[\"\xed\xa0\xbd\xed\xb8\x80\"]"),		/* CESU-8 pair */
	L("[\"\xf4\x90\x80\x80\"]"),			/* U+110000 */
	L("[\"\xf8\x88\x80\x80\x80\"]"),		/* 5-byte form */
	L("{\"\xc0\xae\":1}"),				/* in a key */
	L("{\"a\":1}\xff"),
};

START_TEST(test_parse_good)
{
	struct ciis_err err;
	struct json_object *o;

	memset(&err, 0, sizeof err);
	o = ciis_json_parse(good_json[_i].text, good_json[_i].len, &err);
	ck_assert_msg(o != NULL, "refused %s: %s", good_json[_i].text, err.message);
	ck_assert_int_eq(err.code, CIIS_E_OK);
	json_object_put(o);
}
END_TEST

START_TEST(test_parse_bad)
{
	struct ciis_err err;
	struct json_object *o;

	memset(&err, 0, sizeof err);
	o = ciis_json_parse(bad_json[_i].text, bad_json[_i].len, &err);
	if (o != NULL) {	/* free first: CK_FORK=no under valgrind */
		char got[256];

		snprintf(got, sizeof got, "%s", ciis_json_text(o));
		json_object_put(o);
		ck_abort_msg("accepted [%s] as %s", bad_json[_i].text, got);
	}
	ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
	ck_assert_str_eq(err.field, "");
	ck_assert_str_ne(err.message, "");
}
END_TEST

/* Parsing stops at len, not at a NUL: text past len is not looked at. */
START_TEST(test_parse_len)
{
	struct ciis_err err;
	struct json_object *o;

	memset(&err, 0, sizeof err);
	o = ciis_json_parse("{\"a\":1}garbage", 7, &err);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(ciis_json_text(o), "{\"a\":1}");
	json_object_put(o);
	o = ciis_json_parse("{\"a\":1}", 6, &err);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
}
END_TEST

/* The parsed values are right, and what json-c keeps of escapes. */
START_TEST(test_parse_values)
{
	static const char text[] = " {\"t\":\"\\u00e9\\ud83d\\ude00\",\"n\":-12,\"d\":52.2053,"
	    "\"b\":true,\"z\":null,\"a\":[1,\"x\"]} ";
	struct ciis_err err;
	struct json_object *o, *v;

	memset(&err, 0, sizeof err);
	o = ciis_json_parse(text, sizeof text - 1, &err);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_is_type(o, json_type_object));
	ck_assert(json_object_object_get_ex(o, "t", &v));
	ck_assert_str_eq(json_object_get_string(v), "\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert(json_object_object_get_ex(o, "n", &v));
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int64(v), -12);
	ck_assert(json_object_object_get_ex(o, "d", &v));
	ck_assert(json_object_is_type(v, json_type_double));
	ck_assert_double_eq(json_object_get_double(v), 52.2053);
	ck_assert(json_object_object_get_ex(o, "z", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(o, "a", &v));
	ck_assert_int_eq(json_object_array_length(v), 2);
	json_object_put(o);
}
END_TEST

/* Nested `depth` deep: arrays or objects. */
static char *
nested(int depth, int objects)
{
	size_t n = (size_t)depth * 6 + 8, o = 0;
	char *s = malloc(n);

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < depth; i++) {
		if (objects) {
			memcpy(s + o, "{\"a\":", 5);
			o += 5;
		} else {
			s[o++] = '[';
		}
	}
	s[o++] = '1';
	for (int i = 0; i < depth; i++)
		s[o++] = objects ? '}' : ']';
	s[o] = '\0';
	return s;
}

static const struct {
	int depth, objects, ok;
} depths[] = {
	{ 1, 0, 1 }, { 31, 0, 1 }, { 32, 0, 1 }, { 33, 0, 0 }, { 34, 0, 0 }, { 1000, 0, 0 },
	{ 1, 1, 1 }, { 32, 1, 1 }, { 33, 1, 0 }, { 5000, 1, 0 },
};

START_TEST(test_depth)
{
	char *s = nested(depths[_i].depth, depths[_i].objects);
	struct ciis_err err;
	struct json_object *o;

	memset(&err, 0, sizeof err);
	o = ciis_json_parse(s, strlen(s), &err);
	free(s);
	if (o != NULL)
		json_object_put(o);
	if (depths[_i].ok) {
		ck_assert_msg(o != NULL, "depth %d (%s) refused: %s", depths[_i].depth,
		    depths[_i].objects ? "objects" : "arrays", err.message);
	} else {
		ck_assert_msg(o == NULL, "depth %d accepted", depths[_i].depth);
		ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
	}
}
END_TEST

/* ---- code-point lengths ---- */

static const struct {
	const char *s;
	size_t n;
	long len;
} utf8[] = {
	{ "", 0, 0 },
	{ "a", 1, 1 },
	{ "abc", 3, 3 },
	{ "a\0b", 3, 3 },
	{ "\x7f", 1, 1 },
	{ "\xc2\x80", 2, 1 },			/* U+0080 */
	{ "\xc3\xa9", 2, 1 },			/* é */
	{ "\xdf\xbf", 2, 1 },			/* U+07FF */
	{ "\xe0\xa0\x80", 3, 1 },		/* U+0800 */
	{ "\xe2\x82\xac", 3, 1 },		/* € */
	{ "\xed\x9f\xbf", 3, 1 },		/* U+D7FF */
	{ "\xee\x80\x80", 3, 1 },		/* U+E000 */
	{ "\xef\xbf\xbf", 3, 1 },		/* U+FFFF */
	{ "\xf0\x90\x80\x80", 4, 1 },		/* U+10000 */
	{ "\xf0\x9f\x98\x80", 4, 1 },		/* 😀 */
	{ "\xf4\x8f\xbf\xbf", 4, 1 },		/* U+10FFFF */
	{ "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, 4 },
	{ "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8, 2 },
	{ "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 4, 1 },	/* n cuts after the first */
	/* invalid */
	{ "\x80", 1, -1 },
	{ "\xbf", 1, -1 },
	{ "a\x80", 2, -1 },
	{ "\xff", 1, -1 },
	{ "\xfe", 1, -1 },
	{ "\xc0\x80", 2, -1 },			/* overlong */
	{ "\xc1\xbf", 2, -1 },
	{ "\xe0\x80\x80", 3, -1 },
	{ "\xe0\x9f\xbf", 3, -1 },
	{ "\xf0\x80\x80\x80", 4, -1 },
	{ "\xf0\x8f\xbf\xbf", 4, -1 },
	{ "\xed\xa0\x80", 3, -1 },		/* surrogates */
	{ "\xed\xbf\xbf", 3, -1 },
	{ "\xf4\x90\x80\x80", 4, -1 },		/* past U+10FFFF */
	{ "\xf7\xbf\xbf\xbf", 4, -1 },
	{ "\xf8\x88\x80\x80\x80", 5, -1 },	/* 5- and 6-byte forms */
	{ "\xfc\x84\x80\x80\x80\x80", 6, -1 },
	{ "\xc3", 1, -1 },			/* truncated */
	{ "\xe2\x82", 2, -1 },
	{ "\xe2\x82\xac", 2, -1 },
	{ "\xf0\x9f\x98", 3, -1 },
	{ "a\xf0\x9f\x98\x80", 4, -1 },
	{ "\xc3" "a", 2, -1 },			/* continuation missing */
	{ "\xe2\x28\xa1", 3, -1 },
	{ "\xe2\x82\x28", 3, -1 },
	{ "\xf0\x9f\x98\x28", 4, -1 },
};

START_TEST(test_utf8_len)
{
	ck_assert_msg(ciis_utf8_len(utf8[_i].s, utf8[_i].n) == utf8[_i].len,
	    "case %d: %ld, want %ld", _i, ciis_utf8_len(utf8[_i].s, utf8[_i].n), utf8[_i].len);
}
END_TEST

START_TEST(test_utf8_len_long)
{
	size_t n = 10001;
	char *s = malloc(n * 4);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * 4, "\xf0\x9f\x98\x80", 4);
	ck_assert_int_eq(ciis_utf8_len(s, n * 4), 10001);
	ck_assert_int_eq(ciis_utf8_len(s, n * 4 - 1), -1);
	free(s);
}
END_TEST

/* ---- rendering ---- */

/* Whole numbers may print with or without ".0" (both are JSON numbers of
 * that value); alt is the other accepted form. */
static const struct {
	double d;
	const char *text, *alt;
} doubles[] = {
	{ 52.2053, "52.2053" },
	{ 0.1218, "0.1218" },
	{ -0.1218, "-0.1218" },
	{ 52.2, "52.2" },
	{ 0.12, "0.12" },
	{ 1.0, "1.0", "1" },
	{ 0.0, "0.0", "0" },
	{ 90.0, "90.0", "90" },
	{ -90.0, "-90.0", "-90" },
	{ 180.0, "180.0", "180" },
	{ -180.0, "-180.0", "-180" },
	{ 0.5, "0.5" },
	{ 123456.789, "123456.789" },
	{ 51.50735, "51.50735" },
	{ -33.868820, "-33.86882" },
	{ 0.1 + 0.2, "0.3" },
};

START_TEST(test_double)
{
	struct json_object *o = ciis_json_double(doubles[_i].d);
	struct json_object *wrap = json_object_new_object();
	const char *text;
	char want[64];

	ck_assert(json_object_is_type(o, json_type_double));
	ck_assert_double_eq(json_object_get_double(o), doubles[_i].d);
	text = ciis_json_text(o);
	ck_assert_msg(strcmp(text, doubles[_i].text) == 0 ||
	    (doubles[_i].alt != NULL && strcmp(text, doubles[_i].alt) == 0),
	    "%.17g printed as \"%s\", want \"%s\"", doubles[_i].d, text, doubles[_i].text);
	snprintf(want, sizeof want, "{\"lat\":%s}", text);
	json_object_object_add(wrap, "lat", o);
	ck_assert_str_eq(ciis_json_text(wrap), want);
	json_object_put(wrap);
}
END_TEST

/* What we print reads back as a number of the same value. */
START_TEST(test_double_reads_back)
{
	static const double vals[] = { 52.2053, 0.1218, -89.999999, 179.123456789012, 1.0, 0.0 };

	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		struct json_object *o = ciis_json_double(vals[i]), *back, *v;
		struct ciis_err err;
		char t[64];

		snprintf(t, sizeof t, "[%s]", ciis_json_text(o));
		memset(&err, 0, sizeof err);
		back = ciis_json_parse(t, strlen(t), &err);
		ck_assert_msg(back != NULL, "\"%s\" does not read back: %s", t, err.message);
		v = json_object_array_get_idx(back, 0);
		ck_assert(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int));
		ck_assert_double_eq_tol(json_object_get_double(v), vals[i], 1e-12);
		json_object_put(back);
		json_object_put(o);
	}
}
END_TEST

START_TEST(test_id_and_null)
{
	struct json_object *o = ciis_json_id(1042);

	ck_assert(json_object_is_type(o, json_type_string));
	ck_assert_str_eq(json_object_get_string(o), "1042");
	json_object_put(o);
	o = ciis_json_id(INT64_MAX);
	ck_assert_str_eq(json_object_get_string(o), "9223372036854775807");
	json_object_put(o);
	ck_assert_ptr_null(ciis_json_str_or_null(NULL));
	o = ciis_json_str_or_null("");
	ck_assert(json_object_is_type(o, json_type_string));
	ck_assert_str_eq(json_object_get_string(o), "");
	json_object_put(o);
}
END_TEST

/* Compact, and "/" is not escaped. */
START_TEST(test_text)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string("/api/issues"));
	json_object_object_add(o, "n", NULL);
	json_object_object_add(o, "a", json_object_new_array());
	ck_assert_str_eq(ciis_json_text(o), "{\"path\":\"/api/issues\",\"n\":null,\"a\":[]}");
	json_object_put(o);
}
END_TEST

/* ---- clock ---- */

static const struct {
	int64_t ms;
	const char *text;
} times[] = {
	{ 0, "1970-01-01T00:00:00.000Z" },
	{ 1, "1970-01-01T00:00:00.001Z" },
	{ 5, "1970-01-01T00:00:00.005Z" },
	{ 50, "1970-01-01T00:00:00.050Z" },
	{ 999, "1970-01-01T00:00:00.999Z" },
	{ 1000, "1970-01-01T00:00:01.000Z" },
	{ 86399999, "1970-01-01T23:59:59.999Z" },
	{ INT64_C(946684799999), "1999-12-31T23:59:59.999Z" },
	{ INT64_C(946684800000), "2000-01-01T00:00:00.000Z" },
	{ INT64_C(1709251199123), "2024-02-29T23:59:59.123Z" },
	{ INT64_C(1795428000000), "2026-11-23T10:00:00.000Z" },
	{ INT64_C(1795428000007), "2026-11-23T10:00:00.007Z" },
	{ INT64_C(1795428000070), "2026-11-23T10:00:00.070Z" },
	{ INT64_C(2147483648000), "2038-01-19T03:14:08.000Z" },
	{ INT64_C(4107542400000), "2100-03-01T00:00:00.000Z" },
};

START_TEST(test_time_format)
{
	char out[CIIS_TIME_LEN];

	memset(out, 'X', sizeof out);
	ciis_time_format(times[_i].ms, out);
	ck_assert_str_eq(out, times[_i].text);
	ck_assert_uint_eq(strlen(out), CIIS_TIME_LEN - 1);
}
END_TEST

START_TEST(test_time_round_trip)
{
	int64_t ms = -1;

	ck_assert_int_eq(ciis_time_parse(times[_i].text, &ms), 0);
	ck_assert_int_eq(ms, times[_i].ms);
}
END_TEST

START_TEST(test_time_round_trip_many)
{
	for (int64_t ms = INT64_C(1795428000000); ms < INT64_C(1795428000000) + 400LL * 86400000;
	    ms += 86400000 + 3600000 + 61001 + 7) {
		char out[CIIS_TIME_LEN];
		int64_t back = 0;

		ciis_time_format(ms, out);
		ck_assert_msg(ciis_time_parse(out, &back) == 0, "\"%s\" refused", out);
		ck_assert_int_eq(back, ms);
	}
}
END_TEST

static const struct {
	const char *text;
	int64_t ms;
} parses[] = {
	{ "2026-11-23 10:00:00", INT64_C(1795428000000) },	/* MySQL DATETIME */
	{ "2026-11-23 10:00:00.000", INT64_C(1795428000000) },
	{ "2026-11-23 10:00:00.5", INT64_C(1795428000500) },
	{ "2026-11-23 10:00:00.05", INT64_C(1795428000050) },
	{ "2026-11-23 10:00:00.123456", INT64_C(1795428000123) },
	{ "2026-11-23T10:00:00Z", INT64_C(1795428000000) },
	{ "2026-11-23T10:00:00.250Z", INT64_C(1795428000250) },
	{ "1970-01-01T00:00:00.000Z", 0 },
	{ "2024-02-29 12:00:00", INT64_C(1709208000000) },
};

START_TEST(test_time_parse)
{
	int64_t ms = -1;

	ck_assert_msg(ciis_time_parse(parses[_i].text, &ms) == 0, "\"%s\" refused", parses[_i].text);
	ck_assert_int_eq(ms, parses[_i].ms);
}
END_TEST

static const char *const bad_times[] = {
	"",
	"garbage",
	"2026",
	"2026-11-23",
	"2026-11-23T",
	"2026-11-23T10:00",
	"2026-11-23T10:00Z",
	"2026-11-23X10:00:00Z",
	"2026-11-23_10:00:00",
	"2026/11/23 10:00:00",
	"2026-11-23T10:00:00+01:00",
	"2026-11-23T10:00:00-00:00",
	"2026-11-23T10:00:00.000Zjunk",
	"2026-11-23T10:00:00ZZ",
	"2026-11-23T10:00:00 ",
	"2026-11-23T10:00:00.000 Z",
	"2026-11-23T10:00:00.abcZ",
	"1795428000000",
	/* fields out of range */
	"2026-13-01T00:00:00Z",
	"2026-00-10T00:00:00Z",
	"2026-11-32T00:00:00Z",
	"2026-11-00T00:00:00Z",
	"2026-02-30T00:00:00Z",
	"2025-02-29T00:00:00Z",
	"2026-11-23T24:00:00Z",
	"2026-11-23T10:60:00Z",
	"2026-11-23T10:00:61Z",
	"2026-11-23T-1:00:00Z",
	/* not the fixed-width form */
	" 2026-11-23T10:00:00Z",
	"2026-11- 3T10:00:00Z",
	"2026-+1-23T10:00:00Z",
};

START_TEST(test_time_reject)
{
	int64_t ms = 0;

	ck_assert_msg(ciis_time_parse(bad_times[_i], &ms) == -1, "\"%s\" accepted as %lld",
	    bad_times[_i], (long long)ms);
}
END_TEST

START_TEST(test_now)
{
	int64_t now = ciis_now_ms(), mono = ciis_monotonic_ms(), mono2;

	/* after 2020-01-01, before 2200 */
	ck_assert_int_gt(now, INT64_C(1577836800000));
	ck_assert_int_lt(now, INT64_C(7258118400000));
	mono2 = ciis_monotonic_ms();
	ck_assert_int_ge(mono2, mono);
}
END_TEST

Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_good, 0, sizeof good_json / sizeof good_json[0]);
	tcase_add_loop_test(tc, test_parse_bad, 0, sizeof bad_json / sizeof bad_json[0]);
	tcase_add_test(tc, test_parse_len);
	tcase_add_test(tc, test_parse_values);
	tcase_add_loop_test(tc, test_depth, 0, sizeof depths / sizeof depths[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, test_utf8_len, 0, sizeof utf8 / sizeof utf8[0]);
	tcase_add_test(tc, test_utf8_len_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("render");
	tcase_add_loop_test(tc, test_double, 0, sizeof doubles / sizeof doubles[0]);
	tcase_add_test(tc, test_double_reads_back);
	tcase_add_test(tc, test_id_and_null);
	tcase_add_test(tc, test_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("clock");
	tcase_add_loop_test(tc, test_time_format, 0, sizeof times / sizeof times[0]);
	tcase_add_loop_test(tc, test_time_round_trip, 0, sizeof times / sizeof times[0]);
	tcase_add_test(tc, test_time_round_trip_many);
	tcase_add_loop_test(tc, test_time_parse, 0, sizeof parses / sizeof parses[0]);
	tcase_add_loop_test(tc, test_time_reject, 0, sizeof bad_times / sizeof bad_times[0]);
	tcase_add_test(tc, test_now);
	suite_add_tcase(s, tc);
	return s;
}
