/* Socket.IO packets: the protocol document's examples and the v5 suite's
 * packets decode to what they say and encode back byte for byte; what the
 * reference parser rejects is rejected.  The texts are written as on the
 * wire, inside their Engine.IO message: the leading "4" is not ours. */
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "relay/sio_codec.h"
#include "relay_suites.h"

static const struct {
	const char *text;
	int type;
	const char *nsp;
	long long id;
	size_t attachments;
	const char *data;	/* compact JSON, NULL when absent */
} good[] = {
	{ "40", SIO_CONNECT, "/", -1, 0, NULL },
	{ "40{\"token\":\"123\"}", SIO_CONNECT, "/", -1, 0, "{\"token\":\"123\"}" },
	{ "40/admin,{\"token\":\"eyJ\"}", SIO_CONNECT, "/admin", -1, 0, "{\"token\":\"eyJ\"}" },
	{ "40/custom,", SIO_CONNECT, "/custom", -1, 0, NULL },
	{ "40/random", SIO_CONNECT, "/random", -1, 0, NULL },
	{ "41", SIO_DISCONNECT, "/", -1, 0, NULL },
	{ "41/admin,", SIO_DISCONNECT, "/admin", -1, 0, NULL },
	{ "42[\"hey\",\"Jude\"]", SIO_EVENT, "/", -1, 0, "[\"hey\",\"Jude\"]" },
	{ "4212[\"foo\"]", SIO_EVENT, "/", 12, 0, "[\"foo\"]" },
	{ "42/admin,13[\"foo\"]", SIO_EVENT, "/admin", 13, 0, "[\"foo\"]" },
	{ "42[\"message\",1,\"2\",{\"3\":[true]}]", SIO_EVENT, "/", -1, 0,
	  "[\"message\",1,\"2\",{\"3\":[true]}]" },
	{ "42[1]", SIO_EVENT, "/", -1, 0, "[1]" },
	{ "4312[\"bar\"]", SIO_ACK, "/", 12, 0, "[\"bar\"]" },
	{ "43/admin,13[]", SIO_ACK, "/admin", 13, 0, "[]" },
	{ "44{\"message\":\"Not authorized\"}", SIO_CONNECT_ERROR, "/", -1, 0,
	  "{\"message\":\"Not authorized\"}" },
	{ "44/random,{\"message\":\"Invalid namespace\"}", SIO_CONNECT_ERROR, "/random", -1, 0,
	  "{\"message\":\"Invalid namespace\"}" },
	{ "451-[\"baz\",{\"_placeholder\":true,\"num\":0}]", SIO_BINARY_EVENT, "/", -1, 1,
	  "[\"baz\",{\"_placeholder\":true,\"num\":0}]" },
	{ "452-789[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
	  SIO_BINARY_EVENT, "/", 789, 2,
	  "[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]" },
	{ "462-789[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
	  SIO_BINARY_ACK, "/", 789, 2,
	  "[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]" },
};

START_TEST(test_decode)
{
	struct sio_packet p;
	const char *why = NULL;

	ck_assert_msg(sio_decode(good[_i].text + 1, strlen(good[_i].text) - 1, 10, &p, &why) == 0,
	    "%s: %s", good[_i].text, why);
	ck_assert_int_eq(p.type, good[_i].type);
	ck_assert_str_eq(p.nsp, good[_i].nsp);
	ck_assert_int_eq(p.id, good[_i].id);
	ck_assert_int_eq(p.attachments, good[_i].attachments);
	if (good[_i].data == NULL)
		ck_assert_ptr_null(p.data);
	else
		ck_assert_str_eq(ciis_json_text(p.data), good[_i].data);
	sio_packet_cleanup(&p);
}
END_TEST

/* Encoding what was decoded gives the text back (the comma-less namespace
 * forms excepted: the encoder always writes the comma). */
