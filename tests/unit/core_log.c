/* Logging: tokens in URLs never reach a log line. */
#include <string.h>

#include "core/log.h"
#include "suites.h"

static const struct {
	const char *in, *out;
} redactions[] = {
	{ "/api/realtime/issues/stream?token=abc.def.ghi", "/api/realtime/issues/stream?token=***" },
	{ "/x?a=1&token=abc&b=2", "/x?a=1&token=***&b=2" },
	{ "/x?access_token=s3cret", "/x?access_token=***" },
	{ "/x?mytoken=keep", "/x?mytoken=keep" },
	{ "/x?token=", "/x?token=***" },
	{ "/plain/path", "/plain/path" },
};

START_TEST(test_redact)
{
	char out[256];

	ciis_log_redact(redactions[_i].in, out, sizeof out);
	ck_assert_str_eq(out, redactions[_i].out);
}
END_TEST

START_TEST(test_redact_truncates)
{
	char out[8];

	ciis_log_redact("/abcdefghijkl", out, sizeof out);
	ck_assert_str_eq(out, "/abcdef");
}
END_TEST

START_TEST(test_level_parse)
{
	ck_assert_int_eq(ciis_log_level_parse("debug"), CIIS_LOG_DEBUG);
	ck_assert_int_eq(ciis_log_level_parse("warn"), CIIS_LOG_WARN);
	ck_assert_int_eq(ciis_log_level_parse("loud"), -1);
}
END_TEST

Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_redact, 0, sizeof redactions / sizeof redactions[0]);
	tcase_add_test(tc, test_redact_truncates);
	tcase_add_test(tc, test_level_parse);
	suite_add_tcase(s, tc);
	return s;
}
