/* Engine.IO packets and polling payloads: the upstream suite's payloads
 * decode and re-encode byte for byte; base64 is RFC 4648's and strict. */
#include <string.h>

#include "core/buf.h"
#include "relay/eio_codec.h"
#include "relay_suites.h"

static const struct {
	const char *text;
	int type;		/* -1: refused */
	const char *data;
} packets[] = {
	{ "4hello", EIO_MESSAGE, "hello" }, { "2probe", EIO_PING, "probe" }, { "3", EIO_PONG, "" },
	{ "1", EIO_CLOSE, "" }, { "5", EIO_UPGRADE, "" }, { "6", EIO_NOOP, "" },
	{ "0", EIO_OPEN, "" }, { "4", EIO_MESSAGE, "" }, { "7", -1, NULL }, { "abc", -1, NULL },
	{ "", -1, NULL }, { "b", -1, NULL },
};

START_TEST(test_packet)
{
	struct eio_packet p;
	int rc = eio_decode_text(packets[_i].text, strlen(packets[_i].text), &p);

	if (packets[_i].type < 0) {
		ck_assert_int_eq(rc, -1);
		return;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(p.type, packets[_i].type);
	ck_assert_int_eq(p.len, strlen(packets[_i].data));
	ck_assert(memcmp(p.data, packets[_i].data, p.len) == 0);
}
END_TEST

/* Payloads that must round-trip unchanged (decode, then encode). */
static const char *const payloads[] = {
	"4hello", "4test1\x1e" "4test2\x1e" "4test3", "4hello\x1e" "bAQIDBA==", "2", "6",
	"b", "bAA==\x1e" "4", "4\x1e" "4",
};

START_TEST(test_payload_round_trip)
{
	const char *in = payloads[_i];
	struct eio_payload_iter it;
	struct eio_packet p;
	struct ciis_buf scratch, out;
	int rc;

	ciis_buf_init(&scratch);
	ciis_buf_init(&out);
	ck_assert_int_eq(eio_payload_check(in, strlen(in), &scratch), 0);
	eio_payload_begin(&it, in, strlen(in));
	while ((rc = eio_payload_next(&it, &p, &scratch)) == 1)
		eio_payload_add(&out, &p);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(ciis_buf_str(&out), in);
	ciis_buf_cleanup(&scratch);
	ciis_buf_cleanup(&out);
}
END_TEST

static const char *const bad_payloads[] = {
	"abc", "", "4a\x1e", "\x1e" "4a", "4a\x1e\x1e" "4b", "bAQI", "b====", "bAQ=A", "9x",
	"b!!!!", "4a\x1e" "x",
};

START_TEST(test_payload_refused)
{
	struct ciis_buf scratch;

	ciis_buf_init(&scratch);
	ck_assert_msg(eio_payload_check(bad_payloads[_i], strlen(bad_payloads[_i]), &scratch) != 0,
	    "payload %d accepted", _i);
	ciis_buf_cleanup(&scratch);
}
END_TEST

/* RFC 4648 §10. */
static const struct {
	const char *plain, *b64;
} vectors[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

START_TEST(test_base64)
{
	struct ciis_buf b;

	ciis_buf_init(&b);
	eio_base64_encode(&b, vectors[_i].plain, strlen(vectors[_i].plain));
	ck_assert_str_eq(ciis_buf_str(&b), vectors[_i].b64);
	ciis_buf_reset(&b);
	ck_assert_int_eq(eio_base64_decode(&b, vectors[_i].b64, strlen(vectors[_i].b64)), 0);
	ck_assert_int_eq(b.len, strlen(vectors[_i].plain));
	ck_assert(memcmp(ciis_buf_str(&b), vectors[_i].plain, b.len) == 0);
	ciis_buf_cleanup(&b);
}
END_TEST

START_TEST(test_base64_refused)
{
	static const char *const bad[] = { "Zg=", "Zg=a", "Z===", "Zh==", "Zm9=", "Zm8=Zm8=", "Zm 9" };
	struct ciis_buf b;

	ciis_buf_init(&b);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(eio_base64_decode(&b, bad[i], strlen(bad[i])) != 0, "%s accepted", bad[i]);
	ciis_buf_cleanup(&b);
}
END_TEST

START_TEST(test_binary_bytes)
{
	static const unsigned char all[] = { 0, 1, 2, 0x7f, 0x80, 0xfe, 0xff };
	struct eio_packet p = { EIO_MESSAGE, 1, (const char *)all, sizeof all }, q;
	struct eio_payload_iter it;
	struct ciis_buf out, scratch;

	ciis_buf_init(&out);
	ciis_buf_init(&scratch);
	eio_payload_add(&out, &p);
	eio_payload_begin(&it, out.data, out.len);
	ck_assert_int_eq(eio_payload_next(&it, &q, &scratch), 1);
	ck_assert(q.binary && q.len == sizeof all && memcmp(q.data, all, sizeof all) == 0);
	ciis_buf_cleanup(&out);
	ciis_buf_cleanup(&scratch);
}
END_TEST

START_TEST(test_open_packet)
{
	struct ciis_buf b;

	ciis_buf_init(&b);
	eio_open_packet(&b, "abc", 1, 300, 200, 1000000);
	ck_assert_str_eq(ciis_buf_str(&b), "0{\"sid\":\"abc\",\"upgrades\":[\"websocket\"],"
	    "\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1000000}");
	ciis_buf_reset(&b);
	eio_open_packet(&b, "abc", 0, 25000, 20000, 1000000);
	ck_assert_str_eq(ciis_buf_str(&b), "0{\"sid\":\"abc\",\"upgrades\":[],"
	    "\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}");
	ciis_buf_cleanup(&b);
}
END_TEST

Suite *
relay_eio_suite(void)
{
	Suite *s = suite_create("relay_eio");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, test_packet, 0, sizeof packets / sizeof packets[0]);
	tcase_add_loop_test(tc, test_payload_round_trip, 0, sizeof payloads / sizeof payloads[0]);
	tcase_add_loop_test(tc, test_payload_refused, 0, sizeof bad_payloads / sizeof bad_payloads[0]);
	tcase_add_loop_test(tc, test_base64, 0, sizeof vectors / sizeof vectors[0]);
	tcase_add_test(tc, test_base64_refused);
	tcase_add_test(tc, test_binary_bytes);
	tcase_add_test(tc, test_open_packet);
	suite_add_tcase(s, tc);
	return s;
}