START_TEST(test_round_trip)
{
	struct sio_packet p;
	struct ciis_buf b;
	const char *why;

	if (strcmp(good[_i].text, "40/random") == 0)
		return;
	ciis_buf_init(&b);
	ck_assert_int_eq(sio_decode(good[_i].text + 1, strlen(good[_i].text) - 1, 10, &p, &why), 0);
	sio_encode(&b, &p);
	ck_assert_str_eq(ciis_buf_str(&b), good[_i].text + 1);
	sio_packet_cleanup(&p);
	ciis_buf_cleanup(&b);
}
END_TEST

static const char *const bad[] = {
	"4", "4abc", "47", "49[]",
	"42{}", "42", "42[]", "42\"x\"", "42[\"connect\"]", "42[\"disconnect\",1]",
	"42[\"newListener\"]", "42[{}]", "42[null]", "42abc[\"message-with-ack\",1]",
	"42[\"a\"", "42[\"a\"]x", "4212", "43{}", "43", "43\"x\"", "41{}", "41[]",
	"40[]", "40\"x\"", "44", "44[]", "45[\"a\"]", "45x-[\"a\"]", "4511-[\"a\"]",
	"4212345678901234567[\"a\"]", "42[\"\xff\"]", "450-[\"x\"]", "4611-[]",
};

START_TEST(test_refused)
{
	struct sio_packet p;
	const char *why;

	ck_assert_msg(sio_decode(bad[_i] + 1, strlen(bad[_i]) - 1, 10, &p, &why) != 0,
	    "\"%s\" accepted", bad[_i]);
}
END_TEST

static const struct {
	const char *json;
	size_t n;
	int ok;
} holders[] = {
	{ "[\"m\",{\"_placeholder\":true,\"num\":0}]", 1, 1 },
	{ "[\"m\",{\"_placeholder\":true,\"num\":1}]", 1, 0 },
	{ "[\"m\",{\"_placeholder\":true,\"num\":-1}]", 1, 0 },
	{ "[\"m\",{\"_placeholder\":true,\"num\":\"0\"}]", 1, 0 },
	{ "[\"m\",{\"_placeholder\":true}]", 1, 0 },
	{ "[\"m\",{\"a\":[{\"_placeholder\":true,\"num\":2}]}]", 3, 1 },
	{ "[\"m\",{\"a\":[{\"_placeholder\":true,\"num\":2}]}]", 2, 0 },
	{ "[\"m\",{\"_placeholder\":false,\"num\":9}]", 0, 1 },
	{ "[\"m\",1,\"x\",null]", 0, 1 },
};

START_TEST(test_placeholders)
{
	struct json_object *v = json_tokener_parse(holders[_i].json);

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(sio_placeholders_ok(v, holders[_i].n), holders[_i].ok);
	json_object_put(v);
}
END_TEST

START_TEST(test_encode_namespace_and_ack)
{
	struct sio_packet p = { .type = SIO_BINARY_ACK, .id = 0, .attachments = 1 };
	struct ciis_buf b;

	strcpy(p.nsp, "/x");
	p.data = json_tokener_parse("[]");
	ciis_buf_init(&b);
	sio_encode(&b, &p);
	ck_assert_str_eq(ciis_buf_str(&b), "61-/x,0[]");
	sio_packet_cleanup(&p);
	ciis_buf_cleanup(&b);
}
END_TEST

Suite *
relay_sio_suite(void)
{
	Suite *s = suite_create("relay_sio");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, test_decode, 0, sizeof good / sizeof good[0]);
	tcase_add_loop_test(tc, test_round_trip, 0, sizeof good / sizeof good[0]);
	tcase_add_loop_test(tc, test_refused, 0, sizeof bad / sizeof bad[0]);
	tcase_add_loop_test(tc, test_placeholders, 0, sizeof holders / sizeof holders[0]);
	tcase_add_test(tc, test_encode_namespace_and_ack);
	suite_add_tcase(s, tc);
	return s;
}
